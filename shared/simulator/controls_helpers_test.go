package simulator_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// fakeClock is the simulator's clock in the throttling and lag tests: time moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newEnvWith starts a simulator with cfg (nil means the example) and the fake clock (nil means the
// real one).
func newEnvWith(t *testing.T, cfg *simulator.Config, clock *fakeClock) *env {
	t.Helper()
	opts := &simulator.Options{}
	if clock != nil {
		opts.Now = clock.Now
	}
	srv := simtest.Start(t, cfg, opts)
	u := srv.URLs()
	return &env{t: t, srv: srv, graph: u.GraphURL, vault: u.VaultURL, client: srv.HTTPClient()}
}

// throttledConfig is the example configuration with throttling enabled and the given overrides.
func throttledConfig(tc simulator.ThrottlingConfig) *simulator.Config {
	cfg := simulator.ExampleConfig()
	tc.Enabled = true
	cfg.Throttling = &tc
	return cfg
}

// admin sends a request to the admin API and decodes the JSON answer into out (when not nil).
func (e *env) admin(method, path string, body string, out any) int {
	e.t.Helper()
	req, err := http.NewRequest(method, e.graph+"/_sim/"+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s /_sim/%s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatalf("decoding /_sim/%s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// firstUserID returns the id of one fabrikam user.
func (e *env) firstUserID(tok string) string {
	e.t.Helper()
	resp, body := e.do(http.MethodGet, e.graph+"/v1.0/users?$top=1&$select=id", tok, nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("listing users: %d %v", resp.StatusCode, body)
	}
	return body["value"].([]any)[0].(map[string]any)["id"].(string)
}

// num reads a JSON number nested in m along keys.
func num(m map[string]any, keys ...string) float64 {
	var cur any = m
	for _, k := range keys {
		next, ok := cur.(map[string]any)
		if !ok {
			return -1
		}
		cur = next[k]
	}
	f, ok := cur.(float64)
	if !ok {
		return -1
	}
	return f
}

package simulator_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

func TestResourceUnitHeaderAndCounterWithoutThrottling(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	id := e.firstUserID(tok) // GET users with $top<20 and $select: 2-1-1, at least 1
	tests := []struct {
		path string
		want string
	}{
		{"/v1.0/users", "2"},
		{"/v1.0/users?$select=id", "1"},
		{"/v1.0/users?$top=50", "2"},
		{"/v1.0/users?$top=5", "1"},
		{"/v1.0/users/" + id, "1"},
		{"/v1.0/domains", "1"},
	}
	for _, tt := range tests {
		resp, _ := e.do(http.MethodGet, e.graph+tt.path, tok, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("x-ms-resource-unit") != tt.want {
			t.Errorf("GET %s: %d, x-ms-resource-unit %q, want %s", tt.path, resp.StatusCode, resp.Header.Get("x-ms-resource-unit"), tt.want)
		}
	}
	c := e.counter(simtest.FabrikamID, simtest.MigratorID)
	if got := num(c, "resourceUnits"); got != 1+2+1+2+1+1+1 {
		t.Errorf("resourceUnits %v, want 9", got)
	}
}

func TestThrottleResourceUnitsRetryAfterAndRefill(t *testing.T) {
	clock := newFakeClock()
	e := newEnvWith(t, throttledConfig(simulator.ThrottlingConfig{ResourceUnits: 10}), clock)
	tok := e.migratorToken(simtest.FabrikamID)
	id := e.firstUserID(tok) // 1 RU
	get := func() *http.Response {
		resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users/"+id, tok, nil)
		return resp
	}
	for i := 2; i <= 10; i++ {
		if resp := get(); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within quota: %d", i, resp.StatusCode)
		}
	}
	resp, body := e.do(http.MethodGet, e.graph+"/v1.0/users/"+id, tok, nil)
	expectGraphError(t, resp, body, http.StatusTooManyRequests, "TooManyRequests", "Please retry again later.")
	// The bucket is at -1 after charging the throttled request; 2 RU at 1 RU/s is 2 s.
	if got := resp.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After %q, want 2", got)
	}
	if got, want := resp.Header.Get("x-ms-throttle-scope"), "Tenant_Application/ReadWrite/"+simtest.MigratorID+"/"+simtest.FabrikamID; got != want {
		t.Errorf("x-ms-throttle-scope %q, want %q", got, want)
	}
	if resp.Header.Get("x-ms-throttle-information") != "ResourceUnitLimitExceeded" || resp.Header.Get("x-ms-resource-unit") != "" {
		t.Errorf("throttled headers %v", resp.Header)
	}
	clock.Advance(2 * time.Second)
	if resp := get(); resp.StatusCode != http.StatusOK {
		t.Fatalf("after Retry-After: %d", resp.StatusCode)
	}
	// A whole window refills the whole quota.
	clock.Advance(10 * time.Second)
	for i := 1; i <= 10; i++ {
		resp := get()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d after the window: %d", i, resp.StatusCode)
		}
		if i >= 9 && resp.Header.Get("x-ms-throttle-limit-percentage") == "" {
			t.Errorf("request %d: no x-ms-throttle-limit-percentage above 80%%", i)
		}
	}
	if resp := get(); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("request 11 after the window: %d", resp.StatusCode)
	}
	c := e.counter(simtest.FabrikamID, simtest.MigratorID)
	if num(c, "429") != 2 || num(c, "throttledBy", "appTenantResourceUnits") != 2 {
		t.Errorf("counter %v", c)
	}
}

func TestThrottleTimeScaleShortensWindowAndRetryAfter(t *testing.T) {
	clock := newFakeClock()
	e := newEnvWith(t, throttledConfig(simulator.ThrottlingConfig{ResourceUnits: 10, TimeScale: 10}), clock)
	tok := e.migratorToken(simtest.FabrikamID)
	id := e.firstUserID(tok)
	for i := 2; i <= 10; i++ {
		e.do(http.MethodGet, e.graph+"/v1.0/users/"+id, tok, nil)
	}
	resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users/"+id, tok, nil)
	// 2 s of refill at scale 10 is 200 ms: Retry-After rounds up to a whole second, the simulator's
	// own header keeps the milliseconds.
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" ||
		resp.Header.Get("x-ms-sim-retry-after-ms") != "200" {
		t.Fatalf("got %d, Retry-After %q, ms %q", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("x-ms-sim-retry-after-ms"))
	}
	clock.Advance(200 * time.Millisecond)
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users/"+id, tok, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the scaled wait: %d", resp.StatusCode)
	}
	clock.Advance(time.Second) // the scaled 10 s window
	for i := 1; i <= 10; i++ {
		if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users/"+id, tok, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d after the scaled window: %d", i, resp.StatusCode)
		}
	}
}

func TestThrottleWriteQuotas(t *testing.T) {
	clock := newFakeClock()
	e := newEnvWith(t, throttledConfig(simulator.ThrottlingConfig{AppTenantWrites: 3, TenantWrites: 4}), clock)
	tok := e.migratorToken(simtest.FabrikamID)
	id := e.firstUserID(tok)
	patch := func(token string) *http.Response {
		resp, _ := e.do(http.MethodPatch, e.graph+"/v1.0/users/"+id, token, map[string]any{"jobTitle": "Lead"})
		return resp
	}
	for i := 1; i <= 3; i++ {
		if resp := patch(tok); resp.StatusCode != http.StatusNoContent || resp.Header.Get("x-ms-resource-unit") != "1" {
			t.Fatalf("write %d: %d", i, resp.StatusCode)
		}
	}
	resp := patch(tok)
	// 3 writes per 150 s: the bucket is at -1, 2 writes take 100 s.
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "100" ||
		resp.Header.Get("x-ms-throttle-information") != "WriteLimitExceeded" ||
		!strings.HasPrefix(resp.Header.Get("x-ms-throttle-scope"), "Tenant_Application/Write/") {
		t.Fatalf("4th write: %d %v", resp.StatusCode, resp.Header)
	}
	// Reads are still allowed while writes are throttled.
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users/"+id, tok, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("read during write throttling: %d", resp.StatusCode)
	}
	// The tenant quota counts every app: the throttled write used the 4th unit, so another app's
	// write is throttled by the tenant limit (before its permission is even checked).
	reader := e.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
	resp = patch(reader)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.HasPrefix(resp.Header.Get("x-ms-throttle-scope"), "Tenant/Write/") {
		t.Fatalf("other app's write: %d %v", resp.StatusCode, resp.Header)
	}
	clock.Advance(150 * time.Second)
	if resp := patch(tok); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write after the window: %d", resp.StatusCode)
	}
	if c := e.counter(simtest.FabrikamID, simtest.MigratorID); num(c, "throttledBy", "appTenantWrites") != 1 {
		t.Errorf("migrator counter %v", c)
	}
	if c := e.counter(simtest.FabrikamID, simtest.ReaderID); num(c, "throttledBy", "tenantWrites") != 1 {
		t.Errorf("reader counter %v", c)
	}
}

func TestThrottleConditionalAccessOneRequestPerSecondWithoutRetryAfter(t *testing.T) {
	clock := newFakeClock()
	e := newEnvWith(t, throttledConfig(simulator.ThrottlingConfig{}), clock)
	tok := e.migratorToken(simtest.FabrikamID)
	for _, path := range []string{"/v1.0/identity/conditionalAccess/policies", "/v1.0/identity/conditionalAccess/namedLocations"} {
		resp, _ := e.do(http.MethodGet, e.graph+path, tok, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("first request to %s throttled", path)
		}
		resp, body := e.do(http.MethodGet, e.graph+path, tok, nil)
		expectGraphError(t, resp, body, http.StatusTooManyRequests, "TooManyRequests", "")
		if _, ok := resp.Header["Retry-After"]; ok {
			t.Errorf("%s: conditional access 429 carries Retry-After %q", path, resp.Header.Get("Retry-After"))
		}
		// The limit is per tenant, not per app.
		reader := e.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
		if resp, _ := e.do(http.MethodGet, e.graph+path, reader, nil); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s: other app within the same second: %d", path, resp.StatusCode)
		}
		clock.Advance(3 * time.Second) // the throttled requests were charged too
	}
	// Directory routes are not under this limit.
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/domains", tok, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("domains: %d", resp.StatusCode)
	}
	if c := e.counter(simtest.FabrikamID, simtest.MigratorID); num(c, "throttledBy", "conditionalAccess") != 2 {
		t.Errorf("counter %v", c)
	}
}

package simulator_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// dirEnv is a started simulator for the directory tests: the example tenants with fabrikam's seed
// extended (more users, guests, managers, groups of every kind), a settable clock, and the migrator's
// fabrikam token.
type dirEnv struct {
	*env
	tok   string
	clock *testClock
}

// testClock is a settable clock for Options.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

const fabrikamDirUsers = 150

// newDirEnv starts the simulator with fabrikam seeded with 150 users, 4 guests, 2 external members,
// managers and 12 groups (2 dynamic, 2 mail-enabled, nesting depth 2). edit, when not nil, changes the
// configuration further.
func newDirEnv(t *testing.T, edit func(*simulator.Config)) *dirEnv {
	t.Helper()
	cfg := simulator.ExampleConfig()
	fab := &cfg.Tenants[1]
	fab.Seed.Users = fabrikamDirUsers
	fab.Seed.Guests, fab.Seed.ExternalMembers, fab.Seed.Managers = 4, 2, true
	fab.Seed.Groups, fab.Seed.DynamicGroups, fab.Seed.MailEnabledGroups, fab.Seed.NestingDepth = 12, 2, 2, 2
	fab.Clients[0].Roles = append(fab.Clients[0].Roles, "User.Invite.All", "Directory.Read.All")
	if edit != nil {
		edit(cfg)
	}
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
	srv := simtest.Start(t, cfg, &simulator.Options{Now: clock.Now})
	u := srv.URLs()
	e := &env{t: t, srv: srv, graph: u.GraphURL, vault: u.VaultURL, client: srv.HTTPClient()}
	return &dirEnv{env: e, tok: e.migratorToken(simtest.FabrikamID), clock: clock}
}

// v1 is the v1.0 URL of path.
func (d *dirEnv) v1(path string) string { return d.graph + "/v1.0" + path }

// call sends a request with the migrator's fabrikam token.
func (d *dirEnv) call(method, path string, body any, headers ...string) (*http.Response, map[string]any) {
	d.t.Helper()
	return d.do(method, d.v1(path), d.tok, body, headers...)
}

// mustCall is call expecting status want.
func (d *dirEnv) mustCall(want int, method, path string, body any, headers ...string) map[string]any {
	d.t.Helper()
	resp, out := d.call(method, path, body, headers...)
	if resp.StatusCode != want {
		d.t.Fatalf("%s %s: %d, want %d: %v", method, path, resp.StatusCode, want, out)
	}
	return out
}

// newSecurityGroup creates a security group and returns its id.
func (d *dirEnv) newSecurityGroup(name string, extra map[string]any) string {
	d.t.Helper()
	body := map[string]any{"displayName": name, "mailEnabled": false, "mailNickname": name, "securityEnabled": true}
	for k, v := range extra {
		body[k] = v
	}
	return d.mustCall(http.StatusCreated, http.MethodPost, "/groups", body)["id"].(string)
}

// userIDs returns the ids of the first n users (id order).
func (d *dirEnv) userIDs(n int) []string {
	d.t.Helper()
	out := d.mustCall(http.StatusOK, http.MethodGet, fmt.Sprintf("/users?$top=%d&$select=id&$filter=%s", n, url.QueryEscape("userType eq 'Member'")), nil)
	var ids []string
	for _, v := range out["value"].([]any) {
		ids = append(ids, v.(map[string]any)["id"].(string))
	}
	if len(ids) < n {
		d.t.Fatalf("only %d users", len(ids))
	}
	return ids
}

// dumpGroups returns the admin dump's groups by display name.
func (d *dirEnv) dumpGroups() map[string]map[string]any {
	d.t.Helper()
	var dump struct {
		Groups []map[string]any `json:"groups"`
	}
	d.getJSON(d.graph+"/_sim/tenants/fabrikam/dump", &dump)
	out := map[string]map[string]any{}
	for _, g := range dump.Groups {
		out[g["displayName"].(string)] = g
	}
	return out
}

func objectURL(id string) string { return "https://graph.microsoft.com/v1.0/directoryObjects/" + id }

// members lists a group's member ids (all pages).
func (d *dirEnv) members(groupID string) map[string]string {
	d.t.Helper()
	out := map[string]string{}
	next := d.v1("/groups/" + groupID + "/members?$select=id")
	for next != "" {
		resp, body := d.do(http.MethodGet, next, d.tok, nil)
		if resp.StatusCode != http.StatusOK {
			d.t.Fatalf("members: %d %v", resp.StatusCode, body)
		}
		for _, v := range body["value"].([]any) {
			m := v.(map[string]any)
			out[m["id"].(string)] = m["@odata.type"].(string)
		}
		next, _ = body["@odata.nextLink"].(string)
	}
	return out
}

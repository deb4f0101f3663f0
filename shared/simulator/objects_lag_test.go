package simulator_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// TestReplicationLagOnConfigObjects: a new application, named location or role is invisible for the
// tenant's replication lag: reads 404, a service principal for the app gets NoBackingApplicationObject
// (the race Entra users know), a policy naming the location is refused, and a retried upsert conflicts.
func TestReplicationLagOnConfigObjects(t *testing.T) {
	clock := newFakeClock()
	e := newEnvWith(t, lagConfig(5*time.Second), clock)
	tok := e.migratorToken(simtest.FabrikamID)
	resp, app := e.do(http.MethodPatch, e.graph+"/v1.0/applications(uniqueName='lagging')", tok,
		map[string]any{"displayName": "Lagging"}, "Prefer", "create-if-missing")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upsert: %d %v", resp.StatusCode, app)
	}
	resp, body := e.do(http.MethodGet, e.graph+"/v1.0/applications/"+app["id"].(string), tok, nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0/servicePrincipals", tok, map[string]any{"appId": app["appId"]})
	details := expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	if len(details) != 1 || details[0]["code"] != "NoBackingApplicationObject" {
		t.Errorf("details %v", details)
	}
	resp, body = e.do(http.MethodPatch, e.graph+"/v1.0/applications(uniqueName='lagging')", tok,
		map[string]any{"displayName": "Lagging"}, "Prefer", "create-if-missing")
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Another object with the same value for property uniqueName already exists.")
	loc := e.mustCreate(tok, namedLocationsPath, ipLocation("New office", false, "198.51.100.0/24"))
	pol := policyBody("p", []string{"All"}, nil, loc["id"].(string))
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0"+caPoliciesPath, tok, pol)
	expectGraphError(t, resp, body, http.StatusBadRequest, "BadRequest", "")

	clock.Advance(5 * time.Second)
	e.mustCreate(tok, "/servicePrincipals", map[string]any{"appId": app["appId"]})
	e.mustCreate(tok, caPoliciesPath, pol)
}

// TestConfigObjectsPersist: applications (with a secret's metadata), service principals,
// assignments, locations, policies and custom roles survive a restart; built-in objects are not
// duplicated.
func TestConfigObjectsPersist(t *testing.T) {
	dir := t.TempDir()
	cfg := simulator.ExampleConfig()
	srv := simtest.Start(t, cfg, &simulator.Options{StateDir: dir})
	u := srv.URLs()
	e := &env{t: t, srv: srv, graph: u.GraphURL, vault: u.VaultURL, client: srv.HTTPClient()}
	tok := e.migratorToken(simtest.FabrikamID)
	app := e.mustCreate(tok, "/applications", map[string]any{"displayName": "Persisted", "uniqueName": "persisted"})
	if resp, _ := e.do(http.MethodPost, e.graph+"/v1.0/applications/"+app["id"].(string)+"/addPassword", tok, map[string]any{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("addPassword: %d", resp.StatusCode)
	}
	e.mustCreate(tok, "/servicePrincipals", map[string]any{"appId": app["appId"]})
	loc := e.mustCreate(tok, namedLocationsPath, ipLocation("Office", true, "203.0.113.0/24"))
	e.mustCreate(tok, caPoliciesPath, policyBody("Persisted policy", []string{"All"}, nil, loc["id"].(string)))
	e.mustCreate(tok, roleDefinitionsPath, customRole("Persisted role", "microsoft.directory/users/standard/read"))
	_, before := e.do(http.MethodGet, e.graph+"/v1.0/servicePrincipals?$count=true", tok, nil, "ConsistencyLevel", "eventual")
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	srv2 := simtest.Start(t, cfg, &simulator.Options{StateDir: dir})
	u2 := srv2.URLs()
	e2 := &env{t: t, srv: srv2, graph: u2.GraphURL, vault: u2.VaultURL, client: srv2.HTTPClient()}
	tok = e2.migratorToken(simtest.FabrikamID)
	resp, got := e2.do(http.MethodGet, e2.graph+"/v1.0/applications(uniqueName='persisted')", tok, nil)
	if resp.StatusCode != http.StatusOK || got["id"] != app["id"] || len(got["passwordCredentials"].([]any)) != 1 {
		t.Fatalf("app after restart: %d %v", resp.StatusCode, got)
	}
	_, after := e2.do(http.MethodGet, e2.graph+"/v1.0/servicePrincipals?$count=true", tok, nil, "ConsistencyLevel", "eventual")
	if before["@odata.count"] != after["@odata.count"] {
		t.Errorf("service principals %v before, %v after", before["@odata.count"], after["@odata.count"])
	}
	for _, path := range []string{caPoliciesPath, namedLocationsPath} {
		if _, list := e2.do(http.MethodGet, e2.graph+"/v1.0"+path, tok, nil); len(list["value"].([]any)) != 1 {
			t.Errorf("%s after restart: %v", path, list)
		}
	}
	if _, list := e2.do(http.MethodGet, e2.graph+"/v1.0"+roleDefinitionsPath+"?$filter=displayName eq 'Persisted role'", tok, nil); len(list["value"].([]any)) != 1 {
		t.Errorf("role after restart: %v", list)
	}
}

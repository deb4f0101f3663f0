package simulator_test

import (
	"net/http"
	"testing"
	"time"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

func lagConfig(lag time.Duration) *simulator.Config {
	cfg := simulator.ExampleConfig()
	cfg.Tenants[1].ReplicationLag = simulator.Duration(lag)
	return cfg
}

func TestReplicationLagHidesNewUsersUntilReplicated(t *testing.T) {
	clock := newFakeClock()
	e := newEnvWith(t, lagConfig(5*time.Second), clock)
	tok := e.migratorToken(simtest.FabrikamID)
	upn := "lagging@fabrikam.example"
	resp, created := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody(upn))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %v", resp.StatusCode, created)
	}
	id := created["id"].(string)
	for _, key := range []string{id, upn} {
		resp, body := e.do(http.MethodGet, e.graph+"/v1.0/users/"+key, tok, nil)
		expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound",
			"Resource '"+key+"' does not exist or one of its queried reference-property objects are not present.")
	}
	resp, list := e.do(http.MethodGet, e.graph+"/v1.0/users?$filter=userPrincipalName eq '"+upn+"'", tok, nil)
	if resp.StatusCode != http.StatusOK || len(list["value"].([]any)) != 0 {
		t.Errorf("list during lag: %d %v", resp.StatusCode, list)
	}
	resp, body := e.do(http.MethodPatch, e.graph+"/v1.0/users/"+id, tok, map[string]any{"jobTitle": "x"})
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	// Uniqueness is checked on the primary: a retried create conflicts with the invisible user.
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody(upn))
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest",
		"Another object with the same value for property userPrincipalName already exists.")

	clock.Advance(5 * time.Second)
	if resp, got := e.do(http.MethodGet, e.graph+"/v1.0/users/"+upn, tok, nil); resp.StatusCode != http.StatusOK || got["id"] != id {
		t.Fatalf("after the lag: %d %v", resp.StatusCode, got)
	}
	if _, list := e.do(http.MethodGet, e.graph+"/v1.0/users?$filter=userPrincipalName eq '"+upn+"'", tok, nil); len(list["value"].([]any)) != 1 {
		t.Errorf("list after the lag: %v", list)
	}
	if resp, _ := e.do(http.MethodPatch, e.graph+"/v1.0/users/"+id, tok, map[string]any{"jobTitle": "x"}); resp.StatusCode != http.StatusNoContent {
		t.Errorf("patch after the lag: %d", resp.StatusCode)
	}
	// The source tenant has no lag.
	src := e.migratorToken(simtest.ContosoID)
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users?$top=1", src, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("contoso: %d", resp.StatusCode)
	}
}

func TestReplicationLagSetAtRuntimeIsTimeScaled(t *testing.T) {
	clock := newFakeClock()
	e := newEnvWith(t, nil, clock)
	if st := e.admin(http.MethodPut, "settings", `{"replicationLag": {"fabrikam": "10s"}, "throttling": {"timeScale": 10}}`, nil); st != http.StatusOK {
		t.Fatalf("settings: %d", st)
	}
	tok := e.migratorToken(simtest.FabrikamID)
	resp, created := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody("scaled@fabrikam.example"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	id := created["id"].(string)
	clock.Advance(900 * time.Millisecond)
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users/"+id, tok, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("at 0.9 s of a 10 s lag scaled by 10: %d", resp.StatusCode)
	}
	clock.Advance(100 * time.Millisecond)
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users/"+id, tok, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("at 1 s: %d", resp.StatusCode)
	}
}

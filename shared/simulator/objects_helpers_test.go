package simulator_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// newObjectsEnv starts a simulator on the example configuration changed by edit.
func newObjectsEnv(t *testing.T, edit func(*simulator.Config)) *env {
	t.Helper()
	cfg := simulator.ExampleConfig()
	edit(cfg)
	srv := simtest.Start(t, cfg, nil)
	u := srv.URLs()
	return &env{t: t, srv: srv, graph: u.GraphURL, vault: u.VaultURL, client: srv.HTTPClient()}
}

// objectsJSON renders v as JSON, for leak checks on dumps.
func objectsJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// mustCreate posts body to path (relative to /v1.0) and returns the created object, failing the test
// unless the answer is 201.
func (e *env) mustCreate(tok, path string, body any) map[string]any {
	e.t.Helper()
	resp, out := e.do(http.MethodPost, e.graph+"/v1.0"+path, tok, body)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
	}
	return out
}

// firstUsers returns the ids of the first n users of the tenant.
func (e *env) firstUsers(tok string, n int) []string {
	e.t.Helper()
	resp, list := e.do(http.MethodGet, e.graph+"/v1.0/users?$select=id&$top=50", tok, nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("list users: %d %v", resp.StatusCode, list)
	}
	var ids []string
	for _, v := range list["value"].([]any) {
		if len(ids) < n {
			ids = append(ids, v.(map[string]any)["id"].(string))
		}
	}
	return ids
}

package simulator_test

import (
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// Every Graph error the simulator writes, including the ones of throttling, faults and $batch, has
// error.code, error.message and error.innerError with date, request-id and client-request-id.
func TestErrorBodiesCarryInnerError(t *testing.T) {
	e := newEnvWith(t, throttledConfig(simulator.ThrottlingConfig{ConditionalAccessPerSecond: 1}), newFakeClock())
	tok := e.migratorToken(simtest.FabrikamID)
	reader := e.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"no token", "GET", "/v1.0/users", "", nil, 401},
		{"unknown segment", "GET", "/v1.0/printers", tok, nil, 400},
		{"method not allowed", "PUT", "/v1.0/users", tok, map[string]any{}, 405},
		{"forbidden", "GET", "/v1.0/domains", reader, nil, 403},
		{"not found", "GET", "/v1.0/users/nobody@fabrikam.example", tok, nil, 404},
		{"unreadable body", "POST", "/v1.0/users", tok, "{", 400},
		{"malformed batch", "POST", "/v1.0/$batch", tok, map[string]any{"requests": "no"}, 400},
		{"conditional access first", "GET", "/beta/identity/conditionalAccess/policies", tok, nil, 0},
		{"conditional access throttled", "GET", "/beta/identity/conditionalAccess/policies", tok, nil, 429},
	}
	for _, tt := range tests {
		resp, body := e.do(tt.method, e.graph+tt.path, tt.token, tt.body, "client-request-id", "c-"+tt.name)
		if tt.status == 0 {
			continue
		}
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.status)
			continue
		}
		code, msg, _, inner := graphError(t, body)
		if code == "" || msg == "" || inner["date"] == nil || inner["request-id"] != resp.Header.Get("request-id") ||
			inner["client-request-id"] != "c-"+tt.name {
			t.Errorf("%s: error body %v", tt.name, body)
		}
	}
	_, _, got, _ := e.batch(tok, []map[string]any{
		{"id": "1", "method": "GET", "url": "/users/nobody@fabrikam.example"},
		{"id": "2", "method": "GET", "url": "/domains", "dependsOn": []string{"1"}},
	})
	for id, a := range got {
		b, _ := a["body"].(map[string]any)
		code, msg, _, inner := graphError(t, b)
		if code == "" || msg == "" || inner["date"] == nil || inner["request-id"] == nil || inner["client-request-id"] == nil {
			t.Errorf("inner %s: error body %v", id, b)
		}
	}
}

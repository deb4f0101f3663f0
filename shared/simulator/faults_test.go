package simulator_test

import (
	"net/http"
	"strings"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

func faultConfig(fc simulator.FaultConfig) *simulator.Config {
	cfg := simulator.ExampleConfig()
	cfg.Faults = &fc
	return cfg
}

func TestFault503RunsNothing(t *testing.T) {
	e := newEnvWith(t, faultConfig(simulator.FaultConfig{FaultRates: simulator.FaultRates{ServiceUnavailable: 1}}), nil)
	tok := e.migratorToken(simtest.FabrikamID)
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody("never@fabrikam.example"))
	expectGraphError(t, resp, body, http.StatusServiceUnavailable, "serviceNotAvailable", "")
	if _, ok := resp.Header["Retry-After"]; ok {
		t.Errorf("503 with Retry-After %q", resp.Header.Get("Retry-After"))
	}
	if st := e.admin(http.MethodPut, "settings/faults", `{"rate503": 0}`, nil); st != http.StatusOK {
		t.Fatalf("clearing faults: %d", st)
	}
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users/never@fabrikam.example", tok, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the 503'd create happened: %d", resp.StatusCode)
	}
	if c := e.counter(simtest.FabrikamID, simtest.MigratorID); num(c, "faults", "503") != 1 || num(c, "5xx") != 1 {
		t.Errorf("counter %v", c)
	}
}

func TestFault504LosesTheAnswerOfAWriteThatHappened(t *testing.T) {
	e := newEnvWith(t, faultConfig(simulator.FaultConfig{Routes: []simulator.RouteFaults{
		{Method: "POST", Pattern: "/users", FaultRates: simulator.FaultRates{GatewayTimeout: 1}},
	}}), nil)
	tok := e.migratorToken(simtest.FabrikamID)
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody("ghost@fabrikam.example"))
	expectGraphError(t, resp, body, http.StatusGatewayTimeout, "UnknownError", "")
	// Only POST /users is faulted: the read shows the write happened.
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users/ghost@fabrikam.example", tok, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the 504'd create did not happen: %d", resp.StatusCode)
	}
}

func TestFaultDropClosesTheConnection(t *testing.T) {
	e := newEnvWith(t, faultConfig(simulator.FaultConfig{Routes: []simulator.RouteFaults{
		{Method: "GET", Pattern: "/users/{id}", FaultRates: simulator.FaultRates{Drop: 1}},
	}}), nil)
	tok := e.migratorToken(simtest.FabrikamID)
	req, _ := http.NewRequest(http.MethodGet, e.graph+"/v1.0/users/someone@fabrikam.example", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := e.client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/domains", tok, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("other route: %d", resp.StatusCode)
	}
	if c := e.counter(simtest.FabrikamID, simtest.MigratorID); num(c, "faults", "dropped") < 1 {
		t.Errorf("counter %v", c)
	}
}

func TestFaultsAreDeterministicForASeed(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	run := func(settings string) string {
		if st := e.admin(http.MethodPut, "settings/faults", settings, nil); st != http.StatusOK {
			t.Fatalf("settings %s: %d", settings, st)
		}
		var b strings.Builder
		for range 24 {
			resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/domains", tok, nil)
			b.WriteString(map[int]string{200: ".", 503: "3", 504: "4"}[resp.StatusCode])
		}
		return b.String()
	}
	first := run(`{"seed": 42, "rate503": 0.3, "rate504": 0.3}`)
	if again := run(`{"seed": 42, "rate503": 0.3, "rate504": 0.3}`); again != first {
		t.Errorf("same seed, different faults: %s then %s", first, again)
	}
	if !strings.Contains(first, ".") || !strings.Contains(first, "3") || !strings.Contains(first, "4") {
		t.Errorf("sequence %s lacks a kind of outcome", first)
	}
	if other := run(`{"seed": 43, "rate503": 0.3, "rate504": 0.3}`); other == first {
		t.Errorf("seeds 42 and 43 give the same sequence %s", first)
	}
	if none := run(`{"rate503": 0, "rate504": 0}`); strings.Trim(none, ".") != "" {
		t.Errorf("rate 0 injected faults: %s", none)
	}
}

func TestFaultsInsideBatchAnswerPerRequest(t *testing.T) {
	e := newEnvWith(t, faultConfig(simulator.FaultConfig{Routes: []simulator.RouteFaults{
		{Pattern: "/domains", FaultRates: simulator.FaultRates{ServiceUnavailable: 1}},
		{Pattern: "/organization", FaultRates: simulator.FaultRates{Drop: 1}},
	}}), nil)
	tok := e.migratorToken(simtest.FabrikamID)
	resp, _, got, _ := e.batch(tok, []map[string]any{
		{"id": "1", "method": "GET", "url": "/domains"},
		{"id": "2", "method": "GET", "url": "/organization"}, // an inner request cannot be dropped
	})
	if resp.StatusCode != http.StatusOK || status(got["1"]) != 503 || status(got["2"]) != 200 {
		t.Errorf("batch %d, inner %d %d", resp.StatusCode, status(got["1"]), status(got["2"]))
	}
}

package simulator_test

import (
	"net/http"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

func TestAdminSettingsGetAndSet(t *testing.T) {
	e := newEnv(t, nil)
	var st simulator.Settings
	if code := e.admin(http.MethodGet, "settings", "", &st); code != http.StatusOK || st.Throttling.Enabled ||
		len(st.ReplicationLag) != 2 || st.ReplicationLag["fabrikam"] != 0 {
		t.Fatalf("defaults: %d %+v", code, st)
	}
	var tc simulator.ThrottlingConfig
	if code := e.admin(http.MethodPut, "settings/throttling", `{"enabled": true, "resourceUnits": 5}`, &tc); code != http.StatusOK ||
		!tc.Enabled || tc.ResourceUnits != 5 {
		t.Fatalf("throttling: %d %+v", code, tc)
	}
	var scale map[string]float64
	if code := e.admin(http.MethodPut, "settings/timeScale", `{"timeScale": 20}`, &scale); code != http.StatusOK || scale["timeScale"] != 20 {
		t.Fatalf("time scale: %d %v", code, scale)
	}
	var lag map[string]string
	if code := e.admin(http.MethodPut, "settings/replicationLag", `{"*": "1s", "fabrikam": "2.5s"}`, &lag); code != http.StatusOK ||
		lag["contoso"] != "1s" || lag["fabrikam"] != "2.5s" {
		t.Fatalf("lag: %d %v", code, lag)
	}
	var fc simulator.FaultConfig
	if code := e.admin(http.MethodPut, "settings/faults", `{"seed": 3, "routes": [{"pattern": "/users/*", "rate503": 0.5}]}`, &fc); code != http.StatusOK ||
		fc.Seed != 3 || len(fc.Routes) != 1 {
		t.Fatalf("faults: %d %+v", code, fc)
	}
	// Invalid changes are refused whole.
	for path, body := range map[string]string{
		"settings/throttling":     `{"enabled": false, "timeScale": -1}`,
		"settings/faults":         `{"rate503": 0.7, "rate504": 0.7}`,
		"settings/replicationLag": `{"nowhere": "1s"}`,
		"settings":                `{"throttling": {"enabled": false}, "unknown": 1}`,
		"settings/timeScale":      `{"scale": 2}`,
	} {
		if code := e.admin(http.MethodPut, path, body, nil); code != http.StatusBadRequest {
			t.Errorf("PUT %s %s: %d, want 400", path, body, code)
		}
	}
	if code := e.admin(http.MethodGet, "settings", "", &st); code != http.StatusOK || !st.Throttling.Enabled ||
		st.Throttling.TimeScale != 20 || st.Throttling.ResourceUnits != 5 || st.Faults.Seed != 3 {
		t.Errorf("after refused changes: %+v", st)
	}
	if code := e.admin(http.MethodGet, "settings/nothing", "", nil); code != http.StatusNotFound {
		t.Errorf("unknown part: %d", code)
	}
}

func TestAdminResetsAndCounters(t *testing.T) {
	e := newEnvWith(t, throttledConfig(simulator.ThrottlingConfig{ResourceUnits: 1}), newFakeClock())
	tok := e.migratorToken(simtest.FabrikamID)
	e.do(http.MethodGet, e.graph+"/v1.0/domains", tok, nil)
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/domains", tok, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second request: %d", resp.StatusCode)
	}
	if code := e.admin(http.MethodPost, "reset-throttling", "", nil); code != http.StatusNoContent {
		t.Fatalf("reset-throttling: %d", code)
	}
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/domains", tok, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after reset-throttling: %d", resp.StatusCode)
	}
	c := e.counter(simtest.FabrikamID, simtest.MigratorID)
	if num(c, "requests") != 3 || num(c, "429") != 1 || num(c, "resourceUnits") != 3 || num(c, "throttledBy", "appTenantResourceUnits") != 1 {
		t.Errorf("counter %v", c)
	}
	if code := e.admin(http.MethodPost, "reset", "", nil); code != http.StatusNoContent || e.counter(simtest.FabrikamID, simtest.MigratorID) != nil {
		t.Errorf("reset: %d", code)
	}
}

func TestSettingsPersistInStateFolder(t *testing.T) {
	dir := t.TempDir()
	first := simtest.Start(t, nil, &simulator.Options{StateDir: dir})
	e := &env{t: t, srv: first, graph: first.URLs().GraphURL, client: first.HTTPClient()}
	if code := e.admin(http.MethodPut, "settings", `{"throttling": {"enabled": true, "timeScale": 5}, "replicationLag": {"fabrikam": "3s"},
		"faults": {"seed": 9, "rate504": 0.25}}`, nil); code != http.StatusOK {
		t.Fatalf("settings: %d", code)
	}
	if err := first.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := simtest.Start(t, nil, &simulator.Options{StateDir: dir})
	e = &env{t: t, srv: second, graph: second.URLs().GraphURL, client: second.HTTPClient()}
	var st simulator.Settings
	e.admin(http.MethodGet, "settings", "", &st)
	if !st.Throttling.Enabled || st.Throttling.TimeScale != 5 || st.ReplicationLag["fabrikam"] != simulator.Duration(3e9) ||
		st.Faults.Seed != 9 || st.Faults.GatewayTimeout != 0.25 {
		t.Errorf("restored settings %+v", st)
	}
}

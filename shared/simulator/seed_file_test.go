package simulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// dumpTenant returns the admin dump of a tenant as raw JSON.
func (e *env) dumpTenant(name string) []byte {
	e.t.Helper()
	resp, err := e.client.Get(e.graph + "/_sim/tenants/" + name + "/dump")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("dump %s: %d %v", name, resp.StatusCode, err)
	}
	return data
}

func TestSeedFileLoadsADump(t *testing.T) {
	// Export fabrikam (its 20 seeded users, one created and one deleted through Graph) ...
	src := newEnv(t, nil)
	tok := src.migratorToken(simtest.FabrikamID)
	resp, created := src.do(http.MethodPost, src.graph+"/v1.0/users", tok, newUserBody("exported@fabrikam.example"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	_, page := src.do(http.MethodGet, src.graph+"/v1.0/users?$top=2&$select=id", tok, nil)
	victim := page["value"].([]any)[0].(map[string]any)["id"].(string)
	if victim == created["id"] {
		victim = page["value"].([]any)[1].(map[string]any)["id"].(string)
	}
	if resp, _ := src.do(http.MethodDelete, src.graph+"/v1.0/users/"+victim, tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	// The sections of users and domains; the other collections' sections load through the loaders they
	// register (registerSeedSection) and are tested with them.
	var dump map[string]json.RawMessage
	if err := json.Unmarshal(src.dumpTenant("fabrikam"), &dump); err != nil {
		t.Fatal(err)
	}
	seed, err := json.Marshal(map[string]json.RawMessage{"tenant": dump["tenant"], "domains": dump["domains"],
		"users": dump["users"], "deletedUsers": dump["deletedUsers"]})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fabrikam.json"), seed, 0o600); err != nil {
		t.Fatal(err)
	}
	// ... and load it into a fresh simulator whose tenants file names it relative to itself.
	cfg := simulator.ExampleConfig()
	cfg.Tenants[1].Seed = simulator.SeedConfig{File: "fabrikam.json"}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tenants.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := simulator.LoadConfig(filepath.Join(dir, "tenants.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, loaded, nil)
	var tenants []simulator.TenantSummary
	e.getJSON(e.graph+"/_sim/tenants", &tenants)
	if tenants[1].Users != simtest.FabrikamUsers || tenants[1].DeletedUsers != 1 {
		t.Errorf("loaded tenant %+v, want %d users and 1 deleted", tenants[1], simtest.FabrikamUsers)
	}
	tok = e.migratorToken(simtest.FabrikamID)
	resp, got := e.do(http.MethodGet, e.graph+"/v1.0/users/exported@fabrikam.example", tok, nil)
	if resp.StatusCode != http.StatusOK || got["id"] != created["id"] {
		t.Errorf("exported user: %d %v", resp.StatusCode, got)
	}
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users/"+victim, tok, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleted user is live: %d", resp.StatusCode)
	}
	// The source tenant still has its generated users.
	if tenants[0].Users != simtest.ContosoUsers {
		t.Errorf("contoso %+v", tenants[0])
	}
}

func TestSeedFileRejectsWhatItCannotLoad(t *testing.T) {
	dir := t.TempDir()
	user := `{"id": "0b7c3f4e-9d2a-4b1c-8e5f-6a7b8c9d0e1f", "accountEnabled": true, "displayName": "X",
		"userPrincipalName": "%s", "mailNickname": "x", "createdDateTime": "2022-01-01T00:00:00Z"}`
	tests := map[string]string{
		"unverified domain": `{"users": [` + strings.Replace(user, "%s", "x@unverified.example", 1) + `]}`,
		"unknown section":   `{"users": [], "printers": [{"id": "p1"}]}`,
		"duplicate UPN": `{"users": [` + strings.Replace(user, "%s", "x@fabrikam.example", 1) + `, ` +
			strings.Replace(strings.Replace(user, "%s", "X@fabrikam.example", 1), "0b7c3f4e", "1b7c3f4e", 1) + `]}`,
		"bad id":       `{"users": [{"id": "42", "userPrincipalName": "y@fabrikam.example"}]}`,
		"not JSON":     `users: []`,
		"missing file": "",
	}
	for name, doc := range tests {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if doc != "" {
			if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cfg := simulator.ExampleConfig()
		cfg.Tenants[1].Seed = simulator.SeedConfig{File: path}
		if _, err := simulator.New(cfg, nil); err == nil {
			t.Errorf("%s: seed file accepted", name)
		}
	}
	cfg := simulator.ExampleConfig()
	cfg.Tenants[1].Seed.File = filepath.Join(dir, "x.json")
	if err := cfg.Validate(); err == nil {
		t.Error("seed.file together with seed.users accepted")
	}
	// Empty sections of collections the simulator does not know are fine.
	ok := filepath.Join(dir, "ok.json")
	if err := os.WriteFile(ok, []byte(`{"tenant": {"id": "x"}, "users": [], "printers": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = simulator.ExampleConfig()
	cfg.Tenants[1].Seed = simulator.SeedConfig{File: ok}
	if _, err := simulator.New(cfg, nil); err != nil {
		t.Errorf("empty seed file: %v", err)
	}
}

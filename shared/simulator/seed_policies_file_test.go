package simulator_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// TestSeedFileLoadsConfigObjects: contoso's dump (seeded apps, service principals and assignments,
// named locations, custom roles and policies) loads back as a seed file into the same objects.
func TestSeedFileLoadsConfigObjects(t *testing.T) {
	src := newEnv(t, nil)
	raw := src.dumpTenant("contoso")
	dir := t.TempDir()
	path := filepath.Join(dir, "contoso.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := simulator.ExampleConfig()
	cfg.Tenants[0].Seed = simulator.SeedConfig{File: path}
	e := newObjectsEnv(t, func(c *simulator.Config) { *c = *cfg })
	var before, after map[string]json.RawMessage
	if err := json.Unmarshal(raw, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(e.dumpTenant("contoso"), &after); err != nil {
		t.Fatal(err)
	}
	for _, section := range []string{"applications", "servicePrincipals", "appRoleAssignments", "namedLocations",
		"roleDefinitions", "conditionalAccessPolicies"} {
		var b, a []map[string]any
		_ = json.Unmarshal(before[section], &b)
		_ = json.Unmarshal(after[section], &a)
		if len(b) == 0 || len(a) != len(b) {
			t.Errorf("%s: %d before, %d after", section, len(b), len(a))
			continue
		}
		if objectsJSON(t, a) != objectsJSON(t, b) {
			t.Errorf("%s differ after loading:\n%s\n%s", section, objectsJSON(t, b), objectsJSON(t, a))
		}
	}
	// The loaded objects answer through Graph as the seeded ones did.
	tok := e.migratorToken(simtest.ContosoID)
	if _, list := e.do("GET", e.graph+"/v1.0"+caPoliciesPath, tok, nil); len(list["value"].([]any)) != 6 {
		t.Errorf("policies %v", list)
	}
}

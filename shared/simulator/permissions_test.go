package simulator_test

import (
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"t2t/shared/permissions"
	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// TestPermissionListAgreesWithSimulator ties shared/permissions (what Bicep grants) to the simulator's
// permission checks: every needed permission is an app role of the simulated Microsoft Graph service
// principal with its real id, the demo tenants' tokens carry exactly the source and target sets, and
// the simulator enforces them (the source grant reads but cannot write; the target grant writes).
func TestPermissionListAgreesWithSimulator(t *testing.T) {
	cfg, err := simulator.LoadConfig(filepath.Join("..", "..", "demo", "tenants.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := simtest.Start(t, cfg, nil)
	e := &env{t: t, srv: srv, graph: srv.URLs().GraphURL, vault: srv.URLs().VaultURL, client: srv.HTTPClient()}
	source, target := cfg.Tenants[0], cfg.Tenants[1]
	app := source.Clients[0]
	if target.Clients[0].ClientID != app.ClientID {
		t.Fatalf("demo tenants: the migration app must be one multi-tenant client id")
	}
	sourceTok := e.token(source.ID, app.ClientID, app.Secret, simtest.GraphScope)
	targetTok := e.token(target.ID, app.ClientID, target.Clients[0].Secret, simtest.GraphScope)

	_, graphSP := e.do(http.MethodGet, e.graph+"/v1.0/servicePrincipals(appId='"+permissions.GraphAppID+"')", targetTok, nil)
	ids := map[string]string{}
	roles, _ := graphSP["appRoles"].([]any)
	for _, r := range roles {
		role := r.(map[string]any)
		ids[role["value"].(string)] = role["id"].(string)
	}
	for _, p := range permissions.All() {
		if got, ok := ids[p.Value]; !ok || got != p.ID {
			t.Errorf("simulated Graph app role %s has id %q, shared/permissions says %q", p.Value, got, p.ID)
		}
	}

	for _, tc := range []struct {
		name, token string
		want        []permissions.Permission
	}{{"source", sourceTok, permissions.Source()}, {"target", targetTok, permissions.Target()}} {
		var got []string
		for _, r := range decodeClaims(t, tc.token)["roles"].([]any) {
			got = append(got, r.(string))
		}
		slices.Sort(got)
		if want := permissions.Values(tc.want); !slices.Equal(got, want) {
			t.Errorf("%s token roles %q, want %q", tc.name, got, want)
		}
	}

	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users?$top=1", sourceTok, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("source read: status %d", resp.StatusCode)
	}
	newGroup := map[string]any{"displayName": "t2t permission probe", "mailEnabled": false,
		"mailNickname": "t2tprobe", "securityEnabled": true}
	if resp, body := e.do(http.MethodPost, e.graph+"/v1.0/groups", sourceTok, newGroup); resp.StatusCode != http.StatusForbidden {
		t.Errorf("source write: status %d %v, want 403", resp.StatusCode, body)
	}
	if resp, body := e.do(http.MethodPost, e.graph+"/v1.0/groups", targetTok, newGroup); resp.StatusCode != http.StatusCreated {
		t.Errorf("target write: status %d %v, want 201", resp.StatusCode, body)
	}
}

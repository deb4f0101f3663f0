package simulator_test

import (
	"net/http"
	"net/url"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

const roleDefinitionsPath = "/roleManagement/directory/roleDefinitions"

func customRole(name string, actions ...string) map[string]any {
	return map[string]any{"displayName": name, "description": name, "isEnabled": true,
		"rolePermissions": []any{map[string]any{"allowedResourceActions": actions}}}
}

func TestBuiltInRoles(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.ContosoID)
	for id, name := range map[string]string{
		"62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
		"fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
		"fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
		"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
		"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
		"f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
	} {
		resp, r := e.do(http.MethodGet, e.graph+"/v1.0"+roleDefinitionsPath+"/"+id, tok, nil)
		if resp.StatusCode != http.StatusOK || r["displayName"] != name || r["isBuiltIn"] != true || r["templateId"] != id {
			t.Errorf("%s: %d %v", name, resp.StatusCode, r)
		}
	}
	_, list := e.do(http.MethodGet, e.graph+"/v1.0"+roleDefinitionsPath+"?$filter="+url.QueryEscape("isBuiltIn eq false"), tok, nil)
	if len(list["value"].([]any)) != 3 { // the example config seeds three custom roles in contoso
		t.Errorf("custom roles %v", list)
	}
}

func TestCustomRoles(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	r := e.mustCreate(tok, roleDefinitionsPath, customRole("App support", "microsoft.directory/applications/basic/update",
		"microsoft.directory/applications/standard/read"))
	if r["isBuiltIn"] != false || r["templateId"] != r["id"] || r["isEnabled"] != true || r["resourceScopes"].([]any)[0] != "/" {
		t.Fatalf("role %v", r)
	}
	tests := []struct {
		name    string
		body    map[string]any
		message string
	}{
		{"duplicate name", customRole("APP SUPPORT", "microsoft.directory/applications/basic/update"),
			"Another object with the same value for property displayName already exists."},
		{"built-in name", customRole("Global Administrator", "microsoft.directory/applications/basic/update"), ""},
		{"other category", customRole("x", "microsoft.office365.exchange/allEntities/basic/allTasks"), "Resource category 'microsoft.office365.exchange' is not supported."},
		{"unknown action", customRole("x", "microsoft.directory/applications/everything"),
			"Action 'microsoft.directory/applications/everything' is not supported for Custom Role creation"},
		{"no permissions", map[string]any{"displayName": "x", "isEnabled": true, "rolePermissions": []any{}}, ""},
		{"no isEnabled", map[string]any{"displayName": "x", "rolePermissions": []any{map[string]any{"allowedResourceActions": []string{"microsoft.directory/users/standard/read"}}}},
			"Property isEnabled value is required but is empty or missing."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(http.MethodPost, e.graph+"/v1.0"+roleDefinitionsPath, tok, tt.body)
			expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", tt.message)
		})
	}
	target := e.graph + "/v1.0" + roleDefinitionsPath + "/" + r["id"].(string)
	if resp, b := e.do(http.MethodPatch, target, tok, map[string]any{"isEnabled": false}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("patch: %d %v", resp.StatusCode, b)
	}
	_, got := e.do(http.MethodGet, target, tok, nil)
	if got["isEnabled"] != false || got["displayName"] != "App support" {
		t.Errorf("after patch %v", got)
	}
	builtin := e.graph + "/v1.0" + roleDefinitionsPath + "/62e90394-69f5-4237-9190-012177145e10"
	resp, body := e.do(http.MethodPatch, builtin, tok, map[string]any{"displayName": "Boss"})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	resp, body = e.do(http.MethodDelete, builtin, tok, nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	if resp, _ := e.do(http.MethodDelete, target, tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	// A custom role can be referenced by a conditional access policy in the same tenant.
	r2 := e.mustCreate(tok, roleDefinitionsPath, customRole("Helpdesk", "microsoft.directory/users/password/update"))
	pol := policyBody("roles", []string{"All"}, nil, "AllTrusted")
	pol["conditions"].(map[string]any)["users"].(map[string]any)["excludeRoles"] = []string{r2["id"].(string)}
	e.mustCreate(tok, caPoliciesPath, pol)
}

func TestRolePermissions(t *testing.T) {
	e := newObjectsEnv(t, func(cfg *simulator.Config) {})
	reader := e.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
	resp, body := e.do(http.MethodGet, e.graph+"/v1.0"+roleDefinitionsPath, reader, nil)
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
	source := e.migratorToken(simtest.ContosoID)
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0"+roleDefinitionsPath, source, customRole("x", "microsoft.directory/users/standard/read"))
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
}

package simulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"t2t/shared/simulator/simtest"
)

func TestCreateApplication(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	body := map[string]any{
		"displayName": "Payroll", "signInAudience": "AzureADMultipleOrgs",
		"web": map[string]any{"redirectUris": []string{"https://payroll.fabrikam.example/signin-oidc"},
			"implicitGrantSettings": map[string]any{"@odata.type": "microsoft.graph.implicitGrantSettings", "enableIdTokenIssuance": true}},
		"requiredResourceAccess": []any{map[string]any{"resourceAppId": "00000003-0000-0000-c000-000000000000",
			"resourceAccess": []any{map[string]any{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}}}},
		"appRoles": []any{map[string]any{"id": "6a8f3b2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b", "allowedMemberTypes": []string{"User"},
			"displayName": "Reader", "description": "Reads", "isEnabled": true, "value": "Payroll.Read"}},
		"api": map[string]any{"oauth2PermissionScopes": []any{map[string]any{"id": "7b9c4d3f-2e5a-4f6b-9c0d-1e2f3a4b5c6d",
			"value": "access_as_user", "type": "User", "isEnabled": true, "adminConsentDisplayName": "Access",
			"adminConsentDescription": "Access payroll"}}},
	}
	resp, app := e.do(http.MethodPost, e.graph+"/v1.0/applications", tok, body)
	if resp.StatusCode != http.StatusCreated || app["appId"] == nil || app["appId"] == app["id"] ||
		app["@odata.context"] != e.graph+"/v1.0/$metadata#applications/$entity" {
		t.Fatalf("create: %d %v", resp.StatusCode, app)
	}
	if resp.Header.Get("Location") != e.graph+"/v1.0/applications/"+app["id"].(string) {
		t.Errorf("Location %q", resp.Header.Get("Location"))
	}
	web := app["web"].(map[string]any)
	if web["redirectUris"].([]any)[0] != "https://payroll.fabrikam.example/signin-oidc" || app["publisherDomain"] != "fabrikam.example" ||
		len(app["appRoles"].([]any)) != 1 || app["signInAudience"] != "AzureADMultipleOrgs" || len(app["passwordCredentials"].([]any)) != 0 {
		t.Errorf("created app %v", app)
	}
	appID := app["appId"].(string)
	// Read back by id and by appId; the identifier URI api://<appId> is accepted once the appId is known.
	for _, target := range []string{"/applications/" + app["id"].(string), "/applications(appId='" + appID + "')"} {
		if resp, got := e.do(http.MethodGet, e.graph+"/v1.0"+target, tok, nil); resp.StatusCode != http.StatusOK || got["appId"] != appID {
			t.Fatalf("GET %s: %d %v", target, resp.StatusCode, got)
		}
	}
	patch := map[string]any{"identifierUris": []string{"api://" + appID, "https://payroll.fabrikam.example"}, "notes": "migrated"}
	if resp, b := e.do(http.MethodPatch, e.graph+"/v1.0/applications/"+app["id"].(string), tok, patch); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("patch: %d %v", resp.StatusCode, b)
	}
	_, got := e.do(http.MethodGet, e.graph+"/v1.0/applications/"+app["id"].(string)+"?$select=identifierUris,notes,web", tok, nil)
	if len(got["identifierUris"].([]any)) != 2 || got["notes"] != "migrated" || got["web"].(map[string]any)["implicitGrantSettings"].(map[string]any)["enableIdTokenIssuance"] != true {
		t.Errorf("after patch %v", got)
	}
	// The service principal of the app's home tenant follows the app; both go on delete.
	if resp, sp := e.do(http.MethodPost, e.graph+"/v1.0/servicePrincipals", tok, map[string]any{"appId": appID}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("sp: %d %v", resp.StatusCode, sp)
	}
	if resp, _ := e.do(http.MethodDelete, e.graph+"/v1.0/applications(appId='"+appID+"')", tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	for _, target := range []string{"/applications/" + app["id"].(string), "/servicePrincipals(appId='" + appID + "')"} {
		resp, b := e.do(http.MethodGet, e.graph+"/v1.0"+target, tok, nil)
		expectGraphError(t, resp, b, http.StatusNotFound, "Request_ResourceNotFound", "")
	}
}

func TestApplicationValidation(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	tests := []struct {
		name    string
		body    map[string]any
		code    string
		message string
	}{
		{"no displayName", map[string]any{"signInAudience": "AzureADMyOrg"}, "Request_BadRequest", "Property displayName value is required but is empty or missing."},
		{"unverified identifier URI", map[string]any{"displayName": "x", "identifierUris": []string{"https://api.unverified.example"}},
			"HostNameNotOnVerifiedDomain", "Values of identifierUris property must use a verified domain of the organization or its subdomain: 'https://api.unverified.example'"},
		{"foreign identifier URI", map[string]any{"displayName": "x", "identifierUris": []string{"api://contoso.example/api"}}, "HostNameNotOnVerifiedDomain", ""},
		{"http scheme", map[string]any{"displayName": "x", "identifierUris": []string{"http://fabrikam.example/api"}}, "HostNameNotOnVerifiedDomain", ""},
		{"appId read-only", map[string]any{"displayName": "x", "appId": "4f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"}, "Request_BadRequest", "Property 'appId' is read-only and cannot be set."},
		{"password on create", map[string]any{"displayName": "x", "passwordCredentials": []any{map[string]any{"displayName": "s"}}}, "Request_BadRequest", ""},
		{"bad audience", map[string]any{"displayName": "x", "signInAudience": "Everyone"}, "Request_BadRequest",
			"Invalid value specified for property 'signInAudience' of resource 'Application'."},
		{"http redirect", map[string]any{"displayName": "x", "web": map[string]any{"redirectUris": []string{"http://app.fabrikam.example/cb"}}}, "Request_BadRequest", ""},
		{"app role without id", map[string]any{"displayName": "x", "appRoles": []any{map[string]any{"allowedMemberTypes": []string{"User"},
			"displayName": "R", "description": "R", "isEnabled": true, "value": "R"}}}, "Request_BadRequest", ""},
		{"unknown property", map[string]any{"displayName": "x", "colour": "blue"}, "Request_BadRequest",
			"Property 'colour' does not exist as a declared property or extension property."},
		{"personal accounts need v2 tokens", map[string]any{"displayName": "x", "signInAudience": "AzureADandPersonalMicrosoftAccount"}, "Request_BadRequest", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(http.MethodPost, e.graph+"/v1.0/applications", tok, tt.body)
			expectGraphError(t, resp, body, http.StatusBadRequest, tt.code, tt.message)
		})
	}
	// Allowed identifier URI forms: verified domain and subdomain, api://<tenantId>/…, initial domain.
	ok := []string{"https://fabrikam.example/api", "https://api.fabrikam.example", "api://" + simtest.FabrikamID + "/payroll",
		"https://fabrikam.onmicrosoft.com/payroll", "api://fabrikam.example/payroll"}
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0/applications", tok, map[string]any{"displayName": "uris", "identifierUris": ok})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("allowed identifier URIs: %d %v", resp.StatusCode, body)
	}
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0/applications", tok, map[string]any{"displayName": "dup", "identifierUris": ok[:1]})
	details := expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest",
		"Another object with the same value for property identifierUris already exists.")
	if len(details) != 1 || details[0]["code"] != "ObjectConflict" {
		t.Errorf("details %v", details)
	}
	resp, body = e.do(http.MethodGet, e.graph+"/v1.0/applications/not-a-guid", tok, nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Invalid object identifier 'not-a-guid'.")
}

func TestUpsertApplicationByUniqueName(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	target := e.graph + "/v1.0/applications(uniqueName='t2t-src-app-1')"
	// Without Prefer: create-if-missing a missing app is a 404.
	resp, body := e.do(http.MethodPatch, target, tok, map[string]any{"displayName": "Payroll"})
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	resp, created := e.do(http.MethodPatch, target, tok, map[string]any{"displayName": "Payroll"}, "Prefer", "create-if-missing")
	if resp.StatusCode != http.StatusCreated || created["uniqueName"] != "t2t-src-app-1" || created["appId"] == nil ||
		resp.Header.Get("Preference-Applied") != "create-if-missing" {
		t.Fatalf("upsert create: %d %v", resp.StatusCode, created)
	}
	// Again: an update, 204, same object.
	resp, _ = e.do(http.MethodPatch, target, tok, map[string]any{"displayName": "Payroll v2"}, "Prefer", "create-if-missing")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("upsert update: %d", resp.StatusCode)
	}
	_, got := e.do(http.MethodGet, target, tok, nil)
	if got["id"] != created["id"] || got["displayName"] != "Payroll v2" {
		t.Errorf("after upsert %v", got)
	}
	var list map[string]any
	_, list = e.do(http.MethodGet, e.graph+"/v1.0/applications?$filter="+url.QueryEscape("uniqueName eq 't2t-src-app-1'"), tok, nil)
	if len(list["value"].([]any)) != 1 {
		t.Errorf("filter by uniqueName: %v", list)
	}
	// uniqueName is immutable; a create needs displayName.
	resp, body = e.do(http.MethodPatch, target, tok, map[string]any{"uniqueName": "other"})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	resp, body = e.do(http.MethodPatch, e.graph+"/v1.0/applications(uniqueName='t2t-new')", tok, map[string]any{"notes": "x"}, "Prefer", "create-if-missing")
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Property displayName value is required but is empty or missing.")
	// POST with a taken uniqueName conflicts.
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0/applications", tok, map[string]any{"displayName": "x", "uniqueName": "T2T-SRC-APP-1"})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Another object with the same value for property uniqueName already exists.")
}

func TestApplicationPasswords(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	_, app := e.do(http.MethodPost, e.graph+"/v1.0/applications", tok, map[string]any{"displayName": "Secretive"})
	id := app["id"].(string)
	resp, pw := e.do(http.MethodPost, e.graph+"/v1.0/applications/"+id+"/addPassword", tok,
		map[string]any{"passwordCredential": map[string]any{"displayName": "ci"}})
	secret, _ := pw["secretText"].(string)
	if resp.StatusCode != http.StatusOK || len(secret) != 40 || pw["hint"] != secret[:3] || pw["keyId"] == nil {
		t.Fatalf("addPassword: %d %v", resp.StatusCode, pw)
	}
	_, got := e.do(http.MethodGet, e.graph+"/v1.0/applications/"+id, tok, nil)
	creds := got["passwordCredentials"].([]any)
	if len(creds) != 1 || creds[0].(map[string]any)["secretText"] != nil || creds[0].(map[string]any)["displayName"] != "ci" {
		t.Fatalf("passwordCredentials %v", creds)
	}
	var dump map[string]any
	e.getJSON(e.graph+"/_sim/tenants/fabrikam/dump", &dump)
	if raw := objectsJSON(t, dump); strings.Contains(raw, secret) || strings.Contains(raw, `"hash"`) {
		t.Fatal("the dump leaks the secret")
	}
	resp, _ = e.do(http.MethodPost, e.graph+"/v1.0/applications/"+id+"/removePassword", tok, map[string]any{"keyId": pw["keyId"]})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("removePassword: %d", resp.StatusCode)
	}
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0/applications/"+id+"/removePassword", tok, map[string]any{"keyId": pw["keyId"]})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
}

func TestApplicationRoleRemovalNeedsDisabling(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	role := map[string]any{"id": "0c2d4e6f-8a1b-4c3d-9e5f-7a9b1c3d5e7f", "allowedMemberTypes": []string{"User"},
		"displayName": "Admin", "description": "Admins", "isEnabled": true, "value": "Admin"}
	_, app := e.do(http.MethodPost, e.graph+"/v1.0/applications", tok, map[string]any{"displayName": "Roles", "appRoles": []any{role}})
	target := e.graph + "/v1.0/applications/" + app["id"].(string)
	resp, body := e.do(http.MethodPatch, target, tok, map[string]any{"appRoles": []any{}})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Permission (scope or role) cannot be deleted or updated unless disabled first.")
	role["isEnabled"] = false
	if resp, b := e.do(http.MethodPatch, target, tok, map[string]any{"appRoles": []any{role}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("disable: %d %v", resp.StatusCode, b)
	}
	if resp, b := e.do(http.MethodPatch, target, tok, map[string]any{"appRoles": []any{}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("remove disabled role: %d %v", resp.StatusCode, b)
	}
}

func TestApplicationPermissions(t *testing.T) {
	e := newEnv(t, nil)
	reader := e.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
	resp, body := e.do(http.MethodGet, e.graph+"/v1.0/applications", reader, nil)
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	source := e.migratorToken(simtest.ContosoID) // Application.Read.All only
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0/applications", source, map[string]any{"displayName": "x"})
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
	resp, list := e.do(http.MethodGet, e.graph+"/v1.0/applications?$top=2", source, nil)
	if resp.StatusCode != http.StatusOK || len(list["value"].([]any)) != 2 || list["@odata.nextLink"] == nil {
		t.Fatalf("seeded source apps: %d %v", resp.StatusCode, list)
	}
}

package simulator_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"t2t/shared/simulator/simtest"
)

func TestCreateUser(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody("new.user@fabrikam.example"))
	if resp.StatusCode != http.StatusCreated || body["id"] == nil || body["userPrincipalName"] != "new.user@fabrikam.example" ||
		body["@odata.context"] != e.graph+"/v1.0/$metadata#users/$entity" || body["passwordProfile"] != nil {
		t.Fatalf("create: %d %v", resp.StatusCode, body)
	}
	if resp.Header.Get("Location") != e.graph+"/v1.0/users/"+body["id"].(string) {
		t.Errorf("Location %q", resp.Header.Get("Location"))
	}
	resp, got := e.do(http.MethodGet, e.graph+"/v1.0/users/new.user@fabrikam.example?$select=id,createdDateTime,accountEnabled,mailNickname", tok, nil)
	if resp.StatusCode != http.StatusOK || got["id"] != body["id"] || got["createdDateTime"] == nil || got["mailNickname"] != "new.user" {
		t.Fatalf("read back: %d %v", resp.StatusCode, got)
	}
}

func TestCreateUserDuplicateUPN(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	body := newUserBody("dup@fabrikam.example")
	if resp, _ := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, body); resp.StatusCode != http.StatusCreated {
		t.Fatalf("first create: %d", resp.StatusCode)
	}
	body["userPrincipalName"] = "DUP@fabrikam.example" // UPNs are case-insensitive
	resp, errBody := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, body)
	details := expectGraphError(t, resp, errBody, http.StatusBadRequest, "Request_BadRequest",
		"Another object with the same value for property userPrincipalName already exists.")
	want := []map[string]any{{"target": "userPrincipalName", "code": "ObjectConflict"}}
	if !reflect.DeepEqual(details, want) {
		t.Errorf("details %v, want %v", details, want)
	}
}

func TestCreateUserValidation(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	with := func(edit func(map[string]any)) map[string]any {
		b := newUserBody("valid@fabrikam.example")
		edit(b)
		return b
	}
	tests := []struct {
		name    string
		body    any
		code    string
		message string
		target  string
	}{
		{"unverified domain", with(func(b map[string]any) { b["userPrincipalName"] = "x@unverified.example" }), "Request_BadRequest",
			"The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.", "userPrincipalName"},
		{"foreign domain", with(func(b map[string]any) { b["userPrincipalName"] = "x@contoso.example" }), "Request_BadRequest", "", "userPrincipalName"},
		{"malformed UPN", with(func(b map[string]any) { b["userPrincipalName"] = "no at sign" }), "Request_BadRequest", "Property userPrincipalName is invalid.", "userPrincipalName"},
		{"weak password", with(func(b map[string]any) { b["passwordProfile"] = map[string]any{"password": "password"} }), "Request_BadRequest",
			"The specified password does not comply with password complexity requirements. Please provide a different password.", ""},
		{"no password", with(func(b map[string]any) { delete(b, "passwordProfile") }), "Request_BadRequest", "A password must be specified to create a new user.", ""},
		{"no mailNickname", with(func(b map[string]any) { delete(b, "mailNickname") }), "Request_BadRequest", "Property mailNickname value is required but is empty or missing.", ""},
		{"no accountEnabled", with(func(b map[string]any) { delete(b, "accountEnabled") }), "Request_BadRequest", "Property accountEnabled value is required but is empty or missing.", ""},
		{"no displayName", with(func(b map[string]any) { delete(b, "displayName") }), "Request_BadRequest", "", ""},
		{"bad mailNickname", with(func(b map[string]any) { b["mailNickname"] = "has space" }), "Request_BadRequest",
			"Invalid value specified for property 'mailNickname' of resource 'User'.", "mailNickname"},
		{"bad usageLocation", with(func(b map[string]any) { b["usageLocation"] = "France" }), "Request_BadRequest", "", "usageLocation"},
		{"unknown property", with(func(b map[string]any) { b["favouriteColour"] = "blue" }), "Request_BadRequest",
			"Property 'favouriteColour' does not exist as a declared property or extension property.", ""},
		{"read-only id", with(func(b map[string]any) { b["id"] = "7d3c1f2a-5b8e-4c61-9a0f-2e4b6d8c1a01" }), "Request_BadRequest", "", ""},
		{"wrong type", with(func(b map[string]any) { b["accountEnabled"] = "yes" }), "Request_BadRequest", "", ""},
		{"not JSON", "{not json", "BadRequest", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, tt.body)
			details := expectGraphError(t, resp, body, http.StatusBadRequest, tt.code, tt.message)
			if tt.target != "" && (len(details) != 1 || details[0]["target"] != tt.target || details[0]["code"] != "InvalidValue") {
				t.Errorf("details %v, want target %s", details, tt.target)
			}
		})
	}
}

func TestPatchAndDeleteUser(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	_, created := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody("patch.me@fabrikam.example"))
	id := created["id"].(string)
	e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody("taken@fabrikam.example"))

	resp, body := e.do(http.MethodPatch, e.graph+"/v1.0/users/"+id, tok, map[string]any{"jobTitle": "Auditor", "department": "Legal", "mail": "patch.me@fabrikam.example"})
	if resp.StatusCode != http.StatusNoContent || body != nil {
		t.Fatalf("PATCH: %d %v", resp.StatusCode, body)
	}
	_, got := e.do(http.MethodGet, e.graph+"/v1.0/users/"+id+"?$select=jobTitle,department,proxyAddresses", tok, nil)
	if got["jobTitle"] != "Auditor" || got["department"] != "Legal" || !reflect.DeepEqual(got["proxyAddresses"], []any{"SMTP:patch.me@fabrikam.example"}) {
		t.Errorf("after PATCH: %v", got)
	}
	resp, body = e.do(http.MethodPatch, e.graph+"/v1.0/users/"+id, tok, map[string]any{"userPrincipalName": "taken@fabrikam.example"})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.")
	resp, body = e.do(http.MethodPatch, e.graph+"/v1.0/users/"+id, tok, map[string]any{"passwordProfile": map[string]any{"password": "An0ther-Passw0rd!"}})
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")

	if resp, _ := e.do(http.MethodDelete, e.graph+"/v1.0/users/"+id, tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	resp, body = e.do(http.MethodGet, e.graph+"/v1.0/users/"+id, tok, nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	resp, body = e.do(http.MethodDelete, e.graph+"/v1.0/users/"+id, tok, nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	// A deleted user's UPN is free again.
	if resp, _ := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody("patch.me@fabrikam.example")); resp.StatusCode != http.StatusCreated {
		t.Errorf("re-create after delete: %d", resp.StatusCode)
	}
}

func TestAdminAPI(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	body := newUserBody("secret.keeper@fabrikam.example")
	password := body["passwordProfile"].(map[string]any)["password"].(string)
	e.do(http.MethodPost, e.graph+"/v1.0/users", tok, body)
	e.do(http.MethodGet, e.graph+"/v1.0/users/nobody@fabrikam.example", tok, nil)

	resp, err := e.client.Get(e.graph + "/_sim/tenants/fabrikam/dump")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var dump struct {
		Tenant struct{ ID string } `json:"tenant"`
		Users  []map[string]any    `json:"users"`
	}
	raw := new(strings.Builder)
	if err := json.NewDecoder(io.TeeReader(resp.Body, raw)).Decode(&dump); err != nil {
		t.Fatal(err)
	}
	if dump.Tenant.ID != simtest.FabrikamID || len(dump.Users) != simtest.FabrikamUsers+1 {
		t.Fatalf("dump of %s with %d users", dump.Tenant.ID, len(dump.Users))
	}
	for _, forbidden := range []string{password, "passwordHash", "pbkdf2", "passwordProfile", simtest.MigratorSecret} {
		if strings.Contains(raw.String(), forbidden) {
			t.Errorf("admin dump contains %q", forbidden)
		}
	}

	ctr := e.counter(simtest.FabrikamID, simtest.MigratorID)
	if ctr["requests"] != 2.0 || ctr["writes"] != 1.0 || ctr["4xx"] != 1.0 || ctr["tokenRequests"] != 1.0 {
		t.Errorf("counters %v", ctr)
	}
	if resp, _ := e.do(http.MethodPost, e.graph+"/_sim/reset-counters", "", nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("reset: %d", resp.StatusCode)
	}
	if ctr := e.counter(simtest.FabrikamID, simtest.MigratorID); ctr != nil {
		t.Errorf("counters after reset: %v", ctr)
	}
}

func TestRequestBodyEncodings(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	raw, _ := json.Marshal(newUserBody("zipped@fabrikam.example"))
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(raw)
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.graph+"/v1.0/users", &zipped)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip") // what kiota's compression handler sends
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("gzip body: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, e.graph+"/v1.0/users", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	expectGraphError(t, resp, decode(t, resp.Body), http.StatusBadRequest, "BadRequest",
		"Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
}

package simulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

const (
	authzPath    = "/v1.0/policies/authorizationPolicy"
	ctaPath      = "/v1.0/policies/crossTenantAccessPolicy"
	partnersPath = ctaPath + "/partners"
	partnerID    = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a" // the documentation's example partner
)

// expectStatus sends a request to path (under the Graph root) and fails the test unless it answers
// status.
func (e *env) expectStatus(status int, method, path, tok string, body any) map[string]any {
	e.t.Helper()
	resp, out := e.do(method, e.graph+path, tok, body)
	if resp.StatusCode != status {
		e.t.Fatalf("%s %s: %d %v, want %d", method, path, resp.StatusCode, out, status)
	}
	return out
}

// settingsConfig gives fabrikam overrides of every kind of tenant-wide setting.
func settingsConfig(c *simulator.Config) {
	c.Tenants[1].Organization = &simulator.OrganizationConfig{CountryLetterCode: "DE", PreferredLanguage: "de",
		TechnicalNotificationMails: []string{"it@fabrikam.example"}}
	c.Tenants[1].Policies = &simulator.PoliciesConfig{
		Authorization: map[string]any{"allowInvitesFrom": "adminsAndGuestInviters",
			"defaultUserRolePermissions": map[string]any{"allowedToCreateApps": false}},
		CrossTenantAccess: &simulator.CrossTenantAccessConfig{
			Default:  map[string]any{"inboundTrust": map[string]any{"isMfaAccepted": true}},
			Partners: []map[string]any{{"tenantId": strings.ToUpper(partnerID), "isServiceProvider": true}},
		},
	}
}

func TestAuthorizationPolicyDefaultsSelectAndPermission(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.ContosoID)
	resp, p := e.do(http.MethodGet, e.graph+authzPath, tok, nil)
	if resp.StatusCode != http.StatusOK || p["@odata.context"] != e.graph+"/v1.0/$metadata#policies/authorizationPolicy/$entity" {
		t.Fatalf("GET: %d %v", resp.StatusCode, p)
	}
	// The documentation's example values (authorizationpolicy-get), the Guest User role for guests.
	want := map[string]any{"id": "authorizationPolicy", "allowInvitesFrom": "everyone", "allowedToSignUpEmailBasedSubscriptions": true,
		"allowedToUseSSPR": true, "allowEmailVerifiedUsersToJoinOrganization": true, "blockMsolPowerShell": nil,
		"guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3", "displayName": "Authorization Policy"}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %v, want %v", k, p[k], v)
		}
	}
	perms, _ := p["defaultUserRolePermissions"].(map[string]any)
	if perms["allowedToCreateApps"] != true || perms["allowedToCreateSecurityGroups"] != true || perms["allowedToReadOtherUsers"] != true {
		t.Errorf("defaultUserRolePermissions = %v", perms)
	}
	_, sel := e.do(http.MethodGet, e.graph+authzPath+"?$select=allowInvitesFrom", tok, nil)
	if len(sel) != 2 || sel["allowInvitesFrom"] != "everyone" {
		t.Errorf("$select: %v", sel)
	}
	resp, body := e.do(http.MethodGet, e.graph+authzPath+"?$select=nope", tok, nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	// The auditor has User.Read.All only: Policy.Read.All is required.
	reader := e.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
	resp, body = e.do(http.MethodGet, e.graph+authzPath, reader, nil)
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	resp, body = e.do(http.MethodGet, e.graph+partnersPath, reader, nil)
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
}

func TestCrossTenantDefaultIsTheServiceDefault(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.ContosoID)
	_, d := e.do(http.MethodGet, e.graph+ctaPath+"/default", tok, nil)
	if d["isServiceDefault"] != true {
		t.Fatalf("default: %v", d)
	}
	for name, access := range map[string]string{"b2bCollaborationInbound": "allowed", "b2bCollaborationOutbound": "allowed",
		"b2bDirectConnectInbound": "blocked", "b2bDirectConnectOutbound": "blocked"} {
		s, _ := d[name].(map[string]any)
		users, _ := s["usersAndGroups"].(map[string]any)
		apps, _ := s["applications"].(map[string]any)
		if users["accessType"] != access || apps["accessType"] != access {
			t.Errorf("%s = %v, want %s", name, s, access)
		}
	}
	if a, _ := d["automaticUserConsentSettings"].(map[string]any); a["inboundAllowed"] != false || a["outboundAllowed"] != false {
		t.Errorf("automaticUserConsentSettings = %v", d["automaticUserConsentSettings"])
	}
	resp, base := e.do(http.MethodGet, e.graph+ctaPath, tok, nil)
	if resp.StatusCode != http.StatusOK || base["displayName"] != "CrossTenantAccessPolicy" {
		t.Errorf("policy: %d %v", resp.StatusCode, base)
	}
	_, list := e.do(http.MethodGet, e.graph+partnersPath, tok, nil)
	if v, _ := list["value"].([]any); v == nil || len(v) != 0 {
		t.Errorf("partners of a new tenant: %v", list)
	}
}

func TestTenantSettingsFromTheTenantsFile(t *testing.T) {
	e := newObjectsEnv(t, settingsConfig)
	tok := e.migratorToken(simtest.FabrikamID)
	_, orgs := e.do(http.MethodGet, e.graph+"/v1.0/organization", tok, nil)
	org := orgs["value"].([]any)[0].(map[string]any)
	if org["countryLetterCode"] != "DE" || org["preferredLanguage"] != "de" || org["displayName"] != "Fabrikam Inc" ||
		objectsJSON(t, org["technicalNotificationMails"]) != `["it@fabrikam.example"]` || org["tenantType"] != "AAD" {
		t.Errorf("organization = %v", org)
	}
	resp, one := e.do(http.MethodGet, e.graph+"/v1.0/organization/"+simtest.FabrikamID+"?$select=id,countryLetterCode", tok, nil)
	if resp.StatusCode != http.StatusOK || len(one) != 3 || one["countryLetterCode"] != "DE" {
		t.Errorf("GET organization/{id}: %d %v", resp.StatusCode, one)
	}
	resp, body := e.do(http.MethodGet, e.graph+"/v1.0/organization/"+simtest.ContosoID, tok, nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")

	_, p := e.do(http.MethodGet, e.graph+authzPath, tok, nil)
	perms := p["defaultUserRolePermissions"].(map[string]any)
	if p["allowInvitesFrom"] != "adminsAndGuestInviters" || perms["allowedToCreateApps"] != false || perms["allowedToCreateSecurityGroups"] != true {
		t.Errorf("overridden policy: %v", p)
	}
	_, d := e.do(http.MethodGet, e.graph+ctaPath+"/default", tok, nil)
	trust := d["inboundTrust"].(map[string]any)
	if d["isServiceDefault"] != false || trust["isMfaAccepted"] != true || trust["isCompliantDeviceAccepted"] != false {
		t.Errorf("customized default: %v", d)
	}
	_, got := e.do(http.MethodGet, e.graph+partnersPath+"/"+partnerID, tok, nil)
	if got["tenantId"] != partnerID || got["isServiceProvider"] != true || got["inboundTrust"] != nil {
		t.Errorf("configured partner: %v", got)
	}
	// contoso keeps the defaults.
	_, cp := e.do(http.MethodGet, e.graph+authzPath, e.migratorToken(simtest.ContosoID), nil)
	if cp["allowInvitesFrom"] != "everyone" {
		t.Errorf("contoso policy: %v", cp)
	}
}

func TestInvalidTenantSettingsAreRefused(t *testing.T) {
	for name, edit := range map[string]func(*simulator.TenantConfig){
		"allowInvitesFrom": func(tc *simulator.TenantConfig) {
			tc.Policies = &simulator.PoliciesConfig{Authorization: map[string]any{"allowInvitesFrom": "anyone"}}
		},
		"unknown property": func(tc *simulator.TenantConfig) {
			tc.Policies = &simulator.PoliciesConfig{Authorization: map[string]any{"allowInvitesFromm": "none"}}
		},
		"guest role": func(tc *simulator.TenantConfig) {
			tc.Policies = &simulator.PoliciesConfig{Authorization: map[string]any{"guestUserRoleId": partnerID}}
		},
		"default access type": func(tc *simulator.TenantConfig) {
			tc.Policies = &simulator.PoliciesConfig{CrossTenantAccess: &simulator.CrossTenantAccessConfig{Default: map[string]any{
				"b2bCollaborationInbound": map[string]any{"applications": map[string]any{"accessType": "maybe"}}}}}
		},
		"partner id": func(tc *simulator.TenantConfig) {
			tc.Policies = &simulator.PoliciesConfig{CrossTenantAccess: &simulator.CrossTenantAccessConfig{
				Partners: []map[string]any{{"tenantId": "contoso"}}}}
		},
		"partner twice": func(tc *simulator.TenantConfig) {
			tc.Policies = &simulator.PoliciesConfig{CrossTenantAccess: &simulator.CrossTenantAccessConfig{
				Partners: []map[string]any{{"tenantId": partnerID}, {"tenantId": partnerID}}}}
		},
		"country": func(tc *simulator.TenantConfig) {
			tc.Organization = &simulator.OrganizationConfig{CountryLetterCode: "XX"}
		},
	} {
		cfg := simulator.ExampleConfig()
		edit(&cfg.Tenants[1])
		if _, err := simulator.New(cfg, nil); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestCrossTenantPartnerLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	body := map[string]any{"tenantId": partnerID, "b2bDirectConnectOutbound": map[string]any{"usersAndGroups": map[string]any{
		"accessType": "blocked", "targets": []any{map[string]any{"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"}}}}}
	resp, created := e.do(http.MethodPost, e.graph+partnersPath, tok, body)
	if resp.StatusCode != http.StatusCreated || created["tenantId"] != partnerID || created["inboundTrust"] != nil ||
		resp.Header.Get("Location") != e.graph+"/v1.0/"+strings.TrimPrefix(partnersPath, "/v1.0/")+"/"+partnerID {
		t.Fatalf("POST: %d %v %s", resp.StatusCode, created, resp.Header.Get("Location"))
	}
	if a := created["automaticUserConsentSettings"].(map[string]any); a["inboundAllowed"] != nil || a["outboundAllowed"] != nil {
		t.Errorf("unconfigured automatic consent should be null both ways: %v", a)
	}
	// A second configuration for the same tenant is the documented conflict.
	resp, conflict := e.do(http.MethodPost, e.graph+partnersPath, tok, map[string]any{"tenantId": strings.ToUpper(partnerID)})
	expectGraphError(t, resp, conflict, http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue",
		"Another object with the same value for property tenantId already exists.")

	e.expectStatus(http.StatusNoContent, http.MethodPatch, partnersPath+"/"+partnerID, tok, map[string]any{
		"inboundTrust": map[string]any{"isMfaAccepted": true}, "isServiceProvider": true})
	_, got := e.do(http.MethodGet, e.graph+partnersPath+"/"+partnerID, tok, nil)
	trust, _ := got["inboundTrust"].(map[string]any)
	if trust["isMfaAccepted"] != true || got["isServiceProvider"] != true || got["b2bDirectConnectOutbound"] == nil {
		t.Errorf("after PATCH: %v", got)
	}
	_, list := e.do(http.MethodGet, e.graph+partnersPath+"?$filter=tenantId eq '"+partnerID+"'", tok, nil)
	if v := list["value"].([]any); len(v) != 1 {
		t.Errorf("filtered list: %v", list)
	}
	resp, bad := e.do(http.MethodPatch, e.graph+partnersPath+"/"+partnerID, tok, map[string]any{"tenantId": simtest.ContosoID})
	expectGraphError(t, resp, bad, http.StatusBadRequest, "Request_BadRequest", "")

	e.expectStatus(http.StatusNoContent, http.MethodDelete, partnersPath+"/"+partnerID, tok, nil)
	resp, gone := e.do(http.MethodGet, e.graph+partnersPath+"/"+partnerID, tok, nil)
	expectGraphError(t, resp, gone, http.StatusNotFound, "Request_ResourceNotFound", "")
	resp, gone = e.do(http.MethodDelete, e.graph+partnersPath+"/"+partnerID, tok, nil)
	expectGraphError(t, resp, gone, http.StatusNotFound, "Request_ResourceNotFound", "")
}

func TestCrossTenantPartnerValidationAndPermissions(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	for name, body := range map[string]map[string]any{
		"no tenantId":   {"isServiceProvider": true},
		"not a GUID":    {"tenantId": "contoso.example"},
		"own tenant":    {"tenantId": simtest.FabrikamID},
		"access type":   {"tenantId": partnerID, "b2bCollaborationInbound": map[string]any{"applications": map[string]any{"accessType": "open", "targets": []any{map[string]any{"target": "AllApplications", "targetType": "application"}}}}},
		"target type":   {"tenantId": partnerID, "b2bCollaborationInbound": map[string]any{"applications": map[string]any{"accessType": "allowed", "targets": []any{map[string]any{"target": "AllUsers", "targetType": "user"}}}}},
		"no targets":    {"tenantId": partnerID, "b2bCollaborationInbound": map[string]any{"usersAndGroups": map[string]any{"accessType": "allowed", "targets": []any{}}}},
		"unknown":       {"tenantId": partnerID, "isTrusted": true},
		"read-only mto": {"tenantId": partnerID, "isInMultiTenantOrganization": true},
	} {
		resp, got := e.do(http.MethodPost, e.graph+partnersPath, tok, body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %v", name, resp.StatusCode, got)
		}
	}
	// The source grant reads policies (Policy.Read.All) but cannot write cross-tenant access.
	src := e.migratorToken(simtest.ContosoID)
	resp, body := e.do(http.MethodPost, e.graph+partnersPath, src, map[string]any{"tenantId": partnerID})
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
	if resp, _ := e.do(http.MethodGet, e.graph+partnersPath, src, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("source read: %d", resp.StatusCode)
	}
}

func TestPartnerReplicationLag(t *testing.T) {
	e := newObjectsEnv(t, func(c *simulator.Config) { c.Tenants[1].ReplicationLag = simulator.Duration(time.Hour) })
	tok := e.migratorToken(simtest.FabrikamID)
	e.expectStatus(http.StatusCreated, http.MethodPost, partnersPath, tok, map[string]any{"tenantId": partnerID})
	resp, body := e.do(http.MethodGet, e.graph+partnersPath+"/"+partnerID, tok, nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	// The key is enforced on write: a retried create conflicts with the one still replicating.
	resp, body = e.do(http.MethodPost, e.graph+partnersPath, tok, map[string]any{"tenantId": partnerID})
	expectGraphError(t, resp, body, http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "")
}

func TestSettingsPersistAndLoadBackFromADump(t *testing.T) {
	dir := t.TempDir()
	cfg := simulator.ExampleConfig()
	settingsConfig(cfg)
	first, err := simulator.New(cfg, &simulator.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: first, graph: first.URLs().GraphURL, client: first.HTTPClient()}
	other := "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"
	e.expectStatus(http.StatusCreated, http.MethodPost, partnersPath, e.migratorToken(simtest.FabrikamID), map[string]any{"tenantId": other})
	raw := e.dumpTenant("fabrikam")
	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var dump map[string]json.RawMessage
	if err := json.Unmarshal(raw, &dump); err != nil {
		t.Fatal(err)
	}
	var partners []map[string]any
	_ = json.Unmarshal(dump["crossTenantAccessPartners"], &partners)
	if len(partners) != 2 || !strings.Contains(string(dump["authorizationPolicy"]), "adminsAndGuestInviters") {
		t.Fatalf("dump: %s %s", dump["crossTenantAccessPartners"], dump["authorizationPolicy"])
	}

	// Restart on the state folder: the partner created through Graph is still there.
	second := simtest.Start(t, simulator.ExampleConfig(), &simulator.Options{StateDir: dir})
	e2 := &env{t: t, srv: second, graph: second.URLs().GraphURL, client: second.HTTPClient()}
	tok := e2.migratorToken(simtest.FabrikamID)
	if resp, _ := e2.do(http.MethodGet, e2.graph+partnersPath+"/"+other, tok, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("partner after restart: %d", resp.StatusCode)
	}
	if _, p := e2.do(http.MethodGet, e2.graph+authzPath, tok, nil); p["allowInvitesFrom"] != "adminsAndGuestInviters" {
		t.Errorf("policy after restart: %v", p)
	}

	// The dump loads back as a seed file into a tenant with default settings.
	path := filepath.Join(t.TempDir(), "fabrikam.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	seeded := newObjectsEnv(t, func(c *simulator.Config) { c.Tenants[1].Seed = simulator.SeedConfig{File: path} })
	var again map[string]json.RawMessage
	if err := json.Unmarshal(seeded.dumpTenant("fabrikam"), &again); err != nil {
		t.Fatal(err)
	}
	for _, section := range []string{"authorizationPolicy", "crossTenantAccessDefault", "crossTenantAccessPartners"} {
		if string(again[section]) != string(dump[section]) {
			t.Errorf("%s after loading:\n%s\nwant\n%s", section, again[section], dump[section])
		}
	}
}

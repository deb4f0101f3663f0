package simulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

const (
	namedLocationsPath = "/identity/conditionalAccess/namedLocations"
	caPoliciesPath     = "/identity/conditionalAccess/policies"
)

func ipLocation(name string, trusted bool, cidrs ...string) map[string]any {
	var ranges []any
	for _, c := range cidrs {
		tp := "#microsoft.graph.iPv4CidrRange"
		if strings.Contains(c, ":") {
			tp = "#microsoft.graph.iPv6CidrRange"
		}
		ranges = append(ranges, map[string]any{"@odata.type": tp, "cidrAddress": c})
	}
	return map[string]any{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": name, "isTrusted": trusted, "ipRanges": ranges}
}

func TestNamedLocations(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	ip := e.mustCreate(tok, namedLocationsPath, ipLocation("HQ", true, "12.34.221.11/22", "2001:0:9d38:90d6:0:0:0:0/63"))
	if ip["@odata.type"] != "#microsoft.graph.ipNamedLocation" || ip["isTrusted"] != true || len(ip["ipRanges"].([]any)) != 2 ||
		ip["@odata.context"] != e.graph+"/v1.0/$metadata#identity/conditionalAccess/namedLocations/$entity" {
		t.Fatalf("ip location %v", ip)
	}
	country := e.mustCreate(tok, namedLocationsPath, map[string]any{"@odata.type": "#microsoft.graph.countryNamedLocation",
		"displayName": "Blocked", "countriesAndRegions": []string{"KP", "IR"}, "includeUnknownCountriesAndRegions": true})
	if country["countryLookupMethod"] != "clientIpAddress" || country["includeUnknownCountriesAndRegions"] != true {
		t.Fatalf("country location %v", country)
	}
	bad := []struct {
		name string
		body map[string]any
	}{
		{"no type", map[string]any{"displayName": "x", "ipRanges": []any{}}},
		{"bad cidr", ipLocation("x", false, "300.1.1.1/24")},
		{"v6 typed as v4", map[string]any{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x",
			"ipRanges": []any{map[string]any{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "2001:db8::/48"}}}},
		{"too wide", ipLocation("x", false, "10.0.0.0/7")},
		{"no ranges", ipLocation("x", false)},
		{"bad country", map[string]any{"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x", "countriesAndRegions": []string{"XX"}}},
		{"country props on ip", map[string]any{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "countriesAndRegions": []string{"FR"}}},
		{"no name", ipLocation("", false, "1.2.3.4/32")},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(http.MethodPost, e.graph+"/v1.0"+namedLocationsPath, tok, tt.body)
			expectGraphError(t, resp, body, http.StatusBadRequest, "BadRequest", "")
		})
	}
	target := e.graph + "/v1.0" + namedLocationsPath + "/" + ip["id"].(string)
	if resp, b := e.do(http.MethodPatch, target, tok, map[string]any{"@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": false}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("patch: %d %v", resp.StatusCode, b)
	}
	_, got := e.do(http.MethodGet, target, tok, nil)
	if got["isTrusted"] != false || got["displayName"] != "HQ" || len(got["ipRanges"].([]any)) != 2 {
		t.Errorf("after patch %v", got)
	}
	resp, body := e.do(http.MethodPatch, target, tok, map[string]any{"@odata.type": "#microsoft.graph.countryNamedLocation", "countriesAndRegions": []string{"FR"}})
	expectGraphError(t, resp, body, http.StatusBadRequest, "BadRequest", "")
	_, list := e.do(http.MethodGet, e.graph+"/v1.0"+namedLocationsPath+"?$filter="+url.QueryEscape("displayName eq 'Blocked'"), tok, nil)
	if v := list["value"].([]any); len(v) != 1 || v[0].(map[string]any)["id"] != country["id"] {
		t.Errorf("filter %v", list)
	}
	if resp, _ := e.do(http.MethodDelete, target, tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	resp, body = e.do(http.MethodGet, target, tok, nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "ResourceNotFound", "NamedLocation with id "+ip["id"].(string)+" does not exist in the directory.")
}

// policyBody is a disabled policy for users (include/exclude) excluding a location.
func policyBody(name string, include, exclude []string, location string) map[string]any {
	return map[string]any{
		"displayName": name, "state": "disabled",
		"conditions": map[string]any{
			"clientAppTypes": []string{"all"},
			"applications":   map[string]any{"includeApplications": []string{"All"}},
			"users":          map[string]any{"includeUsers": include, "excludeUsers": exclude},
			"locations":      map[string]any{"includeLocations": []string{"All"}, "excludeLocations": []string{location}},
		},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
	}
}

func TestConditionalAccessPolicies(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	users := e.firstUsers(tok, 2)
	loc := e.mustCreate(tok, namedLocationsPath, ipLocation("Office", true, "203.0.113.0/24"))
	group := e.mustCreate(tok, "/groups", map[string]any{"displayName": "CA exclusions", "mailEnabled": false, "mailNickname": "ca-excl", "securityEnabled": true})
	body := policyBody("Require MFA", []string{users[0]}, []string{users[1]}, loc["id"].(string))
	body["conditions"].(map[string]any)["users"].(map[string]any)["excludeGroups"] = []string{group["id"].(string)}
	body["conditions"].(map[string]any)["users"].(map[string]any)["includeRoles"] = []string{"62e90394-69f5-4237-9190-012177145e10"}
	pol := e.mustCreate(tok, caPoliciesPath, body)
	cond := pol["conditions"].(map[string]any)
	if pol["state"] != "disabled" || pol["modifiedDateTime"] != nil || pol["sessionControls"] != nil ||
		len(cond["users"].(map[string]any)["includeGroups"].([]any)) != 0 || cond["platforms"] != nil ||
		pol["@odata.context"] != e.graph+"/v1.0/$metadata#conditionalAccess/policies/$entity" {
		t.Fatalf("policy %v", pol)
	}
	target := e.graph + "/v1.0" + caPoliciesPath + "/" + pol["id"].(string)
	// PATCH merges complex properties: only the risk levels change.
	if resp, b := e.do(http.MethodPatch, target, tok, map[string]any{"state": "enabledForReportingButNotEnforced",
		"conditions": map[string]any{"signInRiskLevels": []string{"high"}}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("patch: %d %v", resp.StatusCode, b)
	}
	_, got := e.do(http.MethodGet, target, tok, nil)
	gc := got["conditions"].(map[string]any)
	if got["state"] != "enabledForReportingButNotEnforced" || got["modifiedDateTime"] == nil ||
		len(gc["signInRiskLevels"].([]any)) != 1 || len(gc["users"].(map[string]any)["excludeUsers"].([]any)) != 1 {
		t.Errorf("after patch %v", got)
	}
	// A referenced location cannot be deleted.
	resp, b := e.do(http.MethodDelete, e.graph+"/v1.0"+namedLocationsPath+"/"+loc["id"].(string), tok, nil)
	expectGraphError(t, resp, b, http.StatusBadRequest, "BadRequest", "")
	if resp, _ := e.do(http.MethodDelete, target, tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete policy: %d", resp.StatusCode)
	}
	if resp, _ := e.do(http.MethodDelete, e.graph+"/v1.0"+namedLocationsPath+"/"+loc["id"].(string), tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete location after policy: %d", resp.StatusCode)
	}
}

func TestConditionalAccessValidation(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	users := e.firstUsers(tok, 1)
	loc := e.mustCreate(tok, namedLocationsPath, ipLocation("Office", true, "203.0.113.0/24"))
	missing := "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b"
	with := func(edit func(b map[string]any)) map[string]any {
		b := policyBody("p", []string{users[0]}, []string{"GuestsOrExternalUsers"}, loc["id"].(string))
		edit(b)
		return b
	}
	conds := func(b map[string]any) map[string]any { return b["conditions"].(map[string]any) }
	tests := []struct {
		name   string
		body   map[string]any
		target string
	}{
		{"missing user", with(func(b map[string]any) { conds(b)["users"].(map[string]any)["excludeUsers"] = []string{missing} }), "conditions.users.excludeUsers"},
		{"missing group", with(func(b map[string]any) { conds(b)["users"].(map[string]any)["includeGroups"] = []string{missing} }), "conditions.users.includeGroups"},
		{"missing role", with(func(b map[string]any) { conds(b)["users"].(map[string]any)["includeRoles"] = []string{missing} }), "conditions.users.includeRoles"},
		{"missing location", with(func(b map[string]any) {
			conds(b)["locations"] = map[string]any{"includeLocations": []string{missing}}
		}), "conditions.locations.includeLocations"},
		{"missing app", with(func(b map[string]any) {
			conds(b)["applications"] = map[string]any{"includeApplications": []string{missing}}
		}), "conditions.applications.includeApplications"},
		{"bad state", with(func(b map[string]any) { b["state"] = "on" }), ""},
		{"no clientAppTypes", with(func(b map[string]any) { delete(conds(b), "clientAppTypes") }), ""},
		{"no users", with(func(b map[string]any) { delete(conds(b), "users") }), ""},
		{"no controls", with(func(b map[string]any) { delete(b, "grantControls") }), ""},
		{"block with mfa", with(func(b map[string]any) {
			b["grantControls"] = map[string]any{"operator": "OR", "builtInControls": []string{"block", "mfa"}}
		}), ""},
		{"apps and user actions", with(func(b map[string]any) {
			conds(b)["applications"] = map[string]any{"includeApplications": []string{"All"}, "includeUserActions": []string{"urn:user:registersecurityinfo"}}
		}), ""},
		{"None with others", with(func(b map[string]any) {
			conds(b)["users"].(map[string]any)["includeUsers"] = []string{"None", users[0]}
		}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(http.MethodPost, e.graph+"/v1.0"+caPoliciesPath, tok, tt.body)
			details := expectGraphError(t, resp, body, http.StatusBadRequest, "BadRequest", "")
			if tt.target != "" && (len(details) != 1 || details[0]["target"] != tt.target) {
				t.Errorf("details %v, want target %s", details, tt.target)
			}
		})
	}
	// Special values pass: All, None, GuestsOrExternalUsers, Office365, AllTrusted, report-only.
	ok := with(func(b map[string]any) {
		b["state"] = "enabledForReportingButNotEnforced"
		conds(b)["users"] = map[string]any{"includeUsers": []string{"All"}, "excludeUsers": []string{"GuestsOrExternalUsers"}}
		conds(b)["applications"] = map[string]any{"includeApplications": []string{"Office365"}, "excludeApplications": []string{"00000003-0000-0000-c000-000000000000"}}
		conds(b)["locations"] = map[string]any{"includeLocations": []string{"All"}, "excludeLocations": []string{"AllTrusted"}}
	})
	e.mustCreate(tok, caPoliciesPath, ok)
}

func TestConditionalAccessPermissions(t *testing.T) {
	e := newObjectsEnv(t, func(cfg *simulator.Config) {
		// A writer without Policy.Read.All: the documented pair is incomplete.
		cfg.Tenants[1].Clients[1].Roles = []string{"Policy.ReadWrite.ConditionalAccess"}
	})
	half := e.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0"+namedLocationsPath, half, ipLocation("x", false, "1.2.3.0/24"))
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0"+caPoliciesPath, half, policyBody("p", []string{"All"}, nil, "AllTrusted"))
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
	source := e.migratorToken(simtest.ContosoID) // Policy.Read.All: reads the seeded policies
	resp, list := e.do(http.MethodGet, e.graph+"/v1.0"+caPoliciesPath, source, nil)
	if resp.StatusCode != http.StatusOK || len(list["value"].([]any)) != 6 {
		t.Fatalf("seeded policies: %d %v", resp.StatusCode, list)
	}
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0"+caPoliciesPath, source, policyBody("p", []string{"All"}, nil, "AllTrusted"))
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
}

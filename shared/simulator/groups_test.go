package simulator_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

func TestCreateGroupKinds(t *testing.T) {
	d := newDirEnv(t, func(cfg *simulator.Config) {
		roles := &cfg.Tenants[1].Clients[0].Roles
		*roles = slices.DeleteFunc(*roles, func(r string) bool { return r == "RoleManagement.ReadWrite.Directory" })
	})
	resp, sec := d.call(http.MethodPost, "/groups", map[string]any{
		"displayName": "Finance Approvers", "mailEnabled": false, "mailNickname": "finance-approvers",
		"securityEnabled": true, "description": "Approves invoices",
	})
	if resp.StatusCode != http.StatusCreated || sec["id"] == nil || sec["mail"] != nil ||
		!reflect.DeepEqual(sec["groupTypes"], []any{}) || sec["@odata.context"] != d.graph+"/v1.0/$metadata#groups/$entity" ||
		!strings.HasPrefix(sec["securityIdentifier"].(string), "S-1-12-1-") {
		t.Fatalf("security group: %d %v", resp.StatusCode, sec)
	}
	if resp.Header.Get("Location") != d.graph+"/v1.0/groups/"+sec["id"].(string) {
		t.Errorf("Location %q", resp.Header.Get("Location"))
	}
	m365 := d.mustCall(http.StatusCreated, http.MethodPost, "/groups", map[string]any{
		"displayName": "Golf Assist", "mailEnabled": true, "mailNickname": "golfassist", "securityEnabled": false,
		"groupTypes": []string{"Unified"},
	})
	if m365["mail"] != "golfassist@fabrikam.example" || m365["visibility"] != "Public" ||
		!reflect.DeepEqual(m365["proxyAddresses"], []any{"SMTP:golfassist@fabrikam.example"}) {
		t.Errorf("Microsoft 365 group: %v", m365)
	}
	dyn := d.mustCall(http.StatusCreated, http.MethodPost, "/groups", map[string]any{
		"displayName": "All Sales", "mailEnabled": false, "mailNickname": "all-sales", "securityEnabled": true,
		"groupTypes": []string{"DynamicMembership"}, "membershipRule": `(user.department -eq "Sales")`,
	})
	if dyn["membershipRuleProcessingState"] != "On" {
		t.Errorf("dynamic group: %v", dyn)
	}

	base := func(edit func(map[string]any)) map[string]any {
		b := map[string]any{"displayName": "G", "mailEnabled": false, "mailNickname": "g", "securityEnabled": true}
		edit(b)
		return b
	}
	tests := []struct {
		name, message, target string
		body                  map[string]any
	}{
		{"distribution list", "Cannot Create a mail-enabled security groups and or distribution list.", "",
			base(func(b map[string]any) { b["mailEnabled"] = true; b["securityEnabled"] = false })},
		{"mail-enabled security", "Cannot Create a mail-enabled security groups and or distribution list.", "",
			base(func(b map[string]any) { b["mailEnabled"] = true })},
		{"no displayName", "Property displayName value is required but is empty or missing.", "",
			base(func(b map[string]any) { delete(b, "displayName") })},
		{"no mailNickname", "Property mailNickname value is required but is empty or missing.", "",
			base(func(b map[string]any) { delete(b, "mailNickname") })},
		{"no securityEnabled", "Property securityEnabled value is required but is empty or missing.", "",
			base(func(b map[string]any) { delete(b, "securityEnabled") })},
		{"nickname with space", "Invalid value specified for property 'mailNickname' of resource 'Group'.", "mailNickname",
			base(func(b map[string]any) { b["mailNickname"] = "has space" })},
		{"unknown group type", "", "groupTypes", base(func(b map[string]any) { b["groupTypes"] = []string{"Teams"} })},
		{"dynamic without rule", "Property membershipRule value is required but is empty or missing.", "",
			base(func(b map[string]any) { b["groupTypes"] = []string{"DynamicMembership"} })},
		{"read-only mail", "Property 'mail' is read-only and cannot be set.", "", base(func(b map[string]any) { b["mail"] = "x@fabrikam.example" })},
		{"unknown property", "Property 'colour' does not exist as a declared property or extension property.", "",
			base(func(b map[string]any) { b["colour"] = "red" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := d.call(http.MethodPost, "/groups", tt.body)
			details := expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", tt.message)
			if tt.target != "" && (len(details) != 1 || details[0]["target"] != tt.target) {
				t.Errorf("details %v", details)
			}
		})
	}
	// A Microsoft 365 group's address is unique: the same mailNickname conflicts on proxyAddresses.
	resp, body := d.call(http.MethodPost, "/groups", map[string]any{
		"displayName": "Golf 2", "mailEnabled": true, "mailNickname": "GolfAssist", "securityEnabled": false, "groupTypes": []string{"Unified"},
	})
	details := expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Another object with the same value for property proxyAddresses already exists.")
	if len(details) != 1 || details[0]["code"] != "ObjectConflict" {
		t.Errorf("conflict details %v", details)
	}
	// Security groups may share a mailNickname.
	d.newSecurityGroup("finance-approvers", nil)
	// A role-assignable group needs RoleManagement.ReadWrite.Directory.
	resp, body = d.call(http.MethodPost, "/groups", base(func(b map[string]any) { b["isAssignableToRole"] = true }))
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
}

func TestListAndGetGroups(t *testing.T) {
	d := newDirEnv(t, nil)
	seen, pages := map[string]bool{}, 0
	next := d.v1("/groups?$top=5&$select=id,displayName,groupTypes,mailEnabled,securityEnabled")
	for next != "" {
		resp, body := d.do(http.MethodGet, next, d.tok, nil)
		if resp.StatusCode != http.StatusOK || len(body["value"].([]any)) > 5 {
			t.Fatalf("page: %d %v", resp.StatusCode, body)
		}
		for _, v := range body["value"].([]any) {
			g := v.(map[string]any)
			if len(g) != 5 || seen[g["id"].(string)] {
				t.Fatalf("unexpected group %v", g)
			}
			seen[g["id"].(string)] = true
		}
		next, _ = body["@odata.nextLink"].(string)
		pages++
	}
	if len(seen) != 12 || pages != 3 {
		t.Fatalf("%d groups in %d pages", len(seen), pages)
	}
	_, unified := d.call(http.MethodGet, "/groups?$filter="+url.QueryEscape("groupTypes/any(c:c eq 'Unified')")+"&$select=id,groupTypes,mail", nil)
	for _, v := range unified["value"].([]any) {
		if g := v.(map[string]any); g["mail"] == nil {
			t.Errorf("unified group without mail: %v", g)
		}
	}
	if len(unified["value"].([]any)) == 0 {
		t.Error("no Microsoft 365 group seeded")
	}
	resp, counted := d.call(http.MethodGet, "/groups?$count=true&$top=1&$filter="+url.QueryEscape("securityEnabled eq true"), nil, "ConsistencyLevel", "eventual")
	if resp.StatusCode != http.StatusOK || counted["@odata.count"].(float64) < 2 {
		t.Errorf("count: %d %v", resp.StatusCode, counted["@odata.count"])
	}
	resp, body := d.call(http.MethodGet, "/groups?$top=1000", nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_UnsupportedQuery", "")

	var id string
	for k := range seen {
		id = k
		break
	}
	got := d.mustCall(http.StatusOK, http.MethodGet, "/groups/"+id+"?$select=id,displayName", nil)
	if got["id"] != id || len(got) != 3 || got["@odata.context"] != d.graph+"/v1.0/$metadata#groups(id,displayName)/$entity" {
		t.Errorf("get: %v", got)
	}
	resp, body = d.call(http.MethodGet, "/groups/not-a-guid", nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Invalid object identifier 'not-a-guid'.")
	resp, body = d.call(http.MethodGet, "/groups/"+simtest.FabrikamID, nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+simtest.FabrikamID+"' does not exist or one of its queried reference-property objects are not present.")
}

func TestUpsertGroupByUniqueName(t *testing.T) {
	d := newDirEnv(t, nil)
	path := "/groups(uniqueName='t2t-src-0001')"
	body := map[string]any{"displayName": "Ops", "mailEnabled": false, "mailNickname": "ops", "securityEnabled": true}
	resp, out := d.call(http.MethodPatch, path, body)
	expectGraphError(t, resp, out, http.StatusNotFound, "Request_ResourceNotFound", "")

	resp, created := d.call(http.MethodPatch, path, body, "Prefer", "create-if-missing")
	if resp.StatusCode != http.StatusCreated || created["uniqueName"] != "t2t-src-0001" || created["id"] == nil {
		t.Fatalf("upsert create: %d %v", resp.StatusCode, created)
	}
	id := created["id"].(string)
	body["displayName"] = "Operations"
	resp, out = d.call(http.MethodPatch, path, body, "Prefer", "create-if-missing")
	if resp.StatusCode != http.StatusNoContent || out != nil {
		t.Fatalf("upsert update: %d %v", resp.StatusCode, out)
	}
	got := d.mustCall(http.StatusOK, http.MethodGet, path+"?$select=id,displayName,uniqueName", nil)
	if got["id"] != id || got["displayName"] != "Operations" {
		t.Errorf("after upsert: %v", got)
	}
	// The slash form documented in the HTTP request section reaches the same group.
	got = d.mustCall(http.StatusOK, http.MethodGet, "/groups/(uniqueName='t2t-src-0001')?$select=id", nil)
	if got["id"] != id {
		t.Errorf("slash form: %v", got)
	}
	// uniqueName is immutable and unique.
	resp, out = d.call(http.MethodPatch, "/groups/"+id, map[string]any{"uniqueName": "other"})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", "")
	resp, out = d.call(http.MethodPost, "/groups", map[string]any{"displayName": "Dup", "mailEnabled": false,
		"mailNickname": "dup", "securityEnabled": true, "uniqueName": "T2T-SRC-0001"})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", "Another object with the same value for property uniqueName already exists.")
	// Upsert create with members in the same request; quotes are doubled inside the key.
	users := d.userIDs(2)
	resp, created = d.call(http.MethodPatch, "/groups(uniqueName='o''brien')", map[string]any{
		"displayName": "O'Brien", "mailEnabled": false, "mailNickname": "obrien", "securityEnabled": true,
		"members@odata.bind": []string{objectURL(users[0]), objectURL(users[1])},
	}, "Prefer", "create-if-missing")
	if resp.StatusCode != http.StatusCreated || created["uniqueName"] != "o'brien" {
		t.Fatalf("upsert with members: %d %v", resp.StatusCode, created)
	}
	if m := d.members(created["id"].(string)); len(m) != 2 {
		t.Errorf("members after upsert: %v", m)
	}
	// Without Group.ReadWrite.All the upsert is refused.
	reader := d.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
	resp, out = d.do(http.MethodPatch, d.v1(path), reader, body, "Prefer", "create-if-missing")
	expectGraphError(t, resp, out, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

func TestPatchAndDeleteGroups(t *testing.T) {
	d := newDirEnv(t, nil)
	id := d.newSecurityGroup("patch-me", nil)
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/groups/"+id, map[string]any{"description": "changed", "displayName": "Patched"})
	got := d.mustCall(http.StatusOK, http.MethodGet, "/groups/"+id, nil)
	if got["description"] != "changed" || got["displayName"] != "Patched" {
		t.Errorf("after patch: %v", got)
	}
	resp, out := d.call(http.MethodPatch, "/groups/"+id, map[string]any{"mailEnabled": true})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", "")
	resp, out = d.call(http.MethodPatch, "/groups/"+id, map[string]any{"groupTypes": []string{"Unified"}})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", "")

	m365 := d.mustCall(http.StatusCreated, http.MethodPost, "/groups", map[string]any{
		"displayName": "Soft", "mailEnabled": true, "mailNickname": "soft", "securityEnabled": false, "groupTypes": []string{"Unified"},
	})["id"].(string)
	d.mustCall(http.StatusNoContent, http.MethodDelete, "/groups/"+id, nil)
	d.mustCall(http.StatusNoContent, http.MethodDelete, "/groups/"+m365, nil)
	for _, g := range []string{id, m365} {
		resp, out = d.call(http.MethodGet, "/groups/"+g, nil)
		expectGraphError(t, resp, out, http.StatusNotFound, "Request_ResourceNotFound", "")
	}
	// The Microsoft 365 group sits in deleted items and keeps its address; the security group is gone.
	var dump struct {
		DeletedGroups []map[string]any `json:"deletedGroups"`
	}
	d.getJSON(d.graph+"/_sim/tenants/fabrikam/dump", &dump)
	if len(dump.DeletedGroups) != 1 || dump.DeletedGroups[0]["id"] != m365 || dump.DeletedGroups[0]["deletedDateTime"] == nil {
		t.Errorf("deleted groups %v", dump.DeletedGroups)
	}
	resp, out = d.call(http.MethodPost, "/groups", map[string]any{
		"displayName": "Soft again", "mailEnabled": true, "mailNickname": "soft", "securityEnabled": false, "groupTypes": []string{"Unified"},
	})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", "Another object with the same value for property proxyAddresses already exists.")
}

func TestGroupPermissions(t *testing.T) {
	d := newDirEnv(t, nil)
	reader := d.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/groups"}, {http.MethodPost, "/groups"}, {http.MethodGet, "/groups/delta"},
		{http.MethodPost, "/invitations"}, {http.MethodPost, "/directoryObjects/getByIds"},
	} {
		resp, body := d.do(req.method, d.v1(req.path), reader, map[string]any{})
		expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
	// The source tenant grants Group.Read.All: reads work, writes do not.
	src := d.migratorToken(simtest.ContosoID)
	if resp, body := d.do(http.MethodGet, d.v1("/groups"), src, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("contoso GET groups: %d %v", resp.StatusCode, body)
	}
	resp, body := d.do(http.MethodPost, d.v1("/groups"), src, map[string]any{"displayName": "x"})
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
}

func TestGroupsPersistAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := simulator.ExampleConfig()
	first, err := simulator.New(cfg, &simulator.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: first, graph: first.URLs().GraphURL, client: first.HTTPClient()}
	d := &dirEnv{env: e, tok: e.migratorToken(simtest.FabrikamID)}
	user := d.userIDs(1)[0]
	resp, g := d.call(http.MethodPatch, "/groups(uniqueName='kept')", map[string]any{"displayName": "Kept", "mailEnabled": false,
		"mailNickname": "kept", "securityEnabled": true, "members@odata.bind": []string{objectURL(user)}}, "Prefer", "create-if-missing")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upsert: %d %v", resp.StatusCode, g)
	}
	_, _, link := d.deltaRound(d.v1("/groups/delta"))
	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	second := simtest.Start(t, cfg, &simulator.Options{StateDir: dir})
	e2 := &env{t: t, srv: second, graph: second.URLs().GraphURL, client: second.HTTPClient()}
	d2 := &dirEnv{env: e2, tok: d.tok}
	got := d2.mustCall(http.StatusOK, http.MethodGet, "/groups(uniqueName='kept')?$select=id", nil)
	if got["id"] != g["id"] || d2.members(g["id"].(string))[user] == "" {
		t.Fatalf("after restart: %v", got)
	}
	// The change log does not survive a restart: an older delta token asks for a full resync.
	link = strings.Replace(link, e.graph, e2.graph, 1)
	resp, body := d2.do(http.MethodGet, link, d2.tok, nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "syncStateNotFound", "")
}

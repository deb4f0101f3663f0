package simulator_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"t2t/shared/simulator/simtest"
)

const msgAlreadyMember = "One or more added object references already exist for the following modified properties: 'members'."

func notFoundMsg(key string) string {
	return "Resource '" + key + "' does not exist or one of its queried reference-property objects are not present."
}

func TestMembersByRef(t *testing.T) {
	d := newDirEnv(t, nil)
	group := d.newSecurityGroup("ref-group", nil)
	child := d.newSecurityGroup("ref-child", nil)
	users := d.userIDs(2)
	ref := func(id string) map[string]any { return map[string]any{"@odata.id": objectURL(id)} }

	d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+group+"/members/$ref", ref(users[0]))
	d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+group+"/members/$ref",
		map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/groups/" + child})
	resp, body := d.call(http.MethodPost, "/groups/"+group+"/members/$ref", ref(users[0]))
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", msgAlreadyMember)
	missing := "0b8cc234-ef87-4015-9785-cbb42000d41c"
	resp, body = d.call(http.MethodPost, "/groups/"+group+"/members/$ref", ref(missing))
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", notFoundMsg(missing))
	resp, body = d.call(http.MethodPost, "/groups/"+group+"/members/$ref", ref("nope"))
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Invalid object identifier 'nope'.")
	resp, body = d.call(http.MethodPost, "/groups/"+group+"/members/$ref", ref(group))
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")

	// The migrator's own service principal can be a member (it has Application.ReadWrite.All).
	var tenants []struct {
		ID      string `json:"id"`
		Clients []struct {
			ClientID string `json:"clientId"`
			ObjectID string `json:"objectId"`
		} `json:"clients"`
	}
	d.getJSON(d.graph+"/_sim/tenants", &tenants)
	var sp string
	for _, tn := range tenants {
		for _, c := range tn.Clients {
			if tn.ID == simtest.FabrikamID && c.ClientID == simtest.MigratorID {
				sp = c.ObjectID
			}
		}
	}
	d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+group+"/members/$ref",
		map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/servicePrincipals/" + sp})

	members := d.members(group)
	want := map[string]string{users[0]: "#microsoft.graph.user", child: "#microsoft.graph.group", sp: "#microsoft.graph.servicePrincipal"}
	if fmt.Sprint(members) != fmt.Sprint(want) {
		t.Fatalf("members %v, want %v", members, want)
	}
	refs := d.mustCall(http.StatusOK, http.MethodGet, "/groups/"+group+"/members/$ref", nil)
	if len(refs["value"].([]any)) != 3 || !strings.Contains(refs["value"].([]any)[0].(map[string]any)["@odata.id"].(string), "/directoryObjects/") {
		t.Errorf("members/$ref: %v", refs)
	}

	// A Microsoft 365 group takes users only.
	m365 := d.mustCall(http.StatusCreated, http.MethodPost, "/groups", map[string]any{
		"displayName": "M", "mailEnabled": true, "mailNickname": "m365-members", "securityEnabled": false, "groupTypes": []string{"Unified"},
	})["id"].(string)
	resp, body = d.call(http.MethodPost, "/groups/"+m365+"/members/$ref", ref(child))
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	resp, body = d.call(http.MethodPost, "/groups/"+child+"/members/$ref", ref(m365))
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")

	// Removal, by path and by the SDK's $ref?$id= form; a non-member is a 404 naming the group.
	d.mustCall(http.StatusNoContent, http.MethodDelete, "/groups/"+group+"/members/"+users[0]+"/$ref", nil)
	d.mustCall(http.StatusNoContent, http.MethodDelete, "/groups/"+group+"/members/$ref?$id="+url.QueryEscape(objectURL(child)), nil)
	resp, body = d.call(http.MethodDelete, "/groups/"+group+"/members/"+users[0]+"/$ref", nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", notFoundMsg(group))
	if m := d.members(group); len(m) != 1 {
		t.Errorf("after removals: %v", m)
	}

	// Owners work the same way.
	d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+group+"/owners/$ref", ref(users[1]))
	owners := d.mustCall(http.StatusOK, http.MethodGet, "/groups/"+group+"/owners?$select=id,userPrincipalName", nil)
	if v := owners["value"].([]any); len(v) != 1 || v[0].(map[string]any)["userPrincipalName"] == nil {
		t.Errorf("owners: %v", owners)
	}
}

func TestMembersBindTwentyAtOnce(t *testing.T) {
	d := newDirEnv(t, nil)
	group := d.newSecurityGroup("bind-group", nil)
	users := d.userIDs(25)
	binds := func(ids []string) map[string]any {
		urls := make([]string, len(ids))
		for i, id := range ids {
			urls[i] = objectURL(id)
		}
		return map[string]any{"members@odata.bind": urls}
	}
	resp, body := d.call(http.MethodPatch, "/groups/"+group, binds(users[:21]))
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "A resource cannot contain more than 20 link changes")
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/groups/"+group, binds(users[:20]))
	if m := d.members(group); len(m) != 20 {
		t.Fatalf("%d members after binding 20", len(m))
	}
	// All or nothing: one existing member and the others are not added.
	resp, body = d.call(http.MethodPatch, "/groups/"+group, binds(users[19:25]))
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", msgAlreadyMember)
	resp, body = d.call(http.MethodPatch, "/groups/"+group, binds([]string{users[20], "0b8cc234-ef87-4015-9785-cbb42000d41c"}))
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "The source resource object or one of the objects being referenced do not exist.")
	resp, body = d.call(http.MethodPatch, "/groups/"+group, binds([]string{users[21], users[21]}))
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Request contains a property with duplicate values.")
	resp, body = d.call(http.MethodPatch, "/groups/"+group, map[string]any{"members@odata.bind": []string{"not a url"}})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	if m := d.members(group); len(m) != 20 {
		t.Fatalf("%d members after refused binds", len(m))
	}
	// Members and owners count together against the limit, on create too.
	create := binds(users[:19])
	create["owners@odata.bind"] = []string{objectURL(users[20]), objectURL(users[21])}
	for k, v := range map[string]any{"displayName": "c", "mailEnabled": false, "mailNickname": "c", "securityEnabled": true} {
		create[k] = v
	}
	resp, body = d.call(http.MethodPost, "/groups", create)
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "A resource cannot contain more than 20 link changes")
	// GroupMember.ReadWrite.All alone may bind members but not change other properties.
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/groups/"+group, binds(users[20:22]))
}

func TestMembersPagingNestingAndMemberOf(t *testing.T) {
	d := newDirEnv(t, nil)
	outer := d.newSecurityGroup("outer", nil)
	inner := d.newSecurityGroup("inner", nil)
	users := d.userIDs(23)
	for _, id := range append(append([]string{}, users[:20]...), inner) {
		d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+outer+"/members/$ref", map[string]any{"@odata.id": objectURL(id)})
	}
	for _, id := range users[20:] {
		d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+inner+"/members/$ref", map[string]any{"@odata.id": objectURL(id)})
	}
	seen, pages := map[string]bool{}, 0
	next := d.v1("/groups/" + outer + "/members?$top=6&$select=id,displayName,userPrincipalName,mailEnabled")
	for next != "" {
		_, body := d.do(http.MethodGet, next, d.tok, nil)
		for _, v := range body["value"].([]any) {
			m := v.(map[string]any)
			if m["@odata.type"] == "#microsoft.graph.user" && (m["userPrincipalName"] == nil || m["mailEnabled"] != nil) {
				t.Errorf("user member projection %v", m)
			}
			if m["@odata.type"] == "#microsoft.graph.group" && (m["mailEnabled"] != false || m["userPrincipalName"] != nil) {
				t.Errorf("group member projection %v", m)
			}
			seen[m["id"].(string)] = true
		}
		next, _ = body["@odata.nextLink"].(string)
		pages++
	}
	if len(seen) != 21 || pages != 4 {
		t.Fatalf("%d members in %d pages", len(seen), pages)
	}
	resp, counted := d.call(http.MethodGet, "/groups/"+outer+"/members?$count=true&$top=1", nil, "ConsistencyLevel", "eventual")
	if resp.StatusCode != http.StatusOK || counted["@odata.count"] != 21.0 {
		t.Errorf("members $count: %v", counted["@odata.count"])
	}
	trans := d.mustCall(http.StatusOK, http.MethodGet, "/groups/"+outer+"/transitiveMembers?$top=999", nil)
	if n := len(trans["value"].([]any)); n != 24 {
		t.Errorf("%d transitive members, want 24", n)
	}
	direct := d.mustCall(http.StatusOK, http.MethodGet, "/users/"+users[21]+"/memberOf", nil)
	transitive := d.mustCall(http.StatusOK, http.MethodGet, "/users/"+users[21]+"/transitiveMemberOf", nil)
	ids := func(b map[string]any) map[string]bool {
		out := map[string]bool{}
		for _, v := range b["value"].([]any) {
			out[v.(map[string]any)["id"].(string)] = true
		}
		return out
	}
	if d1, t1 := ids(direct), ids(transitive); !d1[inner] || d1[outer] || !t1[inner] || !t1[outer] {
		t.Errorf("memberOf %v, transitiveMemberOf %v", d1, t1)
	}
	// Deleting a member user removes it from its groups.
	d.mustCall(http.StatusNoContent, http.MethodDelete, "/users/"+users[0], nil)
	if m := d.members(outer); len(m) != 20 || m[users[0]] != "" {
		t.Errorf("after user delete: %d members", len(m))
	}
}

func TestDynamicAndExchangeGroupsRefuseMembers(t *testing.T) {
	d := newDirEnv(t, nil)
	groups := d.dumpGroups()
	user := d.userIDs(1)[0]
	var dynamic, distribution, mailSecurity string
	for _, g := range groups {
		types := fmt.Sprint(g["groupTypes"])
		switch {
		case strings.Contains(types, "DynamicMembership"):
			dynamic = g["id"].(string)
		case g["mailEnabled"] == true && g["securityEnabled"] == false && !strings.Contains(types, "Unified"):
			distribution = g["id"].(string)
		case g["mailEnabled"] == true && g["securityEnabled"] == true:
			mailSecurity = g["id"].(string)
		}
	}
	if dynamic == "" || distribution == "" || mailSecurity == "" {
		t.Fatalf("seed lacks a group kind: %v %v %v", dynamic, distribution, mailSecurity)
	}
	ref := map[string]any{"@odata.id": objectURL(user)}
	resp, body := d.call(http.MethodPost, "/groups/"+dynamic+"/members/$ref", ref)
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	for _, g := range []string{distribution, mailSecurity} {
		resp, body = d.call(http.MethodPost, "/groups/"+g+"/members/$ref", ref)
		expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Cannot Update a mail-enabled security groups and or distribution list.")
	}
	resp, body = d.call(http.MethodPatch, "/groups/"+dynamic, map[string]any{"members@odata.bind": []string{objectURL(user)}})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	// Dynamic members still list.
	if m := d.members(dynamic); len(m) == 0 {
		t.Errorf("dynamic group has no members")
	}
}

func TestManager(t *testing.T) {
	d := newDirEnv(t, nil)
	users := d.userIDs(3)
	newUser := d.mustCall(http.StatusCreated, http.MethodPost, "/users", newUserBody("report@fabrikam.example"))["id"].(string)
	resp, body := d.call(http.MethodGet, "/users/"+newUser+"/manager", nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", notFoundMsg("manager"))
	d.mustCall(http.StatusNoContent, http.MethodPut, "/users/"+newUser+"/manager/$ref",
		map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + users[2]})
	mgr := d.mustCall(http.StatusOK, http.MethodGet, "/users/"+newUser+"/manager?$select=id,displayName", nil)
	if mgr["id"] != users[2] || mgr["@odata.type"] != "#microsoft.graph.user" {
		t.Errorf("manager %v", mgr)
	}
	ref := d.mustCall(http.StatusOK, http.MethodGet, "/users/"+newUser+"/manager/$ref", nil)
	if !strings.HasSuffix(ref["@odata.id"].(string), "/directoryObjects/"+users[2]) {
		t.Errorf("manager $ref %v", ref)
	}
	resp, body = d.call(http.MethodPut, "/users/"+newUser+"/manager/$ref", map[string]any{"@odata.id": objectURL(newUser)})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	resp, body = d.call(http.MethodPut, "/users/"+newUser+"/manager/$ref", map[string]any{"@odata.id": objectURL("0b8cc234-ef87-4015-9785-cbb42000d41c")})
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	d.mustCall(http.StatusNoContent, http.MethodDelete, "/users/"+newUser+"/manager/$ref", nil)
	resp, body = d.call(http.MethodDelete, "/users/"+newUser+"/manager/$ref", nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	// Seeded users have managers.
	withMgr := 0
	for _, u := range users {
		if resp, _ := d.call(http.MethodGet, "/users/"+u+"/manager", nil); resp.StatusCode == http.StatusOK {
			withMgr++
		}
	}
	if withMgr == 0 {
		t.Error("no seeded user has a manager")
	}
	// onPremisesImmutableId is settable and readable.
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/users/"+newUser, map[string]any{"onPremisesImmutableId": "AAECAwQFBgcICQoLDA0ODw=="})
	got := d.mustCall(http.StatusOK, http.MethodGet, "/users/"+newUser+"?$select=onPremisesImmutableId", nil)
	if got["onPremisesImmutableId"] != "AAECAwQFBgcICQoLDA0ODw==" {
		t.Errorf("onPremisesImmutableId %v", got)
	}
}

package simulator_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"t2t/shared/simulator/simtest"
)

// deltaRound follows nextLinks from start to the deltaLink and returns the objects by id, the number
// of pages and the deltaLink.
func (d *dirEnv) deltaRound(start string, headers ...string) (map[string]map[string]any, int, string) {
	d.t.Helper()
	items, pages := map[string]map[string]any{}, 0
	next := start
	for {
		resp, body := d.do(http.MethodGet, next, d.tok, nil, headers...)
		if resp.StatusCode != http.StatusOK {
			d.t.Fatalf("delta %s: %d %v", next, resp.StatusCode, body)
		}
		pages++
		for _, v := range body["value"].([]any) {
			m := v.(map[string]any)
			items[m["id"].(string)] = m
		}
		if link, ok := body["@odata.deltaLink"].(string); ok {
			if !strings.Contains(link, "$deltatoken=") || body["@odata.nextLink"] != nil {
				d.t.Fatalf("last page: %v", body)
			}
			return items, pages, link
		}
		next = body["@odata.nextLink"].(string)
		if !strings.Contains(next, "$skiptoken=") {
			d.t.Fatalf("nextLink without $skiptoken: %s", next)
		}
	}
}

func TestUsersDeltaRoundTrip(t *testing.T) {
	d := newDirEnv(t, nil)
	all, pages, link := d.deltaRound(d.v1("/users/delta"))
	total := fabrikamDirUsers + 6 // plus guests and external members
	if len(all) != total || pages != 2 {
		t.Fatalf("first round: %d users in %d pages", len(all), pages)
	}
	for _, u := range all {
		if u["userPrincipalName"] == nil || len(u) != 11 {
			t.Fatalf("first round projection: %v", u)
		}
	}
	users := d.userIDs(3)
	created := d.mustCall(http.StatusCreated, http.MethodPost, "/users", newUserBody("delta.new@fabrikam.example"))["id"].(string)
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/users/"+users[0], map[string]any{"jobTitle": "Delta Tester"})
	d.mustCall(http.StatusNoContent, http.MethodDelete, "/users/"+users[1], nil)
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/users/"+users[2], map[string]any{"usageLocation": "FR"}) // not tracked by default

	changes, _, link2 := d.deltaRound(link)
	if len(changes) != 3 || changes[created]["userPrincipalName"] != "delta.new@fabrikam.example" ||
		changes[users[0]]["jobTitle"] != "Delta Tester" {
		t.Fatalf("changes: %v", changes)
	}
	if removed, _ := changes[users[1]]["@removed"].(map[string]any); removed["reason"] != "changed" {
		t.Errorf("deleted user: %v", changes[users[1]])
	}
	if again, _, _ := d.deltaRound(link2); len(again) != 0 {
		t.Errorf("quiet round: %v", again)
	}

	// Prefer: return=minimal returns only the properties that changed.
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/users/"+users[0], map[string]any{"jobTitle": "Minimal"})
	minimal, _, _ := d.deltaRound(link2, "Prefer", "return=minimal")
	if m := minimal[users[0]]; len(m) != 2 || m["jobTitle"] != "Minimal" {
		t.Errorf("minimal: %v", m)
	}

	// $select tracks only the selected properties.
	_, _, selLink := d.deltaRound(d.v1("/users/delta?$select=displayName"))
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/users/"+users[0], map[string]any{"jobTitle": "Unselected"})
	if got, _, _ := d.deltaRound(selLink); len(got) != 0 {
		t.Errorf("unselected change reported: %v", got)
	}
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/users/"+users[0], map[string]any{"displayName": "Renamed"})
	if got, _, _ := d.deltaRound(selLink); len(got) != 1 || len(got[users[0]]) != 2 || got[users[0]]["displayName"] != "Renamed" {
		t.Errorf("selected change: %v", got)
	}

	// manager@delta when manager is selected.
	_, _, mgrLink := d.deltaRound(d.v1("/users/delta?$select=displayName,manager"))
	d.mustCall(http.StatusNoContent, http.MethodPut, "/users/"+users[2]+"/manager/$ref", map[string]any{"@odata.id": objectURL(created)})
	got, _, _ := d.deltaRound(mgrLink)
	if md, _ := got[users[2]]["manager@delta"].([]any); len(md) == 0 || !strings.Contains(fmt.Sprint(md), created) {
		t.Errorf("manager@delta: %v", got[users[2]])
	}

	// $filter by id limits the round.
	only, _, _ := d.deltaRound(d.v1("/users/delta?$filter=" + url.QueryEscape("id eq '"+users[0]+"' or id eq '"+users[2]+"'")))
	if len(only) != 2 {
		t.Errorf("filtered round: %d users", len(only))
	}

	// $deltatoken=latest: no objects, a deltaLink from now on.
	latest, _, fromNow := d.deltaRound(d.v1("/users/delta?$deltatoken=latest"))
	if len(latest) != 0 {
		t.Errorf("latest returned %d users", len(latest))
	}
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/users/"+users[2], map[string]any{"mobilePhone": "+1 555 0100"})
	if got, _, _ := d.deltaRound(fromNow); len(got) != 1 || got[users[2]] == nil {
		t.Errorf("after latest: %v", got)
	}

	// Unsupported options, malformed and expired tokens.
	resp, body := d.call(http.MethodGet, "/users/delta?$top=5", nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_UnsupportedQuery", "")
	resp, body = d.call(http.MethodGet, "/users/delta?$deltatoken=garbage", nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "syncStateNotFound", "")
	resp, body = d.call(http.MethodGet, "/groups/delta?$deltatoken="+tokenOf(t, fromNow), nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "syncStateNotFound", "")
	d.clock.Advance(7*24*time.Hour + time.Minute)
	d.tok = d.migratorToken(simtest.FabrikamID) // the access token expired too
	resp, body = d.do(http.MethodGet, fromNow, d.tok, nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "syncStateNotFound",
		"The sync state generation is not found. The delta token is expired and data must be synchronized again.")
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("$deltatoken")
}

func TestGroupsDeltaMembers(t *testing.T) {
	d := newDirEnv(t, nil)
	all, _, link := d.deltaRound(d.v1("/groups/delta"))
	if len(all) != 12 {
		t.Fatalf("first round: %d groups", len(all))
	}
	withMembers := 0
	for _, g := range all {
		if md, ok := g["members@delta"].([]any); ok && len(md) > 0 {
			withMembers++
			if m := md[0].(map[string]any); m["@odata.type"] == nil || m["id"] == nil {
				t.Errorf("members@delta entry %v", m)
			}
		}
	}
	if withMembers == 0 {
		t.Error("no members@delta in the first round")
	}
	users := d.userIDs(2)
	group := d.newSecurityGroup("delta-group", nil)
	d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+group+"/members/$ref", map[string]any{"@odata.id": objectURL(users[0])})
	round, _, link2 := d.deltaRound(link)
	md, _ := round[group]["members@delta"].([]any)
	if len(round) != 1 || len(md) != 1 || md[0].(map[string]any)["id"] != users[0] {
		t.Fatalf("created group round: %v", round)
	}

	d.mustCall(http.StatusNoContent, http.MethodDelete, "/groups/"+group+"/members/"+users[0]+"/$ref", nil)
	d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+group+"/members/$ref", map[string]any{"@odata.id": objectURL(users[1])})
	round, _, link3 := d.deltaRound(link2)
	md, _ = round[group]["members@delta"].([]any)
	if len(md) != 2 {
		t.Fatalf("membership round: %v", round)
	}
	for _, e := range md {
		m := e.(map[string]any)
		removed, _ := m["@removed"].(map[string]any)
		switch m["id"] {
		case users[0]:
			if removed["reason"] != "deleted" {
				t.Errorf("removed member %v", m)
			}
		case users[1]:
			if removed != nil || m["@odata.type"] != "#microsoft.graph.user" {
				t.Errorf("added member %v", m)
			}
		}
	}

	m365 := d.mustCall(http.StatusCreated, http.MethodPost, "/groups", map[string]any{
		"displayName": "Soft", "mailEnabled": true, "mailNickname": "soft-delta", "securityEnabled": false, "groupTypes": []string{"Unified"},
	})["id"].(string)
	_, _, link4 := d.deltaRound(link3)
	d.mustCall(http.StatusNoContent, http.MethodDelete, "/groups/"+group, nil)
	d.mustCall(http.StatusNoContent, http.MethodDelete, "/groups/"+m365, nil)
	round, _, _ = d.deltaRound(link4)
	reason := func(id string) any { r, _ := round[id]["@removed"].(map[string]any); return r["reason"] }
	if len(round) != 2 || reason(group) != "deleted" || reason(m365) != "changed" {
		t.Errorf("removed groups: %v", round)
	}

	// With $select, membership changes come only when members is selected.
	_, _, selLink := d.deltaRound(d.v1("/groups/delta?$select=displayName"))
	other := d.newSecurityGroup("sel-group", nil)
	_, _, selLink2 := d.deltaRound(selLink)
	d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+other+"/members/$ref", map[string]any{"@odata.id": objectURL(users[0])})
	if got, _, _ := d.deltaRound(selLink2); len(got) != 0 {
		t.Errorf("membership change reported without members selected: %v", got)
	}
}

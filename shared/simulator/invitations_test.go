package simulator_test

import (
	"net/http"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

const inviterID = "3e1f7c55-2a9b-4d0e-8c61-5b7a9e2d4f33"

func invitation(email string, extra map[string]any) map[string]any {
	b := map[string]any{"invitedUserEmailAddress": email, "inviteRedirectUrl": "https://myapps.microsoft.com"}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func TestInvitations(t *testing.T) {
	d := newDirEnv(t, func(cfg *simulator.Config) {
		cfg.Tenants[1].Clients = append(cfg.Tenants[1].Clients, simulator.ClientConfig{
			ClientID: inviterID, Secret: "inviter-secret", Roles: []string{"User.Invite.All"}})
	})
	inviter := d.token(simtest.FabrikamID, inviterID, "inviter-secret", simtest.GraphScope)
	resp, inv := d.do(http.MethodPost, d.v1("/invitations"), inviter, invitation("Ana.Lima@partner.example", nil))
	if resp.StatusCode != http.StatusCreated || inv["status"] != "PendingAcceptance" || inv["invitedUserType"] != "Guest" ||
		inv["inviteRedeemUrl"] == nil || inv["@odata.context"] != d.graph+"/v1.0/$metadata#invitations/$entity" {
		t.Fatalf("invitation: %d %v", resp.StatusCode, inv)
	}
	guestID := inv["invitedUser"].(map[string]any)["id"].(string)
	guest := d.mustCall(http.StatusOK, http.MethodGet, "/users/"+guestID+"?$select=userPrincipalName,userType,mail,externalUserState,creationType", nil)
	if guest["userPrincipalName"] != "ana.lima_partner.example#EXT#@fabrikam.onmicrosoft.com" || guest["userType"] != "Guest" ||
		guest["externalUserState"] != "PendingAcceptance" || guest["creationType"] != "Invitation" || guest["mail"] != "Ana.Lima@partner.example" {
		t.Errorf("guest: %v", guest)
	}
	// Inviting the same address again returns the same user.
	_, again := d.do(http.MethodPost, d.v1("/invitations"), inviter, invitation("ana.lima@partner.example", nil))
	if again["invitedUser"].(map[string]any)["id"] != guestID {
		t.Errorf("re-invitation created another user: %v", again)
	}
	for name, body := range map[string]map[string]any{
		"own verified domain": invitation("someone@fabrikam.example", nil),
		"no redirect":         {"invitedUserEmailAddress": "x@partner.example"},
		"bad address":         invitation("not-an-address", nil),
		"bad user type":       invitation("y@partner.example", map[string]any{"invitedUserType": "Owner"}),
	} {
		resp, out := d.do(http.MethodPost, d.v1("/invitations"), inviter, body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %v", name, resp.StatusCode, out)
		}
	}

	// An external member converts to an internal member (beta), keeping its id and groups.
	resp, inv = d.call(http.MethodPost, "/invitations", invitation("bo@supplier.example", map[string]any{"invitedUserType": "Member"}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("member invitation: %d %v", resp.StatusCode, inv)
	}
	memberID := inv["invitedUser"].(map[string]any)["id"].(string)
	group := d.newSecurityGroup("convert-group", nil)
	d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+group+"/members/$ref", map[string]any{"@odata.id": objectURL(memberID)})
	convert := map[string]any{"userPrincipalName": "bo@fabrikam.example",
		"passwordProfile": map[string]any{"password": "Zdi087#2jhkahf", "forceChangePasswordNextSignIn": "true"}}
	resp, out := d.call(http.MethodPost, "/users/"+memberID+"/convertExternalToInternalMemberUser", convert)
	expectGraphError(t, resp, out, http.StatusBadRequest, "BadRequest", "Resource not found for the segment 'convertExternalToInternalMemberUser'.")
	beta := func(path string, body any) (*http.Response, map[string]any) {
		return d.do(http.MethodPost, d.graph+"/beta"+path, d.tok, body)
	}
	resp, out = beta("/users/"+memberID+"/convertExternalToInternalMemberUser", map[string]any{"userPrincipalName": "bo@unverified.example",
		"passwordProfile": map[string]any{"password": "Zdi087#2jhkahf"}})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", "")
	resp, out = beta("/users/"+memberID+"/convertExternalToInternalMemberUser", map[string]any{"userPrincipalName": "bo@fabrikam.example"})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", "A password must be specified to create a new user.")
	resp, out = beta("/users/"+guestID+"/convertExternalToInternalMemberUser", convert)
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", "")
	resp, out = beta("/users/"+memberID+"/convertExternalToInternalMemberUser", convert)
	if resp.StatusCode != http.StatusOK || out["userPrincipalName"] != "bo@fabrikam.example" || out["convertedToInternalUserDateTime"] == nil ||
		out["@odata.context"] != d.graph+"/beta/$metadata#microsoft.graph.conversionUserDetails" {
		t.Fatalf("convert: %d %v", resp.StatusCode, out)
	}
	after := d.mustCall(http.StatusOK, http.MethodGet, "/users/"+memberID+"?$select=id,userPrincipalName,userType,externalUserState,identities", nil)
	if after["userPrincipalName"] != "bo@fabrikam.example" || after["userType"] != "Member" || after["externalUserState"] != nil ||
		len(after["identities"].([]any)) != 0 {
		t.Errorf("after conversion: %v", after)
	}
	if m := d.members(group); m[memberID] == "" {
		t.Errorf("conversion lost the group membership")
	}
	resp, out = beta("/users/"+memberID+"/convertExternalToInternalMemberUser", convert)
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", "")

	// invitedUser {id} B2B-links an existing internal user: same object, UPN and memberships.
	internal := d.userIDs(1)[0]
	d.mustCall(http.StatusNoContent, http.MethodPost, "/groups/"+group+"/members/$ref", map[string]any{"@odata.id": objectURL(internal)})
	before := d.mustCall(http.StatusOK, http.MethodGet, "/users/"+internal+"?$select=userPrincipalName,userType", nil)
	inv = d.mustCall(http.StatusCreated, http.MethodPost, "/invitations", invitation("moved.user@target.example",
		map[string]any{"invitedUser": map[string]any{"id": internal}, "sendInvitationMessage": false}))
	if inv["invitedUser"].(map[string]any)["id"] != internal {
		t.Fatalf("link: %v", inv)
	}
	linked := d.mustCall(http.StatusOK, http.MethodGet, "/users/"+internal+"?$select=userPrincipalName,userType,externalUserState,otherMails", nil)
	if linked["userPrincipalName"] != before["userPrincipalName"] || linked["userType"] != before["userType"] ||
		linked["externalUserState"] != "PendingAcceptance" {
		t.Errorf("linked user: %v (before %v)", linked, before)
	}
	if m := d.members(group); m[internal] == "" {
		t.Errorf("link lost the group membership")
	}
	resp, out = d.call(http.MethodPost, "/invitations", invitation("moved.user@target.example",
		map[string]any{"invitedUser": map[string]any{"id": internal}}))
	expectGraphError(t, resp, out, http.StatusBadRequest, "BadRequest", "")
}

func TestGetByIDs(t *testing.T) {
	d := newDirEnv(t, nil)
	users := d.userIDs(2)
	group := d.newSecurityGroup("byids", nil)
	missing := "0b8cc234-ef87-4015-9785-cbb42000d41c"
	out := d.mustCall(http.StatusOK, http.MethodPost, "/directoryObjects/getByIds",
		map[string]any{"ids": []string{users[0], missing, group, users[1]}})
	vals := out["value"].([]any)
	if len(vals) != 3 || vals[0].(map[string]any)["id"] != users[0] || vals[1].(map[string]any)["@odata.type"] != "#microsoft.graph.group" {
		t.Fatalf("getByIds: %v", out)
	}
	out = d.mustCall(http.StatusOK, http.MethodPost, "/directoryObjects/getByIds",
		map[string]any{"ids": []string{users[0], group}, "types": []string{"group"}})
	if vals := out["value"].([]any); len(vals) != 1 || vals[0].(map[string]any)["id"] != group {
		t.Errorf("types filter: %v", out)
	}
	resp, body := d.call(http.MethodPost, "/directoryObjects/getByIds", map[string]any{"types": []string{"user"}})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
}

// TestSyncedUsers: directory sync masters synced users. Graph refuses to change their properties
// (onPremisesImmutableId included) and onPremisesSyncEnabled is read-only; a synced external member
// converts to internal without a UPN or password (both are managed on premises), and refuses them.
func TestSyncedUsers(t *testing.T) {
	d := newDirEnv(t, func(cfg *simulator.Config) {
		cfg.Tenants[1].Seed.SyncedUsers, cfg.Tenants[1].Seed.SyncedExternalMembers = 1, 1
	})
	list := d.mustCall(http.StatusOK, http.MethodGet, "/users?$select=id,userType,externalUserState,onPremisesSyncEnabled,onPremisesImmutableId&$top=999", nil)
	var synced, syncedExt, cloud string
	for _, v := range list["value"].([]any) {
		u := v.(map[string]any)
		switch {
		case u["onPremisesSyncEnabled"] == true && u["externalUserState"] == nil:
			synced = u["id"].(string)
		case u["onPremisesSyncEnabled"] == true:
			syncedExt = u["id"].(string)
		case u["onPremisesSyncEnabled"] == nil && u["userType"] == "Member" && u["externalUserState"] == nil && cloud == "":
			cloud = u["id"].(string)
		}
		if u["onPremisesSyncEnabled"] == true && u["onPremisesImmutableId"] == nil {
			t.Errorf("synced user without an immutable id: %v", u)
		}
	}
	if synced == "" || syncedExt == "" || cloud == "" {
		t.Fatalf("seed: synced %q, synced external %q, cloud %q", synced, syncedExt, cloud)
	}
	const msg = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."
	resp, out := d.call(http.MethodPatch, "/users/"+synced, map[string]any{"onPremisesImmutableId": "5GTWc4YIc0q3RcaU2kXdtA=="})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", msg)
	resp, out = d.call(http.MethodPatch, "/users/"+synced, map[string]any{"jobTitle": "x"})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", msg)
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/users/"+synced, map[string]any{"usageLocation": "NL"})
	resp, out = d.call(http.MethodPatch, "/users/"+cloud, map[string]any{"onPremisesSyncEnabled": true})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", "Property 'onPremisesSyncEnabled' is read-only and cannot be set.")
	d.mustCall(http.StatusNoContent, http.MethodPatch, "/users/"+cloud, map[string]any{"onPremisesImmutableId": "5GTWc4YIc0q3RcaU2kXdtA=="})

	beta := func(path string, body any) (*http.Response, map[string]any) {
		return d.do(http.MethodPost, d.graph+"/beta"+path, d.tok, body)
	}
	resp, out = beta("/users/"+syncedExt+"/convertExternalToInternalMemberUser", map[string]any{"userPrincipalName": "x@fabrikam.example"})
	expectGraphError(t, resp, out, http.StatusBadRequest, "Request_BadRequest", msg)
	resp, out = beta("/users/"+syncedExt+"/convertExternalToInternalMemberUser", map[string]any{})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("converting a synced external member: %d %v", resp.StatusCode, out)
	}
	after := d.mustCall(http.StatusOK, http.MethodGet, "/users/"+syncedExt+"?$select=userType,externalUserState,onPremisesSyncEnabled", nil)
	if after["userType"] != "Member" || after["externalUserState"] != nil || after["onPremisesSyncEnabled"] != true {
		t.Errorf("after conversion: %v", after)
	}
}

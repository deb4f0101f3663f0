package simulator_test

import (
	"net/http"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

const graphAppID = "00000003-0000-0000-c000-000000000000"

func TestGraphServicePrincipalInEveryTenant(t *testing.T) {
	e := newEnv(t, nil)
	for _, tenant := range []string{simtest.ContosoID, simtest.FabrikamID} {
		tok := e.migratorToken(tenant)
		resp, sp := e.do(http.MethodGet, e.graph+"/v1.0/servicePrincipals(appId='"+graphAppID+"')", tok, nil)
		if resp.StatusCode != http.StatusOK || sp["displayName"] != "Microsoft Graph" {
			t.Fatalf("%s: %d %v", tenant, resp.StatusCode, sp)
		}
		found := false
		for _, r := range sp["appRoles"].([]any) {
			role := r.(map[string]any)
			found = found || (role["value"] == "User.Read.All" && role["id"] == "df021288-bdef-4463-88db-98f22de89214")
		}
		if !found {
			t.Errorf("%s: Graph app roles lack User.Read.All", tenant)
		}
		// The configured client's grants show as assignments on the Graph service principal.
		_, granted := e.do(http.MethodGet, e.graph+"/v1.0/servicePrincipals/"+sp["id"].(string)+"/appRoleAssignedTo", tok, nil)
		if len(granted["value"].([]any)) == 0 {
			t.Errorf("%s: no appRoleAssignedTo on Graph: %v", tenant, granted)
		}
	}
}

func TestCreateServicePrincipal(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	app := e.mustCreate(tok, "/applications", map[string]any{"displayName": "Portal"})
	appID := app["appId"].(string)
	sp := e.mustCreate(tok, "/servicePrincipals", map[string]any{"appId": appID, "tags": []string{"WindowsAzureActiveDirectoryIntegratedApp"}})
	if sp["appId"] != appID || sp["displayName"] != "Portal" || sp["appOwnerOrganizationId"] != simtest.FabrikamID ||
		sp["accountEnabled"] != true || len(sp["tags"].([]any)) != 1 {
		t.Fatalf("sp %v", sp)
	}
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0/servicePrincipals", tok, map[string]any{"appId": appID})
	details := expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	if len(details) != 1 || details[0]["code"] != "ObjectConflict" {
		t.Errorf("duplicate details %v", details)
	}
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0/servicePrincipals", tok, map[string]any{"appId": "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"})
	details = expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest",
		"The appId '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b' of the service principal does not reference a valid application object.")
	if len(details) != 1 || details[0]["code"] != "NoBackingApplicationObject" || details[0]["target"] != "appId" {
		t.Errorf("details %v", details)
	}
	if resp, b := e.do(http.MethodPatch, e.graph+"/v1.0/servicePrincipals/"+sp["id"].(string), tok, map[string]any{"appRoleAssignmentRequired": true}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("patch: %d %v", resp.StatusCode, b)
	}
	_, got := e.do(http.MethodGet, e.graph+"/v1.0/servicePrincipals(appId='"+appID+"')", tok, nil)
	if got["appRoleAssignmentRequired"] != true {
		t.Errorf("after patch %v", got)
	}
	// First-party service principals cannot be deleted.
	resp, body = e.do(http.MethodDelete, e.graph+"/v1.0/servicePrincipals(appId='"+graphAppID+"')", tok, nil)
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
}

func TestServicePrincipalForMultiTenantAppOfAnotherTenant(t *testing.T) {
	e := newObjectsEnv(t, func(cfg *simulator.Config) {
		cfg.Tenants[0].Clients[0].Roles = append(cfg.Tenants[0].Clients[0].Roles, "Application.ReadWrite.All")
	})
	fab, con := e.migratorToken(simtest.FabrikamID), e.migratorToken(simtest.ContosoID)
	single := e.mustCreate(fab, "/applications", map[string]any{"displayName": "Single"})
	multi := e.mustCreate(fab, "/applications", map[string]any{"displayName": "Multi", "signInAudience": "AzureADMultipleOrgs"})
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0/servicePrincipals", con, map[string]any{"appId": single["appId"]})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
	sp := e.mustCreate(con, "/servicePrincipals", map[string]any{"appId": multi["appId"]})
	if sp["appOwnerOrganizationId"] != simtest.FabrikamID || sp["displayName"] != "Multi" {
		t.Errorf("foreign sp %v", sp)
	}
}

func TestAppRoleAssignments(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	roleID := "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	app := e.mustCreate(tok, "/applications", map[string]any{"displayName": "Roles app", "appRoles": []any{
		map[string]any{"id": roleID, "allowedMemberTypes": []string{"User", "Application"}, "displayName": "Reader",
			"description": "Reads", "isEnabled": true, "value": "Data.Read"}}})
	sp := e.mustCreate(tok, "/servicePrincipals", map[string]any{"appId": app["appId"]})
	spID := sp["id"].(string)
	user := e.firstUsers(tok, 1)[0]
	base := "/servicePrincipals/" + spID + "/appRoleAssignedTo"
	a := e.mustCreate(tok, base, map[string]any{"principalId": user, "resourceId": spID, "appRoleId": roleID})
	if a["principalType"] != "User" || a["resourceDisplayName"] != "Roles app" || len(a["id"].(string)) != 43 {
		t.Fatalf("assignment %v", a)
	}
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0"+base, tok, map[string]any{"principalId": user, "resourceId": spID, "appRoleId": roleID})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Permission being assigned already exists on the object.")
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0"+base, tok, map[string]any{"principalId": user, "resourceId": spID,
		"appRoleId": "11111111-2222-4333-8444-555555555555"})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Permission being assigned was not found on application '"+app["appId"].(string)+"'.")
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0"+base, tok, map[string]any{"principalId": "6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e",
		"resourceId": spID, "appRoleId": roleID})
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	// A service principal may hold the role (Application member type); a group too, via its own path.
	graph := e.mustCreate(tok, "/servicePrincipals/"+spID+"/appRoleAssignments", map[string]any{"principalId": spID, "resourceId": spID, "appRoleId": roleID})
	group := e.mustCreate(tok, "/groups", map[string]any{"displayName": "Readers", "mailEnabled": false, "mailNickname": "readers", "securityEnabled": true})
	e.mustCreate(tok, "/groups/"+group["id"].(string)+"/appRoleAssignments", map[string]any{"principalId": group["id"], "resourceId": spID, "appRoleId": roleID})
	_, list := e.do(http.MethodGet, e.graph+"/v1.0"+base, tok, nil)
	if n := len(list["value"].([]any)); n != 3 {
		t.Fatalf("appRoleAssignedTo has %d, want 3: %v", n, list)
	}
	_, held := e.do(http.MethodGet, e.graph+"/v1.0/users/"+user+"/appRoleAssignments", tok, nil)
	if len(held["value"].([]any)) != 1 {
		t.Errorf("user's appRoleAssignments %v", held)
	}
	if resp, _ := e.do(http.MethodDelete, e.graph+"/v1.0"+base+"/"+graph["id"].(string), tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	resp, body = e.do(http.MethodDelete, e.graph+"/v1.0"+base+"/"+graph["id"].(string), tok, nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	// Graph's own app roles can be granted to the new service principal.
	_, gsp := e.do(http.MethodGet, e.graph+"/v1.0/servicePrincipals(appId='"+graphAppID+"')", tok, nil)
	e.mustCreate(tok, "/servicePrincipals/"+gsp["id"].(string)+"/appRoleAssignedTo", map[string]any{
		"principalId": spID, "resourceId": gsp["id"], "appRoleId": "df021288-bdef-4463-88db-98f22de89214"})
	// A user cannot hold an Application-only role.
	resp, body = e.do(http.MethodPost, e.graph+"/v1.0/servicePrincipals/"+gsp["id"].(string)+"/appRoleAssignedTo", tok, map[string]any{
		"principalId": user, "resourceId": gsp["id"], "appRoleId": "df021288-bdef-4463-88db-98f22de89214"})
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "")
}

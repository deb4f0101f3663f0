package conformance_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithuniquename"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/simulator/simtest"
)

const userReadAllRoleID = "df021288-bdef-4463-88db-98f22de89214"

// TestApplicationsAndServicePrincipalsThroughSDK: create an app, upsert one by uniqueName with
// Prefer: create-if-missing (201, then 204), get a service principal by appId, grant it a Graph app
// role through appRoleAssignedTo.
func TestApplicationsAndServicePrincipalsThroughSDK(t *testing.T) {
	srv := simtest.Start(t, nil, nil)
	client, _ := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()

	app := models.NewApplication()
	app.SetDisplayName(ptr("SDK app"))
	web := models.NewWebApplication()
	web.SetRedirectUris([]string{"https://sdk.fabrikam.example/signin-oidc"})
	app.SetWeb(web)
	created, err := client.Applications().Post(ctx, app, nil)
	if err != nil || created.GetAppId() == nil || *created.GetAppId() == *created.GetId() {
		t.Fatalf("create: %v", err)
	}
	patch := models.NewApplication()
	patch.SetIdentifierUris([]string{"api://" + *created.GetAppId()})
	if _, err := client.Applications().ByApplicationId(*created.GetId()).Patch(ctx, patch, nil); err != nil {
		t.Fatalf("identifierUris api://<appId>: %v", err)
	}
	bad := models.NewApplication()
	bad.SetIdentifierUris([]string{"https://api.unverified.example"})
	_, err = client.Applications().ByApplicationId(*created.GetId()).Patch(ctx, bad, nil)
	odataError(t, err, http.StatusBadRequest, "HostNameNotOnVerifiedDomain")

	headers := abstractions.NewRequestHeaders()
	headers.Add("Prefer", "create-if-missing")
	cfg := &applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilderPatchRequestConfiguration{Headers: headers}
	upsert := models.NewApplication()
	upsert.SetDisplayName(ptr("Upserted"))
	first, err := client.ApplicationsWithUniqueName(ptr("t2t-sdk-1")).Patch(ctx, upsert, cfg)
	if err != nil || first == nil || first.GetUniqueName() == nil || *first.GetUniqueName() != "t2t-sdk-1" {
		t.Fatalf("upsert create: %v %v", first, err)
	}
	again, err := client.ApplicationsWithUniqueName(ptr("t2t-sdk-1")).Patch(ctx, upsert, cfg)
	if err != nil || again != nil {
		t.Fatalf("upsert update (204): %v %v", again, err)
	}
	_, err = client.ApplicationsWithUniqueName(ptr("t2t-sdk-missing")).Patch(ctx, upsert, nil)
	odataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")

	sp := models.NewServicePrincipal()
	sp.SetAppId(first.GetAppId())
	if _, err := client.ServicePrincipals().Post(ctx, sp, nil); err != nil {
		t.Fatalf("create sp: %v", err)
	}
	got, err := client.ServicePrincipalsWithAppId(first.GetAppId()).Get(ctx, nil)
	if err != nil || *got.GetAppId() != *first.GetAppId() || *got.GetDisplayName() != "Upserted" {
		t.Fatalf("sp by appId: %v", err)
	}
	graphSP, err := client.ServicePrincipalsWithAppId(ptr("00000003-0000-0000-c000-000000000000")).Get(ctx, nil)
	if err != nil {
		t.Fatalf("Graph sp: %v", err)
	}
	grant := models.NewAppRoleAssignment()
	grant.SetPrincipalId(uuidPtr(t, *got.GetId()))
	grant.SetResourceId(uuidPtr(t, *graphSP.GetId()))
	grant.SetAppRoleId(uuidPtr(t, userReadAllRoleID))
	assigned, err := client.ServicePrincipals().ByServicePrincipalId(*graphSP.GetId()).AppRoleAssignedTo().Post(ctx, grant, nil)
	if err != nil || assigned.GetPrincipalType() == nil || *assigned.GetPrincipalType() != "ServicePrincipal" {
		t.Fatalf("appRoleAssignedTo: %v", err)
	}
	_, err = client.ServicePrincipals().ByServicePrincipalId(*graphSP.GetId()).AppRoleAssignedTo().Post(ctx, grant, nil)
	odataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	list, err := client.ServicePrincipals().ByServicePrincipalId(*got.GetId()).AppRoleAssignments().Get(ctx, nil)
	if err != nil || len(list.GetValue()) != 1 {
		t.Fatalf("appRoleAssignments: %v", err)
	}
}

// TestConditionalAccessThroughSDK: a named location, a disabled policy referencing it, a group and a
// user; a policy naming a missing group is an ODataError; a custom role is created.
func TestConditionalAccessThroughSDK(t *testing.T) {
	srv := simtest.Start(t, nil, nil)
	client, _ := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()

	loc := models.NewIpNamedLocation()
	// The SDK does not set an entity's @odata.type; Graph requires the derived type on create.
	loc.SetOdataType(ptr("#microsoft.graph.ipNamedLocation"))
	loc.SetDisplayName(ptr("Office"))
	loc.SetIsTrusted(ptr(true))
	v4 := models.NewIPv4CidrRange()
	v4.SetCidrAddress(ptr("203.0.113.0/24"))
	loc.SetIpRanges([]models.IpRangeable{v4})
	createdLoc, err := client.Identity().ConditionalAccess().NamedLocations().Post(ctx, loc, nil)
	if err != nil {
		t.Fatalf("named location: %v", err)
	}
	ipLoc, ok := createdLoc.(models.IpNamedLocationable)
	if !ok || len(ipLoc.GetIpRanges()) != 1 {
		t.Fatalf("named location type %T", createdLoc)
	}
	group, err := client.Groups().Post(ctx, securityGroup("ca-break-glass"), nil)
	if err != nil {
		t.Fatalf("group: %v", err)
	}
	users := fabrikamUserIDs(t, client, 1)

	policy := func(excludeGroup string) models.ConditionalAccessPolicyable {
		p := models.NewConditionalAccessPolicy()
		p.SetDisplayName(ptr("Migrated: require MFA"))
		state := models.DISABLED_CONDITIONALACCESSPOLICYSTATE
		p.SetState(&state)
		cond := models.NewConditionalAccessConditionSet()
		cond.SetClientAppTypes([]models.ConditionalAccessClientApp{models.ALL_CONDITIONALACCESSCLIENTAPP})
		apps := models.NewConditionalAccessApplications()
		apps.SetIncludeApplications([]string{"All"})
		cond.SetApplications(apps)
		u := models.NewConditionalAccessUsers()
		u.SetIncludeUsers([]string{users[0]})
		u.SetExcludeGroups([]string{excludeGroup})
		cond.SetUsers(u)
		locs := models.NewConditionalAccessLocations()
		locs.SetIncludeLocations([]string{"All"})
		locs.SetExcludeLocations([]string{*createdLoc.GetId()})
		cond.SetLocations(locs)
		p.SetConditions(cond)
		grant := models.NewConditionalAccessGrantControls()
		grant.SetOperator(ptr("OR"))
		grant.SetBuiltInControls([]models.ConditionalAccessGrantControl{models.MFA_CONDITIONALACCESSGRANTCONTROL})
		p.SetGrantControls(grant)
		return p
	}
	created, err := client.Identity().ConditionalAccess().Policies().Post(ctx, policy(*group.GetId()), nil)
	if err != nil || created.GetState() == nil || *created.GetState() != models.DISABLED_CONDITIONALACCESSPOLICYSTATE {
		t.Fatalf("policy: %v", err)
	}
	if ex := created.GetConditions().GetLocations().GetExcludeLocations(); len(ex) != 1 || ex[0] != *createdLoc.GetId() {
		t.Errorf("excluded locations %v", ex)
	}
	_, err = client.Identity().ConditionalAccess().Policies().Post(ctx, policy("5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"), nil)
	oerr := odataError(t, err, http.StatusBadRequest, "BadRequest")
	if d := oerr.GetErrorEscaped().GetDetails(); len(d) != 1 || *d[0].GetTarget() != "conditions.users.excludeGroups" {
		t.Errorf("details %v", d)
	}
	err = client.Identity().ConditionalAccess().NamedLocations().ByNamedLocationId(*createdLoc.GetId()).Delete(ctx, nil)
	odataError(t, err, http.StatusBadRequest, "BadRequest")

	role := models.NewUnifiedRoleDefinition()
	role.SetDisplayName(ptr("Migrated helpdesk"))
	role.SetIsEnabled(ptr(true))
	perm := models.NewUnifiedRolePermission()
	perm.SetAllowedResourceActions([]string{"microsoft.directory/users/password/update"})
	role.SetRolePermissions([]models.UnifiedRolePermissionable{perm})
	createdRole, err := client.RoleManagement().Directory().RoleDefinitions().Post(ctx, role, nil)
	if err != nil || createdRole.GetIsBuiltIn() == nil || *createdRole.GetIsBuiltIn() || *createdRole.GetTemplateId() != *createdRole.GetId() {
		t.Fatalf("custom role: %v", err)
	}
	_, err = client.RoleManagement().Directory().RoleDefinitions().Post(ctx, role, nil)
	odataError(t, err, http.StatusBadRequest, "Request_BadRequest")
}

func uuidPtr(t *testing.T, s string) *uuid.UUID {
	t.Helper()
	u, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return &u
}

package conformance_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// TestTenantSettingsThroughSDK: the organization, the authorization policy and the cross-tenant access
// default parse into the SDK's models, and a partner configuration is created, read, conflicts on a
// second create (409), updated and deleted through the SDK's request builders.
func TestTenantSettingsThroughSDK(t *testing.T) {
	cfg := simulator.ExampleConfig()
	cfg.Tenants[1].Organization = &simulator.OrganizationConfig{CountryLetterCode: "NL", PreferredLanguage: "nl"}
	cfg.Tenants[1].Policies = &simulator.PoliciesConfig{Authorization: map[string]any{"allowInvitesFrom": "adminsAndGuestInviters"}}
	srv := simtest.Start(t, cfg, nil)
	client, _ := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()

	orgs, err := client.Organization().Get(ctx, nil)
	if err != nil || len(orgs.GetValue()) != 1 {
		t.Fatalf("organization: %v", err)
	}
	org := orgs.GetValue()[0]
	if *org.GetId() != simtest.FabrikamID || *org.GetCountryLetterCode() != "NL" || *org.GetPreferredLanguage() != "nl" ||
		*org.GetTenantType() != "AAD" || len(org.GetVerifiedDomains()) != 2 {
		t.Errorf("organization: %v %v %v %d", *org.GetId(), *org.GetCountryLetterCode(), *org.GetTenantType(), len(org.GetVerifiedDomains()))
	}

	ap, err := client.Policies().AuthorizationPolicy().Get(ctx, nil)
	if err != nil {
		t.Fatalf("authorization policy: %v", err)
	}
	if ap.GetAllowInvitesFrom() == nil || *ap.GetAllowInvitesFrom() != models.ADMINSANDGUESTINVITERS_ALLOWINVITESFROM ||
		ap.GetGuestUserRoleId() == nil || ap.GetGuestUserRoleId().String() != "10dae51f-b6af-4016-8d66-8c2a99b929b3" ||
		ap.GetDefaultUserRolePermissions() == nil || !*ap.GetDefaultUserRolePermissions().GetAllowedToCreateApps() ||
		ap.GetBlockMsolPowerShell() != nil {
		t.Errorf("authorization policy parsed as %+v", ap)
	}

	def, err := client.Policies().CrossTenantAccessPolicy().DefaultEscaped().Get(ctx, nil)
	if err != nil {
		t.Fatalf("default: %v", err)
	}
	in := def.GetB2bCollaborationInbound()
	if !*def.GetIsServiceDefault() || in == nil || *in.GetUsersAndGroups().GetAccessType() != models.ALLOWED_CROSSTENANTACCESSPOLICYTARGETCONFIGURATIONACCESSTYPE ||
		*in.GetUsersAndGroups().GetTargets()[0].GetTarget() != "AllUsers" ||
		*def.GetB2bDirectConnectOutbound().GetApplications().GetAccessType() != models.BLOCKED_CROSSTENANTACCESSPOLICYTARGETCONFIGURATIONACCESSTYPE {
		t.Errorf("default parsed as %+v", def)
	}

	partners := client.Policies().CrossTenantAccessPolicy().Partners()
	body := models.NewCrossTenantAccessPolicyConfigurationPartner()
	body.SetTenantId(ptr(simtest.ContosoID))
	created, err := partners.Post(ctx, body, nil)
	if err != nil || *created.GetTenantId() != simtest.ContosoID || created.GetInboundTrust() != nil {
		t.Fatalf("create partner: %v %v", created, err)
	}
	_, err = partners.Post(ctx, body, nil)
	odataError(t, err, http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue")

	item := partners.ByCrossTenantAccessPolicyConfigurationPartnerTenantId(simtest.ContosoID)
	patch := models.NewCrossTenantAccessPolicyConfigurationPartner()
	trust := models.NewCrossTenantAccessPolicyInboundTrust()
	trust.SetIsMfaAccepted(ptr(true))
	patch.SetInboundTrust(trust)
	if _, err := item.Patch(ctx, patch, nil); err != nil {
		t.Fatalf("update partner: %v", err)
	}
	got, err := item.Get(ctx, nil)
	if err != nil || got.GetInboundTrust() == nil || !*got.GetInboundTrust().GetIsMfaAccepted() {
		t.Fatalf("read partner: %v %v", got, err)
	}
	list, err := partners.Get(ctx, nil)
	if err != nil || len(list.GetValue()) != 1 {
		t.Fatalf("list partners: %v", err)
	}
	if err := item.Delete(ctx, nil); err != nil {
		t.Fatalf("delete partner: %v", err)
	}
	_, err = item.Get(ctx, nil)
	odataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")

	// The source grant (Policy.Read.All) reads but cannot create.
	source, _ := graphClient(t, srv, simtest.ContosoID, simtest.MigratorID, simtest.MigratorSecret)
	other := models.NewCrossTenantAccessPolicyConfigurationPartner()
	other.SetTenantId(ptr(simtest.FabrikamID))
	_, err = source.Policies().CrossTenantAccessPolicy().Partners().Post(ctx, other, nil)
	odataError(t, err, http.StatusForbidden, "Authorization_RequestDenied")
}

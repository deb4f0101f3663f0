package tenantconfig

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/phase"
)

// Settings are one tenant's tenant-wide settings as t2t compares them. Values flattens every compared
// setting to a readable string under a dotted name ("authorizationPolicy.allowInvitesFrom" →
// "everyone"), so that a difference reads the same in the ledger, the report and the snapshot.
type Settings struct {
	TenantID                   string            `json:"tenantId"`
	DisplayName                string            `json:"displayName"`
	TechnicalNotificationMails []string          `json:"technicalNotificationMails,omitempty"`
	VerifiedDomains            []Domain          `json:"verifiedDomains"`
	Values                     map[string]string `json:"values"`
	Partners                   []Partner         `json:"partners"`
}

// Domain is a verified domain of a tenant.
type Domain struct {
	Name      string `json:"name"`
	IsDefault bool   `json:"isDefault,omitempty"`
	IsInitial bool   `json:"isInitial,omitempty"`
}

// Partner is a cross-tenant access partner configuration: its tenant and its flattened settings
// (unset ones inherit the tenant's default configuration).
type Partner struct {
	TenantID string            `json:"tenantId"`
	Values   map[string]string `json:"values"`
}

const (
	notSet   = "(not set)"
	inherits = "(inherits the default)"
)

// guestRoles names the role templates authorizationPolicy.guestUserRoleId may hold
// (https://learn.microsoft.com/graph/api/resources/authorizationpolicy).
var guestRoles = map[string]string{
	"a0b1b346-4d3e-4e8b-98f8-753987be4970": "User",
	"10dae51f-b6af-4016-8d66-8c2a99b929b3": "Guest User",
	"2af84b1e-32c8-42b7-82bc-daa82404023b": "Restricted Guest User",
}

// Read reads a tenant's organization, authorization policy and cross-tenant access settings (five
// reads; Organization.Read.All and Policy.Read.All). It never writes.
func Read(ctx context.Context, c *graph.Client) (*Settings, error) {
	orgs, err := c.Organization().Get(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the organization: %w", err)
	}
	if len(orgs.GetValue()) == 0 {
		return nil, fmt.Errorf("reading the organization: Graph returned none")
	}
	org := orgs.GetValue()[0]
	s := &Settings{TenantID: strings.ToLower(phase.Str(org.GetId())), DisplayName: phase.Str(org.GetDisplayName()),
		TechnicalNotificationMails: org.GetTechnicalNotificationMails(), Values: map[string]string{}}
	for _, d := range org.GetVerifiedDomains() {
		s.VerifiedDomains = append(s.VerifiedDomains, Domain{Name: strings.ToLower(phase.Str(d.GetName())),
			IsDefault: d.GetIsDefault() != nil && *d.GetIsDefault(), IsInitial: d.GetIsInitial() != nil && *d.GetIsInitial()})
	}
	s.Values["organization.countryLetterCode"] = orNotSet(phase.Str(org.GetCountryLetterCode()))
	s.Values["organization.preferredLanguage"] = orNotSet(phase.Str(org.GetPreferredLanguage()))

	ap, err := c.Policies().AuthorizationPolicy().Get(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the authorization policy: %w", err)
	}
	authorizationValues(ap, s.Values)

	cta := c.Policies().CrossTenantAccessPolicy()
	def, err := cta.DefaultEscaped().Get(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the cross-tenant access default: %w", err)
	}
	// Automatic user consent is always false in the default configuration: not worth comparing.
	accessValues("crossTenantAccessPolicy.default.", def, notSet, false, s.Values)

	page, err := cta.Partners().Get(ctx, nil)
	for err == nil {
		for _, p := range page.GetValue() {
			v := map[string]string{"isServiceProvider": boolText(p.GetIsServiceProvider(), notSet)}
			accessValues("", p, inherits, true, v)
			s.Partners = append(s.Partners, Partner{TenantID: strings.ToLower(phase.Str(p.GetTenantId())), Values: v})
		}
		next := page.GetOdataNextLink()
		if next == nil {
			break
		}
		page, err = cta.Partners().WithUrl(*next).Get(ctx, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the cross-tenant access partners: %w", err)
	}
	sort.Slice(s.Partners, func(i, j int) bool { return s.Partners[i].TenantID < s.Partners[j].TenantID })
	return s, nil
}

func authorizationValues(ap models.AuthorizationPolicyable, out map[string]string) {
	const p = "authorizationPolicy."
	out[p+"allowInvitesFrom"] = notSet
	if v := ap.GetAllowInvitesFrom(); v != nil {
		out[p+"allowInvitesFrom"] = v.String()
	}
	out[p+"allowedToSignUpEmailBasedSubscriptions"] = boolText(ap.GetAllowedToSignUpEmailBasedSubscriptions(), notSet)
	out[p+"allowedToUseSSPR"] = boolText(ap.GetAllowedToUseSSPR(), notSet)
	out[p+"allowEmailVerifiedUsersToJoinOrganization"] = boolText(ap.GetAllowEmailVerifiedUsersToJoinOrganization(), notSet)
	out[p+"allowUserConsentForRiskyApps"] = boolText(ap.GetAllowUserConsentForRiskyApps(), notSet)
	out[p+"blockMsolPowerShell"] = boolText(ap.GetBlockMsolPowerShell(), notSet)
	out[p+"guestUserRoleId"] = notSet
	if id := ap.GetGuestUserRoleId(); id != nil {
		out[p+"guestUserRoleId"] = strings.TrimSpace(guestRoles[id.String()] + " (" + id.String() + ")")
	}
	perms := ap.GetDefaultUserRolePermissions()
	if perms == nil {
		return
	}
	const d = p + "defaultUserRolePermissions."
	out[d+"allowedToCreateApps"] = boolText(perms.GetAllowedToCreateApps(), notSet)
	out[d+"allowedToCreateSecurityGroups"] = boolText(perms.GetAllowedToCreateSecurityGroups(), notSet)
	out[d+"allowedToCreateTenants"] = boolText(perms.GetAllowedToCreateTenants(), notSet)
	out[d+"allowedToReadBitlockerKeysForOwnedDevice"] = boolText(perms.GetAllowedToReadBitlockerKeysForOwnedDevice(), notSet)
	out[d+"allowedToReadOtherUsers"] = boolText(perms.GetAllowedToReadOtherUsers(), notSet)
	grants := append([]string(nil), perms.GetPermissionGrantPoliciesAssigned()...)
	sort.Strings(grants)
	out[d+"permissionGrantPoliciesAssigned"] = "[" + strings.Join(grants, ", ") + "]"
}

// accessConfig is what the default and partner configurations share.
type accessConfig interface {
	GetInboundTrust() models.CrossTenantAccessPolicyInboundTrustable
	GetB2bCollaborationInbound() models.CrossTenantAccessPolicyB2BSettingable
	GetB2bCollaborationOutbound() models.CrossTenantAccessPolicyB2BSettingable
	GetB2bDirectConnectInbound() models.CrossTenantAccessPolicyB2BSettingable
	GetB2bDirectConnectOutbound() models.CrossTenantAccessPolicyB2BSettingable
	GetAutomaticUserConsentSettings() models.InboundOutboundPolicyConfigurationable
}

// accessValues flattens inbound trust, the four B2B settings and (with consent) automatic user
// consent; unset is the text of a setting that is not configured.
func accessValues(prefix string, c accessConfig, unset string, consent bool, out map[string]string) {
	trust := c.GetInboundTrust()
	for name, get := range map[string]func(models.CrossTenantAccessPolicyInboundTrustable) *bool{
		"isMfaAccepted":                       models.CrossTenantAccessPolicyInboundTrustable.GetIsMfaAccepted,
		"isCompliantDeviceAccepted":           models.CrossTenantAccessPolicyInboundTrustable.GetIsCompliantDeviceAccepted,
		"isHybridAzureADJoinedDeviceAccepted": models.CrossTenantAccessPolicyInboundTrustable.GetIsHybridAzureADJoinedDeviceAccepted,
	} {
		out[prefix+"inboundTrust."+name] = unset
		if trust != nil {
			out[prefix+"inboundTrust."+name] = boolText(get(trust), unset)
		}
	}
	for name, b := range map[string]models.CrossTenantAccessPolicyB2BSettingable{
		"b2bCollaborationInbound": c.GetB2bCollaborationInbound(), "b2bCollaborationOutbound": c.GetB2bCollaborationOutbound(),
		"b2bDirectConnectInbound": c.GetB2bDirectConnectInbound(), "b2bDirectConnectOutbound": c.GetB2bDirectConnectOutbound(),
	} {
		out[prefix+name+".usersAndGroups"], out[prefix+name+".applications"] = unset, unset
		if b != nil {
			out[prefix+name+".usersAndGroups"] = targetsText(b.GetUsersAndGroups(), unset)
			out[prefix+name+".applications"] = targetsText(b.GetApplications(), unset)
		}
	}
	if !consent {
		return
	}
	a := c.GetAutomaticUserConsentSettings()
	out[prefix+"automaticUserConsentSettings.inboundAllowed"], out[prefix+"automaticUserConsentSettings.outboundAllowed"] = unset, unset
	if a != nil {
		out[prefix+"automaticUserConsentSettings.inboundAllowed"] = boolText(a.GetInboundAllowed(), unset)
		out[prefix+"automaticUserConsentSettings.outboundAllowed"] = boolText(a.GetOutboundAllowed(), unset)
	}
}

// targetsText renders a target configuration as "allowed: AllUsers (user), <id> (group)".
func targetsText(c models.CrossTenantAccessPolicyTargetConfigurationable, unset string) string {
	if c == nil {
		return unset
	}
	access := notSet
	if a := c.GetAccessType(); a != nil {
		access = a.String()
	}
	var targets []string
	for _, t := range c.GetTargets() {
		kind := ""
		if tt := t.GetTargetType(); tt != nil {
			kind = " (" + tt.String() + ")"
		}
		targets = append(targets, phase.Str(t.GetTarget())+kind)
	}
	sort.Strings(targets)
	return access + ": " + strings.Join(targets, ", ")
}

func boolText(b *bool, unset string) string {
	if b == nil {
		return unset
	}
	return strconv.FormatBool(*b)
}

func orNotSet(s string) string {
	if s == "" {
		return notSet
	}
	return s
}

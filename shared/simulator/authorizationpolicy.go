package simulator

import (
	"net/http"
	"slices"
)

// AuthorizationPolicy is the tenant's authorizationPolicy singleton
// (https://learn.microsoft.com/graph/api/resources/authorizationpolicy): it always exists, and its id,
// displayName and description are fixed. The simulator serves it read-only.
type AuthorizationPolicy struct {
	AllowInvitesFrom                          string                     `json:"allowInvitesFrom"`
	AllowedToSignUpEmailBasedSubscriptions    bool                       `json:"allowedToSignUpEmailBasedSubscriptions"`
	AllowedToUseSSPR                          bool                       `json:"allowedToUseSSPR"`
	AllowEmailVerifiedUsersToJoinOrganization bool                       `json:"allowEmailVerifiedUsersToJoinOrganization"`
	AllowUserConsentForRiskyApps              *bool                      `json:"allowUserConsentForRiskyApps"`
	BlockMsolPowerShell                       *bool                      `json:"blockMsolPowerShell"`
	GuestUserRoleID                           string                     `json:"guestUserRoleId"`
	DefaultUserRolePermissions                DefaultUserRolePermissions `json:"defaultUserRolePermissions"`
}

// DefaultUserRolePermissions are the customizable permissions of the default user role
// (https://learn.microsoft.com/graph/api/resources/defaultuserrolepermissions).
type DefaultUserRolePermissions struct {
	AllowedToCreateApps                      bool     `json:"allowedToCreateApps"`
	AllowedToCreateSecurityGroups            bool     `json:"allowedToCreateSecurityGroups"`
	AllowedToCreateTenants                   bool     `json:"allowedToCreateTenants"`
	AllowedToReadBitlockerKeysForOwnedDevice bool     `json:"allowedToReadBitlockerKeysForOwnedDevice"`
	AllowedToReadOtherUsers                  bool     `json:"allowedToReadOtherUsers"`
	PermissionGrantPoliciesAssigned          []string `json:"permissionGrantPoliciesAssigned"`
}

// The role templates guestUserRoleId may name: User, Guest User and Restricted Guest User.
const (
	guestRoleUser       = "a0b1b346-4d3e-4e8b-98f8-753987be4970"
	guestRoleGuest      = "10dae51f-b6af-4016-8d66-8c2a99b929b3"
	guestRoleRestricted = "2af84b1e-32c8-42b7-82bc-daa82404023b"
)

var allowInvitesFromValues = []string{"none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone"}

// defaultAuthorizationPolicy is a new commercial tenant's policy: the values of the documentation's
// GET example (everyone may invite, self-service sign-up and SSPR on, risky-app consent off, MSOL
// PowerShell not blocked: null), guests with the Guest User role, and user consent governed by
// Microsoft's default app consent policy.
func defaultAuthorizationPolicy() *AuthorizationPolicy {
	no := false
	return &AuthorizationPolicy{
		AllowInvitesFrom: "everyone", AllowedToSignUpEmailBasedSubscriptions: true, AllowedToUseSSPR: true,
		AllowEmailVerifiedUsersToJoinOrganization: true, AllowUserConsentForRiskyApps: &no, GuestUserRoleID: guestRoleGuest,
		DefaultUserRolePermissions: DefaultUserRolePermissions{
			AllowedToCreateApps: true, AllowedToCreateSecurityGroups: true, AllowedToCreateTenants: true,
			AllowedToReadBitlockerKeysForOwnedDevice: true, AllowedToReadOtherUsers: true,
			PermissionGrantPoliciesAssigned: []string{"ManagePermissionGrantsForSelf.microsoft-user-default-legacy"},
		},
	}
}

// mergeAuthorizationPolicy applies a partial policy (Graph property names) to cur and validates the
// result: allowInvitesFrom and guestUserRoleId take only their documented values.
func mergeAuthorizationPolicy(cur *AuthorizationPolicy, patch map[string]any) (*AuthorizationPolicy, *graphError) {
	var next AuthorizationPolicy
	if gerr := strictDecode(mergePatch(toJSONMap(cur), patch), &next, "AuthorizationPolicy"); gerr != nil {
		return nil, gerr
	}
	if !slices.Contains(allowInvitesFromValues, next.AllowInvitesFrom) {
		return nil, errInvalidValue("allowInvitesFrom", "AuthorizationPolicy")
	}
	if !slices.Contains([]string{guestRoleUser, guestRoleGuest, guestRoleRestricted}, next.GuestUserRoleID) {
		return nil, errInvalidValue("guestUserRoleId", "AuthorizationPolicy")
	}
	next.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned = nonNil(next.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned)
	return &next, nil
}

// authorizationPolicySchema drives $select on GET /policies/authorizationPolicy.
var authorizationPolicySchema = newSchema("AuthorizationPolicy", "microsoft.graph.authorizationPolicy", []prop[AuthorizationPolicy]{
	{name: "id", get: func(*AuthorizationPolicy) any { return "authorizationPolicy" }, v1Default: true},
	{name: "displayName", get: func(*AuthorizationPolicy) any { return "Authorization Policy" }, v1Default: true},
	{name: "description", get: func(*AuthorizationPolicy) any {
		return "Used to manage authorization related settings across the company."
	}, v1Default: true},
	{name: "allowInvitesFrom", get: func(p *AuthorizationPolicy) any { return p.AllowInvitesFrom }, v1Default: true},
	{name: "allowedToSignUpEmailBasedSubscriptions", get: func(p *AuthorizationPolicy) any { return p.AllowedToSignUpEmailBasedSubscriptions }, v1Default: true},
	{name: "allowedToUseSSPR", get: func(p *AuthorizationPolicy) any { return p.AllowedToUseSSPR }, v1Default: true},
	{name: "allowEmailVerifiedUsersToJoinOrganization", get: func(p *AuthorizationPolicy) any { return p.AllowEmailVerifiedUsersToJoinOrganization }, v1Default: true},
	{name: "allowUserConsentForRiskyApps", get: func(p *AuthorizationPolicy) any { return p.AllowUserConsentForRiskyApps }, v1Default: true},
	{name: "blockMsolPowerShell", get: func(p *AuthorizationPolicy) any { return p.BlockMsolPowerShell }, v1Default: true},
	{name: "guestUserRoleId", get: func(p *AuthorizationPolicy) any { return p.GuestUserRoleID }, v1Default: true},
	{name: "defaultUserRolePermissions", get: func(p *AuthorizationPolicy) any { return p.DefaultUserRolePermissions }, v1Default: true},
})

func renderAuthorizationPolicy(p *AuthorizationPolicy, sel []string) map[string]any {
	return authorizationPolicySchema.project(p, sel, "v1.0")
}

// Reading the authorization policy takes Policy.Read.All or Policy.ReadWrite.Authorization
// (https://learn.microsoft.com/graph/api/authorizationpolicy-get).
var permAuthorizationPolicyRead = []string{"Policy.Read.All", "Policy.ReadWrite.Authorization"}

func (s *Server) addAuthorizationPolicyRoutes(rt *router) {
	rt.add(http.MethodGet, "/policies/authorizationPolicy", permAuthorizationPolicyRead,
		getSetting(authorizationPolicySchema, "policies/authorizationPolicy", func(s *tenantSettings) *AuthorizationPolicy { return s.authorization }))
}

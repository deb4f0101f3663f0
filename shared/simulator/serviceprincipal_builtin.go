package simulator

import "strings"

// microsoftServicesTenant is the tenant that owns Microsoft's first-party applications: their service
// principals carry it as appOwnerOrganizationId.
const microsoftServicesTenant = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

// firstPartyApp is a Microsoft application whose service principal exists in every tenant.
type firstPartyApp struct {
	appID       string
	displayName string
	names       []string // servicePrincipalNames besides the appId
	roles       []graphPermission
	scopes      []graphPermission
}

// graphPermission is an app role (application permission) or a delegated scope of a first-party API.
type graphPermission struct{ value, id, description string }

// graphAppRoles are Microsoft Graph application permissions with their real ids
// (https://learn.microsoft.com/graph/permissions-reference): the ones the pipeline and its tests use.
var graphAppRoles = []graphPermission{
	{"Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Read all applications"},
	{"Application.ReadWrite.All", "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Read and write all applications"},
	{"Application.ReadWrite.OwnedBy", "18a4783c-866b-4cc7-a460-3d5e5662c884", "Manage apps that this app creates or owns"},
	{"AppRoleAssignment.ReadWrite.All", "06b708a9-e830-4db3-a914-8e69da51d44f", "Manage app permission grants and app role assignments"},
	{"Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Read directory data"},
	{"Directory.ReadWrite.All", "19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Read and write directory data"},
	{"Device.Read.All", "7438b122-aefc-4978-80ed-43db9fcc7715", "Read all devices"},
	{"DeviceManagementManagedDevices.Read.All", "2f51be20-0bb4-4fed-bf7b-db946066c75e", "Read Microsoft Intune devices"},
	{"Domain.Read.All", "dbb9058a-0e50-45d7-ae91-66909b5d4664", "Read domains"},
	{"Domain.ReadWrite.All", "7e05723c-0bb0-42da-be95-ae9f08a6e53c", "Read and write domains"},
	{"Group.Read.All", "5b567255-7703-4780-807c-7be8301ae99b", "Read all groups"},
	{"Group.ReadWrite.All", "62a82d76-70ea-41e2-9197-370581804d09", "Read and write all groups"},
	{"GroupMember.Read.All", "98830695-27a2-44f7-8c18-0c3ebc9698f6", "Read all group memberships"},
	{"GroupMember.ReadWrite.All", "dbaae8cf-10b5-4b86-a4a1-f871c94c6695", "Read and write all group memberships"},
	{"Mail.Read", "810c84a8-4a9e-49e6-bf7d-12d183f40d01", "Read mail in all mailboxes"},
	{"Organization.Read.All", "498476ce-e0fe-48b0-b801-37ba7e2685c6", "Read organization information"},
	{"Policy.Read.All", "246dd0d5-5bd0-4def-940b-0421030a5b68", "Read your organization's policies"},
	{"Policy.ReadWrite.ConditionalAccess", "01c0a623-fc9b-48e9-b794-0756f8e8f067", "Read and write your organization's conditional access policies"},
	{"Policy.ReadWrite.CrossTenantAccess", "338163d7-f101-4c92-94ba-ca46fe52447c", "Read and write your organization's cross tenant access policies"},
	{"RoleManagement.Read.Directory", "483bed4a-2ad3-4361-a73b-c83ccdbdc53c", "Read all directory RBAC settings"},
	{"RoleManagement.ReadWrite.Directory", "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "Read and write all directory RBAC settings"},
	{"User.Invite.All", "09850681-111b-4a89-9bed-3f2cae46d706", "Invite guest users to the organization"},
	{"User.Read.All", "df021288-bdef-4463-88db-98f22de89214", "Read all users' full profiles"},
	{"User.ReadWrite.All", "741f803b-c850-494e-b5df-cde7c675a1ca", "Read and write all users' full profiles"},
}

// graphScopes are a few Microsoft Graph delegated permissions.
var graphScopes = []graphPermission{
	{"User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "Sign in and read user profile"},
	{"openid", "37f7f235-527c-4136-accd-4a02d197296e", "Sign users in"},
	{"profile", "14dad69e-099b-42c9-810b-d002981feec1", "View users' basic profile"},
	{"email", "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "View users' email address"},
	{"offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "Maintain access to data you have given it access to"},
}

// Well-known first-party application ids that conditional access policies commonly target.
const (
	exchangeOnlineAppID    = "00000002-0000-0ff1-ce00-000000000000"
	sharePointOnlineAppID  = "00000003-0000-0ff1-ce00-000000000000"
	azureManagementAppID   = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
	defaultAccessAppRoleID = "00000000-0000-0000-0000-000000000000"
)

var firstPartyApps = []firstPartyApp{
	{appID: graphAppID, displayName: "Microsoft Graph",
		names: []string{"https://graph.microsoft.com", "https://graph.microsoft.com/", "https://canary.graph.microsoft.com", "00000003-0000-0000-c000-000000000000/ags.windows.net"},
		roles: graphAppRoles, scopes: graphScopes},
	{appID: exchangeOnlineAppID, displayName: "Office 365 Exchange Online",
		names: []string{"https://outlook.office365.com", "https://outlook.office.com"},
		roles: []graphPermission{{"full_access_as_app", "dc890d15-9560-4a4c-9b7f-a736ec74ec40", "Use Exchange Web Services with full access to all mailboxes"},
			{"Exchange.ManageAsApp", "dc50a0fb-09a3-484d-be87-e023b12c6440", "Manage Exchange As Application"}}},
	{appID: sharePointOnlineAppID, displayName: "Office 365 SharePoint Online",
		names: []string{"https://microsoft.sharepoint-df.com"},
		roles: []graphPermission{{"Sites.FullControl.All", "678536fe-1083-478a-9c59-b99265e6b0d3", "Have full control of all site collections"}}},
	{appID: azureManagementAppID, displayName: "Windows Azure Service Management API",
		names: []string{"https://management.core.windows.net/", "https://management.azure.com/"}},
}

// graphRoleID returns the id of a Microsoft Graph application permission, or "".
func graphRoleID(value string) string {
	for _, r := range graphAppRoles {
		if strings.EqualFold(r.value, value) {
			return r.id
		}
	}
	return ""
}

// addBuiltinObjectsLocked adds what a new tenant has before anyone writes to it: the built-in role
// definitions, the first-party service principals, and a service principal for each configured
// client with its granted Graph permissions as app role assignments. Their ids are derived from the
// tenant, so they are the same at every start and are not persisted.
func (t *Tenant) addBuiltinObjectsLocked() {
	for _, r := range builtinRoles {
		t.objs.roles.put(r.definition())
	}
	created := t.Created
	for _, fp := range firstPartyApps {
		sp := &ServicePrincipal{
			ID: derivedGUID(t.ID, "servicePrincipal", fp.appID), AppID: fp.appID, Builtin: true,
			AppDisplayName: fp.displayName, AppOwnerOrganizationID: microsoftServicesTenant,
			ServicePrincipalNames: append([]string{fp.appID}, fp.names...), SignInAudience: "AzureADMultipleOrgs",
		}
		sp.DisplayName = &sp.AppDisplayName
		for _, r := range fp.roles {
			v := r.value
			sp.AppRoles = append(sp.AppRoles, AppRole{ID: r.id, AllowedMemberTypes: []string{"Application"},
				Description: r.description, DisplayName: r.description, IsEnabled: true, Origin: "Application", Value: &v})
		}
		for _, s := range fp.scopes {
			v := s.value
			sp.OAuth2PermissionScopes = append(sp.OAuth2PermissionScopes, PermissionScope{ID: s.id, Type: "User",
				AdminConsentDisplayName: s.description, AdminConsentDescription: s.description, IsEnabled: true, Origin: "Application", Value: &v})
		}
		sp.normalize()
		t.objs.sps.put(sp)
	}
	graphSP := t.objs.sps.get(derivedGUID(t.ID, "servicePrincipal", graphAppID))
	for _, cl := range t.clients {
		name := cl.DisplayName
		sp := &ServicePrincipal{ID: cl.ObjectID, AppID: cl.ID, Builtin: true, AppDisplayName: name,
			ServicePrincipalNames: []string{cl.ID}, SignInAudience: "AzureADMultipleOrgs"}
		sp.DisplayName = &name
		sp.normalize()
		t.objs.sps.put(sp)
		for _, role := range cl.Roles {
			if id := graphRoleID(role); id != "" {
				t.objs.assignments.put(&AppRoleAssignment{
					ID: assignmentID(sp.ID, derivedGUID(t.ID, "appRoleAssignment", sp.ID, id)), AppRoleID: id,
					PrincipalID: sp.ID, PrincipalType: "ServicePrincipal", PrincipalDisplayName: name,
					ResourceID: graphSP.ID, ResourceDisplayName: "Microsoft Graph", CreatedDateTime: created, Builtin: true,
				})
			}
		}
	}
}

package simulator

// builtinRole is a Microsoft Entra built-in role: its id is its template id, the same in every tenant
// (https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).
// Actions are a representative subset of the real role's.
type builtinRole struct {
	name, id, description string
	actions               []string
}

// definition renders the role as a read-only role definition.
func (b builtinRole) definition() *RoleDefinition {
	desc, id, enabled, version := b.description, b.id, true, "1"
	return &RoleDefinition{ID: b.id, IsBuiltIn: true, roleProps: roleProps{
		DisplayName: b.name, Description: &desc, IsEnabled: &enabled, ResourceScopes: []string{"/"},
		RolePermissions: []RolePermission{{AllowedResourceActions: b.actions}}, TemplateID: &id, Version: &version,
	}}
}

// Template ids of the built-in roles the seeds and tests reference.
const (
	roleGlobalAdministrator            = "62e90394-69f5-4237-9190-012177145e10"
	roleUserAdministrator              = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	roleGroupsAdministrator            = "fdd7a751-b60b-444a-984c-02652fe8fa1c"
	roleApplicationAdministrator       = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	roleConditionalAccessAdministrator = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
	roleGlobalReader                   = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	roleSecurityAdministrator          = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	rolePrivilegedRoleAdministrator    = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	roleHelpdeskAdministrator          = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
)

var builtinRoles = []builtinRole{
	{"Global Administrator", roleGlobalAdministrator, "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
		[]string{"microsoft.directory/applications/allProperties/allTasks", "microsoft.directory/users/allProperties/allTasks", "microsoft.directory/groups/allProperties/allTasks", "microsoft.directory/conditionalAccessPolicies/allProperties/allTasks", "microsoft.directory/roleDefinitions/allProperties/allTasks"}},
	{"User Administrator", roleUserAdministrator, "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
		[]string{"microsoft.directory/users/create", "microsoft.directory/users/delete", "microsoft.directory/users/basic/update", "microsoft.directory/groups/create", "microsoft.directory/groups/members/update"}},
	{"Groups Administrator", roleGroupsAdministrator, "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.",
		[]string{"microsoft.directory/groups/create", "microsoft.directory/groups/delete", "microsoft.directory/groups/basic/update", "microsoft.directory/groups/members/update", "microsoft.directory/groups/owners/update"}},
	{"Application Administrator", roleApplicationAdministrator, "Can create and manage all aspects of app registrations and enterprise apps.",
		[]string{"microsoft.directory/applications/create", "microsoft.directory/applications/delete", "microsoft.directory/applications/allProperties/update", "microsoft.directory/servicePrincipals/create", "microsoft.directory/servicePrincipals/appRoleAssignedTo/update"}},
	{"Cloud Application Administrator", "158c047a-c907-4556-b7ef-446551a6b5f7", "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
		[]string{"microsoft.directory/applications/create", "microsoft.directory/applications/allProperties/update", "microsoft.directory/servicePrincipals/create"}},
	{"Conditional Access Administrator", roleConditionalAccessAdministrator, "Can manage Conditional Access capabilities.",
		[]string{"microsoft.directory/conditionalAccessPolicies/create", "microsoft.directory/conditionalAccessPolicies/delete", "microsoft.directory/conditionalAccessPolicies/basic/update", "microsoft.directory/namedLocations/create", "microsoft.directory/namedLocations/basic/update"}},
	{"Global Reader", roleGlobalReader, "Can read everything that a Global Administrator can, but not update anything.",
		[]string{"microsoft.directory/applications/allProperties/read", "microsoft.directory/users/allProperties/read", "microsoft.directory/groups/allProperties/read", "microsoft.directory/conditionalAccessPolicies/allProperties/read"}},
	{"Security Administrator", roleSecurityAdministrator, "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.",
		[]string{"microsoft.directory/conditionalAccessPolicies/create", "microsoft.directory/conditionalAccessPolicies/basic/update", "microsoft.directory/namedLocations/create"}},
	{"Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509", "Can read security information and reports in Microsoft Entra ID and Office 365.",
		[]string{"microsoft.directory/conditionalAccessPolicies/standard/read", "microsoft.directory/namedLocations/standard/read"}},
	{"Privileged Role Administrator", rolePrivilegedRoleAdministrator, "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
		[]string{"microsoft.directory/roleAssignments/allProperties/allTasks", "microsoft.directory/roleDefinitions/allProperties/allTasks"}},
	{"Privileged Authentication Administrator", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Can access to view, set and reset authentication method information for any user (admin or non-admin).",
		[]string{"microsoft.directory/users/authenticationMethods/create", "microsoft.directory/users/password/update"}},
	{"Authentication Administrator", "c4e39bd9-1100-46d3-8c65-fb160da0071f", "Can access to view, set and reset authentication method information for any non-admin user.",
		[]string{"microsoft.directory/users/authenticationMethods/create", "microsoft.directory/users/password/update"}},
	{"Helpdesk Administrator", roleHelpdeskAdministrator, "Can reset passwords for non-administrators and Helpdesk Administrators.",
		[]string{"microsoft.directory/users/password/update", "microsoft.directory/users/invalidateAllRefreshTokens"}},
	{"Password Administrator", "966707d0-3269-4727-9be2-8c3a10f19b9d", "Can reset passwords for non-administrators and Password Administrators.",
		[]string{"microsoft.directory/users/password/update"}},
	{"Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de", "Can manage all aspects of the Exchange product.",
		[]string{"microsoft.directory/groups.unified/create", "microsoft.office365.exchange/allEntities/basic/allTasks"}},
	{"SharePoint Administrator", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "Can manage all aspects of the SharePoint service.",
		[]string{"microsoft.directory/groups.unified/create", "microsoft.office365.sharePoint/allEntities/allTasks"}},
	{"Teams Administrator", "69091246-20e8-4a56-aa4d-066075b2a7a8", "Can manage the Microsoft Teams service.",
		[]string{"microsoft.directory/groups.unified/create", "microsoft.teams/allEntities/allProperties/allTasks"}},
	{"Intune Administrator", "3a2c62db-5318-420d-8d74-23affee5d9d5", "Can manage all aspects of the Intune product.",
		[]string{"microsoft.directory/devices/basic/update", "microsoft.intune/allEntities/allTasks"}},
	{"Billing Administrator", "b0f54661-2d74-4c50-afa3-1ec803f12efe", "Can perform common billing related tasks like updating payment information.",
		[]string{"microsoft.directory/organization/basic/update", "microsoft.commerce.billing/allEntities/allProperties/allTasks"}},
	{"Directory Readers", "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Can read basic directory information. Commonly used to grant directory read access to applications and guests.",
		[]string{"microsoft.directory/users/standard/read", "microsoft.directory/groups/standard/read", "microsoft.directory/applications/standard/read"}},
	{"Directory Writers", "9360feb5-f418-4baa-8175-e2a00bac4301", "Can read and write basic directory information. For granting access to applications, not intended for users.",
		[]string{"microsoft.directory/users/create", "microsoft.directory/groups/create", "microsoft.directory/groups/members/update"}},
	{"Hybrid Identity Administrator", "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2", "Manage Active Directory to Microsoft Entra cloud provisioning, Microsoft Entra Connect, pass-through authentication (PTA), password hash synchronization (PHS), seamless single sign-on (seamless SSO), and federation settings.",
		[]string{"microsoft.directory/onPremisesSynchronization/standard/read"}},
	{"Reports Reader", "4a5d8f65-41da-4de4-8968-e035b65339cf", "Can read sign-in and audit reports.",
		[]string{"microsoft.directory/auditLogs/allProperties/read", "microsoft.directory/signInReports/allProperties/read"}},
	{"Application Developer", "cf1c38e5-3621-4004-a7cb-879624dced7c", "Can create application registrations independent of the 'Users can register applications' setting.",
		[]string{"microsoft.directory/applications/createAsOwner", "microsoft.directory/servicePrincipals/createAsOwner"}},
	{"Guest Inviter", "95e79109-95c0-4d8e-aee3-d01accf2d47b", "Can invite guest users independent of the 'members can invite guests' setting.",
		[]string{"microsoft.directory/users/inviteGuest"}},
	{"License Administrator", "4d6ac14f-3453-41d0-bef9-a3e0c569773a", "Can manage product licenses on users and groups.",
		[]string{"microsoft.directory/users/assignLicense", "microsoft.directory/groups/assignLicense"}},
}

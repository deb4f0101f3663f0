// Package permissions is the one list of Microsoft Graph application permissions the migration app
// needs: the read-only set for the source tenant and the read-write set for the target tenant. The
// Bicep app registration (infra/graph-permissions.json, checked by the infra contract tests), the demo
// tenants (demo/tenants.json) and the tenant simulator's permission catalogue are all tested against
// it, so adding a phase that needs a new permission means adding it here first.
//
// It is pure data: no Graph SDK import, so infrastructure checks and the CLI can use it cheaply.
package permissions

import "sort"

// GraphAppID is Microsoft Graph's application id, the resourceAppId of every permission below.
const GraphAppID = "00000003-0000-0000-c000-000000000000"

// Permission is one Microsoft Graph application permission (an app role of the Graph service
// principal): its value as tokens carry it in roles, and its id, the same in every tenant
// (https://learn.microsoft.com/graph/permissions-reference).
type Permission struct {
	Value string `json:"value"`
	ID    string `json:"id"`
}

// catalogue holds the ids of every permission used below.
var catalogue = map[string]string{
	"Application.Read.All":                    "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
	"Application.ReadWrite.All":               "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
	"AppRoleAssignment.ReadWrite.All":         "06b708a9-e830-4db3-a914-8e69da51d44f",
	"Device.Read.All":                         "7438b122-aefc-4978-80ed-43db9fcc7715",
	"DeviceManagementManagedDevices.Read.All": "2f51be20-0bb4-4fed-bf7b-db946066c75e",
	"Domain.Read.All":                         "dbb9058a-0e50-45d7-ae91-66909b5d4664",
	"Domain.ReadWrite.All":                    "7e05723c-0bb0-42da-be95-ae9f08a6e53c",
	"Group.Read.All":                          "5b567255-7703-4780-807c-7be8301ae99b",
	"Group.ReadWrite.All":                     "62a82d76-70ea-41e2-9197-370581804d09",
	"GroupMember.Read.All":                    "98830695-27a2-44f7-8c18-0c3ebc9698f6",
	"GroupMember.ReadWrite.All":               "dbaae8cf-10b5-4b86-a4a1-f871c94c6695",
	"Organization.Read.All":                   "498476ce-e0fe-48b0-b801-37ba7e2685c6",
	"Policy.Read.All":                         "246dd0d5-5bd0-4def-940b-0421030a5b68",
	"Policy.ReadWrite.ConditionalAccess":      "01c0a623-fc9b-48e9-b794-0756f8e8f067",
	"Policy.ReadWrite.CrossTenantAccess":      "338163d7-f101-4c92-94ba-ca46fe52447c",
	"RoleManagement.Read.Directory":           "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
	"RoleManagement.ReadWrite.Directory":      "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
	"User.Read.All":                           "df021288-bdef-4463-88db-98f22de89214",
	"User.ReadWrite.All":                      "741f803b-c850-494e-b5df-cde7c675a1ca",
	"User.Invite.All":                         "09850681-111b-4a89-9bed-3f2cae46d706",
}

// source: export and validation only read the source tenant (DESIGN section 3).
var source = []string{
	"User.Read.All",                           // users export, validation of each Source
	"Group.Read.All",                          // groups export
	"GroupMember.Read.All",                    // memberships export, groups/delta
	"Application.Read.All",                    // applications and service principals export
	"Policy.Read.All",                         // conditional access policies and named locations export
	"RoleManagement.Read.Directory",           // custom role definitions export
	"Domain.Read.All",                         // domain checks
	"Organization.Read.All",                   // tenant identity in reports
	"Device.Read.All",                         // the device plan: devices the wave's users own or registered
	"DeviceManagementManagedDevices.Read.All", // the device plan: their Intune records
	// The cutover's reach-back B2B-links each source account to its target identity (POST /invitations
	// with invitedUser, DESIGN section 4, inviteToB2B).
	"User.Invite.All",
	// The vanity-domain move, only when an operator runs 't2t domain free|remove': users' UPN and mail
	// and apps' identifierUris move to the initial domain, then the domain is deleted
	// (shared/domainmove). Waves never write the source.
	"User.ReadWrite.All",
	"Application.ReadWrite.All",
	"Domain.ReadWrite.All",
}

// target: import writes the target tenant; it never needs more than these.
var target = []string{
	"User.ReadWrite.All",                 // create and match users, convertExternalToInternalMemberUser
	"Group.ReadWrite.All",                // upsert groups by uniqueName
	"GroupMember.ReadWrite.All",          // members@odata.bind
	"Application.ReadWrite.All",          // upsert applications, service principals
	"AppRoleAssignment.ReadWrite.All",    // app role assignments of migrated service principals
	"Policy.Read.All",                    // required with Policy.ReadWrite.ConditionalAccess
	"Policy.ReadWrite.ConditionalAccess", // conditional access policies (disabled) and named locations
	"Policy.ReadWrite.CrossTenantAccess", // cross-tenant access settings for coexistence and cutover
	"RoleManagement.ReadWrite.Directory", // custom role definitions, role-assignable groups
	"Domain.Read.All",                    // destination domain verification
	"Domain.ReadWrite.All",               // the vanity-domain move: add and verify the domain (t2t domain add|verify)
	"Organization.Read.All",              // tenant identity in reports
}

// Source returns the permissions the app needs in the source tenant, sorted by value.
func Source() []Permission { return resolve(source) }

// Target returns the permissions the app needs in the target tenant, sorted by value.
func Target() []Permission { return resolve(target) }

// All returns the union of Source and Target, sorted by value: what the one multi-tenant app
// registration requests (requiredResourceAccess). Entra has no per-tenant subset of one app's
// requested permissions, so the source tenant's admin consents to all of them.
func All() []Permission {
	seen := map[string]bool{}
	var values []string
	for _, v := range append(append([]string{}, source...), target...) {
		if !seen[v] {
			seen[v] = true
			values = append(values, v)
		}
	}
	return resolve(values)
}

// Values returns the values of ps, in order.
func Values(ps []Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Value
	}
	return out
}

func resolve(values []string) []Permission {
	out := make([]Permission, 0, len(values))
	for _, v := range values {
		id, ok := catalogue[v]
		if !ok {
			panic("permissions: no id for " + v) // caught by the package tests
		}
		out = append(out, Permission{Value: v, ID: id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

package simulator

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"
)

// maxSeedObjects bounds each tenant configuration seed: real tenants have tens to hundreds of these.
const maxSeedObjects = 5000

// validatePolicies checks the tenant configuration seed counts.
func (s *SeedConfig) validatePolicies() error {
	for name, n := range map[string]int{"apps": s.Apps, "namedLocations": s.NamedLocations, "customRoles": s.CustomRoles,
		"conditionalAccessPolicies": s.ConditionalAccessPolicies} {
		if n < 0 || n > maxSeedObjects {
			return fmt.Errorf("seed.%s must be between 0 and %d", name, maxSeedObjects)
		}
	}
	return nil
}

// policySeeder generates a tenant's configuration objects. Everything derives from the tenant id and
// seed: the same configuration always yields the same objects, ids and timestamps included.
type policySeeder struct {
	t    *Tenant
	sc   SeedConfig
	rng  *rand.Rand
	base time.Time
}

func (ps *policySeeder) id(kind string, i int) string {
	return derivedGUID(ps.t.ID, kind, fmt.Sprint(ps.sc.Seed), fmt.Sprint(i))
}

func (ps *policySeeder) when() time.Time {
	return ps.base.Add(time.Duration(ps.rng.IntN(2*365*24)) * time.Hour)
}

// name returns names[i] for the first round and "name N" after, so names stay unique.
func cycleName(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("%s %d", names[i%len(names)], i/len(names)+1)
}

// seedPoliciesLocked adds the configured named locations, custom roles, applications (with service
// principals and app role assignments) and conditional access policies, in that order so that each
// can reference the ones before, and the seeded users and groups. The caller holds t.mu.
func (t *Tenant) seedPoliciesLocked(tc *TenantConfig) {
	sc := tc.Seed
	if sc.Apps+sc.NamedLocations+sc.CustomRoles+sc.ConditionalAccessPolicies == 0 {
		return
	}
	h := fnv.New64a()
	h.Write([]byte(t.ID + "/policies"))
	ps := &policySeeder{t: t, sc: sc, rng: rand.New(rand.NewPCG(uint64(sc.Seed), h.Sum64())),
		base: time.Date(2022, 3, 1, 9, 0, 0, 0, time.UTC)}
	locations := ps.namedLocations()
	roles := ps.customRoles()
	apps := ps.applications()
	ps.policies(locations, roles, apps)
}

var seedIPLocations = []string{"Headquarters", "Branch offices", "Datacenter egress", "VPN gateways", "Partner network"}

var seedCountryLocations = []struct {
	name      string
	countries []string
	unknown   bool
}{
	{"Blocked countries", []string{"KP", "IR", "SY", "CU"}, true},
	{"Allowed countries", []string{"US", "GB", "FR", "DE", "ES", "JP"}, false},
	{"European Union", []string{"AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PL", "PT", "SE"}, false},
}

func (ps *policySeeder) namedLocations() []*NamedLocation {
	var out []*NamedLocation
	for i := range ps.sc.NamedLocations {
		created := ps.when()
		l := &NamedLocation{ID: ps.id("namedLocation", i), CreatedDateTime: created, ModifiedDateTime: created}
		n := i / 2
		if i%2 == 0 {
			trusted := n < 2
			l.Type, l.DisplayName, l.IsTrusted = ipNamedLocationType, cycleName(seedIPLocations, n), &trusted
			// Documentation ranges (RFC 5737, RFC 3849): valid CIDRs that route nowhere.
			v4 := []string{"203.0.113", "198.51.100", "192.0.2"}[n%3]
			l.IPRanges = []IPRange{
				{Type: ipv4RangeType, CIDRAddress: fmt.Sprintf("%s.%d/28", v4, 16*(ps.rng.IntN(15)))},
				{Type: ipv6RangeType, CIDRAddress: fmt.Sprintf("2001:db8:%x::/48", n+1)},
			}
		} else {
			c := seedCountryLocations[n%len(seedCountryLocations)]
			name := c.name
			if n >= len(seedCountryLocations) {
				name = fmt.Sprintf("%s %d", c.name, n/len(seedCountryLocations)+1)
			}
			unknown, method := c.unknown, "clientIpAddress"
			l.Type, l.DisplayName = countryNamedLocationType, name
			l.CountriesAndRegions, l.IncludeUnknownCountriesAndRegions, l.CountryLookupMethod = c.countries, &unknown, &method
		}
		ps.t.objs.locations.put(l)
		out = append(out, l)
	}
	return out
}

var seedCustomRoles = []struct {
	name, description string
	actions           []string
}{
	{"Helpdesk Tier 1", "Resets passwords and signs users out.", []string{"microsoft.directory/users/password/update",
		"microsoft.directory/users/invalidateAllRefreshTokens", "microsoft.directory/users/standard/read"}},
	{"App Registration Support", "Updates basic properties of app registrations.", []string{"microsoft.directory/applications/basic/update",
		"microsoft.directory/applications/standard/read", "microsoft.directory/applications/owners/read"}},
	{"Group Membership Manager", "Manages the members of groups.", []string{"microsoft.directory/groups/members/update",
		"microsoft.directory/groups/members/read", "microsoft.directory/groups/standard/read"}},
	{"Enterprise App Assignment Manager", "Assigns users and groups to enterprise apps.", []string{
		"microsoft.directory/servicePrincipals/appRoleAssignedTo/update", "microsoft.directory/servicePrincipals/standard/read"}},
	{"Device Cleanup Operator", "Disables and deletes stale devices.", []string{"microsoft.directory/devices/delete",
		"microsoft.directory/devices/disable", "microsoft.directory/devices/standard/read"}},
}

func (ps *policySeeder) customRoles() []*RoleDefinition {
	var out []*RoleDefinition
	for i := range ps.sc.CustomRoles {
		tmpl := seedCustomRoles[i%len(seedCustomRoles)]
		id := ps.id("roleDefinition", i)
		desc, enabled, tid := tmpl.description, i%7 != 6, id
		r := &RoleDefinition{ID: id, roleProps: roleProps{
			DisplayName: tmpl.name, Description: &desc, IsEnabled: &enabled,
			ResourceScopes: []string{"/"}, TemplateID: &tid,
			RolePermissions: []RolePermission{{AllowedResourceActions: tmpl.actions}},
		}}
		if i >= len(seedCustomRoles) {
			r.DisplayName = fmt.Sprintf("%s %d", tmpl.name, i/len(seedCustomRoles)+1)
		}
		ps.t.objs.roles.put(r)
		out = append(out, r)
	}
	return out
}

var seedAppNames = []string{"Payroll Portal", "Expense Tracker", "HR Connector", "Sales Dashboard", "Support Desk",
	"Inventory API", "Travel Booking", "Learning Hub", "Contract Vault", "Field Service App"}

func appSlug(name string) string { return strings.ReplaceAll(strings.ToLower(name), " ", "-") }

// applications seeds app registrations and their service principals; every other app declares app
// roles, assigned to a few seeded users (and a group, when there are groups).
func (ps *policySeeder) applications() []*Application {
	t := ps.t
	domain := t.defaultDomainLocked()
	users := ps.members()
	groups := t.groups.list()
	var out []*Application
	for i := range ps.sc.Apps {
		name := cycleName(seedAppNames, i)
		a := &Application{ID: ps.id("application", i), AppID: ps.id("appId", i), PublisherDomain: domain, CreatedDateTime: ps.when()}
		a.DisplayName, a.SignInAudience = name, "AzureADMyOrg"
		if i%4 == 3 {
			a.SignInAudience = "AzureADMultipleOrgs"
		}
		host := appSlug(name) + "." + domain
		a.Web.RedirectURIs = []string{"https://" + host + "/signin-oidc"}
		a.Web.HomePageURL = &a.Web.RedirectURIs[0]
		a.RequiredResourceAccess = []RequiredResourceAccess{{ResourceAppID: graphAppID,
			ResourceAccess: []ResourceAccess{{ID: graphScopes[0].id, Type: "Scope"}}}}
		if i%2 == 0 {
			a.IdentifierURIs = []string{"api://" + a.AppID}
			v := "access_as_user"
			a.API.OAuth2PermissionScopes = []PermissionScope{{ID: ps.id("scope", i), Value: &v, Type: "User", IsEnabled: true,
				AdminConsentDisplayName: "Access " + name, AdminConsentDescription: "Allows the app to access " + name + " as the signed-in user."}}
			for j, role := range []string{"Reader", "Contributor", "Approver"}[:2+i%2] {
				v := strings.ReplaceAll(appSlug(name), "-", "") + "." + role
				a.AppRoles = append(a.AppRoles, AppRole{ID: ps.id("appRole", i*10+j), AllowedMemberTypes: []string{"User"},
					DisplayName: role, Description: role + " of " + name, IsEnabled: true, Value: &v})
			}
		}
		if i%3 == 0 {
			a.IdentifierURIs = append(a.IdentifierURIs, "https://"+host)
		}
		a.normalize()
		t.objs.apps.put(a)
		sp := &ServicePrincipal{ID: ps.id("servicePrincipal", i), AppID: a.AppID, AppOwnerOrganizationID: t.ID}
		sp.copyFromApp(a)
		required := len(a.AppRoles) > 0
		sp.AppRoleAssignmentRequired = &required
		sp.normalize()
		t.objs.sps.put(sp)
		ps.assign(i, sp, users, groups)
		out = append(out, a)
	}
	return out
}

// members are the seeded member users, in id order.
func (ps *policySeeder) members() []*User {
	var out []*User
	for _, u := range ps.t.users.list() {
		if u.UserType != "Guest" && !strings.Contains(u.UserPrincipalName, "#EXT#") {
			out = append(out, u)
		}
	}
	return out
}

func (ps *policySeeder) assign(i int, sp *ServicePrincipal, users []*User, groups []*Group) {
	if len(sp.AppRoles) == 0 {
		return
	}
	add := func(kind, principal, name, roleID string) {
		a := &AppRoleAssignment{AppRoleID: roleID, PrincipalID: principal, PrincipalType: kind, PrincipalDisplayName: name,
			ResourceID: sp.ID, ResourceDisplayName: strPtrOr(sp.DisplayName, ""), CreatedDateTime: ps.when()}
		a.ID = assignmentID(principal, derivedGUID(ps.t.ID, "appRoleAssignment", sp.ID, principal, roleID))
		ps.t.objs.assignments.put(a)
	}
	if len(users) > 0 {
		for k := range 2 + ps.rng.IntN(4) {
			u := users[(i*7+k*13)%len(users)]
			add("User", u.ID, u.DisplayName, sp.AppRoles[k%len(sp.AppRoles)].ID)
		}
	}
	if len(groups) > 0 {
		g := groups[i%len(groups)]
		add("Group", g.ID, g.DisplayName, sp.AppRoles[0].ID)
	}
}

var seedPolicyNames = []string{"Require MFA for administrators", "Block legacy authentication",
	"Block sign-ins from blocked countries", "Require compliant device for line-of-business apps",
	"Sign-in frequency for privileged custom roles", "Require MFA for guests"}

// policies seeds conditional access policies from six templates. Each references what exists: a
// break-glass user excluded everywhere, built-in and custom roles, named locations, a seeded app,
// and groups when the tenant has them.
func (ps *policySeeder) policies(locations []*NamedLocation, roles []*RoleDefinition, apps []*Application) {
	users := ps.members()
	groups := ps.t.groups.list()
	var ipTrusted, country *NamedLocation
	for _, l := range locations {
		if l.Type == ipNamedLocationType && ipTrusted == nil {
			ipTrusted = l
		}
		if l.Type == countryNamedLocationType && country == nil {
			country = l
		}
	}
	for i := range ps.sc.ConditionalAccessPolicies {
		p := &CAPolicy{ID: ps.id("conditionalAccessPolicy", i), CreatedDateTime: ps.when()}
		p.DisplayName = cycleName(seedPolicyNames, i)
		p.State = []string{"enabled", "enabled", "enabledForReportingButNotEnforced", "disabled", "enabled", "enabled"}[i%6]
		c := &p.Conditions
		c.Users, c.Applications = &caUsers{}, &caApplications{IncludeApplications: []string{caAll}}
		c.ClientAppTypes = []string{"all"}
		if len(users) > 0 {
			c.Users.ExcludeUsers = []string{users[0].ID} // the break-glass account
		}
		p.GrantControls = &caGrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}}
		switch i % 6 {
		case 0:
			c.Users.IncludeRoles = []string{roleGlobalAdministrator, roleUserAdministrator, roleApplicationAdministrator,
				roleConditionalAccessAdministrator, roleSecurityAdministrator}
			if len(roles) > 0 {
				c.Users.IncludeRoles = append(c.Users.IncludeRoles, roles[0].ID)
			}
		case 1:
			c.Users.IncludeUsers = []string{caAll}
			c.ClientAppTypes = []string{"exchangeActiveSync", "other"}
			p.GrantControls.BuiltInControls = []string{"block"}
		case 2:
			c.Users.IncludeUsers = []string{caAll}
			c.Locations = &caLocations{IncludeLocations: []string{caAll}, ExcludeLocations: []string{caAllTrusted}}
			if country != nil {
				c.Locations = &caLocations{IncludeLocations: []string{country.ID}}
			}
			p.GrantControls.BuiltInControls = []string{"block"}
		case 3:
			c.Users.IncludeUsers = []string{caAll}
			if len(users) > 1 {
				c.Users.IncludeUsers = nil
				for k := range min(3, len(users)-1) {
					c.Users.IncludeUsers = append(c.Users.IncludeUsers, users[1+(i+k)%(len(users)-1)].ID)
				}
			}
			c.Applications.IncludeApplications = []string{"Office365"}
			if len(apps) > 0 {
				c.Applications.IncludeApplications = []string{apps[i%len(apps)].AppID}
			}
			if ipTrusted != nil {
				c.Locations = &caLocations{IncludeLocations: []string{caAll}, ExcludeLocations: []string{ipTrusted.ID}}
			}
			p.GrantControls.BuiltInControls = []string{"compliantDevice", "mfa"}
		case 4:
			c.Users.IncludeRoles = []string{rolePrivilegedRoleAdministrator}
			for _, r := range roles {
				c.Users.IncludeRoles = append(c.Users.IncludeRoles, r.ID)
			}
			p.GrantControls = nil
			enabled, kind, value := true, "hours", 4
			p.SessionControls = &caSessionControls{SignInFrequency: &caSignInFrequency{IsEnabled: &enabled, Type: &kind, Value: &value}}
		case 5:
			c.Users.IncludeUsers = []string{caGuestsOrExternalUsers}
			c.Applications.IncludeApplications = []string{"Office365"}
		}
		if len(groups) > 0 {
			// HOOK(groups): groups exist in the tenant (seed_groups.go), so policies also include and
			// exclude them: the first group is an exclusion group everywhere, the template-3 policy
			// includes another.
			c.Users.ExcludeGroups = []string{groups[0].ID}
			if i%6 == 3 && len(groups) > 1 {
				c.Users.IncludeGroups = []string{groups[1+i%(len(groups)-1)].ID}
			}
		}
		p.normalize()
		ps.t.objs.policies.put(p)
	}
}

package conditionalaccess

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/customroles"
	"t2t/shared/namedlocations"
	"t2t/shared/phase"
	"t2t/shared/users"
)

// Id map types of the objects policies reference that other phases migrate. Groups, applications and
// service principals are written by their phases under these names (DESIGN section 4).
const (
	groupsType            = "groups"
	appIDsType            = "appIds" // source appId → target appId, written by the applications phase
	servicePrincipalsType = "servicePrincipals"
	// What t2t does not migrate: a policy naming one waits, listed with it, until an administrator
	// creates the policy by hand (or a later version of t2t maps them).
	termsOfUseType     = "termsOfUse"
	customControlsType = "customControls"
	authStrengthsType  = "authenticationStrengths"
)

// Values that are not ids and pass through unchanged
// (https://learn.microsoft.com/graph/api/resources/conditionalaccessusers,
// conditionalaccessapplications, conditionalaccesslocations, conditionalaccessclientapplications,
// authenticationstrengthpolicy: the built-in strengths have the same ids in every tenant).
var (
	userSpecials     = []string{"All", "None", "GuestsOrExternalUsers"}
	appSpecials      = []string{"All", "None", "Office365", "MicrosoftAdminPortals"}
	locationSpecials = []string{"All", "AllTrusted", "00000000-0000-0000-0000-000000000000"} // the last: legacy MFA trusted IPs
	spSpecials       = []string{"ServicePrincipalsInMyTenant"}
	strengthSpecials = []string{"00000000-0000-0000-0000-000000000002", "00000000-0000-0000-0000-000000000003",
		"00000000-0000-0000-0000-000000000004"} // multifactor, passwordless, phishing-resistant
)

type policy = models.ConditionalAccessPolicyable

// refList is one list of references in a policy: where it is, which id map type translates it, and
// the values that pass through. get and set see a missing parent (no locations condition) as empty.
type refList struct {
	name     string
	typ      string
	specials []string
	get      func(policy) []string
	set      func(policy, []string)
}

// at builds a refList over a list property of a part of the policy (of returns nil when absent).
func at[T any](name, typ string, specials []string, of func(policy) T, get func(T) []string, set func(T, []string)) refList {
	present := func(p policy) (T, bool) { v := of(p); return v, any(v) != nil }
	return refList{name: name, typ: typ, specials: specials,
		get: func(p policy) []string {
			if v, ok := present(p); ok {
				return get(v)
			}
			return nil
		},
		set: func(p policy, ids []string) {
			if v, ok := present(p); ok {
				set(v, ids)
			}
		}}
}

func conditionUsers(p policy) models.ConditionalAccessUsersable {
	if c := p.GetConditions(); c != nil {
		return c.GetUsers()
	}
	return nil
}

func conditionApps(p policy) models.ConditionalAccessApplicationsable {
	if c := p.GetConditions(); c != nil {
		return c.GetApplications()
	}
	return nil
}

func conditionLocations(p policy) models.ConditionalAccessLocationsable {
	if c := p.GetConditions(); c != nil {
		return c.GetLocations()
	}
	return nil
}

func conditionClientApps(p policy) models.ConditionalAccessClientApplicationsable {
	if c := p.GetConditions(); c != nil {
		return c.GetClientApplications()
	}
	return nil
}

func grant(p policy) models.ConditionalAccessGrantControlsable { return p.GetGrantControls() }

type (
	caUsers      = models.ConditionalAccessUsersable
	caApps       = models.ConditionalAccessApplicationsable
	caLocations  = models.ConditionalAccessLocationsable
	caClientApps = models.ConditionalAccessClientApplicationsable
	caGrant      = models.ConditionalAccessGrantControlsable
)

// refLists are every reference a policy holds. Built-in role template ids and Microsoft first-party
// appIds are the same in every tenant: export lists them in the item's Universal ids.
var refLists = []refList{
	at("conditions.users.includeUsers", users.Type, userSpecials, conditionUsers, caUsers.GetIncludeUsers, caUsers.SetIncludeUsers),
	at("conditions.users.excludeUsers", users.Type, userSpecials, conditionUsers, caUsers.GetExcludeUsers, caUsers.SetExcludeUsers),
	at("conditions.users.includeGroups", groupsType, nil, conditionUsers, caUsers.GetIncludeGroups, caUsers.SetIncludeGroups),
	at("conditions.users.excludeGroups", groupsType, nil, conditionUsers, caUsers.GetExcludeGroups, caUsers.SetExcludeGroups),
	at("conditions.users.includeRoles", customroles.Type, nil, conditionUsers, caUsers.GetIncludeRoles, caUsers.SetIncludeRoles),
	at("conditions.users.excludeRoles", customroles.Type, nil, conditionUsers, caUsers.GetExcludeRoles, caUsers.SetExcludeRoles),
	at("conditions.applications.includeApplications", appIDsType, appSpecials, conditionApps, caApps.GetIncludeApplications, caApps.SetIncludeApplications),
	at("conditions.applications.excludeApplications", appIDsType, appSpecials, conditionApps, caApps.GetExcludeApplications, caApps.SetExcludeApplications),
	at("conditions.locations.includeLocations", namedlocations.Type, locationSpecials, conditionLocations, caLocations.GetIncludeLocations, caLocations.SetIncludeLocations),
	at("conditions.locations.excludeLocations", namedlocations.Type, locationSpecials, conditionLocations, caLocations.GetExcludeLocations, caLocations.SetExcludeLocations),
	at("conditions.clientApplications.includeServicePrincipals", servicePrincipalsType, spSpecials, conditionClientApps,
		caClientApps.GetIncludeServicePrincipals, caClientApps.SetIncludeServicePrincipals),
	at("conditions.clientApplications.excludeServicePrincipals", servicePrincipalsType, spSpecials, conditionClientApps,
		caClientApps.GetExcludeServicePrincipals, caClientApps.SetExcludeServicePrincipals),
	at("grantControls.termsOfUse", termsOfUseType, nil, grant, caGrant.GetTermsOfUse, caGrant.SetTermsOfUse),
	at("grantControls.customAuthenticationFactors", customControlsType, nil, grant, caGrant.GetCustomAuthenticationFactors, caGrant.SetCustomAuthenticationFactors),
	{name: "grantControls.authenticationStrength", typ: authStrengthsType, specials: strengthSpecials,
		get: func(p policy) []string {
			if g := p.GetGrantControls(); g != nil && g.GetAuthenticationStrength() != nil && g.GetAuthenticationStrength().GetId() != nil {
				return []string{*g.GetAuthenticationStrength().GetId()}
			}
			return nil
		},
		// A policy is created with the strength's id only, as the docs' create example does; a read
		// may have expanded the whole strength policy.
		set: func(p policy, ids []string) {
			s := models.NewAuthenticationStrengthPolicy()
			s.SetId(&ids[0])
			p.GetGrantControls().SetAuthenticationStrength(s)
		}},
}

// unresolved is a reference with no target object yet.
type unresolved struct{ typ, id string }

// maxListed bounds the unresolved references a ledger reason lists.
const maxListed = 30

// waitReason is a Pending policy's LastError: its unresolved references, type and source id.
func waitReason(refs []unresolved) string {
	parts := make([]string, 0, min(len(refs), maxListed))
	for _, r := range refs[:min(len(refs), maxListed)] {
		parts = append(parts, r.typ+" "+r.id)
	}
	more := ""
	if len(refs) > maxListed {
		more = fmt.Sprintf(" and %d more", len(refs)-maxListed)
	}
	return "waiting for references that do not resolve in the target yet: " + strings.Join(parts, ", ") + more
}

// passes reports a value that is the same in every tenant.
func passes(rl refList, item phase.Item, id string) bool {
	return slices.Contains(rl.specials, id) || slices.ContainsFunc(item.Universal, func(u string) bool { return strings.EqualFold(u, id) })
}

// remap rewrites every reference of the chunk's policies through the id map (one query per type and
// 20 ids) and sets the state t2t creates policies in. It returns, per policy, the reason it must wait:
// a policy is never created with a reference dropped (a dropped exclusion can lock people out).
func remap(ctx context.Context, env *phase.Env, items []phase.Item, bodies []policy) ([]string, error) {
	need := map[string][]string{}
	for i, p := range bodies {
		for _, rl := range refLists {
			for _, id := range rl.get(p) {
				if !passes(rl, items[i], id) {
					need[rl.typ] = append(need[rl.typ], id)
				}
			}
		}
	}
	resolved := map[string]map[string]string{}
	for typ, ids := range need {
		got, err := env.Resolve(ctx, typ, ids)
		if err != nil {
			return nil, fmt.Errorf("resolving %s references: %w", typ, err)
		}
		resolved[typ] = got
	}
	state := models.DISABLED_CONDITIONALACCESSPOLICYSTATE
	if env.Options.CAState == reportOnly {
		state = models.ENABLEDFORREPORTINGBUTNOTENFORCED_CONDITIONALACCESSPOLICYSTATE
	}
	blocked := make([]string, len(bodies))
	for i, p := range bodies {
		if missing := remapPolicy(p, items[i], resolved, state); len(missing) > 0 {
			blocked[i] = waitReason(missing)
		}
	}
	return blocked, nil
}

// remapPolicy rewrites one policy's references with resolved (id map type → source id → target id),
// keeping values that pass through, sets its state, and returns the references that do not resolve.
func remapPolicy(p policy, item phase.Item, resolved map[string]map[string]string, state models.ConditionalAccessPolicyState) []unresolved {
	var missing []unresolved
	for _, rl := range refLists {
		ids := rl.get(p)
		if len(ids) == 0 {
			continue
		}
		out := make([]string, len(ids))
		for j, id := range ids {
			target, ok := resolved[rl.typ][id]
			switch {
			case passes(rl, item, id):
				out[j] = id
			case ok:
				out[j] = target
			default: // kept for the record; the policy is not created while it is there
				out[j] = id
				missing = append(missing, unresolved{rl.typ, id})
			}
		}
		rl.set(p, out)
	}
	// t2t never enables a policy, whatever the source's state.
	p.SetState(&state)
	return missing
}

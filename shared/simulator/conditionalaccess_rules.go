package simulator

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// decodeCAPolicy decodes and validates a policy's properties on their own; references are checked
// by checkCAReferencesLocked.
func decodeCAPolicy(m map[string]any) (*caProps, *graphError) {
	var p caProps
	if gerr := strictDecode(m, &p, "ConditionalAccessPolicy"); gerr != nil {
		return nil, gerr
	}
	if gerr := p.validate(); gerr != nil {
		return nil, gerr
	}
	p.normalize()
	return &p, nil
}

// validate applies the documented shape rules: displayName, state and conditions required; users and
// applications conditions with at least one inclusion (the docs' "valid policy" rule, read strictly),
// clientAppTypes required (conditionalAccessConditionSet), enumerations checked, and a grant or
// session control. Where the docs are silent the messages are the simulator's.
func (p *caProps) validate() *graphError {
	if strings.TrimSpace(p.DisplayName) == "" || utf8.RuneCountInString(p.DisplayName) > 256 {
		return errCABadRequest("The displayName of a conditional access policy is required and must be at most 256 characters.")
	}
	if !slices.Contains(caStates, p.State) {
		return errCABadRequest("Invalid state '%s'; expected one of %s.", p.State, strings.Join(caStates, ", "))
	}
	cond := &p.Conditions
	if u := cond.Users; u == nil || len(u.IncludeUsers)+len(u.IncludeGroups)+len(u.IncludeRoles) == 0 {
		return errCABadRequest("conditions.users must include users, groups or roles (use 'None' to include nobody).")
	}
	if a := cond.Applications; a == nil || len(a.IncludeApplications)+len(a.IncludeUserActions)+len(a.IncludeAuthenticationContextClassReferences) == 0 {
		return errCABadRequest("conditions.applications must include applications, user actions or authentication contexts.")
	} else if len(a.IncludeApplications) > 0 && len(a.IncludeUserActions) > 0 {
		// Real answer (error 1012) to a policy mixing applications and user actions.
		return errCABadRequest("1012: 'applications' condition cannot include both 'includeApplications' and 'includeUserActions'/'includeProtectionLevels'. Please remove one of the conditions.")
	}
	if len(cond.ClientAppTypes) == 0 {
		return errCABadRequest("conditions.clientAppTypes is required.")
	}
	checks := []enumCheck{
		{"conditions.clientAppTypes", cond.ClientAppTypes, caClientApps},
		{"conditions.signInRiskLevels", cond.SignInRiskLevels, caRiskLevels},
		{"conditions.userRiskLevels", cond.UserRiskLevels, caRiskLevels},
		{"conditions.servicePrincipalRiskLevels", cond.ServicePrincipalRiskLevels, caRiskLevels},
		{"conditions.applications.includeUserActions", cond.Applications.IncludeUserActions, caUserActions},
	}
	if pl := cond.Platforms; pl != nil {
		if len(pl.IncludePlatforms) == 0 {
			return errCABadRequest("conditions.platforms.includePlatforms is required when platforms are set.")
		}
		checks = append(checks, enumCheck{"conditions.platforms.includePlatforms", pl.IncludePlatforms, caPlatformNames},
			enumCheck{"conditions.platforms.excludePlatforms", pl.ExcludePlatforms, caPlatformNames})
	}
	if g := p.GrantControls; g != nil {
		checks = append(checks, enumCheck{"grantControls.builtInControls", g.BuiltInControls, caBuiltIns})
	}
	for _, ch := range checks {
		for _, v := range ch.values {
			if !slices.Contains(ch.allowed, v) {
				return errCABadRequest("Invalid value '%s' in %s.", v, ch.name).withDetail(ch.name, codeInvalidValue)
			}
		}
	}
	if loc := cond.Locations; loc != nil && len(loc.IncludeLocations) == 0 {
		return errCABadRequest("conditions.locations.includeLocations is required when locations are set.")
	}
	return p.validateControls()
}

func (p *caProps) validateControls() *graphError {
	g := p.GrantControls
	hasGrant := g != nil && len(g.BuiltInControls)+len(g.CustomAuthenticationFactors)+len(g.TermsOfUse) > 0
	if g != nil && hasGrant {
		if g.Operator != "AND" && g.Operator != "OR" {
			return errCABadRequest("grantControls.operator must be 'AND' or 'OR'.")
		}
		if slices.Contains(g.BuiltInControls, "block") && len(g.BuiltInControls)+len(g.CustomAuthenticationFactors)+len(g.TermsOfUse) > 1 {
			return errCABadRequest("The 'block' grant control cannot be combined with other grant controls.")
		}
		for _, id := range g.TermsOfUse {
			if !isGUID(id) {
				return errCABadRequest("Invalid terms of use id '%s' in grantControls.termsOfUse.", id)
			}
		}
	}
	if !hasGrant && p.SessionControls == nil {
		return errCABadRequest("A conditional access policy needs at least one grant control or session control.")
	}
	if s := p.SessionControls; s != nil && s.SignInFrequency != nil {
		f := s.SignInFrequency
		if f.Type != nil && *f.Type != "days" && *f.Type != "hours" {
			return errCABadRequest("Invalid sessionControls.signInFrequency.type '%s'.", *f.Type)
		}
	}
	if s := p.SessionControls; s != nil && s.PersistentBrowser != nil && s.PersistentBrowser.Mode != nil &&
		*s.PersistentBrowser.Mode != "always" && *s.PersistentBrowser.Mode != "never" {
		return errCABadRequest("Invalid sessionControls.persistentBrowser.mode '%s'.", *s.PersistentBrowser.Mode)
	}
	return nil
}

// enumCheck is a list property whose values come from a fixed set.
type enumCheck struct {
	name    string
	values  []string
	allowed []string
}

// normalize renders empty lists as [], as Graph does for the users and applications conditions.
func (p *caProps) normalize() {
	c := &p.Conditions
	c.ClientAppTypes = nonNil(c.ClientAppTypes)
	c.SignInRiskLevels = nonNil(c.SignInRiskLevels)
	c.UserRiskLevels = nonNil(c.UserRiskLevels)
	c.ServicePrincipalRiskLevels = nonNil(c.ServicePrincipalRiskLevels)
	a := c.Applications
	a.IncludeApplications, a.ExcludeApplications = nonNil(a.IncludeApplications), nonNil(a.ExcludeApplications)
	a.IncludeUserActions = nonNil(a.IncludeUserActions)
	a.IncludeAuthenticationContextClassReferences = nonNil(a.IncludeAuthenticationContextClassReferences)
	u := c.Users
	u.IncludeUsers, u.ExcludeUsers = nonNil(u.IncludeUsers), nonNil(u.ExcludeUsers)
	u.IncludeGroups, u.ExcludeGroups = nonNil(u.IncludeGroups), nonNil(u.ExcludeGroups)
	u.IncludeRoles, u.ExcludeRoles = nonNil(u.IncludeRoles), nonNil(u.ExcludeRoles)
	if l := c.Locations; l != nil {
		l.IncludeLocations, l.ExcludeLocations = nonNil(l.IncludeLocations), nonNil(l.ExcludeLocations)
	}
	if pl := c.Platforms; pl != nil {
		pl.IncludePlatforms, pl.ExcludePlatforms = nonNil(pl.IncludePlatforms), nonNil(pl.ExcludePlatforms)
	}
	if g := p.GrantControls; g != nil {
		g.BuiltInControls, g.TermsOfUse = nonNil(g.BuiltInControls), nonNil(g.TermsOfUse)
		g.CustomAuthenticationFactors = nonNil(g.CustomAuthenticationFactors)
	}
}

// errCAReference answers a reference to an object the tenant does not have (or that has not
// replicated yet). Docs are silent on the wording; refusing the policy, rather than storing a dangling
// id, is the stricter choice (DESIGN: a dropped exclusion can lock people out).
func errCAReference(prop, id string) *graphError {
	return errCABadRequest("Conditional access policy references an object that does not exist: '%s' in %s.", id, prop).
		withDetail(prop, codeInvalidValue)
}

// checkCAReferencesLocked resolves every id the policy names: users, groups, role definitions
// (built-in template ids or custom roles), applications (appIds of service principals in the tenant)
// and named locations, besides the documented special values. The caller holds t.mu.
func (t *Tenant) checkCAReferencesLocked(p *caProps) *graphError {
	c := &p.Conditions
	type refList struct {
		prop     string
		ids      []string
		specials []string
		exists   func(string) bool
	}
	user := func(id string) bool { u := t.users.byID[strings.ToLower(id)]; return u != nil && t.visible(u.ID) }
	group := func(id string) bool { g := t.groups.get(id); return g != nil && t.visible(g.ID) }
	role := func(id string) bool {
		return t.objs.roles.find(func(r *RoleDefinition) bool {
			return (strings.EqualFold(r.ID, id) || strings.EqualFold(strPtrOr(r.TemplateID, ""), id)) && t.visible(r.ID)
		}) != nil
	}
	app := func(id string) bool {
		return t.objs.sps.find(func(sp *ServicePrincipal) bool { return strings.EqualFold(sp.AppID, id) && t.visible(sp.ID) }) != nil
	}
	location := func(id string) bool { return t.locationLocked(id) != nil }
	lists := []refList{
		{"conditions.users.includeUsers", c.Users.IncludeUsers, []string{caAll, caNone, caGuestsOrExternalUsers}, user},
		{"conditions.users.excludeUsers", c.Users.ExcludeUsers, []string{caGuestsOrExternalUsers}, user},
		{"conditions.users.includeGroups", c.Users.IncludeGroups, nil, group},
		{"conditions.users.excludeGroups", c.Users.ExcludeGroups, nil, group},
		{"conditions.users.includeRoles", c.Users.IncludeRoles, nil, role},
		{"conditions.users.excludeRoles", c.Users.ExcludeRoles, nil, role},
		{"conditions.applications.includeApplications", c.Applications.IncludeApplications, caAppSpecials, app},
		{"conditions.applications.excludeApplications", c.Applications.ExcludeApplications, caAppSpecials[2:], app},
	}
	if l := c.Locations; l != nil {
		lists = append(lists,
			refList{"conditions.locations.includeLocations", l.IncludeLocations, []string{caAll, caAllTrusted, caMFATrustedIPs}, location},
			refList{"conditions.locations.excludeLocations", l.ExcludeLocations, []string{caAllTrusted, caMFATrustedIPs}, location})
	}
	for _, rl := range lists {
		for _, id := range rl.ids {
			if slices.Contains(rl.specials, id) {
				if (id == caAll || id == caNone) && len(rl.ids) > 1 {
					return errCABadRequest("'%s' cannot be combined with other values in %s.", id, rl.prop)
				}
				continue
			}
			if !isGUID(id) || !rl.exists(id) {
				return errCAReference(rl.prop, id)
			}
		}
	}
	return nil
}

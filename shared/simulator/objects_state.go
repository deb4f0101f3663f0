package simulator

// objectsState is the persisted form of a tenant's configuration objects. Built-in role definitions,
// first-party and configured clients' service principals and their Graph grants are derived at start
// and not saved. Application secrets are saved as hashes only (the state file is written 0600).
type objectsState struct {
	Applications        []*Application       `json:"applications"`
	DeletedApplications []*Application       `json:"deletedApplications"`
	ServicePrincipals   []*ServicePrincipal  `json:"servicePrincipals"`
	AppRoleAssignments  []*AppRoleAssignment `json:"appRoleAssignments"`
	NamedLocations      []*NamedLocation     `json:"namedLocations"`
	ConditionalAccess   []*CAPolicy          `json:"conditionalAccessPolicies"`
	RoleDefinitions     []*RoleDefinition    `json:"roleDefinitions"`
}

// objectsStateLocked snapshots the objects to save. The caller holds t.mu.
func (t *Tenant) objectsStateLocked() *objectsState {
	o := t.objs
	st := &objectsState{Applications: o.apps.list(), DeletedApplications: o.deletedApps.list(),
		NamedLocations: o.locations.list(), ConditionalAccess: o.policies.list()}
	for _, sp := range o.sps.list() {
		if !sp.Builtin {
			st.ServicePrincipals = append(st.ServicePrincipals, sp)
		}
	}
	for _, a := range o.assignments.list() {
		if !a.Builtin {
			st.AppRoleAssignments = append(st.AppRoleAssignments, a)
		}
	}
	for _, r := range o.roles.list() {
		if !r.IsBuiltIn {
			st.RoleDefinitions = append(st.RoleDefinitions, r)
		}
	}
	return st
}

// restoreObjectsLocked replaces the seeded configuration objects with saved ones; the built-in ones
// are derived again. A nil state (a file saved before these objects existed) keeps the seeded ones.
func (t *Tenant) restoreObjectsLocked(st *objectsState) {
	if st == nil {
		return
	}
	t.initObjects()
	o := t.objs
	for _, a := range st.Applications {
		o.apps.put(a)
	}
	for _, a := range st.DeletedApplications {
		o.deletedApps.put(a)
	}
	for _, sp := range st.ServicePrincipals {
		if o.sps.get(sp.ID) == nil {
			o.sps.put(sp)
		}
	}
	for _, a := range st.AppRoleAssignments {
		o.assignments.put(a)
	}
	for _, l := range st.NamedLocations {
		o.locations.put(l)
	}
	for _, p := range st.ConditionalAccess {
		o.policies.put(p)
	}
	for _, r := range st.RoleDefinitions {
		if !r.IsBuiltIn {
			o.roles.put(r)
		}
	}
}

// dumpObjectsLocked renders the configuration objects for the admin dump as Graph returns them:
// application secrets appear as metadata only (hint, keyId, dates), never a value or hash.
func (t *Tenant) dumpObjectsLocked() map[string]any {
	o := t.objs
	apps := func(list []*Application) []map[string]any {
		out := make([]map[string]any, len(list))
		for i, a := range list {
			out[i] = applicationSchema.project(a, nil, "beta")
		}
		return out
	}
	sps := make([]map[string]any, 0, o.sps.len())
	for _, sp := range o.sps.list() {
		sps = append(sps, servicePrincipalSchema.project(sp, nil, "beta"))
	}
	assignments := make([]map[string]any, 0, o.assignments.len())
	for _, a := range o.assignments.list() {
		assignments = append(assignments, assignmentSchema.project(a, nil, "beta"))
	}
	locations := make([]map[string]any, 0, o.locations.len())
	for _, l := range o.locations.list() {
		locations = append(locations, l.render())
	}
	policies := make([]map[string]any, 0, o.policies.len())
	for _, p := range o.policies.list() {
		policies = append(policies, p.render())
	}
	var roles []map[string]any
	for _, r := range o.roles.list() {
		if !r.IsBuiltIn { // built-in roles are the same in every tenant
			roles = append(roles, roleSchema.project(r, nil, "beta"))
		}
	}
	return map[string]any{
		"applications": apps(o.apps.list()), "deletedApplications": apps(o.deletedApps.list()),
		"servicePrincipals": sps, "appRoleAssignments": assignments, "namedLocations": locations,
		"conditionalAccessPolicies": policies, "roleDefinitions": nonNil(roles),
	}
}

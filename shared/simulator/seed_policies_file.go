package simulator

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Seed file sections for the configuration objects, in dependency order: the admin dump's
// applications, service principals, app role assignments, named locations, custom roles and
// conditional access policies load back (seed_file.go). Properties the simulator does not model are
// ignored; what it models passes the API's own validation. Built-in objects in a dump (first-party
// and configured clients' service principals, their Graph grants, built-in roles) map onto the
// tenant's own; application secrets are never in a dump and so never loaded. (This file's name sorts
// after seed_groups.go, so these sections load after the groups they may reference.)
func init() {
	registerSeedSection("applications", func(t *Tenant, raw json.RawMessage) error { return t.seedAppsLocked(raw, false) })
	registerSeedSection("deletedApplications", func(t *Tenant, raw json.RawMessage) error { return t.seedAppsLocked(raw, true) })
	registerSeedSection("servicePrincipals", (*Tenant).seedServicePrincipalsLocked)
	registerSeedSection("appRoleAssignments", (*Tenant).seedAssignmentsLocked)
	registerSeedSection("namedLocations", (*Tenant).seedLocationsLocked)
	registerSeedSection("roleDefinitions", (*Tenant).seedRolesLocked)
	registerSeedSection("conditionalAccessPolicies", (*Tenant).seedCAPoliciesLocked)
}

// seedObject is the part every seeded object has: its id and timestamps.
type seedObject struct {
	ID               string     `json:"id"`
	AppID            string     `json:"appId"`
	CreatedDateTime  *time.Time `json:"createdDateTime"`
	ModifiedDateTime *time.Time `json:"modifiedDateTime"`
	DeletedDateTime  *time.Time `json:"deletedDateTime"`
}

// seedItems splits a section into objects, each with its generic form (annotations stripped except
// the top-level @odata.type, which is returned apart).
func seedItems(raw json.RawMessage) ([]map[string]any, error) {
	var items []map[string]any
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	return items, nil
}

// looseDecode decodes the modelled properties of m into out, ignoring the rest.
func looseDecode(m map[string]any, out any) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

func seedErr(kind, id string, gerr *graphError) error {
	return fmt.Errorf("%s %s: %s", kind, id, gerr.message)
}

func (t *Tenant) seedAppsLocked(raw json.RawMessage, deleted bool) error {
	items, err := seedItems(raw)
	if err != nil {
		return err
	}
	for _, m := range items {
		var head seedObject
		var p appProps
		if err := looseDecode(m, &head); err != nil {
			return err
		}
		stripAnnotations(m)
		delete(m, "passwordCredentials")
		delete(m, "keyCredentials")
		if err := looseDecode(m, &p); err != nil {
			return err
		}
		if !isGUID(head.ID) || !isGUID(head.AppID) {
			return fmt.Errorf("application %q: id and appId must be GUIDs", head.ID)
		}
		if p.SignInAudience == "" {
			p.SignInAudience = "AzureADMyOrg"
		}
		if gerr := p.validate(nil); gerr != nil {
			return seedErr("application", head.ID, gerr)
		}
		p.normalize()
		a := &Application{ID: strings.ToLower(head.ID), AppID: strings.ToLower(head.AppID), appProps: p,
			PublisherDomain: t.defaultDomainLocked(), CreatedDateTime: timeOr(head.CreatedDateTime, t.Created), DeletedDateTime: head.DeletedDateTime}
		if deleted {
			t.objs.deletedApps.put(a)
			continue
		}
		if gerr := t.checkAppLocked(a, t.objs.apps.get(a.ID)); gerr != nil {
			return seedErr("application", head.ID, gerr)
		}
		t.objs.apps.put(a)
	}
	return nil
}

func timeOr(p *time.Time, def time.Time) time.Time {
	if p == nil {
		return def
	}
	return p.UTC()
}

func (t *Tenant) seedServicePrincipalsLocked(raw json.RawMessage) error {
	items, err := seedItems(raw)
	if err != nil {
		return err
	}
	ids := map[string]string{}
	t.objs.seedSPIDs = ids
	for _, m := range items {
		var head seedObject
		if err := looseDecode(m, &head); err != nil {
			return err
		}
		if !isGUID(head.ID) || !isGUID(head.AppID) {
			return fmt.Errorf("service principal %q: id and appId must be GUIDs", head.ID)
		}
		if existing, _ := spByAppIDLocked(t, head.AppID); existing != nil {
			ids[strings.ToLower(head.ID)] = existing.ID // built-in, or loaded twice
			continue
		}
		var sp ServicePrincipal
		stripAnnotations(m)
		if err := looseDecode(m, &sp); err != nil {
			return err
		}
		sp.ID, sp.AppID, sp.Builtin = strings.ToLower(head.ID), strings.ToLower(head.AppID), false
		if a := t.objs.apps.find(func(a *Application) bool { return strings.EqualFold(a.AppID, sp.AppID) }); a != nil {
			sp.copyFromApp(a)
		}
		sp.normalize()
		t.objs.sps.put(&sp)
		ids[sp.ID] = sp.ID
	}
	return nil
}

func (t *Tenant) seedAssignmentsLocked(raw json.RawMessage) error {
	items, err := seedItems(raw)
	if err != nil {
		return err
	}
	ids := t.objs.seedSPIDs
	t.objs.seedSPIDs = nil
	mapID := func(id string) string {
		if to, ok := ids[strings.ToLower(id)]; ok {
			return to
		}
		return strings.ToLower(id)
	}
	for _, m := range items {
		var a AppRoleAssignment
		if err := looseDecode(m, &a); err != nil {
			return err
		}
		a.PrincipalID, a.ResourceID = mapID(a.PrincipalID), mapID(a.ResourceID)
		if t.objs.assignments.find(func(x *AppRoleAssignment) bool {
			return x.PrincipalID == a.PrincipalID && x.ResourceID == a.ResourceID && strings.EqualFold(x.AppRoleID, a.AppRoleID)
		}) != nil {
			continue // a built-in grant, or loaded twice
		}
		kind, name, ok := t.principalLocked(a.PrincipalID)
		res := t.objs.sps.get(a.ResourceID)
		if !ok || res == nil || !appRoleAssignable(res, a.AppRoleID, kind) {
			return fmt.Errorf("app role assignment %q: principal, resource or app role not found", a.ID)
		}
		a.PrincipalType, a.PrincipalDisplayName, a.ResourceDisplayName, a.Builtin = kind, name, strPtrOr(res.DisplayName, ""), false
		if a.ID == "" {
			a.ID = assignmentID(a.PrincipalID, derivedGUID(t.ID, "appRoleAssignment", a.ResourceID, a.PrincipalID, a.AppRoleID))
		}
		t.objs.assignments.put(&a)
	}
	return nil
}

func (t *Tenant) seedLocationsLocked(raw json.RawMessage) error {
	items, err := seedItems(raw)
	if err != nil {
		return err
	}
	for _, m := range items {
		var head seedObject
		if err := looseDecode(m, &head); err != nil {
			return err
		}
		tp, _ := m["@odata.type"].(string)
		var p locationProps
		if err := looseDecode(m, &p); err != nil {
			return err
		}
		if !isGUID(head.ID) {
			return fmt.Errorf("named location %q: id must be a GUID", head.ID)
		}
		if tp == ipNamedLocationType {
			p.CountriesAndRegions, p.IncludeUnknownCountriesAndRegions, p.CountryLookupMethod = nil, nil, nil
		} else {
			p.IsTrusted, p.IPRanges = nil, nil
		}
		checked, gerr := decodeLocation(tp, toJSONMap(p))
		if gerr != nil {
			return seedErr("named location", head.ID, gerr)
		}
		created := timeOr(head.CreatedDateTime, t.Created)
		t.objs.locations.put(&NamedLocation{Type: tp, ID: strings.ToLower(head.ID), CreatedDateTime: created,
			ModifiedDateTime: timeOr(head.ModifiedDateTime, created), locationProps: *checked})
	}
	return nil
}

func (t *Tenant) seedRolesLocked(raw json.RawMessage) error {
	items, err := seedItems(raw)
	if err != nil {
		return err
	}
	for _, m := range items {
		var head seedObject
		var p roleProps
		if err := looseDecode(m, &head); err != nil {
			return err
		}
		if builtIn, _ := m["isBuiltIn"].(bool); builtIn {
			continue // the same in every tenant
		}
		if err := looseDecode(m, &p); err != nil {
			return err
		}
		if !isGUID(head.ID) {
			return fmt.Errorf("role definition %q: id must be a GUID", head.ID)
		}
		if gerr := p.validate(); gerr != nil {
			return seedErr("role definition", head.ID, gerr)
		}
		r := &RoleDefinition{ID: strings.ToLower(head.ID), roleProps: p}
		normalizeRole(&r.roleProps, r.ID)
		if gerr := t.checkRoleConflictsLocked(r, t.objs.roles.get(r.ID)); gerr != nil {
			return seedErr("role definition", head.ID, gerr)
		}
		t.objs.roles.put(r)
	}
	return nil
}

func (t *Tenant) seedCAPoliciesLocked(raw json.RawMessage) error {
	items, err := seedItems(raw)
	if err != nil {
		return err
	}
	for _, m := range items {
		var head seedObject
		var p caProps
		if err := looseDecode(m, &head); err != nil {
			return err
		}
		stripAnnotations(m)
		if err := looseDecode(m, &p); err != nil {
			return err
		}
		if !isGUID(head.ID) {
			return fmt.Errorf("conditional access policy %q: id must be a GUID", head.ID)
		}
		if gerr := p.validate(); gerr != nil {
			return seedErr("conditional access policy", head.ID, gerr)
		}
		p.normalize()
		if gerr := t.checkCAReferencesLocked(&p); gerr != nil {
			return seedErr("conditional access policy", head.ID, gerr)
		}
		t.objs.policies.put(&CAPolicy{ID: strings.ToLower(head.ID), caProps: p,
			CreatedDateTime: timeOr(head.CreatedDateTime, t.Created), ModifiedDateTime: head.ModifiedDateTime})
	}
	return nil
}

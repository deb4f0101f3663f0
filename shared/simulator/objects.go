package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// objectSet is a tenant collection keyed by a lower-case GUID id, kept in id order so that listing and
// paging are stable under concurrent inserts (as userCollection does for users). Stored values are
// never mutated in place: a change stores a new value under the same id.
type objectSet[T any] struct {
	byID map[string]*T
	ids  []string
	idOf func(*T) string
}

func newObjectSet[T any](idOf func(*T) string) *objectSet[T] {
	return &objectSet[T]{byID: map[string]*T{}, idOf: idOf}
}

func (s *objectSet[T]) get(id string) *T { return s.byID[strings.ToLower(id)] }

// put inserts v or replaces the value with the same id.
func (s *objectSet[T]) put(v *T) {
	id := strings.ToLower(s.idOf(v))
	if _, ok := s.byID[id]; !ok {
		i, _ := slices.BinarySearch(s.ids, id)
		s.ids = slices.Insert(s.ids, i, id)
	}
	s.byID[id] = v
}

func (s *objectSet[T]) remove(id string) {
	id = strings.ToLower(id)
	if _, ok := s.byID[id]; !ok {
		return
	}
	delete(s.byID, id)
	if i, found := slices.BinarySearch(s.ids, id); found {
		s.ids = slices.Delete(s.ids, i, i+1)
	}
}

// list returns the values in id order.
func (s *objectSet[T]) list() []*T {
	out := make([]*T, len(s.ids))
	for i, id := range s.ids {
		out[i] = s.byID[id]
	}
	return out
}

// find returns the first value (in id order) for which match is true, or nil.
func (s *objectSet[T]) find(match func(*T) bool) *T {
	for _, id := range s.ids {
		if v := s.byID[id]; match(v) {
			return v
		}
	}
	return nil
}

func (s *objectSet[T]) len() int { return len(s.ids) }

// tenantObjects are a tenant's configuration objects beyond users and domains: app registrations,
// service principals and app role assignments, conditional access (named locations and policies) and
// directory role definitions. They are guarded by Tenant.mu like every other collection.
type tenantObjects struct {
	apps        *objectSet[Application]
	deletedApps *objectSet[Application]
	sps         *objectSet[ServicePrincipal]
	assignments *objectSet[AppRoleAssignment]
	locations   *objectSet[NamedLocation]
	policies    *objectSet[CAPolicy]
	roles       *objectSet[RoleDefinition]
	// seedSPIDs maps the service principal ids of a seed file being loaded to the tenant's (built-in
	// ones carry another tenant's ids in its dump); nil otherwise.
	seedSPIDs map[string]string
}

func newTenantObjects() *tenantObjects {
	return &tenantObjects{
		apps:        newObjectSet(func(a *Application) string { return a.ID }),
		deletedApps: newObjectSet(func(a *Application) string { return a.ID }),
		sps:         newObjectSet(func(sp *ServicePrincipal) string { return sp.ID }),
		assignments: newObjectSet(func(a *AppRoleAssignment) string { return a.ID }),
		locations:   newObjectSet(func(l *NamedLocation) string { return l.ID }),
		policies:    newObjectSet(func(p *CAPolicy) string { return p.ID }),
		roles:       newObjectSet(func(r *RoleDefinition) string { return r.ID }),
	}
}

// initObjects creates the tenant's configuration objects with what every tenant has from the start:
// the built-in directory roles and the first-party and configured clients' service principals. It
// runs from newTenant, before the tenant is shared.
func (t *Tenant) initObjects() {
	t.objs = newTenantObjects()
	t.addBuiltinObjectsLocked()
}

// stripAnnotations removes "@odata.type" and other instance annotations from decoded JSON, at every
// depth: the SDKs send the type of each nested complex value, which the simulator does not need once
// the top-level type is known.
func stripAnnotations(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, inner := range x {
			if strings.HasPrefix(k, "@") {
				delete(x, k)
				continue
			}
			x[k] = stripAnnotations(inner)
		}
	case []any:
		for i := range x {
			x[i] = stripAnnotations(x[i])
		}
	}
	return v
}

// mergePatch applies a PATCH body to the current JSON form of an object: objects merge key by key at
// every depth, arrays and scalars replace, null clears. Graph documents PATCH of complex properties
// this way (e.g. https://learn.microsoft.com/graph/api/conditionalaccesspolicy-update sends only
// conditions.signInRiskLevels).
func mergePatch(cur map[string]any, patch map[string]any) map[string]any {
	if cur == nil {
		cur = map[string]any{}
	}
	for k, pv := range patch {
		if pm, ok := pv.(map[string]any); ok {
			cm, _ := cur[k].(map[string]any)
			cur[k] = mergePatch(cm, pm)
			continue
		}
		cur[k] = pv
	}
	return cur
}

// decodeObject reads a request body as a JSON object. It returns Graph's unreadable-JSON error for
// anything else.
func decodeObject(raw []byte) (map[string]any, *graphError) {
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || body == nil {
		return nil, errUnreadableJSON()
	}
	return body, nil
}

// toJSONMap renders v (a writable-properties struct) as a generic JSON object, the base of a merge.
func toJSONMap(v any) map[string]any {
	data, _ := json.Marshal(v)
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	_ = dec.Decode(&m)
	return m
}

// strictDecode decodes a generic JSON object into out, refusing properties out does not declare, and
// translates decoding failures into Graph's messages for resource (e.g. "Application").
func strictDecode(m map[string]any, out any, resource string) *graphError {
	data, err := json.Marshal(m)
	if err != nil {
		return errUnreadableJSON()
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(out)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		return errInvalidValue(typeErr.Field, resource)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errUnknownProperty(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return errUnreadableJSON()
}

// checkTopLevel rejects read-only properties in a POST or PATCH body, as the users handlers do.
func checkTopLevel(body map[string]any, readOnly ...string) *graphError {
	for name := range body {
		if slices.Contains(readOnly, name) {
			// Docs are silent on writes to read-only properties; rejecting them is the stricter choice.
			return errBadRequest("Property '%s' is read-only and cannot be set.", name)
		}
	}
	return nil
}

// hasAnyRole reports whether the token carries one of perms.
func hasAnyRole(c *call, perms []string) bool {
	for _, have := range c.token.Roles {
		for _, need := range perms {
			if strings.EqualFold(have, need) {
				return true
			}
		}
	}
	return false
}

// requireAlso enforces documented permission pairs ("Policy.Read.All and
// Policy.ReadWrite.ConditionalAccess"): the route checked the first permission, this checks that the
// token also has one of perms.
func requireAlso(c *call, perms ...string) *graphError {
	if !hasAnyRole(c, perms) {
		return errDenied()
	}
	return nil
}

// keyValue decodes an OData key literal taken from a path segment such as
// applications(uniqueName='a”b'): the quotes are part of the route, doubled quotes escape one.
func keyValue(raw string) string { return strings.ReplaceAll(raw, "''", "'") }

// isGUID reports whether s is a GUID in its canonical 8-4-4-4-12 form.
func isGUID(s string) bool { return guidRE.MatchString(s) }

// nonNil returns s, or an empty slice when s is nil, so that lists render as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// addConfigObjectRoutes registers applications, service principals (with app role assignments),
// conditional access policies and named locations, and role definitions.
func (s *Server) addConfigObjectRoutes(rt *router) {
	s.addApplicationRoutes(rt)
	s.addServicePrincipalRoutes(rt)
	s.addConditionalAccessRoutes(rt)
	s.addRoleRoutes(rt)
}

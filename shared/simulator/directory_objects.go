package simulator

import (
	"net/http"
	"slices"
	"strings"
)

// dirObject is a live directory object of any type a membership may reference: a user, a group, or a
// service principal.
type dirObject struct {
	kind  string
	user  *User
	group *Group
	sp    *ServicePrincipal
}

func (d dirObject) id() string {
	switch d.kind {
	case kindUser:
		return d.user.ID
	case kindGroup:
		return d.group.ID
	}
	return d.sp.ID
}

// objectLocked resolves a live directory object by id. The caller holds t.mu.
func (t *Tenant) objectLocked(id string) (dirObject, bool) {
	id = strings.ToLower(id)
	if u := t.users.byID[id]; u != nil {
		return dirObject{kind: kindUser, user: u}, true
	}
	if g := t.groups.get(id); g != nil {
		return dirObject{kind: kindGroup, group: g}, true
	}
	if sp := t.objs.sps.get(id); sp != nil {
		return dirObject{kind: kindServicePrincipal, sp: sp}, true
	}
	return dirObject{}, false
}

// objectKindLocked returns the kind of a live or soft-deleted object, or "" when none has the id.
func (t *Tenant) objectKindLocked(id string) string {
	if d, ok := t.objectLocked(id); ok {
		return d.kind
	}
	if t.deletedUsers[id] != nil {
		return kindUser
	}
	if t.deletedGroups[id] != nil {
		return kindGroup
	}
	return ""
}

// Application permissions that let an app read each kind of directory object. An app without them still
// sees such members, with only @odata.type and id
// (https://learn.microsoft.com/graph/permissions-overview#limited-information-returned-for-inaccessible-member-objects).
var readPermsByKind = map[string][]string{
	kindUser:             permUsersRead,
	kindGroup:            permGroupsRead,
	kindServicePrincipal: {"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
}

func rolesInclude(roles []string, perms []string) bool {
	return slices.ContainsFunc(roles, func(r string) bool {
		return slices.ContainsFunc(perms, func(p string) bool { return strings.EqualFold(r, p) })
	})
}

// render projects the object with @odata.type. sel lists properties of any directory object type: each
// object shows those its own type has (and always its id).
func (d dirObject) render(sel []string, version string, roles []string) map[string]any {
	var out map[string]any
	switch {
	case !rolesInclude(roles, readPermsByKind[d.kind]):
		out = map[string]any{"id": d.id()}
	case d.kind == kindUser:
		out = userSchema.project(d.user, typeSelect(sel, func(n string) bool { return userSchema.lookup(n) != nil }), version)
	case d.kind == kindGroup:
		out = groupSchema.project(d.group, typeSelect(sel, func(n string) bool { return groupSchema.lookup(n) != nil }), version)
	default:
		out = servicePrincipalSchema.project(d.sp, typeSelect(sel, func(n string) bool { return servicePrincipalSchema.lookup(n) != nil }), version)
	}
	out["@odata.type"] = "#microsoft.graph." + d.kind
	return out
}

// typeSelect keeps the selected names a type has, plus id so that the projection is never the default
// set; nil stays nil (the type's defaults).
func typeSelect(sel []string, has func(string) bool) []string {
	if len(sel) == 0 {
		return nil
	}
	out := []string{"id"}
	for _, n := range sel {
		if n != "id" && has(n) {
			out = append(out, n)
		}
	}
	return out
}

// parseObjectSelect validates $select on a directoryObject collection against every member type.
func parseObjectSelect(raw string) ([]string, *graphError) {
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, name := range strings.Split(raw, ",") {
		name = strings.TrimSpace(name)
		switch {
		case userSchema.lookup(name) != nil:
			name = userSchema.lookup(name).name
		case groupSchema.lookup(name) != nil:
			name = groupSchema.lookup(name).name
		case servicePrincipalSchema.lookup(name) != nil:
			name = servicePrincipalSchema.lookup(name).name
		default:
			return nil, errBadRequest("Could not find a property named '%s' on type 'microsoft.graph.directoryObject'.", name)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// writeObjectPage answers a directoryObject collection (members, owners, memberOf...) from the sorted
// ids: $top (1..999, default 100), $select, $skiptoken and $count with ConsistencyLevel: eventual.
func writeObjectPage(c *call, ids []string, resolve func(id string) (dirObject, bool)) *graphError {
	q, gerr := queryOptions(c, "$top", "$select", "$skiptoken", "$count")
	if gerr != nil {
		return gerr
	}
	top, gerr := pageSize(q.Get("$top"))
	if gerr != nil {
		return gerr
	}
	sel, gerr := parseObjectSelect(q.Get("$select"))
	if gerr != nil {
		return gerr
	}
	count := strings.EqualFold(q.Get("$count"), "true")
	if count && !strings.EqualFold(c.r.Header.Get("ConsistencyLevel"), "eventual") {
		return errBadRequest("$count is not currently supported.")
	}
	start := 0
	if v := q.Get("$skiptoken"); v != "" {
		tok := decodePageToken(v)
		if tok == nil {
			return errExpiredPageToken()
		}
		i, found := slices.BinarySearch(ids, tok.ID)
		if found {
			i++
		}
		start = i
	}
	values := []map[string]any{}
	next := ""
	for i := start; i < len(ids); i++ {
		if len(values) == top {
			next = nextLink(c, &pageToken{ID: ids[i-1]})
			break
		}
		if d, ok := resolve(ids[i]); ok {
			values = append(values, d.render(sel, c.version, c.token.Roles))
		}
	}
	body := map[string]any{"@odata.context": contextURL(c, "directoryObjects", sel, false), "value": values}
	if count {
		body["@odata.count"] = len(ids)
	}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	c.writeJSON(http.StatusOK, body)
	return nil
}

// pageSize parses $top for directory collections.
func pageSize(v string) (int, *graphError) {
	if v == "" {
		return defaultPageSize, nil
	}
	n := 0
	for _, r := range v {
		if r < '0' || r > '9' || n > maxPageSize {
			n = -1
			break
		}
		n = n*10 + int(r-'0')
	}
	if n < 1 || n > maxPageSize {
		return 0, errUnsupportedQuery("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v)
	}
	return n, nil
}

package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Membership answers. Graph documents the status codes (https://learn.microsoft.com/graph/api/group-post-members:
// 400 when the object is already a member or not a supported member type, 404 when it does not exist)
// and the 20-reference limit; the messages are the ones the service sends.
const (
	msgRefsExist       = "One or more added object references already exist for the following modified properties: '%s'."
	msgTooManyLinks    = "A resource cannot contain more than 20 link changes"
	msgDuplicateValues = "Request contains a property with duplicate values."
	msgExchangeGroup   = "Cannot Update a mail-enabled security groups and or distribution list."
	// Docs are silent on the message for a dynamic group; the status (400) follows the brief of the
	// add-member page ("not supported as group member").
	msgDynamicGroup = "Members of a group with dynamic membership cannot be added or removed manually."
	// Docs list the member types each group accepts but not the message; this one names the type.
	msgMemberType = "An object of type '%s' cannot be a member of this group."
	msgLastOwner  = "The group must have at least one owner, hence this owner cannot be removed."
	msgSelfMember = "A group cannot be a member of itself."
	// maxLinkChanges is the documented limit of references (members and owners together) one request
	// may add (https://learn.microsoft.com/graph/api/group-post-groups, example 2).
	maxLinkChanges = 20
)

// Group membership permissions per operation (group-list-members, group-post-members,
// group-delete-members).
var (
	permMembersRead  = []string{"GroupMember.Read.All", "GroupMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permMembersWrite = []string{"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
	// Adding a service principal also needs Application.ReadWrite.All (group-post-members, permissions).
	permSPMember = []string{"Application.ReadWrite.All", "Directory.ReadWrite.All"}
)

func (s *Server) addMembershipRoutes(rt *router) {
	for _, rel := range []string{"members", "owners"} {
		rt.add(http.MethodGet, "/groups/{id}/"+rel, permMembersRead, listGroupRefs(rel, false))
		rt.add(http.MethodGet, "/groups/{id}/"+rel+"/$ref", permMembersRead, listGroupRefs(rel, true))
		rt.add(http.MethodPost, "/groups/{id}/"+rel+"/$ref", permMembersWrite, addGroupRef(rel))
		rt.add(http.MethodDelete, "/groups/{id}/"+rel+"/{ref}/$ref", permMembersWrite, removeGroupRef(rel))
		rt.add(http.MethodDelete, "/groups/{id}/"+rel+"/$ref", permMembersWrite, removeGroupRef(rel))
	}
	rt.add(http.MethodGet, "/groups/{id}/transitiveMembers", permMembersRead, listTransitiveMembers)
	rt.add(http.MethodGet, "/groups/{id}/memberOf", permMembersRead, listMemberOf(false, false))
	rt.add(http.MethodGet, "/groups/{id}/transitiveMemberOf", permMembersRead, listMemberOf(false, true))
	rt.add(http.MethodGet, "/users/{id}/memberOf", permMembersRead, listMemberOf(true, false))
	rt.add(http.MethodGet, "/users/{id}/transitiveMemberOf", permMembersRead, listMemberOf(true, true))
}

// refTarget is a parsed reference URL: the id and the kind its collection names ("" for directoryObjects).
type refTarget struct {
	id   string
	kind string
}

// parseRefURL reads an @odata.id or @odata.bind URL, e.g.
// https://graph.microsoft.com/v1.0/directoryObjects/{id} (users/, groups/, servicePrincipals/ too).
func parseRefURL(raw string) (refTarget, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return refTarget{}, false
	}
	segs := splitPath(u.EscapedPath())
	if len(segs) < 3 {
		return refTarget{}, false
	}
	coll, id := segs[len(segs)-2], segs[len(segs)-1]
	kinds := map[string]string{"directoryobjects": "", "users": kindUser, "groups": kindGroup, "serviceprincipals": kindServicePrincipal}
	kind, ok := kinds[strings.ToLower(coll)]
	if !ok {
		return refTarget{}, false
	}
	return refTarget{id: strings.ToLower(id), kind: kind}, true
}

func errInvalidObjectID(id string) *graphError {
	return errBadRequest("Invalid object identifier '%s'.", id)
}

// groupByKeyLocked resolves the {id} of /groups/{id}: an object id, or the alternate key
// (uniqueName='…'). A key that is not a GUID is a 400, as Graph answers for directory object ids.
func (t *Tenant) groupByKeyLocked(key string) (*Group, *graphError) {
	if name, ok := uniqueNameKey(key); ok {
		if g := t.groups.getByUniqueName(name); g != nil && t.visible(g.ID) {
			return g, nil
		}
		return nil, errNotFound(name)
	}
	if !guidRE.MatchString(key) {
		return nil, errInvalidObjectID(key)
	}
	if g := t.groups.get(key); g != nil && t.visible(g.ID) {
		return g, nil
	}
	return nil, errNotFound(key)
}

// uniqueNameKey parses "(uniqueName='x')" or "uniqueName='x'" (quotes doubled inside the literal).
func uniqueNameKey(key string) (string, bool) {
	k := strings.TrimSuffix(strings.TrimPrefix(key, "("), ")")
	name, value, ok := strings.Cut(k, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(name), "uniqueName") {
		return "", false
	}
	value = strings.TrimSpace(value)
	if len(value) < 2 || value[0] != '\'' || value[len(value)-1] != '\'' {
		return "", false
	}
	return strings.ReplaceAll(value[1:len(value)-1], "''", "'"), true
}

// checkRefLocked validates adding obj as rel (members or owners) of g: the group kind allows membership
// changes, the object type is allowed, the caller may add service principals.
func checkRefLocked(c *call, g *Group, rel string, obj dirObject) *graphError {
	if k := g.kind(); k == groupKindMailSecurity || k == groupKindDistribution {
		return errBadRequest(msgExchangeGroup)
	}
	if obj.kind == kindServicePrincipal && !rolesInclude(c.token.Roles, permSPMember) {
		return errDenied()
	}
	if rel == "owners" {
		if obj.kind == kindGroup {
			return errBadRequest(msgMemberType, obj.kind)
		}
		return nil
	}
	if g.isDynamic() {
		return errBadRequest(msgDynamicGroup)
	}
	if obj.kind == kindGroup && obj.group.ID == g.ID {
		return errBadRequest(msgSelfMember)
	}
	// Microsoft 365 groups take users only; security groups take users, security groups and service
	// principals, never a Microsoft 365 group (https://learn.microsoft.com/graph/api/group-post-members).
	switch {
	case g.isUnified() && obj.kind != kindUser,
		obj.kind == kindGroup && (obj.group.isUnified() || !obj.group.SecurityEnabled):
		return errBadRequest(msgMemberType, obj.kind)
	}
	return nil
}

func refsOf(g *Group, rel string) []string {
	if rel == "owners" {
		return g.Owners
	}
	return g.Members
}

func withRefs(g *Group, rel string, ids []string) *Group {
	next := *g
	if rel == "owners" {
		next.Owners = ids
	} else {
		next.Members = ids
	}
	return &next
}

// replaceGroupLocked stores next in place of old, records the change and bumps the version.
func (t *Tenant) replaceGroupLocked(old, next *Group, now time.Time) {
	t.groups.replace(old, next)
	t.logGroupLocked(old, next, "", now)
	t.touchLocked()
}

// addGroupRef implements POST /groups/{id}/members/$ref (and owners): 204, 400 when already there,
// 404 when the object does not exist.
func addGroupRef(rel string) handlerFunc {
	return func(c *call) *graphError {
		// Docs are silent on a body without @odata.id; rejecting it is the stricter choice.
		target, gerr := readRefBody(c, "The request body must name the object to add in '@odata.id'.",
			fmt.Sprintf("Invalid URL format specified in @odata.id for %s.", rel))
		if gerr != nil {
			return gerr
		}
		t := c.tenant
		t.mu.Lock()
		defer t.mu.Unlock()
		g, gerr := t.groupByKeyLocked(c.param("id"))
		if gerr != nil {
			return gerr
		}
		obj, ok := t.objectLocked(target.id)
		if !ok || (target.kind != "" && target.kind != obj.kind) {
			return errNotFound(target.id)
		}
		if !t.visible(g.ID) || !t.visible(target.id) {
			return errReferencedObjectMissing() // replication lag (lag.go)
		}
		if gerr := checkRefLocked(c, g, rel, obj); gerr != nil {
			return gerr
		}
		if hasRef(refsOf(g, rel), target.id) {
			return errBadRequest(msgRefsExist, rel)
		}
		t.replaceGroupLocked(g, withRefs(g, rel, withRef(refsOf(g, rel), target.id, false)), c.srv.now().UTC())
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// removeGroupRef implements DELETE /groups/{id}/members/{ref}/$ref and DELETE
// /groups/{id}/members/$ref?$id=<url> (the form the SDK sends). Removing a non-member answers 404
// naming the group, as the service does.
func removeGroupRef(rel string) handlerFunc {
	return func(c *call) *graphError {
		refID := c.param("ref")
		if refID == "" {
			q := c.r.URL.Query()
			raw := q.Get("$id")
			if raw == "" {
				raw = q.Get("@id")
			}
			target, ok := parseRefURL(raw)
			if !ok {
				return errBadRequest("Invalid URL format specified in $id for %s.", rel)
			}
			refID = target.id
		}
		if !guidRE.MatchString(refID) {
			return errInvalidObjectID(refID)
		}
		refID = strings.ToLower(refID)
		t := c.tenant
		t.mu.Lock()
		defer t.mu.Unlock()
		g, gerr := t.groupByKeyLocked(c.param("id"))
		if gerr != nil {
			return gerr
		}
		if k := g.kind(); k == groupKindMailSecurity || k == groupKindDistribution {
			return errBadRequest(msgExchangeGroup)
		}
		if rel == "members" && g.isDynamic() {
			return errBadRequest(msgDynamicGroup)
		}
		if !hasRef(refsOf(g, rel), refID) {
			return errNotFound(g.ID)
		}
		if rel == "owners" && g.isUnified() && len(g.Owners) == 1 {
			return errBadRequest(msgLastOwner)
		}
		t.replaceGroupLocked(g, withRefs(g, rel, withRef(refsOf(g, rel), refID, true)), c.srv.now().UTC())
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// removeObjectRefsLocked drops id from every group's members and owners and from every user's manager,
// recording each change, before the object is deleted.
func (t *Tenant) removeObjectRefsLocked(id string, now time.Time) {
	for _, rel := range []string{"members", "owners"} {
		for _, gid := range t.groups.groupsOf(id, rel == "owners") {
			g := t.groups.get(gid)
			t.replaceGroupLocked(g, withRefs(g, rel, withRef(refsOf(g, rel), id, true)), now)
		}
	}
	for _, u := range t.users.list() {
		if u.ManagerID == id {
			next := *u
			next.ManagerID = ""
			t.users.remove(u)
			t.users.add(&next)
			t.logUserLocked(u, &next, now)
		}
	}
}

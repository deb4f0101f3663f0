package simulator

import (
	"net/http"
	"strings"
)

// Group write answers. The mail-enabled message is the service's own (typo included); where the docs
// give no message, the choice is noted next to it.
const (
	msgCannotCreateMailEnabled = "Cannot Create a mail-enabled security groups and or distribution list."
	// uniqueName is immutable once set (https://learn.microsoft.com/graph/api/resources/group#properties);
	// the message is the simulator's.
	msgUniqueNameImmutable = "Property 'uniqueName' is immutable once set and cannot be changed."
	msgImmutableProperty   = "Property '%s' can only be set when the group is created."
)

// hasGroupWriteRole: a body with more than references needs Group.ReadWrite.All or
// Directory.ReadWrite.All (GroupMember.ReadWrite.All covers only members and owners).
func (e *groupEdit) needsGroupWrite() bool { return len(e.set) > 0 }

// bindLocked validates the body's references against g (the group as it will be) and returns g with
// them added. All or nothing: one bad reference and nothing is added.
func (t *Tenant) bindLocked(c *call, g *Group, e *groupEdit) (*Group, *graphError) {
	next := g
	for _, rel := range []string{"members", "owners"} {
		for _, id := range e.binds[rel] {
			obj, ok := t.objectLocked(id)
			if !ok || !t.visible(id) {
				return nil, errReferencedObjectMissing()
			}
			if gerr := checkRefLocked(c, next, rel, obj); gerr != nil {
				return nil, gerr
			}
			if hasRef(refsOf(next, rel), id) {
				return nil, errBadRequest(msgRefsExist, rel)
			}
			next = withRefs(next, rel, withRef(refsOf(next, rel), id, false))
		}
	}
	return next, nil
}

// checkGroupShape enforces the combinations Graph can create: security groups and Microsoft 365
// groups, either with dynamic membership; never mail-enabled security groups or distribution lists.
func checkGroupShape(g *Group, creating bool) *graphError {
	switch {
	case !g.isUnified() && g.MailEnabled:
		if creating {
			return errBadRequest(msgCannotCreateMailEnabled)
		}
		return errBadRequest(msgExchangeGroup)
	case g.isUnified() && !g.MailEnabled:
		// Docs: Microsoft 365 groups are mail-enabled; refusing false is the stricter choice.
		return errInvalidValue("mailEnabled", "Group")
	case !g.isUnified() && !g.SecurityEnabled:
		// Neither mail- nor security-enabled is no group type Graph documents; refused.
		return errInvalidValue("securityEnabled", "Group")
	case g.isDynamic() && g.MembershipRule == "":
		return errRequired("membershipRule")
	case !g.isDynamic() && g.MembershipRule != "":
		return errInvalidValue("membershipRule", "Group")
	case g.Visibility == "HiddenMembership" && !g.isUnified():
		return errInvalidValue("visibility", "Group")
	case g.IsAssignableToRole != nil && *g.IsAssignableToRole && (!g.SecurityEnabled || g.isDynamic()):
		return errInvalidValue("isAssignableToRole", "Group")
	}
	return nil
}

// checkGroupLocked enforces uniqueness: uniqueName among all groups (deleted ones keep theirs, the
// stricter reading) and a Microsoft 365 group's SMTP address among users and groups.
func (t *Tenant) checkGroupLocked(g, self *Group) *graphError {
	if g.UniqueName != "" {
		if other := t.groups.getByUniqueName(g.UniqueName); other != nil && other.ID != g.ID {
			return errConflict("uniqueName")
		}
		for _, d := range t.deletedGroups {
			if strings.EqualFold(d.UniqueName, g.UniqueName) && d.ID != g.ID {
				return errConflict("uniqueName")
			}
		}
	}
	for _, p := range g.ProxyAddresses {
		key := strings.ToLower(p)
		if other := t.groups.byProxy[key]; other != nil && other.ID != g.ID {
			return errConflict("proxyAddresses")
		}
		if t.users.byProxy[key] != nil {
			return errConflict("proxyAddresses")
		}
		for _, d := range t.deletedGroups {
			if containsFold(d.ProxyAddresses, p) && d.ID != g.ID {
				return errConflict("proxyAddresses")
			}
		}
	}
	return nil
}

// groupProxyConflictLocked reports whether a user's proxy addresses collide with a group's.
func (t *Tenant) groupProxyConflictLocked(addrs []string) bool {
	for _, p := range addrs {
		if t.groups.byProxy[strings.ToLower(p)] != nil {
			return true
		}
	}
	return false
}

// newGroupLocked builds, validates and stores a group from a create body (POST /groups or an upsert
// that creates). uniqueName is the upsert key, or "".
func (t *Tenant) newGroupLocked(c *call, e *groupEdit, uniqueName string) (*Group, *graphError) {
	for _, name := range []string{"displayName", "mailEnabled", "mailNickname", "securityEnabled"} {
		if !e.set[name] {
			return nil, errRequired(name)
		}
	}
	now := c.srv.now().UTC().Truncate(1e9)
	g := &Group{ID: newGUID(), CreatedDateTime: now, GroupTypes: []string{}}
	for _, change := range e.changes {
		change(g)
	}
	if uniqueName != "" {
		if g.UniqueName != "" && g.UniqueName != uniqueName {
			return nil, errBadRequest(msgUniqueNameImmutable)
		}
		g.UniqueName = uniqueName
	}
	if gerr := checkGroupShape(g, true); gerr != nil {
		return nil, gerr
	}
	if g.IsAssignableToRole != nil && *g.IsAssignableToRole && !rolesInclude(c.token.Roles, permRoleAssignable) {
		return nil, errDenied()
	}
	if g.isDynamic() && g.MembershipRuleProcessingState == "" {
		g.MembershipRuleProcessingState = "On"
	}
	if g.isUnified() {
		if g.Visibility == "" {
			g.Visibility = "Public"
		}
		g.Mail = g.MailNickname + "@" + t.defaultDomainLocked()
		g.ProxyAddresses = []string{"SMTP:" + g.Mail}
	}
	if gerr := t.checkGroupLocked(g, nil); gerr != nil {
		return nil, gerr
	}
	if g.isDynamic() && len(e.binds["members"]) > 0 {
		return nil, errBadRequest(msgDynamicGroup)
	}
	g, gerr := t.bindLocked(c, g, e)
	if gerr != nil {
		return nil, gerr
	}
	t.groups.add(g)
	t.markCreated(g.ID)
	t.logGroupLocked(nil, g, "", now)
	t.touchLocked()
	return g, nil
}

// updateGroupLocked applies a PATCH body to cur: immutable properties stay, the result keeps a
// creatable shape, references are bound. It stores the result.
func (t *Tenant) updateGroupLocked(c *call, cur *Group, e *groupEdit) *graphError {
	if k := cur.kind(); (k == groupKindMailSecurity || k == groupKindDistribution) && (e.needsGroupWrite() || len(e.binds) > 0) {
		return errBadRequest(msgExchangeGroup)
	}
	next := *cur
	for _, change := range e.changes {
		change(&next)
	}
	switch {
	case cur.UniqueName != "" && next.UniqueName != cur.UniqueName:
		return errBadRequest(msgUniqueNameImmutable)
	case e.set["isAssignableToRole"] && !equalBoolPtr(cur.IsAssignableToRole, next.IsAssignableToRole):
		return errBadRequest(msgImmutableProperty, "isAssignableToRole")
	case cur.isUnified() != next.isUnified():
		return errInvalidValue("groupTypes", "Group")
	case e.set["visibility"] && next.Visibility == "HiddenMembership" && cur.Visibility != "HiddenMembership":
		return errBadRequest(msgImmutableProperty, "visibility")
	}
	if next.isDynamic() && next.MembershipRuleProcessingState == "" {
		next.MembershipRuleProcessingState = "On"
	}
	if gerr := checkGroupShape(&next, false); gerr != nil {
		return gerr
	}
	if gerr := t.checkGroupLocked(&next, cur); gerr != nil {
		return gerr
	}
	bound, gerr := t.bindLocked(c, &next, e)
	if gerr != nil {
		return gerr
	}
	t.replaceGroupLocked(cur, bound, c.srv.now().UTC().Truncate(1e9))
	return nil
}

func equalBoolPtr(a, b *bool) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// createGroup implements POST /groups: 201 with the group's default properties and a Location header.
func createGroup(c *call) *graphError {
	e, gerr := readParsed(c, parseGroupBody)
	if gerr != nil {
		return gerr
	}
	t := c.tenant
	t.mu.Lock()
	g, gerr := t.newGroupLocked(c, e, "")
	t.mu.Unlock()
	if gerr != nil {
		return gerr
	}
	writeCreatedGroup(c, g)
	return nil
}

func writeCreatedGroup(c *call, g *Group) {
	writeCreated(c, groupSchema.project(g, nil, c.version), "groups", "/groups/"+g.ID)
}

// patchGroup implements PATCH /groups/{id} and the upsert PATCH /groups(uniqueName='…')
// (https://learn.microsoft.com/graph/api/group-upsert): an existing group is updated (204); a missing
// one is created (201) only with Prefer: create-if-missing, otherwise the answer is 404.
func patchGroup(c *call) *graphError {
	e, gerr := readParsed(c, parseGroupBody)
	if gerr != nil {
		return gerr
	}
	if e.needsGroupWrite() && !rolesInclude(c.token.Roles, permGroupsWrite) {
		return errDenied()
	}
	key := groupKeyParam(c)
	t := c.tenant
	t.mu.Lock()
	cur, gerr := t.groupByKeyLocked(key)
	uniqueName, byName := uniqueNameKey(key)
	if gerr != nil && byName && gerr.status == http.StatusNotFound && prefersCreate(c.r) {
		if !rolesInclude(c.token.Roles, permGroupsWrite) {
			t.mu.Unlock()
			return errDenied() // creating needs Group.ReadWrite.All (group-upsert), not GroupMember.*
		}
		var g *Group
		g, gerr = t.newGroupLocked(c, e, uniqueName)
		t.mu.Unlock()
		if gerr != nil {
			return gerr
		}
		c.w.Header().Set("Preference-Applied", "create-if-missing")
		writeCreatedGroup(c, g)
		return nil
	}
	if gerr == nil {
		gerr = t.updateGroupLocked(c, cur, e)
	}
	t.mu.Unlock()
	if gerr != nil {
		return gerr
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// prefersCreate reports whether the request carries Prefer: create-if-missing (among other
// preferences, comma-separated or repeated).
func prefersCreate(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "create-if-missing") {
				return true
			}
		}
	}
	return false
}

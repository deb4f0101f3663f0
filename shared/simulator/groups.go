package simulator

import (
	"net/http"
	"slices"
)

// Application permissions per groups operation, from each operation's Permissions table
// (https://learn.microsoft.com/graph/api/group-list, group-get, group-post-groups, group-update,
// group-upsert, group-delete).
var (
	permGroupsRead   = []string{"GroupMember.Read.All", "GroupMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permGroupsCreate = []string{"Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
	permGroupsWrite  = []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}
	// PATCH /groups/{id} with only members@odata.bind / owners@odata.bind is a membership change, which
	// GroupMember.ReadWrite.All allows; other properties need permGroupsWrite (checked in the handler).
	permGroupsPatch = []string{"Group.ReadWrite.All", "Directory.ReadWrite.All", "GroupMember.ReadWrite.All"}
	// A role-assignable group needs RoleManagement.ReadWrite.Directory as well (group-post-groups).
	permRoleAssignable = []string{"RoleManagement.ReadWrite.Directory"}
)

func (s *Server) addGroupRoutes(rt *router) {
	rt.add(http.MethodGet, "/groups", permGroupsRead, listGroups)
	rt.add(http.MethodPost, "/groups", permGroupsCreate, createGroup)
	for _, key := range []string{"/groups/{id}", "/groups(uniqueName={key})"} {
		rt.add(http.MethodGet, key, permGroupsRead, getGroup)
		rt.add(http.MethodPatch, key, permGroupsPatch, patchGroup)
		rt.add(http.MethodDelete, key, permGroupsWrite, deleteGroup)
	}
	s.addMembershipRoutes(rt)
}

// groupKeyParam is the {id} of /groups/{id}, or the uniqueName='…' of /groups(uniqueName='…') in the
// (uniqueName='…') form groupByKeyLocked understands.
func groupKeyParam(c *call) string {
	if k, ok := c.params["key"]; ok {
		return "(uniqueName=" + k + ")"
	}
	return c.param("id")
}

func listGroups(c *call) *graphError {
	lq, gerr := parseListQuery(c, groupSchema)
	if gerr != nil {
		return gerr
	}
	c.tenant.mu.RLock()
	items := c.tenant.groups.list()
	c.tenant.mu.RUnlock()
	items = visibleOnly(c.tenant, items, groupID)
	writeList(c, groupSchema, "groups", items, lq, groupID)
	return nil
}

func getGroup(c *call) *graphError {
	sel, gerr := selectOnly(c, groupSchema)
	if gerr != nil {
		return gerr
	}
	c.tenant.mu.RLock()
	g, gerr := c.tenant.groupByKeyLocked(groupKeyParam(c))
	c.tenant.mu.RUnlock()
	if gerr != nil {
		return gerr
	}
	body := groupSchema.project(g, sel, c.version)
	body["@odata.context"] = contextURL(c, "groups", sel, true)
	c.writeJSON(http.StatusOK, body)
	return nil
}

// deleteGroup implements DELETE /groups/{id}. Microsoft 365 groups go to deleted items (restorable for
// 30 days, delta reports them "changed"); security groups are deleted permanently at once ("deleted"),
// as https://learn.microsoft.com/graph/api/group-delete documents. The group leaves every group it was
// a member or owner of.
func deleteGroup(c *call) *graphError {
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	g, gerr := t.groupByKeyLocked(groupKeyParam(c))
	if gerr != nil {
		return gerr
	}
	now := c.srv.now().UTC().Truncate(1e9)
	t.removeObjectRefsLocked(g.ID, now)
	g = t.groups.get(g.ID) // removing references may have replaced it
	t.groups.remove(g)
	reason := removedDeleted
	if g.isUnified() {
		gone := *g
		gone.DeletedDateTime = &now
		t.deletedGroups[g.ID] = &gone
		reason = removedChanged
	}
	t.logGroupLocked(g, nil, reason, now)
	t.touchLocked()
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// deletedGroupsLocked lists the soft-deleted groups in id order.
func (t *Tenant) deletedGroupsLocked() []*Group {
	out := make([]*Group, 0, len(t.deletedGroups))
	for _, g := range t.deletedGroups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *Group) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// dumpGroups renders groups for the admin dump: every property (as beta does) plus the member and
// owner ids, which Graph serves only as relationships.
func dumpGroups(list []*Group) []map[string]any {
	out := make([]map[string]any, len(list))
	for i, g := range list {
		out[i] = groupSchema.project(g, nil, "beta")
		out[i]["members"] = append([]string{}, g.Members...)
		out[i]["owners"] = append([]string{}, g.Owners...)
	}
	return out
}

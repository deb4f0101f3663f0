package simulator

import (
	"net/http"
	"slices"
)

// listGroupRefs implements GET /groups/{id}/members (and owners, and their /$ref forms).
func listGroupRefs(rel string, refsOnly bool) handlerFunc {
	return func(c *call) *graphError {
		t := c.tenant
		t.mu.RLock()
		g, gerr := t.groupByKeyLocked(c.param("id"))
		var objs map[string]dirObject
		if gerr == nil {
			objs = t.resolveAllLocked(refsOf(g, rel))
		}
		t.mu.RUnlock()
		if gerr != nil {
			return gerr
		}
		if refsOnly {
			return writeRefPage(c, refsOf(g, rel), objs)
		}
		return writeObjectPage(c, refsOf(g, rel), lookupIn(objs))
	}
}

func (t *Tenant) resolveAllLocked(ids []string) map[string]dirObject {
	out := make(map[string]dirObject, len(ids))
	for _, id := range ids {
		if d, ok := t.objectLocked(id); ok {
			out[id] = d
		}
	}
	return out
}

func lookupIn(objs map[string]dirObject) func(string) (dirObject, bool) {
	return func(id string) (dirObject, bool) { d, ok := objs[id]; return d, ok }
}

// writeRefPage answers GET .../members/$ref: the references as @odata.id URLs.
func writeRefPage(c *call, ids []string, objs map[string]dirObject) *graphError {
	if _, gerr := queryOptions(c, "$top", "$skiptoken"); gerr != nil {
		return gerr
	}
	values := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		if d, ok := objs[id]; ok {
			values = append(values, map[string]any{"@odata.id": c.srv.graphURL + "/v1.0/directoryObjects/" + d.id()})
		}
	}
	c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.root() + "/$metadata#directoryObjects", "value": values})
	return nil
}

// listTransitiveMembers implements GET /groups/{id}/transitiveMembers: members of nested groups too,
// each object once.
func listTransitiveMembers(c *call) *graphError {
	t := c.tenant
	t.mu.RLock()
	g, gerr := t.groupByKeyLocked(c.param("id"))
	var ids []string
	var objs map[string]dirObject
	if gerr == nil {
		seen := map[string]bool{g.ID: true}
		queue := []*Group{g}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, m := range cur.Members {
				if seen[m] {
					continue
				}
				seen[m] = true
				ids = append(ids, m)
				if ng := t.groups.get(m); ng != nil {
					queue = append(queue, ng)
				}
			}
		}
		slices.Sort(ids)
		objs = t.resolveAllLocked(ids)
	}
	t.mu.RUnlock()
	if gerr != nil {
		return gerr
	}
	return writeObjectPage(c, ids, lookupIn(objs))
}

// listMemberOf implements GET /users/{id}/memberOf, /groups/{id}/memberOf and their transitive forms.
func listMemberOf(ofUser, transitive bool) handlerFunc {
	return func(c *call) *graphError {
		t := c.tenant
		t.mu.RLock()
		var id string
		var gerr *graphError
		if ofUser {
			if u := t.users.get(c.param("id")); u != nil {
				id = u.ID
			} else {
				gerr = errNotFound(c.param("id"))
			}
		} else if g, err := t.groupByKeyLocked(c.param("id")); err == nil {
			id = g.ID
		} else {
			gerr = err
		}
		var ids []string
		var objs map[string]dirObject
		if gerr == nil {
			ids = t.groupsContainingLocked(id, transitive)
			objs = t.resolveAllLocked(ids)
		}
		t.mu.RUnlock()
		if gerr != nil {
			return gerr
		}
		return writeObjectPage(c, ids, lookupIn(objs))
	}
}

// groupsContainingLocked returns the ids of the groups id is a member of, directly or (transitive)
// through nested groups, sorted.
func (t *Tenant) groupsContainingLocked(id string, transitive bool) []string {
	seen := map[string]bool{}
	queue := []string{id}
	var out []string
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, gid := range t.groups.groupsOf(cur, false) {
			if seen[gid] || gid == id {
				continue
			}
			seen[gid] = true
			out = append(out, gid)
			if transitive {
				queue = append(queue, gid)
			}
		}
	}
	slices.Sort(out)
	return out
}

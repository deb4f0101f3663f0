package simulator

import "net/http"

// getManager implements GET /users/{id}/manager (the manager, a directoryObject with @odata.type) and
// GET /users/{id}/manager/$ref (its @odata.id). No manager is Graph's 404 for the 'manager' resource
// (https://learn.microsoft.com/graph/api/user-list-manager).
func getManager(refOnly bool) handlerFunc {
	return func(c *call) *graphError {
		q, gerr := queryOptions(c, "$select")
		if gerr != nil {
			return gerr
		}
		sel, gerr := parseObjectSelect(q.Get("$select"))
		if gerr != nil {
			return gerr
		}
		t := c.tenant
		t.mu.RLock()
		u := t.users.get(c.param("id"))
		var mgr dirObject
		found := false
		if u != nil && u.ManagerID != "" {
			mgr, found = t.objectLocked(u.ManagerID)
		}
		t.mu.RUnlock()
		switch {
		case u == nil:
			return errNotFound(c.param("id"))
		case !found:
			return errNotFound("manager")
		case refOnly:
			c.writeJSON(http.StatusOK, map[string]any{
				"@odata.context": c.root() + "/$metadata#directoryObjects/$entity",
				"@odata.id":      c.root() + "/directoryObjects/" + mgr.id(),
			})
			return nil
		}
		body := mgr.render(sel, c.version, c.token.Roles)
		body["@odata.context"] = contextURL(c, "directoryObjects", sel, true)
		c.writeJSON(http.StatusOK, body)
		return nil
	}
}

// putManager implements PUT /users/{id}/manager/$ref with {"@odata.id": ".../users/{id}"}
// (https://learn.microsoft.com/graph/api/user-post-manager): 204; the manager must be another user.
func putManager(c *call) *graphError {
	target, gerr := readRefBody(c, "The request body must name the manager in '@odata.id'.",
		"Invalid URL format specified in @odata.id for manager.")
	if gerr != nil {
		return gerr
	}
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	u, gerr := userByIDLocked(c)
	if gerr != nil {
		return gerr
	}
	mgr, ok := t.objectLocked(target.id)
	if !ok || mgr.kind != kindUser || (target.kind != "" && target.kind != kindUser) {
		return errNotFound(target.id)
	}
	if !t.visible(mgr.id()) {
		return errReferencedObjectMissing()
	}
	if mgr.user.ID == u.ID {
		// Docs are silent on a user managing itself; refused as the stricter choice.
		return errBadRequest("A user cannot be their own manager.")
	}
	setManagerLocked(t, u, mgr.user.ID, c)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteManager implements DELETE /users/{id}/manager/$ref: 204, or 404 when there is none.
func deleteManager(c *call) *graphError {
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	u, gerr := userByIDLocked(c)
	if gerr != nil {
		return gerr
	}
	if u.ManagerID == "" {
		return errNotFound("manager")
	}
	setManagerLocked(t, u, "", c)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// userByIDLocked finds the replicated user {id} names, or answers 404. A user still replicating is
// not found: stricter than the service, which may route a write to the replica that has the new user.
// The caller holds the tenant lock.
func userByIDLocked(c *call) (*User, *graphError) {
	key := c.param("id")
	u := c.tenant.users.get(key)
	if u == nil || !c.tenant.visible(u.ID) {
		return nil, errNotFound(key)
	}
	return u, nil
}

func setManagerLocked(t *Tenant, u *User, managerID string, c *call) {
	next := *u
	next.ManagerID = managerID
	t.users.remove(u)
	t.users.add(&next)
	t.logUserLocked(u, &next, c.srv.now().UTC())
	t.touchLocked()
}

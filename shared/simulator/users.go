package simulator

import (
	"net/http"
	"slices"
	"strings"
)

// Application permissions per users operation, from each operation's Permissions table
// (https://learn.microsoft.com/graph/api/user-list, user-get, user-post-users, user-update, user-delete).
var (
	permUsersRead  = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUsersWrite = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	// Deleting users is documented with User.ReadWrite.All only.
	permUsersDelete = []string{"User.ReadWrite.All"}
	// Resetting another user's password app-only needs more than User.ReadWrite.All (the real service
	// also wants a directory role, which the simulator does not model); the dedicated permission is used.
	permPasswordProfile = "User-PasswordProfile.ReadWrite.All"
)

const msgPasswordRequired = "A password must be specified to create a new user."

func (s *Server) addUserRoutes(rt *router) {
	rt.add(http.MethodGet, "/users", permUsersRead, listUsers)
	rt.add(http.MethodPost, "/users", permUsersWrite, createUser)
	rt.add(http.MethodGet, "/users/{id}", permUsersRead, getUser)
	rt.add(http.MethodPatch, "/users/{id}", permUsersWrite, updateUser)
	rt.add(http.MethodDelete, "/users/{id}", permUsersDelete, deleteUser)
}

func userID(u *User) string { return u.ID }

func listUsers(c *call) *graphError {
	lq, gerr := parseListQuery(c, userSchema)
	if gerr != nil {
		return gerr
	}
	c.tenant.mu.RLock()
	items, indexed := indexedUsers(c.tenant.users, lq.filter)
	if !indexed {
		items = c.tenant.users.list()
	}
	c.tenant.mu.RUnlock()
	items = visibleOnly(c.tenant, items, userID) // replication lag (lag.go)
	writeList(c, userSchema, "users", items, lq, userID)
	return nil
}

func getUser(c *call) *graphError {
	sel, gerr := selectOnly(c, userSchema)
	if gerr != nil {
		return gerr
	}
	key := c.param("id")
	c.tenant.mu.RLock()
	u := c.tenant.users.get(key)
	c.tenant.mu.RUnlock()
	if u == nil || !c.tenant.visible(u.ID) {
		return errNotFound(key)
	}
	body := userSchema.project(u, sel, c.version)
	body["@odata.context"] = contextURL(c, "users", sel, true)
	c.writeJSON(http.StatusOK, body)
	return nil
}

// createUser implements POST /users: required properties, password policy, verified UPN domain and
// uniqueness, then 201 with the new user (v1.0 default properties) and a Location header.
func createUser(c *call) *graphError {
	edit, gerr := readParsed(c, parseUserBody)
	if gerr != nil {
		return gerr
	}
	for _, name := range []string{"accountEnabled", "displayName", "mailNickname", "userPrincipalName"} {
		if !edit.set[name] {
			return errRequired(name)
		}
	}
	if edit.password == "" {
		return errBadRequest(msgPasswordRequired)
	}
	u := &User{ID: newGUID(), UserType: "Member", CreatedDateTime: c.srv.now().UTC().Truncate(1e9)}
	for _, change := range edit.changes {
		change(u)
	}
	if gerr := checkPassword(edit.password, edit.strongPw == nil || *edit.strongPw); gerr != nil {
		return gerr
	}
	hash, err := hashPassword(edit.password)
	if err != nil {
		return newGraphError(http.StatusInternalServerError, codeUnknownError, "%s", err.Error())
	}
	u.PasswordHash = hash

	t := c.tenant
	t.mu.Lock()
	gerr = t.checkUserLocked(u, nil)
	if gerr == nil {
		t.users.add(u)
		t.markCreated(u.ID)
		t.logUserLocked(nil, u, u.CreatedDateTime)
		t.touchLocked()
	}
	t.mu.Unlock()
	if gerr != nil {
		return gerr
	}
	writeCreated(c, userSchema.project(u, nil, c.version), "users", "/users/"+u.ID)
	return nil
}

// updateUser implements PATCH /users/{id}: the changes apply to a copy of the current user, checked
// for domain and uniqueness, which then replaces it. 204 on success.
func updateUser(c *call) *graphError {
	edit, gerr := readParsed(c, parseUserBody)
	if gerr != nil {
		return gerr
	}
	var hash string
	if edit.set["passwordProfile"] && edit.password != "" {
		if !slices.ContainsFunc(c.token.Roles, func(r string) bool { return strings.EqualFold(r, permPasswordProfile) }) {
			return errDenied()
		}
		if gerr := checkPassword(edit.password, edit.strongPw == nil || *edit.strongPw); gerr != nil {
			return gerr
		}
		var err error
		if hash, err = hashPassword(edit.password); err != nil {
			return newGraphError(http.StatusInternalServerError, codeUnknownError, "%s", err.Error())
		}
	}
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, gerr := userByIDLocked(c)
	if gerr != nil {
		return gerr
	}
	if cur.OnPremisesSyncEnabled && edit.syncMasteredChange() != "" {
		return errBadRequest(msgSyncMastered)
	}
	next := *cur
	for _, change := range edit.changes {
		change(&next)
	}
	if hash != "" {
		next.PasswordHash = hash
	}
	if gerr := t.checkUserLocked(&next, cur); gerr != nil {
		return gerr
	}
	t.users.remove(cur)
	t.users.add(&next)
	t.logUserLocked(cur, &next, c.srv.now().UTC())
	t.touchLocked()
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteUser implements DELETE /users/{id}: the user moves to deleted items (soft delete), its UPN
// becomes free for a new user.
func deleteUser(c *call) *graphError {
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, gerr := userByIDLocked(c)
	if gerr != nil {
		return gerr
	}
	gone := *cur
	now := c.srv.now().UTC().Truncate(1e9)
	gone.DeletedDateTime = &now
	t.removeObjectRefsLocked(cur.ID, now) // a deleted user leaves its groups and its reports' manager
	t.logUserLocked(cur, nil, now)
	t.users.remove(cur)
	t.deletedUsers[gone.ID] = &gone
	t.touchLocked()
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkUserLocked enforces the directory rules that need the tenant: the UPN (and mail) on a verified
// domain, and no other user with the same UPN or proxy address. self is the user being replaced.
func (t *Tenant) checkUserLocked(u *User, self *User) *graphError {
	_, domain, _ := strings.Cut(u.UserPrincipalName, "@")
	if !t.hasDomainLocked(domain, true) {
		return errBadRequest("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.").
			withDetail("userPrincipalName", codeInvalidValue)
	}
	// A B2B user's mail is its home address, on another organization's domain (invitation-post).
	if _, mailDomain, _ := strings.Cut(u.Mail, "@"); u.Mail != "" && !u.isExternal() && (self == nil || u.Mail != self.Mail) && !t.hasDomainLocked(mailDomain, true) {
		// Docs are silent on mail outside the tenant's verified domains for member users; the stricter
		// choice is to refuse it like an unverified UPN domain.
		return errBadRequest("Property mail is invalid.").withDetail("mail", codeInvalidValue)
	}
	if prop := t.users.conflict(u, self); prop != "" {
		return errConflict(prop)
	}
	if t.groupProxyConflictLocked(u.ProxyAddresses) {
		return errConflict("proxyAddresses")
	}
	return nil
}

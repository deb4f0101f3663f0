package simulator

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// AppRoleAssignment grants a user, group or service principal an app role of a resource service
// principal (https://learn.microsoft.com/graph/api/resources/approleassignment).
type AppRoleAssignment struct {
	ID                   string    `json:"id"`
	AppRoleID            string    `json:"appRoleId"`
	PrincipalID          string    `json:"principalId"`
	PrincipalType        string    `json:"principalType"`
	PrincipalDisplayName string    `json:"principalDisplayName"`
	ResourceID           string    `json:"resourceId"`
	ResourceDisplayName  string    `json:"resourceDisplayName"`
	CreatedDateTime      time.Time `json:"createdDateTime"`
	// Builtin marks the configured clients' Graph permissions: derived at start, never persisted.
	Builtin bool `json:"builtin,omitempty"`
}

// assignmentID builds an id shaped like Entra's (43 URL-safe base64 characters starting with the
// principal's id bytes), from the principal and a salt.
func assignmentID(principalID, salt string) string {
	var b [32]byte
	g := strings.ReplaceAll(principalID, "-", "")
	for i := 0; i < 16 && 2*i+1 < len(g); i++ {
		fmt.Sscanf(g[2*i:2*i+2], "%02x", &b[i])
	}
	sum := sha256.Sum256([]byte(salt))
	copy(b[16:], sum[:16])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var assignmentSchema = newSchema("AppRoleAssignment", "microsoft.graph.appRoleAssignment", []prop[AppRoleAssignment]{
	{name: "id", get: func(a *AppRoleAssignment) any { return a.ID }, v1Default: true, filter: filterEq},
	{name: "appRoleId", get: func(a *AppRoleAssignment) any { return a.AppRoleID }, v1Default: true, filter: filterEq},
	{name: "createdDateTime", get: func(a *AppRoleAssignment) any { return a.CreatedDateTime }, v1Default: true},
	{name: "deletedDateTime", get: func(*AppRoleAssignment) any { return nil }, v1Default: true},
	{name: "principalDisplayName", get: func(a *AppRoleAssignment) any { return a.PrincipalDisplayName }, v1Default: true},
	{name: "principalId", get: func(a *AppRoleAssignment) any { return a.PrincipalID }, v1Default: true, filter: filterEq},
	{name: "principalType", get: func(a *AppRoleAssignment) any { return a.PrincipalType }, v1Default: true, filter: filterEq},
	{name: "resourceDisplayName", get: func(a *AppRoleAssignment) any { return a.ResourceDisplayName }, v1Default: true, filter: filterEqStarts},
	{name: "resourceId", get: func(a *AppRoleAssignment) any { return a.ResourceID }, v1Default: true, filter: filterEq},
})

// App role assignment permissions (https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto):
// AppRoleAssignment.ReadWrite.All is documented together with Application.Read.All; the route checks
// the first, assignmentWriteAllowed the pair.
var (
	permAssignRead  = []string{"Application.Read.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permAssignWrite = []string{"AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All", "Directory.ReadWrite.All"}
)

func assignmentWriteAllowed(c *call) *graphError {
	if hasAnyRole(c, []string{"Application.ReadWrite.All", "Directory.ReadWrite.All"}) {
		return nil
	}
	return requireAlso(c, "Application.Read.All")
}

// assignmentSide is one of the collections of assignments: those a resource service principal grants
// (appRoleAssignedTo) or those a principal holds (appRoleAssignments of a user, group or service
// principal).
type assignmentSide struct {
	set        string // entity set in @odata.context, e.g. "servicePrincipals"
	nav        string // appRoleAssignedTo or appRoleAssignments
	asResource bool
	kind       string // principal kind required of the owner, "" for resources
}

var (
	grantedBySP = assignmentSide{set: "servicePrincipals", nav: "appRoleAssignedTo", asResource: true}
	heldBySP    = assignmentSide{set: "servicePrincipals", nav: "appRoleAssignments", kind: "ServicePrincipal"}
	heldByUser  = assignmentSide{set: "users", nav: "appRoleAssignments", kind: "User"}
	heldByGroup = assignmentSide{set: "groups", nav: "appRoleAssignments", kind: "Group"}
)

func (s *Server) addAppRoleAssignmentRoutes(rt *router) {
	for _, side := range []assignmentSide{grantedBySP, heldBySP, heldByUser, heldByGroup} {
		base := "/" + side.set + "/{id}/" + side.nav
		rt.add(http.MethodGet, base, permAssignRead, listAssignments(side))
		rt.add(http.MethodPost, base, permAssignWrite, createAssignment(side))
		rt.add(http.MethodGet, base+"/{aid}", permAssignRead, getAssignment(side))
		rt.add(http.MethodDelete, base+"/{aid}", permAssignWrite, deleteAssignment(side))
	}
}

// principalLocked resolves a principal id: its kind (User, Group, ServicePrincipal) and display name.
// Objects still replicating are not found. The caller holds t.mu.
func (t *Tenant) principalLocked(id string) (kind, name string, ok bool) {
	if !isGUID(id) || !t.visible(strings.ToLower(id)) {
		return "", "", false
	}
	if u := t.users.byID[strings.ToLower(id)]; u != nil {
		return "User", u.DisplayName, true
	}
	if sp := t.objs.sps.get(id); sp != nil {
		return "ServicePrincipal", strPtrOr(sp.DisplayName, ""), true
	}
	if g := t.groups.get(id); g != nil {
		return "Group", g.DisplayName, true
	}
	return "", "", false
}

// ownerLocked checks that the {id} of the path exists as the side requires.
func (side assignmentSide) ownerLocked(t *Tenant, id string) *graphError {
	if side.asResource || side.kind == "ServicePrincipal" {
		if sp := t.objs.sps.get(id); sp == nil || !t.visible(sp.ID) {
			return errNotFound(id)
		}
		return nil
	}
	if kind, _, ok := t.principalLocked(id); !ok || kind != side.kind {
		return errNotFound(id)
	}
	return nil
}

func (side assignmentSide) owns(a *AppRoleAssignment, id string) bool {
	if side.asResource {
		return strings.EqualFold(a.ResourceID, id)
	}
	return strings.EqualFold(a.PrincipalID, id)
}

func (side assignmentSide) context(c *call, id string, entity bool) string {
	return contextURL(c, fmt.Sprintf("%s('%s')/%s", side.set, id, side.nav), nil, entity)
}

func assignmentIDOf(a *AppRoleAssignment) string { return a.ID }

func listAssignments(side assignmentSide) handlerFunc {
	return func(c *call) *graphError {
		lq, gerr := parseListQuery(c, assignmentSchema)
		if gerr != nil {
			return gerr
		}
		id := c.param("id")
		t := c.tenant
		t.mu.RLock()
		gerr = side.ownerLocked(t, id)
		var items []*AppRoleAssignment
		for _, a := range t.objs.assignments.list() {
			if side.owns(a, id) {
				items = append(items, a)
			}
		}
		t.mu.RUnlock()
		if gerr != nil {
			return gerr
		}
		writeList(c, assignmentSchema, fmt.Sprintf("%s('%s')/%s", side.set, id, side.nav), visibleOnly(t, items, assignmentIDOf), lq, assignmentIDOf)
		return nil
	}
}

func getAssignment(side assignmentSide) handlerFunc {
	return func(c *call) *graphError {
		if _, gerr := queryOptions(c); gerr != nil {
			return gerr
		}
		t := c.tenant
		t.mu.RLock()
		a := t.objs.assignments.get(c.param("aid"))
		t.mu.RUnlock()
		if a == nil || !side.owns(a, c.param("id")) || !t.visible(strings.ToLower(a.ID)) {
			return errNotFound(c.param("aid"))
		}
		body := assignmentSchema.project(a, nil, c.version)
		body["@odata.context"] = side.context(c, c.param("id"), true)
		c.writeJSON(http.StatusOK, body)
		return nil
	}
}

// createAssignment implements POST …/appRoleAssignedTo and …/appRoleAssignments with
// {principalId, resourceId, appRoleId}: the path's object must be the resource (or the principal),
// the app role must exist, be enabled and allow the principal's kind on the resource service
// principal; the default role 00000000-… is accepted only for users and groups of a resource without
// app roles. A second identical assignment is refused as Entra does.
func createAssignment(side assignmentSide) handlerFunc {
	return func(c *call) *graphError {
		if gerr := assignmentWriteAllowed(c); gerr != nil {
			return gerr
		}
		body, gerr := readParsed(c, decodeObject)
		if gerr != nil {
			return gerr
		}
		var req struct {
			PrincipalID   string `json:"principalId"`
			ResourceID    string `json:"resourceId"`
			AppRoleID     string `json:"appRoleId"`
			PrincipalType string `json:"principalType"`
		}
		if gerr := strictDecode(stripAnnotations(body).(map[string]any), &req, "AppRoleAssignment"); gerr != nil {
			return gerr
		}
		for name, v := range map[string]string{"principalId": req.PrincipalID, "resourceId": req.ResourceID, "appRoleId": req.AppRoleID} {
			if v == "" {
				return errRequired(name)
			}
		}
		id := c.param("id")
		if (side.asResource && !strings.EqualFold(req.ResourceID, id)) || (!side.asResource && !strings.EqualFold(req.PrincipalID, id)) {
			// Docs are silent on a body naming another object than the path; refusing is stricter.
			return errBadRequest("The %s in the request body does not match the object in the request URL.", map[bool]string{true: "resourceId", false: "principalId"}[side.asResource])
		}
		t := c.tenant
		t.mu.Lock()
		defer t.mu.Unlock()
		if gerr := side.ownerLocked(t, id); gerr != nil {
			return gerr
		}
		a, gerr := t.newAssignmentLocked(c, req.PrincipalID, req.ResourceID, req.AppRoleID)
		if gerr != nil {
			return gerr
		}
		t.objs.assignments.put(a)
		t.markCreated(strings.ToLower(a.ID))
		t.touchLocked()
		out := assignmentSchema.project(a, nil, c.version)
		out["@odata.context"] = side.context(c, id, true)
		c.writeJSON(http.StatusCreated, out)
		return nil
	}
}

// newAssignmentLocked validates and builds an assignment. The caller holds t.mu for writing.
func (t *Tenant) newAssignmentLocked(c *call, principalID, resourceID, appRoleID string) (*AppRoleAssignment, *graphError) {
	kind, pname, ok := t.principalLocked(principalID)
	if !ok {
		return nil, errNotFound(principalID)
	}
	res := t.objs.sps.get(resourceID)
	if res == nil || !t.visible(res.ID) {
		return nil, errNotFound(resourceID)
	}
	if !appRoleAssignable(res, appRoleID, kind) {
		return nil, errBadRequest("Permission being assigned was not found on application '%s'.", res.AppID).
			withDetail("appRoleId", codeInvalidValue)
	}
	for _, a := range t.objs.assignments.list() {
		if strings.EqualFold(a.PrincipalID, principalID) && strings.EqualFold(a.ResourceID, res.ID) && strings.EqualFold(a.AppRoleID, appRoleID) {
			return nil, errBadRequest("Permission being assigned already exists on the object.")
		}
	}
	return &AppRoleAssignment{
		ID: assignmentID(principalID, newGUID()), AppRoleID: strings.ToLower(appRoleID), PrincipalID: strings.ToLower(principalID),
		PrincipalType: kind, PrincipalDisplayName: pname, ResourceID: res.ID, ResourceDisplayName: strPtrOr(res.DisplayName, ""),
		CreatedDateTime: c.srv.now().UTC().Truncate(time.Second),
	}, nil
}

// appRoleAssignable reports whether appRoleID is an enabled role of res open to principals of kind.
func appRoleAssignable(res *ServicePrincipal, appRoleID, kind string) bool {
	if appRoleID == defaultAccessAppRoleID {
		return kind != "ServicePrincipal" && len(res.AppRoles) == 0
	}
	member := "User"
	if kind == "ServicePrincipal" {
		member = "Application"
	}
	for _, r := range res.AppRoles {
		if strings.EqualFold(r.ID, appRoleID) && r.IsEnabled && containsFold(r.AllowedMemberTypes, member) {
			return true
		}
	}
	return false
}

// deleteAssignment implements DELETE …/{assignment id}: 204. The configured clients' Graph grants
// are refused, as their service principals are (the simulator's tokens derive from the config).
func deleteAssignment(side assignmentSide) handlerFunc {
	return func(c *call) *graphError {
		if gerr := assignmentWriteAllowed(c); gerr != nil {
			return gerr
		}
		t := c.tenant
		t.mu.Lock()
		defer t.mu.Unlock()
		a := t.objs.assignments.get(c.param("aid"))
		if a == nil || !side.owns(a, c.param("id")) || !t.visible(strings.ToLower(a.ID)) {
			return errNotFound(c.param("aid"))
		}
		if a.Builtin {
			return errDenied()
		}
		t.objs.assignments.remove(a.ID)
		t.touchLocked()
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

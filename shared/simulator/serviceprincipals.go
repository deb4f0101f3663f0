package simulator

import (
	"net/http"
	"strings"
	"time"
)

// ServicePrincipal is an application's instance in a tenant
// (https://learn.microsoft.com/graph/api/resources/serviceprincipal). App roles, scopes and names
// come from the application; spProps are what a client may write.
type ServicePrincipal struct {
	ID    string `json:"id"`
	AppID string `json:"appId"`
	spProps
	AppDisplayName         string            `json:"appDisplayName"`
	AppOwnerOrganizationID string            `json:"appOwnerOrganizationId,omitempty"`
	AppRoles               []AppRole         `json:"appRoles"`
	OAuth2PermissionScopes []PermissionScope `json:"oauth2PermissionScopes"`
	ServicePrincipalNames  []string          `json:"servicePrincipalNames"`
	SignInAudience         string            `json:"signInAudience"`
	DeletedDateTime        *time.Time        `json:"deletedDateTime,omitempty"`
	// Builtin marks first-party and configured clients' service principals: derived at start, never
	// persisted, not deletable.
	Builtin bool `json:"builtin,omitempty"`
}

// spProps are the service principal properties a client may write.
type spProps struct {
	AccountEnabled             *bool    `json:"accountEnabled"`
	AppRoleAssignmentRequired  *bool    `json:"appRoleAssignmentRequired"`
	Description                *string  `json:"description"`
	DisplayName                *string  `json:"displayName"`
	Homepage                   *string  `json:"homepage"`
	LoginURL                   *string  `json:"loginUrl"`
	Notes                      *string  `json:"notes"`
	NotificationEmailAddresses []string `json:"notificationEmailAddresses"`
	PreferredSingleSignOnMode  *string  `json:"preferredSingleSignOnMode"`
	Tags                       []string `json:"tags"`
}

// normalize fills Graph's defaults: enabled, no assignment required, empty lists.
func (sp *ServicePrincipal) normalize() {
	if sp.AccountEnabled == nil {
		v := true
		sp.AccountEnabled = &v
	}
	if sp.AppRoleAssignmentRequired == nil {
		v := false
		sp.AppRoleAssignmentRequired = &v
	}
	if sp.DisplayName == nil {
		name := sp.AppDisplayName
		sp.DisplayName = &name
	}
	sp.Tags = nonNil(sp.Tags)
	sp.NotificationEmailAddresses = nonNil(sp.NotificationEmailAddresses)
	sp.AppRoles = nonNil(sp.AppRoles)
	sp.OAuth2PermissionScopes = nonNil(sp.OAuth2PermissionScopes)
	sp.ServicePrincipalNames = nonNil(sp.ServicePrincipalNames)
}

func spStr(name string, get func(*ServicePrincipal) string, f filterSupport) prop[ServicePrincipal] {
	return prop[ServicePrincipal]{name: name, get: func(sp *ServicePrincipal) any { return get(sp) }, v1Default: true, filter: f}
}

// servicePrincipalSchema renders the properties the simulator models; v1.0 returns all by default.
var servicePrincipalSchema = newSchema("ServicePrincipal", "microsoft.graph.servicePrincipal", []prop[ServicePrincipal]{
	spStr("id", func(sp *ServicePrincipal) string { return sp.ID }, filterEq),
	{name: "accountEnabled", get: func(sp *ServicePrincipal) any { return boolPtrValue(sp.AccountEnabled) }, v1Default: true, filter: filterEq},
	{name: "alternativeNames", get: func(*ServicePrincipal) any { return []string{} }, v1Default: true},
	spStr("appDisplayName", func(sp *ServicePrincipal) string { return sp.AppDisplayName }, filterEqStarts),
	{name: "appDescription", get: func(*ServicePrincipal) any { return nil }, v1Default: true},
	spStr("appId", func(sp *ServicePrincipal) string { return sp.AppID }, filterEq),
	spStr("appOwnerOrganizationId", func(sp *ServicePrincipal) string { return sp.AppOwnerOrganizationID }, filterEq),
	{name: "appRoleAssignmentRequired", get: func(sp *ServicePrincipal) any { return boolPtrValue(sp.AppRoleAssignmentRequired) }, v1Default: true},
	{name: "appRoles", get: func(sp *ServicePrincipal) any { return nonNil(sp.AppRoles) }, v1Default: true},
	{name: "deletedDateTime", get: func(sp *ServicePrincipal) any { return timeOrZero(sp.DeletedDateTime) }, v1Default: true},
	spStr("description", func(sp *ServicePrincipal) string { return strPtrOr(sp.Description, "") }, filterEqStarts),
	spStr("displayName", func(sp *ServicePrincipal) string { return strPtrOr(sp.DisplayName, "") }, filterEqStarts),
	spStr("homepage", func(sp *ServicePrincipal) string { return strPtrOr(sp.Homepage, "") }, filterNone),
	{name: "keyCredentials", get: func(*ServicePrincipal) any { return []any{} }, v1Default: true},
	spStr("loginUrl", func(sp *ServicePrincipal) string { return strPtrOr(sp.LoginURL, "") }, filterNone),
	spStr("notes", func(sp *ServicePrincipal) string { return strPtrOr(sp.Notes, "") }, filterNone),
	{name: "notificationEmailAddresses", get: func(sp *ServicePrincipal) any { return nonNil(sp.NotificationEmailAddresses) }, v1Default: true},
	{name: "oauth2PermissionScopes", get: func(sp *ServicePrincipal) any { return nonNil(sp.OAuth2PermissionScopes) }, v1Default: true},
	{name: "passwordCredentials", get: func(*ServicePrincipal) any { return []any{} }, v1Default: true},
	spStr("preferredSingleSignOnMode", func(sp *ServicePrincipal) string { return strPtrOr(sp.PreferredSingleSignOnMode, "") }, filterEq),
	{name: "replyUrls", get: func(*ServicePrincipal) any { return []string{} }, v1Default: true},
	{name: "servicePrincipalNames", get: func(sp *ServicePrincipal) any { return nonNil(sp.ServicePrincipalNames) }, v1Default: true, filter: filterEqStarts},
	spStr("servicePrincipalType", func(*ServicePrincipal) string { return "Application" }, filterEq),
	spStr("signInAudience", func(sp *ServicePrincipal) string { return sp.SignInAudience }, filterEq),
	{name: "tags", get: func(sp *ServicePrincipal) any { return nonNil(sp.Tags) }, v1Default: true, filter: filterEqStarts},
})

// Service principal permissions (https://learn.microsoft.com/graph/api/serviceprincipal-list,
// serviceprincipal-post-serviceprincipals, serviceprincipal-update, serviceprincipal-delete).
var (
	permSPRead  = permAppsRead
	permSPWrite = []string{"Application.ReadWrite.All"}
)

func (s *Server) addServicePrincipalRoutes(rt *router) {
	rt.add(http.MethodGet, "/servicePrincipals", permSPRead, spResource.list)
	rt.add(http.MethodPost, "/servicePrincipals", permSPWrite, createServicePrincipal)
	for _, key := range []struct {
		pattern string
		find    finder[ServicePrincipal]
	}{
		{"/servicePrincipals/{id}", spResource.byID},
		{"/servicePrincipals(appId='{appId}')", spByAppID},
	} {
		rt.add(http.MethodGet, key.pattern, permSPRead, getServicePrincipal(key.find))
		rt.add(http.MethodPatch, key.pattern, permSPWrite, updateServicePrincipal(key.find))
		rt.add(http.MethodDelete, key.pattern, permSPWrite, deleteServicePrincipal(key.find))
	}
	s.addAppRoleAssignmentRoutes(rt)
}

// spResource drives the generic handlers (collection_handlers.go) for service principals.
var spResource = &resource[ServicePrincipal]{
	schema: servicePrincipalSchema, set: "servicePrincipals", idOf: servicePrincipalID, notFound: errNotFound,
	coll: func(t *Tenant) *objectSet[ServicePrincipal] { return t.objs.sps },
}

func spByAppID(c *call) (*ServicePrincipal, string) {
	key := keyValue(c.param("appId"))
	return visibleSP(c.tenant, c.tenant.objs.sps.find(func(sp *ServicePrincipal) bool { return strings.EqualFold(sp.AppID, key) })), key
}

// visibleSP hides service principals still replicating (lag.go).
func visibleSP(t *Tenant, sp *ServicePrincipal) *ServicePrincipal {
	return visibleLocked(t, sp, servicePrincipalID)
}

func servicePrincipalID(sp *ServicePrincipal) string { return sp.ID }

func getServicePrincipal(find finder[ServicePrincipal]) handlerFunc {
	return func(c *call) *graphError {
		if gerr := checkObjectID(c); gerr != nil {
			return gerr
		}
		return spResource.get(c, find)
	}
}

var spReadOnly = []string{"id", "appDisplayName", "appOwnerOrganizationId", "appRoles", "oauth2PermissionScopes",
	"servicePrincipalNames", "signInAudience", "servicePrincipalType", "deletedDateTime"}

func parseSPBody(c *call) (map[string]any, *graphError) {
	return parseEntityBody(c, "#microsoft.graph.servicePrincipal", spReadOnly...)
}

// spSource is the application a new service principal instantiates: one of this tenant's, a
// multi-tenant one registered in another simulated tenant, or a client configured in another tenant.
type spSource struct {
	app      *Application
	ownerOrg string
	name     string
}

// findForeignApp looks the appId up in the other tenants, each under its own read lock (never two
// tenant locks at once).
func (s *Server) findForeignApp(self *Tenant, appID string) *spSource {
	for _, t := range s.store.tenants {
		if t == self {
			continue
		}
		t.mu.RLock()
		a := t.objs.apps.find(func(a *Application) bool { return strings.EqualFold(a.AppID, appID) })
		var src *spSource
		if a != nil && a.isMultiTenant() {
			src = &spSource{app: a, ownerOrg: t.ID, name: a.DisplayName}
		} else if cl := t.clients[strings.ToLower(appID)]; cl != nil && a == nil {
			src = &spSource{ownerOrg: t.ID, name: cl.DisplayName}
		}
		t.mu.RUnlock()
		if src != nil {
			return src
		}
	}
	return nil
}

// createServicePrincipal implements POST /servicePrincipals with {"appId": …}: the appId must
// reference an application of this tenant or a multi-tenant application, else Entra's
// NoBackingApplicationObject error; a second service principal for one appId is a conflict.
func createServicePrincipal(c *call) *graphError {
	body, gerr := parseSPBody(c)
	if gerr != nil {
		return gerr
	}
	var req struct {
		AppID string `json:"appId"`
		spProps
	}
	if gerr := strictDecode(body, &req, "ServicePrincipal"); gerr != nil {
		return gerr
	}
	if req.AppID == "" {
		return errRequired("appId")
	}
	foreign := c.srv.findForeignApp(c.tenant, req.AppID)
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	if existing, _ := spByAppIDLocked(t, req.AppID); existing != nil {
		return errBadRequest("The service principal cannot be created, updated, or restored because the service principal name %s is already in use.", req.AppID).
			withDetail("servicePrincipalNames", codeObjectConflict)
	}
	src := foreign
	// An application still replicating is not found: Entra's NoBackingApplicationObject right after
	// creating the app is a known race (lag.go).
	if a := t.objs.apps.find(func(a *Application) bool { return strings.EqualFold(a.AppID, req.AppID) }); a != nil && t.visible(a.ID) {
		src = &spSource{app: a, ownerOrg: t.ID, name: a.DisplayName}
	}
	if src == nil {
		return errBadRequest("The appId '%s' of the service principal does not reference a valid application object.", req.AppID).
			withDetail("appId", "NoBackingApplicationObject")
	}
	sp := &ServicePrincipal{ID: newGUID(), AppID: strings.ToLower(req.AppID), spProps: req.spProps,
		AppOwnerOrganizationID: src.ownerOrg, AppDisplayName: src.name, ServicePrincipalNames: []string{strings.ToLower(req.AppID)},
		SignInAudience: "AzureADMultipleOrgs"}
	if src.app != nil {
		sp.copyFromApp(src.app)
	}
	sp.normalize()
	t.objs.sps.put(sp)
	t.markCreated(sp.ID)
	t.touchLocked()
	writeCreated(c, servicePrincipalSchema.project(sp, nil, c.version), "servicePrincipals", "/servicePrincipals/"+sp.ID)
	return nil
}

func spByAppIDLocked(t *Tenant, appID string) (*ServicePrincipal, string) {
	return t.objs.sps.find(func(sp *ServicePrincipal) bool { return strings.EqualFold(sp.AppID, appID) }), appID
}

// copyFromApp takes the application's roles, scopes, names and audience, as Entra keeps them in step.
func (sp *ServicePrincipal) copyFromApp(a *Application) {
	sp.AppDisplayName = a.DisplayName
	sp.AppRoles = append([]AppRole(nil), a.AppRoles...)
	sp.OAuth2PermissionScopes = append([]PermissionScope(nil), a.API.OAuth2PermissionScopes...)
	sp.ServicePrincipalNames = append([]string{a.AppID}, a.IdentifierURIs...)
	sp.SignInAudience = a.SignInAudience
}

// syncServicePrincipalsLocked refreshes this tenant's service principals of a after a change.
func (t *Tenant) syncServicePrincipalsLocked(a *Application) {
	for _, sp := range t.objs.sps.list() {
		if strings.EqualFold(sp.AppID, a.AppID) {
			next := *sp
			next.copyFromApp(a)
			next.normalize()
			t.objs.sps.put(&next)
		}
	}
}

// updateServicePrincipal implements PATCH: 204.
func updateServicePrincipal(find finder[ServicePrincipal]) handlerFunc {
	return func(c *call) *graphError {
		if gerr := checkObjectID(c); gerr != nil {
			return gerr
		}
		body, gerr := parseSPBody(c)
		if gerr != nil {
			return gerr
		}
		if _, ok := body["appId"]; ok {
			return errBadRequest("Property 'appId' is read-only and cannot be set.")
		}
		return spResource.patch(c, find, func(t *Tenant, cur *ServicePrincipal) *graphError {
			var p spProps
			if gerr := strictDecode(mergePatch(toJSONMap(cur.spProps), body), &p, "ServicePrincipal"); gerr != nil {
				return gerr
			}
			next := *cur
			next.spProps = p
			next.normalize()
			t.objs.sps.put(&next)
			return nil
		})
	}
}

// deleteServicePrincipal implements DELETE: the service principal and the app role assignments it
// holds or grants go. First-party and configured clients' service principals are refused: the
// simulator's tokens depend on them (docs are silent; refusing is the stricter choice).
func deleteServicePrincipal(find finder[ServicePrincipal]) handlerFunc {
	return func(c *call) *graphError {
		if gerr := checkObjectID(c); gerr != nil {
			return gerr
		}
		return spResource.remove(c, find, func(t *Tenant, cur *ServicePrincipal) *graphError {
			if cur.Builtin {
				return errDenied()
			}
			t.removeServicePrincipalLocked(cur, c.srv.now().UTC())
			return nil
		})
	}
}

// removeServicePrincipalLocked drops sp, its group memberships and ownerships, and every app role
// assignment it holds or grants.
func (t *Tenant) removeServicePrincipalLocked(sp *ServicePrincipal, now time.Time) {
	t.removeObjectRefsLocked(sp.ID, now)
	t.objs.sps.remove(sp.ID)
	for _, a := range t.objs.assignments.list() {
		if a.PrincipalID == sp.ID || a.ResourceID == sp.ID {
			t.objs.assignments.remove(a.ID)
		}
	}
}

package simulator

import (
	"net/http"
	"strings"
	"time"
)

// Application permissions for app registrations, from each operation's Permissions table
// (https://learn.microsoft.com/graph/api/application-list, application-post-applications,
// application-update, application-upsert, application-delete, application-addpassword).
// Application.ReadWrite.OwnedBy is documented too but limits the caller to apps it owns, which the
// simulator does not model; refusing it is the stricter choice.
var (
	permAppsRead  = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permAppsWrite = []string{"Application.ReadWrite.All"}
)

func (s *Server) addApplicationRoutes(rt *router) {
	rt.add(http.MethodGet, "/applications", permAppsRead, appResource.list)
	rt.add(http.MethodPost, "/applications", permAppsWrite, createApplication)
	for _, key := range []struct {
		pattern string
		find    finder[Application]
	}{
		{"/applications/{id}", appResource.byID},
		{"/applications(appId='{appId}')", appByAppID},
		{"/applications(uniqueName='{uniqueName}')", appByUniqueName},
	} {
		rt.add(http.MethodGet, key.pattern, permAppsRead, getApplication(key.find))
		rt.add(http.MethodDelete, key.pattern, permAppsWrite, deleteApplication(key.find))
	}
	rt.add(http.MethodPatch, "/applications/{id}", permAppsWrite, updateApplication(appResource.byID))
	rt.add(http.MethodPatch, "/applications(appId='{appId}')", permAppsWrite, updateApplication(appByAppID))
	rt.add(http.MethodPatch, "/applications(uniqueName='{uniqueName}')", permAppsWrite, upsertApplication)
	rt.add(http.MethodPost, "/applications/{id}/addPassword", permAppsWrite, addPassword)
	rt.add(http.MethodPost, "/applications/{id}/removePassword", permAppsWrite, removePassword)
}

// appResource drives the generic handlers (collection_handlers.go) for applications. Its finders see
// only replicated applications (lag.go): right after a create, a read by any key may 404.
var appResource = &resource[Application]{
	schema: applicationSchema, set: "applications", idOf: applicationID, notFound: errNotFound,
	coll: func(t *Tenant) *objectSet[Application] { return t.objs.apps },
}

func appByAppID(c *call) (*Application, string) {
	key := keyValue(c.param("appId"))
	return visibleApp(c.tenant, c.tenant.objs.apps.find(func(a *Application) bool { return strings.EqualFold(a.AppID, key) })), key
}

func appByUniqueName(c *call) (*Application, string) {
	key := keyValue(c.param("uniqueName"))
	return visibleApp(c.tenant, c.tenant.objs.apps.find(func(a *Application) bool {
		return a.UniqueName != nil && strings.EqualFold(*a.UniqueName, key)
	})), key
}

func visibleApp(t *Tenant, a *Application) *Application { return visibleLocked(t, a, applicationID) }

// checkObjectID answers a malformed {id} as the directory does.
func checkObjectID(c *call) *graphError {
	if id, ok := c.params["id"]; ok && !isGUID(id) {
		return errInvalidObjectID(id)
	}
	return nil
}

func applicationID(a *Application) string { return a.ID }

func getApplication(find finder[Application]) handlerFunc {
	return func(c *call) *graphError {
		if gerr := checkObjectID(c); gerr != nil {
			return gerr
		}
		return appResource.get(c, find)
	}
}

// appReadOnly are the application properties set by the service.
var appReadOnly = []string{"id", "appId", "createdDateTime", "deletedDateTime", "publisherDomain"}

// parseAppBody reads a POST or PATCH body: read-only properties refused, a wrong @odata.type refused,
// annotations stripped.
func parseAppBody(c *call) (map[string]any, *graphError) {
	return parseEntityBody(c, "#microsoft.graph.application", appReadOnly...)
}

// decodeAppProps turns a merged body into validated writable properties.
func decodeAppProps(m map[string]any, prev *Application) (*appProps, *graphError) {
	var p appProps
	if gerr := strictDecode(m, &p, "Application"); gerr != nil {
		return nil, gerr
	}
	if p.SignInAudience == "" {
		p.SignInAudience = "AzureADMyOrg" // the default (https://learn.microsoft.com/graph/api/resources/application#properties)
	}
	if gerr := p.validate(prev); gerr != nil {
		return nil, gerr
	}
	p.normalize()
	return &p, nil
}

// newApplication builds an application from validated properties: new object id and appId (assigned
// by the service, https://learn.microsoft.com/graph/api/resources/application#properties), publisher
// domain the tenant's default domain.
func newApplication(c *call, p *appProps) *Application {
	return &Application{
		ID: newGUID(), AppID: newGUID(), appProps: *p,
		PublisherDomain: c.tenant.defaultDomainLocked(), CreatedDateTime: c.srv.now().UTC().Truncate(time.Second),
	}
}

// createApplication implements POST /applications: displayName required, 201 with the new
// application and a Location header.
func createApplication(c *call) *graphError {
	body, gerr := parseAppBody(c)
	if gerr != nil {
		return gerr
	}
	p, gerr := decodeAppProps(body, nil)
	if gerr != nil {
		return gerr
	}
	t := c.tenant
	t.mu.Lock()
	a := newApplication(c, p)
	if gerr = t.checkAppLocked(a, nil); gerr == nil {
		t.objs.apps.put(a)
		t.markCreated(a.ID)
		t.touchLocked()
	}
	t.mu.Unlock()
	if gerr != nil {
		return gerr
	}
	writeCreatedApp(c, a)
	return nil
}

func writeCreatedApp(c *call, a *Application) {
	writeCreated(c, applicationSchema.project(a, nil, c.version), "applications", "/applications/"+a.ID)
}

// replaceAppLocked applies a PATCH body to cur: merge, decode, validate, tenant checks, store, and
// keep the home tenant's service principals in step. The caller holds t.mu for writing and moves the
// tenant's version on.
func replaceAppLocked(t *Tenant, cur *Application, body map[string]any) *graphError {
	if v, ok := body["uniqueName"]; ok && (cur.UniqueName == nil || v != *cur.UniqueName) {
		// uniqueName is an immutable alternate key: set on create or by upsert only
		// (https://learn.microsoft.com/graph/api/resources/application#properties).
		return errBadRequest("Property 'uniqueName' is read-only and cannot be set.")
	}
	p, gerr := decodeAppProps(mergePatch(toJSONMap(cur.writable()), body), cur)
	if gerr != nil {
		return gerr
	}
	next := *cur
	next.appProps = *p
	if gerr := t.checkAppLocked(&next, cur); gerr != nil {
		return gerr
	}
	t.objs.apps.put(&next)
	t.syncServicePrincipalsLocked(&next)
	return nil
}

// updateApplication implements PATCH /applications/{id} and /applications(appId='…'): 204.
func updateApplication(find finder[Application]) handlerFunc {
	return func(c *call) *graphError {
		if gerr := checkObjectID(c); gerr != nil {
			return gerr
		}
		body, gerr := parseAppBody(c)
		if gerr != nil {
			return gerr
		}
		return appResource.patch(c, find, func(t *Tenant, cur *Application) *graphError {
			return replaceAppLocked(t, cur, body)
		})
	}
}

// upsertApplication implements PATCH /applications(uniqueName='…')
// (https://learn.microsoft.com/graph/api/application-upsert): an existing application is updated
// (204); a missing one is created with that uniqueName when Prefer: create-if-missing is sent (201),
// and is a 404 otherwise. Lookup and create happen under one lock, so concurrent upserts of one name
// create one application.
func upsertApplication(c *call) *graphError {
	body, gerr := parseAppBody(c)
	if gerr != nil {
		return gerr
	}
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, key := appByUniqueName(c)
	if cur != nil {
		if gerr := replaceAppLocked(t, cur, body); gerr != nil {
			return gerr
		}
		t.touchLocked()
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if !prefersCreate(c.r) {
		return errNotFound(key)
	}
	if v, ok := body["uniqueName"]; ok && v != key {
		return errBadRequest("The uniqueName in the request body does not match the uniqueName in the request URL.")
	}
	body["uniqueName"] = key
	p, gerr := decodeAppProps(body, nil)
	if gerr != nil {
		return gerr
	}
	a := newApplication(c, p)
	if gerr := t.checkAppLocked(a, nil); gerr != nil {
		return gerr
	}
	t.objs.apps.put(a)
	t.markCreated(a.ID)
	t.touchLocked()
	c.w.Header().Set("Preference-Applied", "create-if-missing")
	writeCreatedApp(c, a)
	return nil
}

// deleteApplication implements DELETE: the application moves to deleted items and, as in Entra, its
// service principal in this (its home) tenant is deleted with it, together with that service
// principal's app role assignments.
func deleteApplication(find finder[Application]) handlerFunc {
	return func(c *call) *graphError {
		if gerr := checkObjectID(c); gerr != nil {
			return gerr
		}
		return appResource.remove(c, find, func(t *Tenant, cur *Application) *graphError {
			gone := *cur
			now := c.srv.now().UTC().Truncate(time.Second)
			gone.DeletedDateTime = &now
			t.objs.apps.remove(cur.ID)
			t.objs.deletedApps.put(&gone)
			for _, sp := range t.objs.sps.list() {
				if strings.EqualFold(sp.AppID, cur.AppID) {
					t.removeServicePrincipalLocked(sp, now)
				}
			}
			return nil
		})
	}
}

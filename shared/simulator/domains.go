package simulator

import (
	"net/http"
	"strings"
)

// Domain is a domain of a tenant. Values are replaced, never mutated, once stored.
type Domain struct {
	ID         string `json:"id"`
	IsVerified bool   `json:"isVerified"`
	IsDefault  bool   `json:"isDefault"`
	IsInitial  bool   `json:"isInitial"`
}

func newDomain(d DomainConfig) *Domain {
	return &Domain{ID: d.ID, IsVerified: d.IsVerified, IsDefault: d.IsDefault, IsInitial: d.IsInitial}
}

// Application permissions for domains (https://learn.microsoft.com/graph/api/domain-list) and the
// organization (https://learn.microsoft.com/graph/api/organization-list).
var (
	permDomainsRead = []string{"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permOrgRead     = []string{"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)

// domainSchema is the domain resource (https://learn.microsoft.com/graph/api/resources/domain). v1.0
// returns every property by default; domains support neither $filter nor $orderby.
var domainSchema = newSchema("Domain", "microsoft.graph.domain", []prop[Domain]{
	{name: "id", get: func(d *Domain) any { return d.ID }, v1Default: true},
	{name: "authenticationType", get: func(*Domain) any { return "Managed" }, v1Default: true},
	{name: "availabilityStatus", get: func(*Domain) any { return nil }, v1Default: true},
	{name: "isAdminManaged", get: func(*Domain) any { return true }, v1Default: true},
	{name: "isDefault", get: func(d *Domain) any { return d.IsDefault }, v1Default: true},
	{name: "isInitial", get: func(d *Domain) any { return d.IsInitial }, v1Default: true},
	{name: "isRoot", get: func(*Domain) any { return true }, v1Default: true},
	{name: "isVerified", get: func(d *Domain) any { return d.IsVerified }, v1Default: true},
	{name: "passwordNotificationWindowInDays", get: func(*Domain) any { return 14 }, v1Default: true},
	{name: "passwordValidityPeriodInDays", get: func(*Domain) any { return 2147483647 }, v1Default: true},
	{name: "supportedServices", get: func(d *Domain) any { return domainServices(d) }, v1Default: true},
	{name: "state", get: func(*Domain) any { return nil }, v1Default: true},
})

// domainServices: a verified domain serves mail and Teams; an unverified one serves nothing yet.
func domainServices(d *Domain) []string {
	if d.IsVerified {
		return []string{"Email", "OfficeCommunicationsOnline"}
	}
	return []string{}
}

func (s *Server) addDomainRoutes(rt *router) {
	rt.add(http.MethodGet, "/domains", permDomainsRead, listDomains)
	rt.add(http.MethodGet, "/domains/{id}", permDomainsRead, getDomain)
	rt.add(http.MethodGet, "/organization", permOrgRead, listOrganization)
}

func listDomains(c *call) *graphError {
	sel, gerr := selectOnly(c, domainSchema)
	if gerr != nil {
		return gerr
	}
	c.tenant.mu.RLock()
	items := append([]*Domain(nil), c.tenant.domains...)
	c.tenant.mu.RUnlock()
	values := make([]map[string]any, len(items))
	for i, d := range items {
		values[i] = domainSchema.project(d, sel, c.version)
	}
	c.writeJSON(http.StatusOK, map[string]any{"@odata.context": contextURL(c, "domains", sel, false), "value": values})
	return nil
}

func getDomain(c *call) *graphError {
	sel, gerr := selectOnly(c, domainSchema)
	if gerr != nil {
		return gerr
	}
	key := c.param("id")
	var found *Domain
	c.tenant.mu.RLock()
	for _, d := range c.tenant.domains {
		if strings.EqualFold(d.ID, key) {
			found = d
		}
	}
	c.tenant.mu.RUnlock()
	if found == nil {
		return errNotFound(key)
	}
	body := domainSchema.project(found, sel, c.version)
	body["@odata.context"] = contextURL(c, "domains", sel, true)
	c.writeJSON(http.StatusOK, body)
	return nil
}

// listOrganization implements GET /organization: the caller's tenant, with its verified domains.
func listOrganization(c *call) *graphError {
	q, gerr := queryOptions(c, "$select")
	if gerr != nil {
		return gerr
	}
	t := c.tenant
	t.mu.RLock()
	org := t.organizationLocked() // tenantsettings.go
	t.mu.RUnlock()
	if org, gerr = selectMap(org, q.Get("$select"), "microsoft.graph.organization"); gerr != nil {
		return gerr
	}
	c.writeJSON(http.StatusOK, map[string]any{"@odata.context": contextURL(c, "organization", nil, false), "value": []any{org}})
	return nil
}

package simulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Domain management: add (https://learn.microsoft.com/graph/api/domain-post-domains), its DNS
// verification records (domain-list-verificationdnsrecords), verify (domain-verify), make default
// (PATCH isDefault, domain-update), the objects still using it (domain-list-domainnamereferences) and
// delete (domain-delete), which fails while any object depends on the domain. Rules the docs leave
// to the service, kept strict here: a domain verified in one tenant cannot be verified in another
// until the first removes it, and verification succeeds only once the simulator is told the TXT
// record is published (POST /_sim/tenants/{tenant}/domains/{id}/dns).

var permDomainsWrite = []string{"Domain.ReadWrite.All", "Directory.ReadWrite.All"}

func (s *Server) addDomainManageRoutes(rt *router) {
	rt.add(http.MethodPost, "/domains", permDomainsWrite, s.createDomain)
	rt.add(http.MethodPatch, "/domains/{id}", permDomainsWrite, updateDomain)
	rt.add(http.MethodDelete, "/domains/{id}", permDomainsWrite, deleteDomain)
	rt.add(http.MethodGet, "/domains/{id}/verificationDnsRecords", permDomainsRead, verificationRecords)
	rt.add(http.MethodPost, "/domains/{id}/verify", permDomainsWrite, s.verifyDomain)
	rt.add(http.MethodGet, "/domains/{id}/domainNameReferences", permDomainsRead, domainReferences)
}

func (t *Tenant) domainLocked(id string) *Domain {
	for _, d := range t.domains {
		if strings.EqualFold(d.ID, id) {
			return d
		}
	}
	return nil
}

// txtRecord is the MS=ms... value the domain's verification TXT record must hold in this tenant.
func txtRecord(t *Tenant, domain string) string {
	return "MS=ms" + strings.ReplaceAll(derivedGUID(t.ID, "domain", strings.ToLower(domain)), "-", "")[:8]
}

func (s *Server) createDomain(c *call) *graphError {
	raw, gerr := c.readBody()
	if gerr != nil {
		return gerr
	}
	var in struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &in) != nil || !validDomainName(in.ID) {
		return errBadRequest("The domain name is not valid.")
	}
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.domainLocked(in.ID) != nil {
		return newGraphError(http.StatusConflict, "Request_BadRequest", "The domain %s already exists in this tenant.", in.ID)
	}
	d := &Domain{ID: strings.ToLower(in.ID)}
	t.domains = append(t.domains, d)
	t.touchLocked()
	body := domainSchema.project(d, nil, c.version)
	body["@odata.context"] = contextURL(c, "domains", nil, true)
	c.writeJSON(http.StatusCreated, body)
	return nil
}

func validDomainName(v string) bool {
	if len(v) < 3 || len(v) > 253 || !strings.Contains(v, ".") {
		return false
	}
	for _, label := range strings.Split(v, ".") {
		if label == "" || !mailNicknameRE.MatchString(label) {
			return false
		}
	}
	return true
}

// updateDomain implements PATCH isDefault: only a verified domain can be the default; the previous
// default stops being it.
func updateDomain(c *call) *graphError {
	raw, gerr := c.readBody()
	if gerr != nil {
		return gerr
	}
	var in struct {
		IsDefault *bool `json:"isDefault"`
	}
	if json.Unmarshal(raw, &in) != nil || in.IsDefault == nil || !*in.IsDefault {
		return errBadRequest("Only isDefault: true can be set on a domain here.")
	}
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.domainLocked(c.param("id"))
	switch {
	case d == nil:
		return errNotFound(c.param("id"))
	case !d.IsVerified:
		return errBadRequest("An unverified domain cannot be the default domain.")
	}
	for i, x := range t.domains {
		next := *x
		next.IsDefault = x == d
		t.domains[i] = &next
	}
	t.touchLocked()
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func verificationRecords(c *call) *graphError {
	t := c.tenant
	t.mu.RLock()
	d := t.domainLocked(c.param("id"))
	t.mu.RUnlock()
	if d == nil {
		return errNotFound(c.param("id"))
	}
	c.writeJSON(http.StatusOK, map[string]any{"value": []map[string]any{
		{"@odata.type": "#microsoft.graph.domainDnsTxtRecord", "id": "aceff52c-06a5-447f-ac5f-256ad243cc5c", "isOptional": false,
			"label": d.ID, "recordType": "Txt", "supportedService": nil, "ttl": 3600, "text": txtRecord(t, d.ID)},
		{"@odata.type": "#microsoft.graph.domainDnsMxRecord", "id": "5fbde38c-0865-497f-82b1-126f596bcee9", "isOptional": false,
			"label": d.ID, "recordType": "Mx", "supportedService": nil, "ttl": 3600, "preference": 32767,
			"mailExchange": "ms" + txtRecord(t, d.ID)[5:] + ".msv1.invalid"},
	}})
	return nil
}

// verifyDomain verifies a domain once its TXT record is published, unless another tenant holds it
// verified.
func (s *Server) verifyDomain(c *call) *graphError {
	t := c.tenant
	id := strings.ToLower(c.param("id"))
	for _, other := range s.store.tenants {
		if other == t {
			continue
		}
		other.mu.RLock()
		held := other.hasDomainLocked(id, true)
		other.mu.RUnlock()
		if held {
			return errBadRequest("Domain verification failed: the domain %s is already verified in another directory; remove it there first.", id)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.domainLocked(id)
	switch {
	case d == nil:
		return errNotFound(id)
	case !d.IsVerified && !t.dnsPublished[id]:
		return errBadRequest("Domain verification failed: the TXT record %s was not found in the DNS of %s.", txtRecord(t, id), id)
	}
	next := *d
	next.IsVerified = true
	for i, x := range t.domains {
		if x == d {
			t.domains[i] = &next
		}
	}
	t.touchLocked()
	body := domainSchema.project(&next, nil, c.version)
	c.writeJSON(http.StatusOK, body)
	return nil
}

// referencesLocked lists the objects using a domain: users by UPN, mail or proxy address, groups by
// mail or proxy address, applications by identifierUris host.
func (t *Tenant) referencesLocked(domain string) []map[string]any {
	domain = strings.ToLower(domain)
	onDomain := func(addr string) bool {
		_, host, ok := strings.Cut(strings.ToLower(addr), "@")
		return ok && host == domain
	}
	anyOn := func(list []string) bool {
		for _, a := range list {
			if onDomain(strings.TrimPrefix(strings.ToLower(a), "smtp:")) {
				return true
			}
		}
		return false
	}
	var out []map[string]any
	for _, u := range t.users.list() {
		if onDomain(u.UserPrincipalName) || onDomain(u.Mail) || anyOn(u.ProxyAddresses) {
			out = append(out, map[string]any{"@odata.type": "#microsoft.graph.user", "id": u.ID, "userPrincipalName": u.UserPrincipalName, "displayName": u.DisplayName})
		}
	}
	for _, g := range t.groups.list() {
		if onDomain(g.Mail) || anyOn(g.ProxyAddresses) {
			out = append(out, map[string]any{"@odata.type": "#microsoft.graph.group", "id": g.ID, "displayName": g.DisplayName, "mail": g.Mail})
		}
	}
	for _, a := range t.objs.apps.list() {
		for _, uri := range a.IdentifierURIs {
			if u, err := url.Parse(uri); err == nil && (strings.EqualFold(u.Hostname(), domain) || strings.HasSuffix(strings.ToLower(u.Hostname()), "."+domain)) {
				out = append(out, map[string]any{"@odata.type": "#microsoft.graph.application", "id": a.ID, "appId": a.AppID})
				break
			}
		}
	}
	return out
}

func domainReferences(c *call) *graphError {
	t := c.tenant
	t.mu.RLock()
	defer t.mu.RUnlock()
	d := t.domainLocked(c.param("id"))
	if d == nil {
		return errNotFound(c.param("id"))
	}
	c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.root() + "/$metadata#directoryObjects", "value": t.referencesLocked(d.ID)})
	return nil
}

// deleteDomain removes a domain no object uses; the default and initial domains cannot go.
func deleteDomain(c *call) *graphError {
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.domainLocked(c.param("id"))
	switch {
	case d == nil:
		return errNotFound(c.param("id"))
	case d.IsInitial:
		return errBadRequest("The initial domain %s cannot be deleted.", d.ID)
	case d.IsDefault:
		return errBadRequest("The default domain %s cannot be deleted; make another domain the default first.", d.ID)
	}
	if refs := t.referencesLocked(d.ID); len(refs) > 0 {
		// The docs say a delete fails while objects depend on the domain and point at
		// domainNameReferences; the message is the simulator's.
		return errBadRequest("Unable to delete domain %s: %d objects still reference it (see domainNameReferences).", d.ID, len(refs))
	}
	for i, x := range t.domains {
		if x == d {
			t.domains = append(t.domains[:i:i], t.domains[i+1:]...)
			break
		}
	}
	delete(t.dnsPublished, strings.ToLower(d.ID))
	t.touchLocked()
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

package simulator

import (
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// TenantSummary is a tenant as the admin API lists it. It never carries secrets.
type TenantSummary struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	DisplayName   string          `json:"displayName"`
	Domains       []*Domain       `json:"domains"`
	Users         int             `json:"users"`
	DeletedUsers  int             `json:"deletedUsers"`
	Groups        int             `json:"groups"`
	DeletedGroups int             `json:"deletedGroups"`
	Clients       []ClientSummary `json:"clients"`
	// InvitationMails counts invitations sent with sendInvitationMessage true: the mails Microsoft
	// would have sent. t2t must never cause one.
	InvitationMails int `json:"invitationMails"`
}

// ClientSummary is a service principal without its secret.
type ClientSummary struct {
	ClientID    string   `json:"clientId"`
	DisplayName string   `json:"displayName"`
	ObjectID    string   `json:"objectId"`
	Roles       []string `json:"roles"`
}

// serveAdmin serves the simulator's own API under /_sim/ (not Graph): tenants, dumps, counters. It
// needs no token but answers loopback callers only.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r.RemoteAddr) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "the admin API answers loopback callers only"})
		return
	}
	segs := splitPath(r.URL.EscapedPath())[1:]
	path := strings.Join(segs, "/")
	switch {
	case r.Method == http.MethodPost && len(segs) == 5 && segs[0] == "tenants" && segs[2] == "domains" && segs[4] == "dns":
		t := s.store.tenantByIDOrName(segs[1])
		if t == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no tenant " + segs[1]})
			return
		}
		t.mu.Lock()
		t.dnsPublished[strings.ToLower(segs[3])] = true
		t.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"published": segs[3]})
	case r.Method == http.MethodPost && path == "exchange/throttle":
		n, err := strconv.Atoi(r.URL.Query().Get("count"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "count must be a number"})
			return
		}
		s.exchange.throttleNext(n)
		writeJSON(w, http.StatusOK, map[string]int{"throttled": n})
	case r.Method == http.MethodPost && path == "migrationjobs/advance":
		hours, err := strconv.Atoi(r.URL.Query().Get("hours"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "hours must be a number"})
			return
		}
		s.jobs.advanceClock(hours)
		writeJSON(w, http.StatusOK, map[string]int{"advancedHours": hours})
	case r.Method == http.MethodPost && len(segs) == 4 && segs[0] == "tenants" && segs[2] == "migrationjobs" && segs[3] == "fail":
		t := s.store.tenantByIDOrName(segs[1])
		if t == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no tenant " + segs[1]})
			return
		}
		s.jobs.failUser(t.ID, r.URL.Query().Get("user"), r.URL.Query().Get("reason"))
		writeJSON(w, http.StatusOK, map[string]string{"failing": r.URL.Query().Get("user")})
	case r.Method == http.MethodPost && path == "bap/advance":
		hours, err := strconv.Atoi(r.URL.Query().Get("hours"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "hours must be a number"})
			return
		}
		s.pp.advance(hours)
		writeJSON(w, http.StatusOK, map[string]int{"advancedHours": hours})
	case r.Method == http.MethodGet && path == "health":
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case r.Method == http.MethodGet && path == "tenants":
		out := make([]TenantSummary, 0, len(s.store.tenants))
		for _, t := range s.store.tenants {
			out = append(out, t.summary())
		}
		writeJSON(w, http.StatusOK, out)
	case r.Method == http.MethodGet && len(segs) == 3 && segs[0] == "tenants" && segs[2] == "dump":
		t := s.store.tenantByIDOrName(segs[1])
		if t == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no tenant " + segs[1]})
			return
		}
		writeJSON(w, http.StatusOK, t.dump())
	case r.Method == http.MethodGet && path == "counters":
		writeJSON(w, http.StatusOK, s.counters.snapshot())
	case r.Method == http.MethodPost && path == "reset-counters":
		s.counters.reset()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && path == "vault":
		writeJSON(w, http.StatusOK, s.vaultSummary())
	default:
		if s.serveAdminControls(w, r, segs) { // settings and resets (admin_controls.go)
			return
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no admin route " + r.Method + " /_sim/" + path})
	}
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (t *Tenant) summary() TenantSummary {
	t.mu.RLock()
	defer t.mu.RUnlock()
	sum := TenantSummary{
		ID: t.ID, Name: t.Name, DisplayName: t.DisplayName, Domains: append([]*Domain(nil), t.domains...),
		Users: t.users.len(), DeletedUsers: len(t.deletedUsers), Clients: []ClientSummary{},
		Groups: t.groups.len(), DeletedGroups: len(t.deletedGroups), InvitationMails: t.invitationMails,
	}
	for _, c := range t.clients {
		sum.Clients = append(sum.Clients, ClientSummary{ClientID: c.ID, DisplayName: c.DisplayName, ObjectID: c.ObjectID, Roles: c.Roles})
	}
	slices.SortFunc(sum.Clients, func(a, b ClientSummary) int { return strings.Compare(a.ClientID, b.ClientID) })
	return sum
}

// dump renders every object of the tenant as Graph (beta) would, minus anything about passwords: no
// password profile, no hash.
func (t *Tenant) dump() map[string]any {
	sum := t.summary()
	t.mu.RLock()
	users := t.users.list()
	deleted := make([]*User, 0, len(t.deletedUsers))
	for _, u := range t.deletedUsers {
		deleted = append(deleted, u)
	}
	domains := append([]*Domain(nil), t.domains...)
	groups, deletedGroups := t.groups.list(), t.deletedGroupsLocked()
	objects := t.dumpObjectsLocked() // applications, service principals, CA, roles (objects_state.go)
	// Authorization and cross-tenant access policies (tenantsettings.go).
	settings := t.dumpSettingsLocked()
	t.mu.RUnlock()
	slices.SortFunc(deleted, func(a, b *User) int { return strings.Compare(a.ID, b.ID) })
	render := func(list []*User) []map[string]any {
		out := make([]map[string]any, len(list))
		for i, u := range list {
			out[i] = userSchema.project(u, nil, "beta")
			delete(out[i], "passwordProfile")
			if u.ManagerID != "" {
				out[i]["managerId"] = u.ManagerID // a relationship in Graph; the dump shows it inline
			}
		}
		return out
	}
	ds := make([]map[string]any, len(domains))
	for i, d := range domains {
		ds[i] = domainSchema.project(d, nil, "beta")
	}
	out := map[string]any{"tenant": sum, "users": render(users), "deletedUsers": render(deleted), "domains": ds,
		"groups": dumpGroups(groups), "deletedGroups": dumpGroups(deletedGroups)}
	for k, v := range objects {
		out[k] = v
	}
	for k, v := range settings {
		out[k] = v
	}
	return out
}

// vaultSummary lists secret names, versions and attributes; never values.
func (s *Server) vaultSummary() map[string]any {
	describe := func(list []*Secret) []map[string]any {
		out := make([]map[string]any, 0, len(list))
		for _, sec := range list {
			cur := sec.current()
			out = append(out, map[string]any{
				"name": sec.Name, "versions": len(sec.Versions), "enabled": cur.Enabled,
				"contentType": cur.ContentType, "updated": cur.Updated,
			})
		}
		return out
	}
	return map[string]any{
		"tenant": s.vault.tenant, "url": s.vaultURL,
		"secrets": describe(s.vault.list(false)), "deleted": describe(s.vault.list(true)),
	}
}

package simulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"sync"
	"time"
)

// Tenant is one simulated directory. Its object collections are guarded by mu: handlers take the read
// lock to query and the write lock to change, so the server is safe under concurrent requests.
type Tenant struct {
	ID          string
	Name        string
	DisplayName string
	Created     time.Time

	mu    sync.RWMutex
	users *userCollection
	// dnsPublished holds the domains whose verification TXT record is published (domains_manage.go).
	dnsPublished map[string]bool
	// devices and managed are its Entra and Intune devices (devices.go).
	devices []*Device
	managed []*ManagedDevice
	// skus are the tenant's subscriptions (licenses.go).
	skus []SkuConfig
	// invitationMails counts invitations that asked Microsoft to mail the invitee (admin.go).
	invitationMails int
	deletedUsers    map[string]*User // soft-deleted, by id (the directory keeps them 30 days)
	domains         []*Domain
	clients         map[string]*client // by lower-case client id
	version         uint64             // bumped on every change; drives persistence
	repl            *replication       // replication lag of new objects (lag.go); own lock

	groups        *groupCollection
	deletedGroups map[string]*Group // soft-deleted Microsoft 365 groups, by id
	changes       *changeLog        // users and groups changes, for delta queries

	objs *tenantObjects // applications, service principals, conditional access, roles (objects.go)

	settings *tenantSettings // organization profile, authorization and cross-tenant access policies (tenantsettings.go)
}

// client is an application's service principal in a tenant. The secret is kept only as a hash.
type client struct {
	ID          string
	DisplayName string
	ObjectID    string // the service principal's object id, the token's oid
	Roles       []string
	hasSecret   bool // false: federated credentials only
	secretHash  [32]byte
}

func (c *client) secretMatches(secret string) bool {
	h := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(h[:], c.secretHash[:]) == 1
}

// newTenant builds a tenant from its configuration, without users (see seedUsers and loadState).
func newTenant(tc *TenantConfig) *Tenant {
	t := &Tenant{
		ID:           strings.ToLower(tc.ID),
		Name:         tc.Name,
		DisplayName:  tc.DisplayName,
		Created:      time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		users:        newUserCollection(),
		deletedUsers: map[string]*User{},
		clients:      map[string]*client{},
	}
	t.groups, t.deletedGroups, t.changes = newGroupCollection(), map[string]*Group{}, newChangeLog()
	t.skus = tc.Skus
	t.dnsPublished = map[string]bool{}
	if t.DisplayName == "" {
		t.DisplayName = tc.Name
	}
	for _, d := range tc.allDomains() {
		t.domains = append(t.domains, newDomain(d))
	}
	for _, cc := range tc.Clients {
		name := cc.DisplayName
		if name == "" {
			name = cc.ClientID
		}
		t.clients[strings.ToLower(cc.ClientID)] = &client{
			ID:          strings.ToLower(cc.ClientID),
			DisplayName: name,
			ObjectID:    derivedGUID(t.ID, "servicePrincipal", strings.ToLower(cc.ClientID)),
			Roles:       append([]string(nil), cc.Roles...),
			hasSecret:   cc.Secret != "",
			secretHash:  sha256.Sum256([]byte(cc.Secret)),
		}
	}
	t.initObjects()
	t.initSettings(tc)
	return t
}

// client returns the tenant's service principal for clientID, or nil.
func (t *Tenant) client(clientID string) *client {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.clients[strings.ToLower(clientID)]
}

// hasDomain reports whether name is one of the tenant's domains; verified limits it to verified ones.
// The caller holds t.mu.
func (t *Tenant) hasDomainLocked(name string, verified bool) bool {
	for _, d := range t.domains {
		if strings.EqualFold(d.ID, name) && (d.IsVerified || !verified) {
			return true
		}
	}
	return false
}

// defaultDomain is the tenant's default domain name. The caller holds t.mu.
func (t *Tenant) defaultDomainLocked() string {
	for _, d := range t.domains {
		if d.IsDefault {
			return d.ID
		}
	}
	return t.Name + ".onmicrosoft.com"
}

// touchLocked records a change. The caller holds the write lock.
func (t *Tenant) touchLocked() { t.version++ }

// store is the set of tenants, fixed at startup (their contents change, the set does not).
type store struct {
	tenants []*Tenant
	byID    map[string]*Tenant
}

func newStore(cfg *Config) *store {
	s := &store{byID: map[string]*Tenant{}}
	for i := range cfg.Tenants {
		t := newTenant(&cfg.Tenants[i])
		s.tenants = append(s.tenants, t)
		s.byID[t.ID] = t
	}
	return s
}

// tenant resolves a tenant by id, or by one of its verified domain names, as the token endpoint does.
func (s *store) tenant(idOrDomain string) *Tenant {
	if t := s.byID[strings.ToLower(idOrDomain)]; t != nil {
		return t
	}
	for _, t := range s.tenants {
		t.mu.RLock()
		ok := t.hasDomainLocked(idOrDomain, true)
		t.mu.RUnlock()
		if ok {
			return t
		}
	}
	return nil
}

// tenantByIDOrName resolves a tenant by id or short name (admin API).
func (s *store) tenantByIDOrName(key string) *Tenant {
	if t := s.byID[strings.ToLower(key)]; t != nil {
		return t
	}
	for _, t := range s.tenants {
		if strings.EqualFold(t.Name, key) {
			return t
		}
	}
	return nil
}

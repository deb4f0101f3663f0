package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"time"
)

// Key Vault soft-delete settings: soft delete is always on for new vaults, with 90 days retention
// (https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview).
const (
	vaultRecoveryLevel   = "Recoverable+Purgeable"
	vaultRecoverableDays = 90
)

// SecretVersion is one version of a secret. Values are replaced, never mutated, once stored. The JSON
// tags are the state file's format; API answers are built by secretBundle, and the admin API never
// shows values.
type SecretVersion struct {
	Version     string            `json:"version"`
	Value       string            `json:"value"`
	ContentType string            `json:"contentType,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Enabled     bool              `json:"enabled"`
	NotBefore   *int64            `json:"nbf,omitempty"`
	Expires     *int64            `json:"exp,omitempty"`
	Created     int64             `json:"created"`
	Updated     int64             `json:"updated"`
}

// Secret is a named secret and its versions, oldest first (the last one is current).
type Secret struct {
	Name        string           `json:"name"`
	Versions    []*SecretVersion `json:"versions"`
	DeletedDate int64            `json:"deletedDate,omitempty"` // set while soft-deleted
}

func (s *Secret) current() *SecretVersion { return s.Versions[len(s.Versions)-1] }

func (s *Secret) version(v string) *SecretVersion {
	if v == "" {
		return s.current()
	}
	for _, sv := range s.Versions {
		if strings.EqualFold(sv.Version, v) {
			return sv
		}
	}
	return nil
}

// vault is the simulated Key Vault's data: live and soft-deleted secrets by lower-case name, and the
// role assignments of its RBAC model.
type vault struct {
	tenant  string
	roles   map[string]string // lower-case client id -> role
	mu      sync.Mutex
	secrets map[string]*Secret
	deleted map[string]*Secret
	version uint64
}

func newVault(cfg *VaultConfig) *vault {
	v := &vault{roles: map[string]string{}, secrets: map[string]*Secret{}, deleted: map[string]*Secret{}}
	if cfg != nil {
		v.tenant = strings.ToLower(cfg.Tenant)
		for _, ra := range cfg.RoleAssignments {
			v.roles[strings.ToLower(ra.ClientID)] = ra.Role
		}
	}
	return v
}

// vaultAction is what a request does, for the RBAC check.
type vaultAction int

const (
	actionReadMeta  vaultAction = iota // list, read properties
	actionReadValue                    // get a secret value
	actionWrite                        // set, update, delete, recover, purge
)

// allows reports whether the role grants the action, per the built-in roles' data actions.
func roleAllows(role string, a vaultAction) bool {
	switch role {
	case RoleSecretsOfficer:
		return true
	case RoleSecretsUser:
		return a != actionWrite
	case RoleVaultReader:
		return a == actionReadMeta
	}
	return false
}

func newSecretVersion() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// set adds a new version of name (creating the secret), unless the name is soft-deleted.
func (v *vault) set(name string, sv *SecretVersion) (*Secret, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := strings.ToLower(name)
	if v.deleted[key] != nil {
		return nil, false
	}
	s := v.secrets[key]
	if s == nil {
		s = &Secret{Name: name}
		v.secrets[key] = s
	}
	s.Versions = append(s.Versions, sv)
	v.version++
	return s, true
}

// get returns the secret and version (current when version is ""), or nils.
func (v *vault) get(name, version string) (*Secret, *SecretVersion) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.secrets[strings.ToLower(name)]
	if s == nil {
		return nil, nil
	}
	return s, s.version(version)
}

// update replaces a version's properties through fn, which receives a copy.
func (v *vault) update(name, version string, fn func(*SecretVersion)) (*Secret, *SecretVersion) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.secrets[strings.ToLower(name)]
	if s == nil {
		return nil, nil
	}
	for i, sv := range s.Versions {
		if strings.EqualFold(sv.Version, version) {
			next := *sv
			fn(&next)
			s.Versions[i] = &next
			v.version++
			return s, &next
		}
	}
	return s, nil
}

// softDelete moves a secret to the deleted set.
func (v *vault) softDelete(name string, now time.Time) *Secret {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := strings.ToLower(name)
	s := v.secrets[key]
	if s == nil {
		return nil
	}
	delete(v.secrets, key)
	gone := &Secret{Name: s.Name, Versions: s.Versions, DeletedDate: now.Unix()}
	v.deleted[key] = gone
	v.version++
	return gone
}

// getDeleted returns a soft-deleted secret.
func (v *vault) getDeleted(name string) *Secret {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.deleted[strings.ToLower(name)]
}

// recover brings a soft-deleted secret back; purge forgets it.
func (v *vault) recover(name string) *Secret {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := strings.ToLower(name)
	s := v.deleted[key]
	if s == nil {
		return nil
	}
	delete(v.deleted, key)
	back := &Secret{Name: s.Name, Versions: s.Versions}
	v.secrets[key] = back
	v.version++
	return back
}

func (v *vault) purge(name string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := strings.ToLower(name)
	if v.deleted[key] == nil {
		return false
	}
	delete(v.deleted, key)
	v.version++
	return true
}

// list returns live (or deleted) secrets sorted by lower-case name.
func (v *vault) list(deleted bool) []*Secret {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := v.secrets
	if deleted {
		m = v.deleted
	}
	out := make([]*Secret, 0, len(m))
	for _, s := range m {
		out = append(out, &Secret{Name: s.Name, Versions: append([]*SecretVersion(nil), s.Versions...), DeletedDate: s.DeletedDate})
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const storeFile = "store.json"

// stateFile is the persisted store: every tenant's objects and the vault's secrets. It holds password
// hashes and secret values, so it is written with mode 0600 and never served.
type stateFile struct {
	SavedAt time.Time               `json:"savedAt"`
	Tenants map[string]*tenantState `json:"tenants"`
	Vault   *vaultState             `json:"vault,omitempty"`
}

type tenantState struct {
	Users        []*User   `json:"users"`
	DeletedUsers []*User   `json:"deletedUsers"`
	Domains      []*Domain `json:"domains"`
	// Groups are absent from files saved before groups existed: the tenant then keeps its seeded ones.
	Groups        []*Group `json:"groups"`
	DeletedGroups []*Group `json:"deletedGroups"`
	// Objects are applications, service principals, conditional access and roles (objects_state.go).
	Objects *objectsState `json:"objects,omitempty"`
	// Settings are the authorization and cross-tenant access policies (tenantsettings.go).
	Settings *settingsState `json:"settings,omitempty"`
}

type vaultState struct {
	Secrets []*Secret `json:"secrets"`
	Deleted []*Secret `json:"deleted"`
}

// loadState replaces the seeded contents of the tenants found in dir/store.json. A missing file is not
// an error (first start); a tenant absent from the file keeps its seeded users.
func (s *Server) loadState(dir string) error {
	data, err := readStateFile(dir, storeFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("decoding %s: %w", filepath.Join(dir, storeFile), err)
	}
	for id, ts := range st.Tenants {
		if t := s.store.byID[strings.ToLower(id)]; t != nil {
			t.restore(ts)
		}
	}
	if st.Vault != nil {
		s.vault.mu.Lock()
		for _, sec := range st.Vault.Secrets {
			s.vault.secrets[strings.ToLower(sec.Name)] = sec
		}
		for _, sec := range st.Vault.Deleted {
			s.vault.deleted[strings.ToLower(sec.Name)] = sec
		}
		s.vault.mu.Unlock()
	}
	return nil
}

// restore replaces the tenant's objects with saved ones. Domains configured since the save are kept.
func (t *Tenant) restore(ts *tenantState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.users = newUserCollection()
	for _, u := range ts.Users {
		t.users.add(u)
	}
	t.deletedUsers = map[string]*User{}
	for _, u := range ts.DeletedUsers {
		t.deletedUsers[u.ID] = u
	}
	t.restoreObjectsLocked(ts.Objects)
	t.restoreSettingsLocked(ts.Settings)
	if ts.Groups != nil {
		t.groups, t.deletedGroups = newGroupCollection(), map[string]*Group{}
		for _, g := range ts.Groups {
			t.groups.add(g)
		}
		for _, g := range ts.DeletedGroups {
			t.deletedGroups[g.ID] = g
		}
	}
	for _, d := range ts.Domains {
		i := slices.IndexFunc(t.domains, func(x *Domain) bool { return strings.EqualFold(x.ID, d.ID) })
		if i >= 0 {
			t.domains[i] = d
		} else {
			t.domains = append(t.domains, d)
		}
	}
}

// stateVersion sums the change counters, to skip saving when nothing changed.
func (s *Server) stateVersion() uint64 {
	var v uint64
	for _, t := range s.store.tenants {
		t.mu.RLock()
		v += t.version
		t.mu.RUnlock()
	}
	s.vault.mu.Lock()
	v += s.vault.version
	s.vault.mu.Unlock()
	return v
}

// saveState writes the store to dir/store.json when it changed since the last save.
func (s *Server) saveState(dir string) error {
	version := s.stateVersion()
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if version == s.savedVersion && s.savedOnce {
		return nil
	}
	st := stateFile{SavedAt: s.now().UTC(), Tenants: map[string]*tenantState{}}
	for _, t := range s.store.tenants {
		t.mu.RLock()
		ts := &tenantState{Users: t.users.list(), Domains: append([]*Domain(nil), t.domains...),
			Groups: t.groups.list(), DeletedGroups: t.deletedGroupsLocked(), Objects: t.objectsStateLocked(),
			Settings: t.settingsStateLocked()}
		for _, u := range t.deletedUsers {
			ts.DeletedUsers = append(ts.DeletedUsers, u)
		}
		t.mu.RUnlock()
		slices.SortFunc(ts.DeletedUsers, func(a, b *User) int { return strings.Compare(a.ID, b.ID) })
		st.Tenants[t.ID] = ts
	}
	st.Vault = &vaultState{Secrets: s.vault.list(false), Deleted: s.vault.list(true)}
	data, err := json.Marshal(&st)
	if err != nil {
		return fmt.Errorf("encoding simulator state: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, storeFile), data, 0o600); err != nil {
		return err
	}
	s.savedVersion, s.savedOnce = version, true
	return nil
}

// persistLoop saves periodically until stop is closed.
func (s *Server) persistLoop(dir string, every time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if err := s.saveState(dir); err != nil {
				s.log.Error("saving simulator state", "err", err)
			}
		}
	}
}

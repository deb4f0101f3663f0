package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A seed file gives a tenant objects from a JSON document shaped like the admin dump
// (GET /_sim/tenants/{tenant}/dump): {"tenant": {...}, "domains": [...], "users": [...],
// "deletedUsers": [...], ...}, so a rehearsal can start from a real-looking export. Objects use
// Graph's property names; properties the simulator does not model are ignored (a real export has many),
// but every object must pass the directory's own rules (ids are GUIDs, UPNs unique and on a verified
// domain of the tenant). "tenant" is ignored: the tenants file decides the id, name and clients.
// Domains missing from the tenants file are added; configured ones win.
//
// Collections other than users register a section with registerSeedSection (see doc.go); a non-empty
// section nobody registered is an error, so an export is never half loaded without notice.

// seedSection loads one collection of a seed file into a tenant. It runs after domains and users,
// sections in registration order, with t.mu held for writing.
type seedSection struct {
	name string
	load func(t *Tenant, raw json.RawMessage) error
}

var seedSections []seedSection

// registerSeedSection makes the seed file loader accept a top-level section (call it from an init
// function of the collection's file). load runs with t.mu held for writing and must validate what it
// adds.
func registerSeedSection(name string, load func(t *Tenant, raw json.RawMessage) error) {
	seedSections = append(seedSections, seedSection{name: name, load: load})
}

// resolveSeedFiles makes relative seed file paths relative to the tenants file at configPath.
func (c *Config) resolveSeedFiles(configPath string) {
	for i := range c.Tenants {
		if f := c.Tenants[i].Seed.File; f != "" && !filepath.IsAbs(f) {
			c.Tenants[i].Seed.File = filepath.Join(filepath.Dir(configPath), f)
		}
	}
}

// loadSeedFile adds the objects of the seed file at path ("" means none) to t.
func (s *Server) loadSeedFile(t *Tenant, path string) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("tenant %s seed file: %w", t.Name, err)
	}
	if err := t.loadSeed(data); err != nil {
		return fmt.Errorf("tenant %s seed file %s: %w", t.Name, path, err)
	}
	return nil
}

// loadSeed adds the objects of a seed document to t.
func (t *Tenant) loadSeed(data []byte) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	known := map[string]bool{"tenant": true, "domains": true, "users": true, "deletedUsers": true}
	for _, sec := range seedSections {
		known[sec.name] = true
	}
	for name, raw := range doc {
		if !known[name] && !emptySection(raw) {
			return fmt.Errorf("section %q is not supported by the simulator", name)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.seedDomainsLocked(doc["domains"]); err != nil {
		return err
	}
	if err := t.seedUsersLocked(doc["users"], false); err != nil {
		return err
	}
	if err := t.seedUsersLocked(doc["deletedUsers"], true); err != nil {
		return err
	}
	for _, sec := range seedSections {
		if raw, ok := doc[sec.name]; ok && !emptySection(raw) {
			if err := sec.load(t, raw); err != nil {
				return fmt.Errorf("%s: %w", sec.name, err)
			}
		}
	}
	t.touchLocked()
	return nil
}

func emptySection(raw json.RawMessage) bool {
	v := bytes.TrimSpace(raw)
	return len(v) == 0 || bytes.Equal(v, []byte("null")) || bytes.Equal(v, []byte("[]")) || bytes.Equal(v, []byte("{}"))
}

func (t *Tenant) seedDomainsLocked(raw json.RawMessage) error {
	if emptySection(raw) {
		return nil
	}
	var domains []*Domain
	if err := json.Unmarshal(raw, &domains); err != nil {
		return fmt.Errorf("domains: %w", err)
	}
	for _, d := range domains {
		d.ID = strings.ToLower(d.ID)
		if d.ID == "" || !domainRE.MatchString(d.ID) {
			return fmt.Errorf("domains: %q is not a domain name", d.ID)
		}
		if slices.ContainsFunc(t.domains, func(x *Domain) bool { return x.ID == d.ID }) {
			continue
		}
		// The tenant keeps its one default domain and its own initial domain.
		d.IsDefault, d.IsInitial = false, false
		t.domains = append(t.domains, d)
	}
	return nil
}

// seedUsersLocked adds live (or, with deleted, soft-deleted) users, checked as a create would be.
func (t *Tenant) seedUsersLocked(raw json.RawMessage, deleted bool) error {
	if emptySection(raw) {
		return nil
	}
	section := "users"
	if deleted {
		section = "deletedUsers"
	}
	var users []*User
	if err := json.Unmarshal(raw, &users); err != nil {
		return fmt.Errorf("%s: %w", section, err)
	}
	for i, u := range users {
		u.ID = strings.ToLower(u.ID)
		u.PasswordHash = "" // a seed file never carries credentials
		switch {
		case !guidRE.MatchString(u.ID):
			return fmt.Errorf("%s[%d]: id %q is not a GUID", section, i, u.ID)
		case t.users.byID[u.ID] != nil || t.deletedUsers[u.ID] != nil:
			return fmt.Errorf("%s[%d]: id %s is used twice", section, i, u.ID)
		case u.UserPrincipalName == "":
			return fmt.Errorf("%s[%d]: userPrincipalName is missing", section, i)
		}
		if u.UserType == "" {
			u.UserType = "Member"
		}
		if deleted {
			if u.DeletedDateTime == nil {
				return fmt.Errorf("%s[%d]: deletedDateTime is missing", section, i)
			}
			t.deletedUsers[u.ID] = u
			continue
		}
		u.DeletedDateTime = nil
		if gerr := t.checkUserLocked(u, nil); gerr != nil {
			return fmt.Errorf("%s[%d] %s: %s", section, i, u.UserPrincipalName, gerr.message)
		}
		t.users.add(u)
	}
	return nil
}

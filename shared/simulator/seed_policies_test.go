package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

var errSeedInvalid = errors.New("seeded object is invalid")

// checkSeededLocked validates the seeded objects with the API's own rules.
func (t *Tenant) checkSeededLocked() error {
	for _, a := range t.objs.apps.list() {
		if gerr := a.appProps.validate(nil); gerr != nil {
			return fmt.Errorf("%w: application %s: %s", errSeedInvalid, a.DisplayName, gerr.message)
		}
		if gerr := t.checkAppLocked(a, a); gerr != nil {
			return fmt.Errorf("%w: application %s: %s", errSeedInvalid, a.DisplayName, gerr.message)
		}
	}
	for _, l := range t.objs.locations.list() {
		if _, gerr := decodeLocation(l.Type, toJSONMap(l.locationProps)); gerr != nil {
			return fmt.Errorf("%w: named location %s: %s", errSeedInvalid, l.DisplayName, gerr.message)
		}
	}
	for _, r := range t.objs.roles.list() {
		if !r.IsBuiltIn {
			if gerr := r.roleProps.validate(); gerr != nil {
				return fmt.Errorf("%w: role %s: %s", errSeedInvalid, r.DisplayName, gerr.message)
			}
		}
	}
	for _, p := range t.objs.policies.list() {
		if gerr := p.caProps.validate(); gerr != nil {
			return fmt.Errorf("%w: policy %s: %s", errSeedInvalid, p.DisplayName, gerr.message)
		}
		if gerr := t.checkCAReferencesLocked(&p.caProps); gerr != nil {
			return fmt.Errorf("%w: policy %s: %s", errSeedInvalid, p.DisplayName, gerr.message)
		}
	}
	return nil
}

func policySeededTenant(t *testing.T, tc *TenantConfig) *Tenant {
	t.Helper()
	s, err := New(&Config{Tenants: []TenantConfig{*tc}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.store.tenants[0]
}

func TestSeedPoliciesDeterministicAndValid(t *testing.T) {
	tc := ExampleConfig().Tenants[0]
	tc.Seed.Apps, tc.Seed.NamedLocations, tc.Seed.CustomRoles, tc.Seed.ConditionalAccessPolicies = 13, 7, 6, 14
	tc.Seed.Groups = 8
	a, b := policySeededTenant(t, &tc), policySeededTenant(t, &tc)
	dump := func(t *Tenant) string {
		data, _ := json.Marshal(t.dump())
		return string(data)
	}
	if dump(a) != dump(b) {
		t.Fatal("two tenants from the same seed differ")
	}
	if err := a.checkSeededLocked(); err != nil {
		t.Fatal(err)
	}
	o := a.objs
	custom := 0
	for _, r := range o.roles.list() {
		if !r.IsBuiltIn {
			custom++
		}
	}
	if o.apps.len() != 13 || o.locations.len() != 7 || custom != 6 || o.policies.len() != 14 {
		t.Fatalf("got %d apps, %d locations, %d custom roles, %d policies", o.apps.len(), o.locations.len(), custom, o.policies.len())
	}
	// Every app has its service principal; role apps have assignments to users and a group.
	kinds := map[string]int{}
	for _, as := range o.assignments.list() {
		kinds[as.PrincipalType]++
	}
	if kinds["User"] == 0 || kinds["Group"] == 0 || kinds["ServicePrincipal"] == 0 {
		t.Errorf("assignment principal kinds %v", kinds)
	}
	// Policies reference users (include and exclude), groups, roles, locations and apps.
	var refs = map[string]bool{}
	for _, p := range o.policies.list() {
		u, ap := p.Conditions.Users, p.Conditions.Applications
		refs["includeUser"] = refs["includeUser"] || len(u.IncludeUsers) > 0 && isGUID(u.IncludeUsers[0])
		refs["excludeUser"] = refs["excludeUser"] || len(u.ExcludeUsers) > 0
		refs["group"] = refs["group"] || len(u.IncludeGroups)+len(u.ExcludeGroups) > 0
		refs["role"] = refs["role"] || len(u.IncludeRoles) > 0
		refs["app"] = refs["app"] || len(ap.IncludeApplications) > 0 && isGUID(ap.IncludeApplications[0])
		refs["location"] = refs["location"] || p.Conditions.Locations != nil && len(p.Conditions.Locations.ExcludeLocations) > 0 &&
			isGUID(p.Conditions.Locations.ExcludeLocations[0])
	}
	for _, k := range []string{"includeUser", "excludeUser", "group", "role", "app", "location"} {
		if !refs[k] {
			t.Errorf("no seeded policy references a %s", k)
		}
	}
	other := tc
	other.Seed.Seed++
	if reflect.DeepEqual(dump(policySeededTenant(t, &other)), dump(a)) {
		t.Error("a different seed gave the same objects")
	}
	if strings.Contains(dump(a), `"hash"`) {
		t.Error("the dump carries a secret hash")
	}
}

func TestSeedPoliciesWithoutUsersOrGroups(t *testing.T) {
	tc := ExampleConfig().Tenants[1]
	tc.Seed = SeedConfig{Seed: 3, Apps: 3, NamedLocations: 1, CustomRoles: 1, ConditionalAccessPolicies: 6}
	ten := policySeededTenant(t, &tc)
	if err := ten.checkSeededLocked(); err != nil {
		t.Fatal(err)
	}
}

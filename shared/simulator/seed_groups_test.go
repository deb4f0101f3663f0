package simulator

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func seededTenant(t *testing.T, edit func(*SeedConfig)) *Tenant {
	t.Helper()
	tc := ExampleConfig().Tenants[1]
	tc.Seed.Users, tc.Seed.Guests, tc.Seed.ExternalMembers, tc.Seed.Managers = 120, 5, 3, true
	tc.Seed.Groups, tc.Seed.DynamicGroups, tc.Seed.MailEnabledGroups, tc.Seed.NestingDepth = 30, 4, 4, 3
	if edit != nil {
		edit(&tc.Seed)
	}
	if err := tc.validate(); err != nil {
		t.Fatal(err)
	}
	tn := newTenant(&tc)
	tn.mu.Lock()
	defer tn.mu.Unlock()
	for _, u := range seedUsers(&tc, tn.defaultDomainLocked()) {
		tn.users.add(u)
	}
	tn.initDirectoryLocked(&tc, 0)
	return tn
}

func TestSeedDirectoryDeterministic(t *testing.T) {
	a, b := seededTenant(t, nil), seededTenant(t, nil)
	if !reflect.DeepEqual(a.users.list(), b.users.list()) || !reflect.DeepEqual(a.groups.list(), b.groups.list()) {
		t.Fatal("two tenants from one configuration differ")
	}
	c := seededTenant(t, func(sc *SeedConfig) { sc.Seed++ })
	if reflect.DeepEqual(a.groups.list(), c.groups.list()) {
		t.Error("a different seed gave the same groups")
	}
	// Adding groups does not change the users.
	d := seededTenant(t, func(sc *SeedConfig) { sc.Groups = 40 })
	if !reflect.DeepEqual(a.users.list(), d.users.list()) {
		t.Error("more groups changed the users")
	}
}

func TestSeedDirectoryShape(t *testing.T) {
	tn := seededTenant(t, nil)
	if n := tn.users.len(); n != 128 {
		t.Fatalf("%d users, want 120 + 5 guests + 3 external members", n)
	}
	kinds := map[string]int{}
	guests, external, managed := 0, 0, 0
	for _, u := range tn.users.list() {
		if u.UserType == "Guest" {
			guests++
		}
		if u.isExternal() {
			external++
			if !strings.HasSuffix(u.UserPrincipalName, "#EXT#@fabrikam.onmicrosoft.com") || !validAddress(u.UserPrincipalName, upnLocalRE) {
				t.Errorf("external UPN %q", u.UserPrincipalName)
			}
		}
		if u.ManagerID != "" {
			managed++
		}
	}
	if guests != 5 || external != 8 || managed < 100 {
		t.Errorf("%d guests, %d external, %d with a manager", guests, external, managed)
	}
	for _, g := range tn.groups.list() {
		kind := g.kind()
		if g.isDynamic() {
			kind = "dynamic"
			if g.MembershipRule == "" || g.MembershipRuleProcessingState != "On" {
				t.Errorf("dynamic group %+v", g)
			}
		}
		kinds[kind]++
		if checkGroupShape(g, false) != nil && kind != groupKindMailSecurity && kind != groupKindDistribution {
			t.Errorf("seeded group %s has a shape Graph refuses: %v", g.DisplayName, checkGroupShape(g, false))
		}
		if !isGroupNickname(g.MailNickname) {
			t.Errorf("group nickname %q", g.MailNickname)
		}
		for _, m := range g.Members {
			if _, ok := tn.objectLocked(m); !ok {
				t.Errorf("group %s has unknown member %s", g.DisplayName, m)
			}
		}
	}
	want := map[string]int{"dynamic": 4, groupKindMailSecurity: 2, groupKindDistribution: 2, groupKindSecurity: 11, groupKindUnified: 11}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("group kinds %v, want %v", kinds, want)
	}
	// The longest chain of nested groups is the configured depth.
	depth := 0
	var walk func(g *Group, d int)
	walk = func(g *Group, d int) {
		depth = max(depth, d)
		for _, m := range g.Members {
			if child := tn.groups.get(m); child != nil {
				walk(child, d+1)
			}
		}
	}
	for _, g := range tn.groups.list() {
		walk(g, 0)
	}
	if depth != 3 {
		t.Errorf("nesting depth %d, want 3", depth)
	}
}

func TestSeedFileGroupsRoundTrip(t *testing.T) {
	a := seededTenant(t, nil)
	dump := map[string]any{}
	for k, v := range a.dump() {
		if k == "users" || k == "domains" || k == "groups" || k == "deletedGroups" {
			dump[k] = v // the sections this file's families own
		}
	}
	data, err := json.Marshal(dump)
	if err != nil {
		t.Fatal(err)
	}
	tc := ExampleConfig().Tenants[1]
	tc.Seed.Users = 0
	b := newTenant(&tc)
	if err := b.loadSeed(data); err != nil {
		t.Fatalf("loading a dump: %v", err)
	}
	if b.groups.len() != a.groups.len() {
		t.Fatalf("%d groups loaded, want %d", b.groups.len(), a.groups.len())
	}
	for _, g := range a.groups.list() {
		got := b.groups.get(g.ID)
		if got == nil || !slices.Equal(got.Members, g.Members) || !slices.Equal(got.Owners, g.Owners) || got.kind() != g.kind() {
			t.Errorf("group %s did not survive the dump and load", g.DisplayName)
		}
	}
	bad := []byte(`{"groups": [{"id": "0b8cc234-ef87-4015-9785-cbb42000d41c", "displayName": "x", "members": ["7d3c1f2a-5b8e-4c61-9a0f-2e4b6d8c1a99"]}]}`)
	if err := newTenant(&tc).loadSeed(bad); err == nil {
		t.Error("a group with an unknown member loaded")
	}
}

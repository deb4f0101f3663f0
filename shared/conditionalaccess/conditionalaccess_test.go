package conditionalaccess_test

// The conditional access phase against the tenant simulator and Azurite. The phases it runs after are
// stood in for: named locations and custom roles run for real; users, groups and applications are
// created in the target by the test, and their id mappings written as their phases would. The target
// is asserted through the simulator's dump (which refuses a policy naming an object it does not have).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/conditionalaccess"
	"t2t/shared/customroles"
	"t2t/shared/localstack"
	"t2t/shared/namedlocations"
	"t2t/shared/phase"
	"t2t/shared/phase/phasetest"
	"t2t/shared/simulator/simtest"
	"t2t/shared/state"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

// The example source tenant (contoso) has six policies (seed_policies.go); every one excludes a
// break-glass user and a group, and together they name built-in and custom roles, named locations, a
// tenant app, Office365, All and GuestsOrExternalUsers.
const (
	legacyAuth    = "Block legacy authentication"
	compliantApps = "Require compliant device for line-of-business apps" // the only one including a group and an app
)

// referenceLists are the policy lists that hold references, as the dump renders them.
var referenceLists = [][2]string{
	{"users", "includeUsers"}, {"users", "excludeUsers"}, {"users", "includeGroups"}, {"users", "excludeGroups"},
	{"users", "includeRoles"}, {"users", "excludeRoles"}, {"applications", "includeApplications"},
	{"applications", "excludeApplications"}, {"locations", "includeLocations"}, {"locations", "excludeLocations"},
}

func refs(p map[string]any, cond, list string) []string {
	c, _ := p["conditions"].(map[string]any)
	part, _ := c[cond].(map[string]any)
	vals, _ := part[list].([]any)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.(string)
	}
	return out
}

// world is the source's policies and what each source object they name became in the target.
type world struct {
	s      *phasetest.Setup
	source map[string]map[string]any // policies by display name
	target map[string]string         // source id → target id (appId for applications)
}

// prepare runs the named locations and custom roles phases, and creates a target user, group and app
// for each one the policies name, mapping them as the users, groups and applications phases would,
// except those skip names (by list and source id).
func prepare(t *testing.T, s *phasetest.Setup, skip func(list, id string) bool) *world {
	ctx := context.Background()
	for _, p := range []phase.Phase{namedlocations.Phase, customroles.Phase} {
		if _, err := phasetest.Run(ctx, p, s.Env(t, "w0", false)); err != nil {
			t.Fatal(err)
		}
	}
	w := &world{s: s, source: s.ByName(t, "contoso", "conditionalAccessPolicies"), target: map[string]string{}}
	for _, coll := range []string{"namedLocations", "roleDefinitions"} {
		tgt := s.ByName(t, "fabrikam", coll)
		for name, o := range s.ByName(t, "contoso", coll) {
			w.target[o["id"].(string)] = tgt[name]["id"].(string)
		}
	}
	targetUsers := s.Objects(t, "fabrikam", "users")
	var maps []state.IDMapping
	add := func(typ, src, tgt string) {
		w.target[src] = tgt
		maps = append(maps, state.IDMapping{Migration: s.Migration, Type: typ, SourceID: src, TargetID: tgt, Created: true, Wave: "w0"})
	}
	for _, name := range slices.Sorted(mapsKeys(w.source)) {
		p := w.source[name]
		for _, l := range referenceLists {
			for _, id := range refs(p, l[0], l[1]) {
				if _, done := w.target[id]; done || !isGUID(id) || skip(l[1], id) {
					continue
				}
				switch {
				case strings.HasSuffix(l[1], "Users"):
					add("users", id, targetUsers[len(maps)%len(targetUsers)]["id"].(string))
				case strings.HasSuffix(l[1], "Groups"):
					add("groups", id, newGroup(t, s, fmt.Sprintf("Group %d", len(maps))))
				case strings.HasSuffix(l[1], "Applications"):
					add("appIds", id, newApp(t, s, fmt.Sprintf("App %d", len(maps))))
				}
			}
		}
	}
	if err := s.Store.PutIDMaps(ctx, maps); err != nil {
		t.Fatal(err)
	}
	return w
}

func noSkip(string, string) bool { return false }

func isGUID(s string) bool { return len(s) == 36 && strings.Count(s, "-") == 4 }

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func newGroup(t *testing.T, s *phasetest.Setup, name string) string {
	g := models.NewGroup()
	nick, no, yes := strings.ReplaceAll(strings.ToLower(name), " ", ""), false, true
	g.SetDisplayName(&name)
	g.SetMailNickname(&nick)
	g.SetMailEnabled(&no)
	g.SetSecurityEnabled(&yes)
	made, err := s.Target.Groups().Post(context.Background(), g, nil)
	if err != nil {
		t.Fatal(err)
	}
	return *made.GetId()
}

// newApp registers an app with its service principal in the target and returns its appId.
func newApp(t *testing.T, s *phasetest.Setup, name string) string {
	a := models.NewApplication()
	a.SetDisplayName(&name)
	made, err := s.Target.Applications().Post(context.Background(), a, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp := models.NewServicePrincipal()
	sp.SetAppId(made.GetAppId())
	if _, err := s.Target.ServicePrincipals().Post(context.Background(), sp, nil); err != nil {
		t.Fatal(err)
	}
	return *made.GetAppId()
}

// checkRemapped asserts that a target policy holds exactly its source's references, each source
// object replaced by its target object, and values that are no object (All, built-in role template
// ids, Office365) unchanged.
func (w *world) checkRemapped(t *testing.T, name string, got map[string]any) {
	t.Helper()
	src := w.source[name]
	for _, l := range referenceLists {
		var want []string
		for _, id := range refs(src, l[0], l[1]) {
			if tgt, ok := w.target[id]; ok {
				id = tgt
			}
			want = append(want, id)
		}
		have := refs(got, l[0], l[1])
		slices.Sort(want)
		slices.Sort(have)
		if !slices.Equal(have, want) {
			t.Errorf("%s: %s.%s = %v, want %v", name, l[0], l[1], have, want)
		}
		for _, id := range have {
			if _, isSource := w.target[id]; isSource {
				t.Errorf("%s: %s.%s still holds the source id %s", name, l[0], l[1], id)
			}
		}
	}
}

func TestPoliciesAreCreatedDisabledWithEveryReferenceRemapped(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	w := prepare(t, s, noSkip)
	counts, err := phasetest.Run(ctx, conditionalaccess.Phase, s.Env(t, "w1", false))
	if err != nil || counts != (wave.Counts{Created: 6}) {
		t.Fatalf("counts = %+v, %v; want 6 created", counts, err)
	}
	got := s.ByName(t, "fabrikam", "conditionalAccessPolicies")
	if len(got) != 6 {
		t.Fatalf("the target holds %d policies, want 6", len(got))
	}
	enabled := 0
	for name, p := range got {
		if w.source[name]["state"] == "enabled" {
			enabled++
		}
		if p["state"] != "disabled" {
			t.Errorf("%s: state %v, want disabled (the source's is %v)", name, p["state"], w.source[name]["state"])
		}
		w.checkRemapped(t, name, p)
	}
	if enabled == 0 {
		t.Error("the seed has no enabled policy: the state check proves nothing")
	}
	writes := s.Writes(t, simtest.FabrikamID)
	next, err := phasetest.Run(ctx, conditionalaccess.Phase, s.Env(t, "w2", false))
	if err != nil || next != (wave.Counts{Matched: 6}) {
		t.Errorf("next wave = %+v, %v; want 6 matched", next, err)
	}
	if n := s.Writes(t, simtest.FabrikamID); n != writes || len(s.ByName(t, "fabrikam", "conditionalAccessPolicies")) != 6 {
		t.Errorf("the next wave wrote %d times to the target", n-writes)
	}
}

func TestAnUnresolvedReferenceKeepsThePolicyPendingUntilItResolves(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	var missing string // the group only the compliant-apps policy includes
	w := prepare(t, s, func(list, id string) bool {
		if list == "includeGroups" {
			missing = id
			return true
		}
		return false
	})
	env := s.Env(t, "w1", false)
	counts, err := phasetest.Run(ctx, conditionalaccess.Phase, env)
	if err != nil || counts != (wave.Counts{Created: 5, Pending: 1}) {
		t.Fatalf("counts = %+v, %v; want 5 created, 1 pending", counts, err)
	}
	if _, ok := s.ByName(t, "fabrikam", "conditionalAccessPolicies")[compliantApps]; ok {
		t.Fatalf("%q was created although the group it includes does not resolve", compliantApps)
	}
	entry, err := s.Store.GetLedger(ctx, env.Scope(conditionalaccess.Type, 0), w.source[compliantApps]["id"].(string))
	if err != nil || entry.Status != wave.ObjPending || !strings.Contains(entry.LastError, "groups "+missing) {
		t.Errorf("ledger = %+v, %v; want Pending naming groups %s", entry, err, missing)
	}
	steps := conditionalaccess.Phase.ManualSteps(env, counts)
	if len(steps) != 2 || !strings.Contains(steps[1], "1 conditional access policies were not created") {
		t.Errorf("manual steps = %q", steps)
	}

	// The groups phase of a later wave migrates the group; that wave creates the policy, report-only
	// as it asks.
	w.target[missing] = newGroup(t, s, "Late group")
	if err := s.Store.PutIDMap(ctx, state.IDMapping{Migration: s.Migration, Type: "groups", SourceID: missing,
		TargetID: w.target[missing], Created: true, Wave: "w2"}); err != nil {
		t.Fatal(err)
	}
	env2 := s.Env(t, "w2", false)
	env2.Options.CAState = wave.CAReportOnly
	counts, err = phasetest.Run(ctx, conditionalaccess.Phase, env2)
	if err != nil || counts != (wave.Counts{Created: 1, Matched: 5}) {
		t.Fatalf("second wave = %+v, %v; want 1 created, 5 matched", counts, err)
	}
	got := s.ByName(t, "fabrikam", "conditionalAccessPolicies")
	p := got[compliantApps]
	if len(got) != 6 || p == nil || p["state"] != "enabledForReportingButNotEnforced" {
		t.Fatalf("the target holds %d policies; %q = %v, want it created report-only", len(got), compliantApps, p)
	}
	w.checkRemapped(t, compliantApps, p)
	if got[legacyAuth]["state"] != "disabled" {
		t.Errorf("%q changed state to %v: matched policies are never modified", legacyAuth, got[legacyAuth]["state"])
	}
}

func TestImportAfterCrashClaimsItsOwnPolicyAndMatchesOthers(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	w := prepare(t, s, noSkip)
	post := func(name string) string {
		p := models.NewConditionalAccessPolicy()
		state := models.DISABLED_CONDITIONALACCESSPOLICYSTATE
		p.SetDisplayName(&name)
		p.SetState(&state)
		c := models.NewConditionalAccessConditionSet()
		u := models.NewConditionalAccessUsers()
		u.SetIncludeUsers([]string{"None"})
		a := models.NewConditionalAccessApplications()
		a.SetIncludeApplications([]string{"None"})
		c.SetUsers(u)
		c.SetApplications(a)
		c.SetClientAppTypes([]models.ConditionalAccessClientApp{models.ALL_CONDITIONALACCESSCLIENTAPP})
		p.SetConditions(c)
		g := models.NewConditionalAccessGrantControls()
		op := "OR"
		g.SetOperator(&op)
		g.SetBuiltInControls([]models.ConditionalAccessGrantControl{models.BLOCK_CONDITIONALACCESSGRANTCONTROL})
		p.SetGrantControls(g)
		made, err := s.Target.Identity().ConditionalAccess().Policies().Post(ctx, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		return *made.GetId()
	}
	// An administrator's policy that happens to share a name: matched, before any intent.
	theirs := post(compliantApps)
	// The first attempt recorded its intent for the legacy-auth policy, created it and died.
	src := w.source[legacyAuth]["id"].(string)
	if err := s.Store.PutLedger(ctx, state.LedgerEntry{Wave: "w1", Version: "v1", Phase: conditionalaccess.Type, Key: src,
		SourceID: src, Status: wave.ObjCreating, Attempts: 1, IntentUtc: time.Now().UTC().Add(-2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	ours := post(legacyAuth)
	counts, err := phasetest.Run(ctx, conditionalaccess.Phase, s.Env(t, "w1", false))
	if err != nil || counts != (wave.Counts{Created: 5, Matched: 1}) {
		t.Fatalf("counts = %+v, %v; want 5 created (one the orphan), 1 matched", counts, err)
	}
	if n := len(s.ByName(t, "fabrikam", "conditionalAccessPolicies")); n != 6 {
		t.Errorf("the target holds %d policies, want 6", n)
	}
	for name, want := range map[string]struct {
		id      string
		created bool
	}{legacyAuth: {ours, true}, compliantApps: {theirs, false}} {
		m, err := s.Store.GetIDMap(ctx, s.Migration, conditionalaccess.Type, w.source[name]["id"].(string))
		if err != nil || m.TargetID != want.id || m.Created != want.created {
			t.Errorf("%s: id map %+v, %v; want %s, created %v", name, m, err, want.id, want.created)
		}
	}
}

func TestDryRunGivesVerdictsAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	prepare(t, s, func(list, _ string) bool { return list == "includeGroups" })
	before := s.Writes(t, simtest.FabrikamID)
	env := s.Env(t, "dry", true)
	counts, err := phasetest.Run(ctx, conditionalaccess.Phase, env)
	if err != nil || counts != (wave.Counts{Created: 5, Pending: 1}) {
		t.Fatalf("plan = %+v, %v; want 5 would-create, 1 pending", counts, err)
	}
	if n := s.Writes(t, simtest.FabrikamID); n != before {
		t.Errorf("a dry run wrote %d times to the target", n-before)
	}
	if n := len(s.Objects(t, "fabrikam", "conditionalAccessPolicies")); n != 0 {
		t.Errorf("the target holds %d policies after a dry run", n)
	}
	statuses := map[string]int{}
	for e, err := range s.Store.ChunkLedger(ctx, env.Scope(conditionalaccess.Type, 0)) {
		if err != nil {
			t.Fatal(err)
		}
		statuses[e.Status]++
	}
	if statuses[wave.ObjWouldCreate] != 5 || statuses[wave.ObjPending] != 1 {
		t.Errorf("ledger verdicts %v", statuses)
	}
}

func TestRollbackDeletesCreatedPoliciesUnlessChanged(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	prepare(t, s, noSkip)
	env := s.Env(t, "w1", false)
	maps := s.RunMapped(t, conditionalaccess.Phase, env, 6)
	// An administrator enables one policy, as the manual steps ask: rollback leaves it.
	kept := maps[0]
	on := models.ENABLED_CONDITIONALACCESSPOLICYSTATE
	patch := models.NewConditionalAccessPolicy()
	patch.SetState(&on)
	if _, err := s.Target.Identity().ConditionalAccess().Policies().ByConditionalAccessPolicyId(kept.TargetID).Patch(ctx, patch, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		err := conditionalaccess.Phase.Rollback(ctx, env, m)
		if m == kept != errors.Is(err, phase.ErrChanged) || m != kept && err != nil {
			t.Errorf("rollback of %s = %v", m.TargetKey, err)
		}
	}
	left := s.Objects(t, "fabrikam", "conditionalAccessPolicies")
	if len(left) != 1 || left[0]["id"] != kept.TargetID {
		t.Errorf("after rollback the target holds %d policies, want only the enabled one", len(left))
	}
}

package licenses_test

// The licenses phase against the tenant simulator and Azurite: mapped SKUs assigned once, a user
// without a usage location and a subscription out of units refused with Graph's reasons, a rerun
// that writes nothing, a dry run that writes nothing, and rollback removing only what t2t assigned.
// Assertions read the target through the simulator's dump.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"t2t/shared/licenses"
	"t2t/shared/localstack"
	"t2t/shared/mapping"
	"t2t/shared/phase"
	"t2t/shared/phase/phasetest"
	"t2t/shared/simulator"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

const e3 = "SPE_E3"

func config() *simulator.Config {
	cfg := simulator.ExampleConfig()
	cfg.Tenants[0].Skus = []simulator.SkuConfig{
		{SkuPartNumber: "ENTERPRISEPACK", Units: 50, ServicePlans: []string{"EXCHANGE_S_ENTERPRISE"}, SeedAssigned: 5},
		{SkuPartNumber: "POWER_BI_PRO", Units: 50, SeedAssigned: 2},
	}
	cfg.Tenants[1].Skus = []simulator.SkuConfig{{SkuPartNumber: e3, Units: 3, ServicePlans: []string{"EXCHANGE_S_ENTERPRISE"}}}
	return cfg
}

// prepare puts a users snapshot of the source's licensed users in the wave, creates their target
// accounts (the third without a usage location) and maps them, as the users phase would.
func prepare(ctx context.Context, t *testing.T, s *phasetest.Setup, env *phase.Env) []string {
	t.Helper()
	var snap users.Snapshot
	var targets []string
	var maps []state.IDMapping
	for _, o := range s.Objects(t, "contoso", "users") {
		if ls, _ := o["assignedLicenses"].([]any); len(ls) == 0 {
			continue
		}
		n := len(snap.Users)
		id, upn := o["id"].(string), o["userPrincipalName"].(string)
		dest := fmt.Sprintf("licensed%d@fabrikam.example", n)
		snap.Users = append(snap.Users, users.Exported{Row: mapping.Row{Line: n + 2, Source: upn, Destination: dest},
			User: users.SourceUser{ID: id, UserPrincipalName: upn, DisplayName: upn}})
		location := "GB"
		if n == 2 {
			location = ""
		}
		target := createUser(ctx, t, s, dest, location)
		targets = append(targets, target)
		maps = append(maps, state.IDMapping{Type: users.Type, SourceID: id, TargetID: target, TargetKey: dest, Created: true})
	}
	if len(snap.Users) != 5 {
		t.Fatalf("the source seeds %d licensed users, want 5", len(snap.Users))
	}
	if err := env.PutSnapshot(ctx, users.Type, 0, snap); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.PutFact(ctx, env.Wave, env.Version, wave.Fact{Phase: users.Type, Kind: wave.FactChunk, Index: 0}); err != nil {
		t.Fatal(err)
	}
	if err := env.Map(ctx, maps); err != nil {
		t.Fatal(err)
	}
	return targets
}

func createUser(ctx context.Context, t *testing.T, s *phasetest.Setup, upn, location string) string {
	t.Helper()
	u := phasetest.NewUser(upn)
	if location != "" {
		u.SetUsageLocation(&location)
	}
	return phasetest.CreateUser(ctx, t, s.Target, u)
}

func copySnapshot(ctx context.Context, t *testing.T, from, to *phase.Env) {
	t.Helper()
	var snap users.Snapshot
	if err := from.GetSnapshot(ctx, users.Type, 0, &snap); err != nil {
		t.Fatal(err)
	}
	if err := to.PutSnapshot(ctx, users.Type, 0, snap); err != nil {
		t.Fatal(err)
	}
}

// licensed lists the target users holding a licence, by id.
func licensed(t *testing.T, s *phasetest.Setup) map[string]int {
	out := map[string]int{}
	for _, o := range s.Objects(t, "fabrikam", "users") {
		if ls, _ := o["assignedLicenses"].([]any); len(ls) > 0 {
			out[o["id"].(string)] = len(ls)
		}
	}
	return out
}

func TestMappedLicencesAreAssignedOnceWithReasonsForRefusals(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, config(), nil)
	env := s.Env(t, "w1", false)
	env.Options.LicenseMap = map[string]string{"ENTERPRISEPACK": e3}
	targets := prepare(ctx, t, s, env)

	dry := s.Env(t, "w1-dry", true)
	dry.Options = env.Options
	writes := s.Writes(t, "fabrikam")
	if err := dry.Store.PutFact(ctx, dry.Wave, dry.Version, wave.Fact{Phase: "users", Kind: wave.FactChunk, Index: 0}); err != nil {
		t.Fatal(err)
	}
	copySnapshot(ctx, t, env, dry)
	if counts, err := phasetest.Run(ctx, licenses.Phase{}, dry); err != nil || counts.Created != 4 || counts.Failed != 1 {
		t.Errorf("dry run = %+v (%v), want 4 would-assign (the user without a usage location is refused)", counts, err)
	}
	if s.Writes(t, "fabrikam") != writes || len(licensed(t, s)) != 0 {
		t.Fatal("the dry run wrote to the target")
	}

	counts, err := phasetest.Run(ctx, licenses.Phase{}, env)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Created != 3 || counts.Failed != 2 {
		t.Errorf("first run = %+v, want 3 assigned and 2 refused (no usage location, no unit left)", counts)
	}
	got := licensed(t, s)
	if len(got) != 3 || got[targets[2]] != 0 {
		t.Errorf("licensed target users %v, want 3, not %s (no usage location)", got, targets[2])
	}
	reasons := map[string]bool{}
	for e, err := range env.Store.Ledger(ctx, env.Wave, env.Version, licenses.Type) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Status == wave.ObjFailed {
			reasons[e.LastError] = true
		}
	}
	var joined []string
	for r := range reasons {
		joined = append(joined, r)
	}
	if all := strings.Join(joined, "\n"); !strings.Contains(all, "usageLocation") || !strings.Contains(all, "available licenses") {
		t.Errorf("refusal reasons:\n%s\nwant the missing usage location and the exhausted subscription", all)
	}

	writes = s.Writes(t, "fabrikam")
	if again, err := phasetest.Run(ctx, licenses.Phase{}, env); err != nil || again != counts || s.Writes(t, "fabrikam") != writes {
		t.Errorf("rerun = %+v (%v) with %d writes, want %+v and none", again, err, s.Writes(t, "fabrikam")-writes, counts)
	}

	for _, m := range s.IDMaps(t, licenses.Type) {
		if err := (licenses.Phase{}).Rollback(ctx, env, m); err != nil {
			t.Fatal(err)
		}
	}
	if left := licensed(t, s); len(left) != 0 {
		t.Errorf("after rollback %v still hold licences t2t assigned", left)
	}
}

package contentjobs_test

// Content migration jobs against the tenant simulator and Azurite: a wave of 4,500 users becomes three
// jobs, validated during the wave; at cutover an expired validation is renewed, the jobs migrate, and
// the user whose task failed is ledgered with the reason; a rerun creates nothing; rollback cancels an
// unfinished job.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"t2t/shared/contentjobs"
	"t2t/shared/localstack"
	"t2t/shared/phase"
	"t2t/shared/phase/phasetest"
	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
	"t2t/shared/state"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

type simJob struct {
	ID, DisplayName, Status, CompleteAfterDateTime string
	Resources                                      []string
}

func jobs(ctx context.Context, t *testing.T, s *phasetest.Setup) map[string]simJob {
	t.Helper()
	var list struct{ Value []simJob }
	if err := s.Target.JSON(ctx, http.MethodGet, "/solutions/migrations/crossTenantMigrationJobs", nil, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]simJob{}
	for _, j := range list.Value {
		out[j.DisplayName] = j
	}
	return out
}

func control(t *testing.T, s *phasetest.Setup, path string) {
	t.Helper()
	resp, err := s.Sim.HTTPClient().Post(s.Sim.URLs().GraphURL+"/_sim/"+path, "", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("control %s: %v %v", path, err, resp)
	}
	resp.Body.Close()
}

// wave puts n of the target's users in a wave's users ledger as created, as the users phase would.
func newWave(ctx context.Context, t *testing.T, s *phasetest.Setup, id string, n int, cutover time.Time) *phase.Env {
	t.Helper()
	env := s.Env(t, id, false)
	env.Options.Workloads = []string{"Exchange", "ODSP"}
	env.Options.CutoverUtc = &cutover
	env.Manifest = func(context.Context) (*wave.Manifest, error) {
		return &wave.Manifest{Wave: id, SourceTenantID: simtest.ContosoID, TargetTenantID: simtest.FabrikamID}, nil
	}
	var entries []state.LedgerEntry
	for i, u := range s.Objects(t, "fabrikam", "users") {
		if i == n {
			break
		}
		entries = append(entries, state.LedgerEntry{Wave: id, Version: "v1", Phase: "users", Chunk: i / 100,
			Key: fmt.Sprintf("user%d@contoso.example", i), TargetID: u["id"].(string), TargetKey: u["userPrincipalName"].(string), Status: wave.ObjCreated})
	}
	if len(entries) != n {
		t.Fatalf("the target seeds %d users, want %d", len(entries), n)
	}
	if err := env.Store.PutLedgers(ctx, entries); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestJobsAreSplitValidatedAndMigratedAtCutover(t *testing.T) {
	ctx := context.Background()
	cfg := simulator.ExampleConfig()
	cfg.Tenants[1].Seed.Users = 4500
	for i := range cfg.Tenants[1].Clients {
		cfg.Tenants[1].Clients[i].Roles = append(cfg.Tenants[1].Clients[i].Roles, "CrossTenantContentMigration.ReadWrite.All")
	}
	s := phasetest.New(t, storageConn, cfg, nil)
	cutover := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Second)
	env := newWave(ctx, t, s, "big", 4500, cutover)

	counts, err := phasetest.Run(ctx, contentjobs.Phase{}, env)
	if err != nil || counts.Pending != 3 {
		t.Fatalf("wave = %+v (%v), want three validated jobs Pending until the cutover", counts, err)
	}
	got := jobs(ctx, t, s)
	sizes := map[int]int{}
	for _, j := range got {
		sizes[len(j.Resources)]++
		if j.Status != "validatePassed" || !strings.HasPrefix(j.CompleteAfterDateTime, cutover.Format("2006-01-02T15:04")) {
			t.Errorf("job %s is %s, completes after %s; want validatePassed and the cutover %s", j.DisplayName, j.Status, j.CompleteAfterDateTime, cutover)
		}
	}
	if len(got) != 3 || sizes[2000] != 2 || sizes[500] != 1 {
		t.Fatalf("jobs %d with sizes %v, want 2,000 + 2,000 + 500", len(got), sizes)
	}
	if again, err := phasetest.Run(ctx, contentjobs.Phase{}, env); err != nil || again != counts || len(jobs(ctx, t, s)) != 3 {
		t.Fatalf("rerun = %+v (%v) with %d jobs, want the same three", again, err, len(jobs(ctx, t, s)))
	}

	failing := got[contentjobs.JobName("big", "v1", 2)].Resources[7]
	control(t, s, "tenants/fabrikam/migrationjobs/fail?user="+failing+"&reason=Mailbox+quota+exceeded")
	control(t, s, "migrationjobs/advance?hours=192") // the validation is now eight days old
	for c := range 3 {
		if err := env.Store.PutFact(ctx, env.Wave, "v1", wave.Fact{Phase: contentjobs.Type, Kind: wave.FactChunk, Index: c}); err != nil {
			t.Fatal(err)
		}
	}
	cut := *env
	cut.Version = "cutover-1"
	n, err := contentjobs.Phase{}.Cutover(ctx, &cut, "v1", 0)
	if err != nil || n.Created != 3 {
		t.Fatalf("cutover = %+v (%v), want three jobs migrated", n, err)
	}
	for name, j := range jobs(ctx, t, s) {
		want := "completed"
		if name == contentjobs.JobName("big", "v1", 2) {
			want = "completedWithErrors"
		}
		if j.Status != want {
			t.Errorf("job %s is %s, want %s", name, j.Status, want)
		}
	}
	var failed []state.LedgerEntry
	for e, err := range env.Store.Ledger(ctx, env.Wave, "cutover-1", contentjobs.Type) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Status == wave.ObjFailed {
			failed = append(failed, e)
		}
		if strings.HasPrefix(e.Key, "t2t-") && !strings.Contains(e.LastError, "validated again") {
			t.Errorf("job %s note %q should say its expired validation was renewed", e.Key, e.LastError)
		}
	}
	if len(failed) != 1 || failed[0].TargetID != failing || !strings.Contains(failed[0].LastError, "Mailbox quota exceeded") {
		t.Errorf("failed ledger entries %+v, want user %s with its reason", failed, failing)
	}
}

func TestRollbackCancelsAnUnfinishedJob(t *testing.T) {
	ctx := context.Background()
	cfg := simulator.ExampleConfig()
	for i := range cfg.Tenants[1].Clients {
		cfg.Tenants[1].Clients[i].Roles = append(cfg.Tenants[1].Clients[i].Roles, "CrossTenantContentMigration.ReadWrite.All")
	}
	s := phasetest.New(t, storageConn, cfg, nil)
	env := newWave(ctx, t, s, "small", 10, time.Now().UTC().Add(24*time.Hour))
	if _, err := phasetest.Run(ctx, contentjobs.Phase{}, env); err != nil {
		t.Fatal(err)
	}
	maps := s.IDMaps(t, contentjobs.Type)
	if len(maps) != 1 {
		t.Fatalf("%d job mappings, want 1", len(maps))
	}
	if err := (contentjobs.Phase{}).Rollback(ctx, env, maps[0]); err != nil {
		t.Fatal(err)
	}
	if j := jobs(ctx, t, s)[contentjobs.JobName("small", "v1", 0)]; j.Status != "cancelled" {
		t.Errorf("after rollback the job is %s, want cancelled", j.Status)
	}
}

package handlers_test

// DeltaSync end to end: a wave on the local stack, then changes made in the source tenant through
// Graph (by a second app that may write there), then timer runs fired through the local host's admin
// endpoint. Outcomes are read from the simulator's dump of the target and from storage.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/handlers"
	"t2t/shared/deltasync"
	"t2t/shared/graph"
	"t2t/shared/localstack"
	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

const (
	sourceAdminClient = "5c4d3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
	sourceAdminSecret = "source-admin-secret-local-only"
	deltaLifetime     = 40 * time.Second
)

// deltaTenants is the demo's tenants, smaller, with an administrator app in the source that makes
// the changes the tests sync.
func deltaTenants(t *testing.T) string {
	return demoTenantsWith(t, func(cfg map[string]any) {
		src := cfg["tenants"].([]any)[0].(map[string]any)
		src["seed"] = map[string]any{"users": 40, "groups": 8, "dynamicGroups": 1, "nestingDepth": 2, "seed": 5}
		src["clients"] = append(src["clients"].([]any), map[string]any{
			"clientId": sourceAdminClient, "displayName": "source administrator (tests)", "secret": sourceAdminSecret,
			"roles": []string{"User.ReadWrite.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All"}})
	})
}

func startDeltaStack(t *testing.T) *localstack.Stack {
	t.Helper()
	return startStackOptions(t, localstack.StackOptions{Tenants: deltaTenants(t),
		Env: map[string]string{"T2T_DELTA_DELETIONS": "disable",
			// Runs come from the admin endpoint only: a scheduled firing (every 15 minutes by default) in
			// the middle of the test would renew the delta token the test waits to expire.
			"T2T_DELTA_SCHEDULE": "0 0 0 1 1 *"}, DeltaTokenLifetime: deltaLifetime})
}

// deltaFixture is a stack after a wave, with what the tests change.
type deltaFixture struct {
	s         *localstack.Stack
	store     *state.Store
	migration string
	admin     *graph.Client // writes in the source
	users     map[string]state.IDMapping
	groups    map[string]state.IDMapping
}

func (f *deltaFixture) triggerRun(t *testing.T) {
	t.Helper()
	url := strings.TrimSuffix(f.s.FunctionsURL, "/api") + "/admin/functions/DeltaSync"
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"input":""}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("admin invoke: %s, want 202", resp.Status)
	}
}

// runs reads every run report of the migration, oldest first.
func (f *deltaFixture) runs(ctx context.Context, t *testing.T) []deltasync.Report {
	t.Helper()
	client, err := azblob.NewClientFromConnectionString(f.s.Azurite.ConnectionString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	prefix := deltasync.RunsPrefix(f.migration)
	pager := client.NewListBlobsFlatPager(state.DeltaContainer, &azblob.ListBlobsFlatOptions{Prefix: &prefix})
	var out []deltasync.Report
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			var r deltasync.Report
			if _, err := f.store.Delta().GetJSON(ctx, strings.TrimPrefix(*b.Name, ""), &r); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b deltasync.Report) int { return a.StartedUtc.Compare(b.StartedUtc) })
	return out
}

// waitRuns waits until the migration has n run reports and returns them.
func (f *deltaFixture) waitRuns(ctx context.Context, t *testing.T, n int) []deltasync.Report {
	t.Helper()
	for {
		rs := f.runs(ctx, t)
		if len(rs) >= n {
			return rs
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d delta runs: %v (have %d)", n, ctx.Err(), len(rs))
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// runOnce fires one run and returns its report.
func (f *deltaFixture) runOnce(ctx context.Context, t *testing.T) deltasync.Report {
	t.Helper()
	n := len(f.runs(ctx, t))
	f.triggerRun(t)
	rs := f.waitRuns(ctx, t, n+1)
	return rs[len(rs)-1]
}

func (f *deltaFixture) setupWave(ctx context.Context, t *testing.T, src tenantDump) []simUser {
	t.Helper()
	var rows []simUser
	var file strings.Builder
	file.WriteString("Source,Destination\n")
	for _, u := range src.Users {
		if strings.Contains(u.UserPrincipalName, "#EXT#") || !u.AccountEnabled || len(rows) == 16 {
			continue
		}
		rows = append(rows, u)
		fmt.Fprintf(&file, "%s,d.%s\n", u.UserPrincipalName, strings.Replace(u.UserPrincipalName, "contoso.example", "fabrikam.example", 1))
	}
	o := &ops.UploadOptions{Phases: []string{"users", "groups", "groupMembership"},
		DomainMap: map[string]string{"contoso.example": "fabrikam.example"}}
	if err := ops.UploadWith(ctx, f.s.Azurite.ConnectionString(), "delta-wave.csv", []byte(file.String()), o); err != nil {
		t.Fatal(err)
	}
	waitDone(ctx, t, f.store, "delta-wave")
	f.users, f.groups = map[string]state.IDMapping{}, map[string]state.IDMapping{}
	for typ, dst := range map[string]map[string]state.IDMapping{"users": f.users, "groups": f.groups} {
		for m, err := range f.store.IDMap(ctx, f.migration, typ) {
			if err != nil {
				t.Fatal(err)
			}
			dst[m.SourceID] = m
		}
	}
	return rows
}

func TestDeltaSyncAppliesSourceChangesToMappedObjectsOnly(t *testing.T) {
	s := startDeltaStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	store, err := state.Open(ctx, s.Azurite.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	admin, err := graph.New(graph.Config{AuthorityHost: s.GraphURL + "/", GraphBaseURL: s.GraphURL + "/v1.0",
		ClientID: sourceAdminClient, ClientSecret: sourceAdminSecret, CAFile: s.CAFile, MaxAttempts: 3}, s.SourceTenantID)
	if err != nil {
		t.Fatal(err)
	}
	f := &deltaFixture{s: s, store: store, migration: s.SourceTenantID + "_" + s.TargetTenantID, admin: admin}
	src := dumpTenant(t, s, s.SourceTenantID)
	rows := f.setupWave(ctx, t, src)
	f.firstRunChangesNothing(ctx, t)
	plan, before := f.changesReachTheTarget(ctx, t, src, rows)
	f.runsNeverOverlap(ctx, t, plan)
	f.expiredTokenResyncs(ctx, t, plan, before)
	last := f.pendingMemberJoinsOnceMigrated(ctx, t, src, plan)
	f.waveStatusShows(t, last)
}

// firstRunChangesNothing: the first run, as a past-due firing with no schedule status (the payload's
// null form), through the handler's own HTTP surface: a full round that finds the target in step.
func (f *deltaFixture) firstRunChangesNothing(ctx context.Context, t *testing.T) {
	t.Helper()
	first := invokeDeltaSyncDirect(ctx, t, f.s)
	if first.Status != deltasync.StatusCompleted || first.Trigger != "pastDue" || first.Rounds["users"].Mode != deltasync.ModeFull {
		t.Fatalf("first run %+v, want a completed full round triggered past due", first)
	}
	if first.Writes != 0 || len(first.Changes) != 0 {
		t.Fatalf("first run right after the wave wrote %d times: %+v", first.Writes, first.Changes)
	}
}

// changesReachTheTarget makes every kind of source change and checks that the next run applies
// exactly them; it returns the plan and the target as it was before.
func (f *deltaFixture) changesReachTheTarget(ctx context.Context, t *testing.T, src tenantDump, rows []simUser) (plan *changePlan, before tenantDump) {
	t.Helper()
	plan = pickChanges(t, f, src, rows)
	before = dumpTenant(t, f.s, f.s.TargetTenantID)
	plan.apply(ctx, t, f)
	second := f.runOnce(ctx, t)
	if second.Status != deltasync.StatusCompleted || second.Rounds["users"].Mode != deltasync.ModeIncremental {
		t.Fatalf("second run %+v, want a completed incremental round", second)
	}
	// The deleted user also leaves its groups in the source, so it leaves the migrated ones in the target.
	left := 0
	for _, g := range src.Groups {
		if _, ok := f.groups[g.ID]; ok && !g.dynamic() && slices.Contains(g.Members, plan.deleted) {
			left++
		}
	}
	want := map[string]map[string]int{
		"users":       {"updated": 1, "disabled": 1, "deletionDisabled": 1, "notMapped": 1},
		"memberships": {"added": 1, "pending": 1, "removed": 1 + left},
	}
	for typ, outcomes := range want {
		for k, n := range outcomes {
			if second.Counts[typ][k] != n {
				t.Errorf("second run counts %s %s = %d, want %d (all: %v)", typ, k, second.Counts[typ][k], n, second.Counts)
			}
		}
	}
	if second.Writes != int64(4+1+left) {
		t.Errorf("second run wrote %d times, want %d: %+v", second.Writes, 4+1+left, second.Changes)
	}
	after := dumpTenant(t, f.s, f.s.TargetTenantID)
	plan.check(t, f, before, after)
	pending, err := f.store.GetLedgers(ctx, state.Scope{Wave: "_delta", Version: f.migration, Phase: "groupMembership"},
		[]string{plan.g1 + "|" + plan.unmigrated})
	if err != nil || pending[plan.g1+"|"+plan.unmigrated].Status != wave.ObjPending {
		t.Errorf("the unmigrated new member of a migrated group should be pending: %+v %v", pending, err)
	}
	return plan, before
}

// runsNeverOverlap: a run while another holds the lease, or while a wave runs, applies nothing; two
// runs fired at once apply a change once.
func (f *deltaFixture) runsNeverOverlap(ctx context.Context, t *testing.T, plan *changePlan) {
	t.Helper()
	plan.renamedTo = "Renamed Twice"
	rename(ctx, t, f.admin, plan.renamed, plan.renamedTo)
	lease, err := f.store.Delta().AcquireLease(ctx, f.migration+"/lock", 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	blocked := f.runOnce(ctx, t)
	if blocked.Status != deltasync.StatusSkipped {
		t.Errorf("a run while the lease is held: %+v, want skipped", blocked)
	}
	if u := userByID(dumpTenant(t, f.s, f.s.TargetTenantID), f.users[plan.renamed].TargetID); u.DisplayName == "Renamed Twice" {
		t.Error("a skipped run changed the target")
	}
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// A run while a wave of the migration is running waits for it (links kept, nothing applied).
	busy := wave.Manifest{Wave: "busy", MigrationID: f.migration, Status: wave.StatusRunning, CreatedUtc: time.Now().UTC(), UpdatedUtc: time.Now().UTC()}
	if _, err := f.store.PutJSON(ctx, wave.ManifestPath("busy"), busy, state.Cond{}); err != nil {
		t.Fatal(err)
	}
	if waiting := f.runOnce(ctx, t); waiting.Status != deltasync.StatusSkipped || !strings.Contains(waiting.Reason, "busy") {
		t.Errorf("a run during a wave: %+v, want skipped naming the wave", waiting)
	}
	busy.Status = wave.StatusCompleted
	if _, err := f.store.PutJSON(ctx, wave.ManifestPath("busy"), busy, state.Cond{}); err != nil {
		t.Fatal(err)
	}
	n := len(f.runs(ctx, t))
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); f.triggerRun(t) }()
	}
	wg.Wait()
	rs := f.waitRuns(ctx, t, n+2)[n:]
	applied := 0
	for _, r := range rs {
		for _, c := range r.Changes {
			if c.SourceID == plan.renamed && c.Action == "updated" {
				applied++
			}
		}
	}
	if applied != 1 {
		t.Errorf("two overlapping runs applied the rename %d times, want once: %+v", applied, rs)
	}
	if u := userByID(dumpTenant(t, f.s, f.s.TargetTenantID), f.users[plan.renamed].TargetID); u.DisplayName != "Renamed Twice" {
		t.Errorf("the rename did not reach the target: %q", u.DisplayName)
	}
}

// expiredTokenResyncs: once the token has expired, the next run resyncs in full, applies the change
// made meanwhile, and creates or rewrites nothing else.
func (f *deltaFixture) expiredTokenResyncs(ctx context.Context, t *testing.T, plan *changePlan, before tenantDump) {
	t.Helper()
	// Meanwhile an administrator of the target adds one of its own users to a migrated group: no
	// source change names it, and a full round removes only members that are t2t's.
	plan.native = nativeUser(t, f, before)
	addMember(ctx, t, demoGraph(t, f.s, f.s.TargetTenantID), f.groups[plan.g1].TargetID, plan.native)
	time.Sleep(deltaLifetime + 2*time.Second)
	plan.renamedTo = "Renamed After Expiry"
	rename(ctx, t, f.admin, plan.renamed, plan.renamedTo)
	beforeResync := dumpTenant(t, f.s, f.s.TargetTenantID)
	resync := f.runOnce(ctx, t)
	if resync.Rounds["users"].Mode != deltasync.ModeFull || !strings.Contains(resync.Rounds["users"].Reason, "syncStateNotFound") {
		t.Errorf("after expiry: rounds %+v, want a full resync after syncStateNotFound", resync.Rounds)
	}
	if resync.Status != deltasync.StatusCompleted {
		t.Errorf("resync %+v", resync)
	}
	afterResync := dumpTenant(t, f.s, f.s.TargetTenantID)
	if len(afterResync.Users) != len(beforeResync.Users) || len(afterResync.Groups) != len(beforeResync.Groups) {
		t.Errorf("the resync changed the number of objects: users %d→%d, groups %d→%d", len(beforeResync.Users), len(afterResync.Users), len(beforeResync.Groups), len(afterResync.Groups))
	}
	if u := userByID(afterResync, f.users[plan.renamed].TargetID); u.DisplayName != "Renamed After Expiry" {
		t.Errorf("the change made while the token expired did not reach the target: %q", u.DisplayName)
	}
	if resync.Writes != 1 {
		t.Errorf("the resync wrote %d times, want once (the one rename): %+v", resync.Writes, resync.Changes)
	}
	plan.check(t, f, before, afterResync) // the earlier changes stand: nothing undone or redone
}

// pendingMemberJoinsOnceMigrated: a later wave migrates the pending member (users only, so no
// membership phase adds it); the next run adds the pending membership. It returns that run.
func (f *deltaFixture) pendingMemberJoinsOnceMigrated(ctx context.Context, t *testing.T, src tenantDump, plan *changePlan) (resolved deltasync.Report) {
	t.Helper()
	row := userByID(src, plan.unmigrated).UserPrincipalName
	csv := "Source,Destination\n" + row + ",later." + strings.Replace(row, "contoso.example", "fabrikam.example", 1) + "\n"
	if err := ops.UploadWith(ctx, f.s.Azurite.ConnectionString(), "later.csv", []byte(csv), &ops.UploadOptions{Phases: []string{"users"}}); err != nil {
		t.Fatal(err)
	}
	waitDone(ctx, t, f.store, "later")
	later, err := f.store.GetIDMap(ctx, f.migration, "users", plan.unmigrated)
	if err != nil {
		t.Fatal(err)
	}
	resolved = f.runOnce(ctx, t)
	if resolved.Counts["memberships"]["pendingAdded"] != 1 {
		t.Errorf("the run after the pending member's wave: %+v, want one pending membership added", resolved.Counts)
	}
	if g := groupByID(dumpTenant(t, f.s, f.s.TargetTenantID), f.groups[plan.g1].TargetID); !slices.Contains(g.Members, later.TargetID) {
		t.Errorf("the pending member %s is not in the target group: %v", later.TargetID, g.Members)
	}
	pending, err := f.store.GetLedgers(ctx, state.Scope{Wave: "_delta", Version: f.migration, Phase: "groupMembership"},
		[]string{plan.g1 + "|" + plan.unmigrated})
	if err != nil || pending[plan.g1+"|"+plan.unmigrated].Status != wave.ObjCreated {
		t.Errorf("the pending membership's ledger entry: %+v %v, want Created", pending, err)
	}

	return resolved
}

// waveStatusShows: GET /api/waves lists the migration's last delta run.
func (f *deltaFixture) waveStatusShows(t *testing.T, last deltasync.Report) {
	t.Helper()
	resp, err := http.Get(f.s.FunctionsURL + "/waves")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Delta *deltasync.Report `json:"delta"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if list.Delta == nil || list.Delta.Run != last.Run {
		t.Errorf("GET /api/waves delta %+v, want the last run %s", list.Delta, last.Run)
	}
}

// invokeDeltaSyncDirect posts a timer invocation with ScheduleStatus null and IsPastDue true to
// the handler's HTTP surface (an App on the stack's storage and tenants) and returns its report.
func invokeDeltaSyncDirect(ctx context.Context, t *testing.T, s *localstack.Stack) deltasync.Report {
	t.Helper()
	for k, v := range map[string]string{"T2T_DELTA_DELETIONS": "disable"} {
		t.Setenv(k, v)
	}
	env := s.Settings()
	settings := handlers.Settings{Storage: env["AzureWebJobsStorage"], SourceTenantID: s.SourceTenantID, TargetTenantID: s.TargetTenantID,
		MigrationID: s.SourceTenantID + "_" + s.TargetTenantID,
		Graph: graph.Config{AuthorityHost: env["T2T_AUTHORITY_HOST"], GraphBaseURL: env["T2T_GRAPH_BASE_URL"], ClientID: s.ClientID,
			ClientSecret: env["T2T_CLIENT_SECRET"], CAFile: s.CAFile, MaxAttempts: 3, WritesPerSecond: 19}}
	srv := httptest.NewServer(handlers.NewApp(settings).Handler())
	defer srv.Close()
	body := `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":true}},"Metadata":{"sys":{"MethodName":"DeltaSync"}}}`
	resp, err := http.Post(srv.URL+"/DeltaSync", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(data, []byte(wave.EventDeltaCompleted)) {
		t.Fatalf("DeltaSync answered %s: %s", resp.Status, data)
	}
	store, err := state.Open(ctx, env["AzureWebJobsStorage"])
	if err != nil {
		t.Fatal(err)
	}
	var rep deltasync.Report
	if _, err := store.Delta().GetJSON(ctx, deltasync.LatestPath(settings.MigrationID), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func userByID(d tenantDump, id string) simUser {
	for _, u := range d.Users {
		if u.ID == id {
			return u
		}
	}
	return simUser{}
}

func groupByID(d tenantDump, id string) simGroup {
	for _, g := range d.Groups {
		if g.ID == id {
			return g
		}
	}
	return simGroup{}
}

func rename(ctx context.Context, t *testing.T, c *graph.Client, id, name string) {
	t.Helper()
	u := models.NewUser()
	u.SetDisplayName(&name)
	if _, err := c.Users().ByUserId(id).Patch(ctx, u, nil); err != nil {
		t.Fatalf("renaming %s in the source: %v", id, err)
	}
}

// changePlan is the set of source changes the test makes, by source id.
type changePlan struct {
	renamed, renamedTo, disabled, deleted string
	g1, added, unmigrated                 string
	g2, removed                           string
	unmappedRenamed                       string
	native                                string // a target user of the target's own, added to g1 there
}

// pickChanges chooses objects for every kind of change: migrated users to rename, disable and
// delete; a migrated group t2t created that gains a migrated and an unmigrated member; another that
// loses a member t2t added; an unmigrated user renamed (counted, not applied).
func pickChanges(t *testing.T, f *deltaFixture, src tenantDump, rows []simUser) *changePlan {
	t.Helper()
	migrated := map[string]bool{}
	for _, u := range rows {
		migrated[u.ID] = true
	}
	p := &changePlan{}
	used := map[string]bool{}
	take := func(ok func(simUser) bool) string {
		for _, u := range src.Users {
			if !used[u.ID] && ok(u) {
				used[u.ID] = true
				return u.ID
			}
		}
		return ""
	}
	var static []simGroup
	for _, g := range src.Groups {
		if m, ok := f.groups[g.ID]; ok && m.Created && g.creatable() && !g.dynamic() {
			static = append(static, g)
		}
	}
	for _, g1 := range static {
		for _, g2 := range static {
			if g1.ID == g2.ID {
				continue
			}
			used = map[string]bool{}
			p.g1, p.g2 = g1.ID, g2.ID
			p.removed = take(func(u simUser) bool { return migrated[u.ID] && slices.Contains(g2.Members, u.ID) })
			notIn := func(u simUser) bool { return !slices.Contains(g1.Members, u.ID) && !slices.Contains(g2.Members, u.ID) }
			p.added = take(func(u simUser) bool { return migrated[u.ID] && notIn(u) })
			p.unmigrated = take(func(u simUser) bool {
				return !migrated[u.ID] && u.AccountEnabled && !strings.Contains(u.UserPrincipalName, "#EXT#") && notIn(u)
			})
			if p.removed != "" && p.added != "" && p.unmigrated != "" {
				p.renamed = take(func(u simUser) bool { return migrated[u.ID] })
				p.disabled = take(func(u simUser) bool { return migrated[u.ID] })
				p.deleted = take(func(u simUser) bool { return migrated[u.ID] })
				p.unmappedRenamed = take(func(u simUser) bool { return !migrated[u.ID] && !strings.Contains(u.UserPrincipalName, "#EXT#") })
				if p.renamed != "" && p.disabled != "" && p.deleted != "" && p.unmappedRenamed != "" {
					return p
				}
			}
		}
	}
	t.Fatalf("the seeded source offers no groups and users for every change (%d static migrated groups)", len(static))
	return nil
}

func (p *changePlan) apply(ctx context.Context, t *testing.T, f *deltaFixture) {
	t.Helper()
	p.renamedTo = "Ada Lovelace (ada@contoso.example)"
	rename(ctx, t, f.admin, p.renamed, p.renamedTo)
	rename(ctx, t, f.admin, p.unmappedRenamed, "Not Migrated Yet")
	off := false
	u := models.NewUser()
	u.SetAccountEnabled(&off)
	if _, err := f.admin.Users().ByUserId(p.disabled).Patch(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.admin.Users().ByUserId(p.deleted).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{p.added, p.unmigrated} {
		addMember(ctx, t, f.admin, p.g1, id)
	}
	if err := f.admin.Groups().ByGroupId(p.g2).Members().ByDirectoryObjectId(p.removed).Ref().Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// check compares the target before the changes with after: exactly the planned changes, nothing else.
func (p *changePlan) check(t *testing.T, f *deltaFixture, before, after tenantDump) {
	t.Helper()
	tid := func(src string) string { return f.users[src].TargetID }
	if len(after.Users) != len(before.Users) || len(after.Groups) != len(before.Groups) {
		t.Errorf("target objects: users %d→%d, groups %d→%d; delta sync creates and deletes nothing",
			len(before.Users), len(after.Users), len(before.Groups), len(after.Groups))
	}
	for _, b := range before.Users {
		a := userByID(after, b.ID)
		want := b
		switch b.ID {
		case tid(p.renamed):
			want.DisplayName = strings.ReplaceAll(p.renamedTo, "contoso.example", "fabrikam.example")
		case tid(p.disabled), tid(p.deleted):
			want.AccountEnabled = false
		}
		if a != want {
			t.Errorf("target user %s: %+v, want %+v", b.UserPrincipalName, a, want)
		}
	}
	for _, b := range before.Groups {
		a := groupByID(after, b.ID)
		want := slices.Clone(b.Members)
		switch b.ID {
		case f.groups[p.g1].TargetID:
			want = append(want, tid(p.added))
			if p.native != "" {
				want = append(want, p.native)
			}
		case f.groups[p.g2].TargetID:
			want = slices.DeleteFunc(want, func(id string) bool { return id == tid(p.removed) })
		}
		// The deleted user may leave its groups in the source; then it leaves them in the target too.
		got := slices.DeleteFunc(slices.Clone(a.Members), func(id string) bool { return id == tid(p.deleted) })
		want = slices.DeleteFunc(want, func(id string) bool { return id == tid(p.deleted) })
		if !sameSet(got, want) || a.DisplayName != b.DisplayName {
			t.Errorf("target group %s: %q members %v, want %q %v", b.ID, a.DisplayName, a.Members, b.DisplayName, want)
		}
	}
}

func addMember(ctx context.Context, t *testing.T, c *graph.Client, groupID, memberID string) {
	t.Helper()
	ref := models.NewReferenceCreate()
	odataID := graph.DirectoryObjectURL(memberID)
	ref.SetOdataId(&odataID)
	if err := c.Groups().ByGroupId(groupID).Members().Ref().Post(ctx, ref, nil); err != nil {
		t.Fatalf("adding %s to group %s: %v", memberID, groupID, err)
	}
}

// nativeUser returns a target user t2t did not create or match.
func nativeUser(t *testing.T, f *deltaFixture, target tenantDump) string {
	t.Helper()
	ours := map[string]bool{}
	for _, m := range f.users {
		ours[m.TargetID] = true
	}
	for _, u := range target.Users {
		if !ours[u.ID] && u.AccountEnabled {
			return u.ID
		}
	}
	t.Fatal("the target has no user of its own")
	return ""
}

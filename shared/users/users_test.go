package users_test

// Export and import against the tenant simulator (in-process, real HTTPS) and Azurite: the reconcile
// rules of DESIGN section 6 for users, including a retry after a crash between create and record.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/localstack"
	"t2t/shared/mapping"
	"t2t/shared/phase/phasetest"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

type env struct {
	source, target *graph.Client
	store          *state.Store
	migration      string
}

func newEnv(t *testing.T) *env {
	s := phasetest.New(t, storageConn, nil, nil)
	return &env{source: s.Source, target: s.Target, store: s.Store, migration: s.Migration}
}

// sourceUsers returns n enabled users of the source tenant.
func (e *env) sourceUsers(t *testing.T, n int) []models.Userable {
	resp, err := e.source.Users().Get(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetValue()[:n]
}

// scope is chunk 0 of version v1 of a wave's users.
func scope(waveID string) state.Scope {
	return state.Scope{Wave: waveID, Version: "v1", Phase: users.Type}
}

// newUser builds a user to create directly in a tenant, outside the pipeline.
func newUser(upn, nick, name string, enabled bool) models.Userable {
	u := models.NewUser()
	pw, _ := users.NewTemporaryPassword()
	pp := models.NewPasswordProfile()
	pp.SetPassword(&pw)
	u.SetUserPrincipalName(&upn)
	u.SetMailNickname(&nick)
	u.SetDisplayName(&name)
	u.SetAccountEnabled(&enabled)
	u.SetPasswordProfile(pp)
	return u
}

func targetUser(t *testing.T, e *env, upn string) (models.Userable, error) {
	return e.target.Users().ByUserId(upn).Get(context.Background(), nil)
}

func TestExportReadsSourcesAndReportsMissingOnes(t *testing.T) {
	e := newEnv(t)
	src := e.sourceUsers(t, 2)
	rows := []mapping.Row{
		{Line: 2, Source: *src[0].GetUserPrincipalName(), Destination: "a@fabrikam.example"},
		{Line: 3, Source: "nobody@contoso.example", Destination: "b@fabrikam.example"},
		{Line: 4, Source: *src[1].GetUserPrincipalName(), Destination: "c@fabrikam.example"},
	}
	snap, err := users.Export(context.Background(), e.source, scope("w"), rows)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if len(snap.Users) != 2 || len(snap.Missing) != 1 || snap.Missing[0].Row.Line != 3 {
		t.Fatalf("snapshot: %d users, missing %+v", len(snap.Users), snap.Missing)
	}
	if got := snap.Users[0].User; got.ID != *src[0].GetId() || got.DisplayName != *src[0].GetDisplayName() {
		t.Errorf("exported %+v, want the source user %s", got, *src[0].GetId())
	}
	if !strings.Contains(snap.Missing[0].Reason, "does not exist") {
		t.Errorf("missing reason = %q", snap.Missing[0].Reason)
	}
}

func TestImportCreatesMatchesAndConvergesOnRerun(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	src := e.sourceUsers(t, 3)
	existing, err := e.target.Users().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	matchUPN := *existing.GetValue()[0].GetUserPrincipalName()
	rows := []mapping.Row{
		{Line: 2, Source: *src[0].GetUserPrincipalName(), Destination: "new.one@fabrikam.example"},
		{Line: 3, Source: *src[1].GetUserPrincipalName(), Destination: matchUPN},
		{Line: 4, Source: "ghost@contoso.example", Destination: "ghost@fabrikam.example"},
		{Line: 5, Source: *src[2].GetUserPrincipalName(), Destination: "new.two@fabrikam.example"},
	}
	snap, err := users.Export(ctx, e.source, scope("w1"), rows)
	if err != nil {
		t.Fatal(err)
	}
	im := &users.Importer{Target: e.target, Store: e.store, Migration: e.migration, MaxAttempts: 3}
	counts, err := im.Import(ctx, snap)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if counts != (wave.Counts{Created: 2, Matched: 1, Failed: 1}) {
		t.Errorf("counts = %+v", counts)
	}
	created, err := targetUser(t, e, "new.one@fabrikam.example")
	if err != nil {
		t.Fatalf("created user not in the target: %v", err)
	}
	if *created.GetDisplayName() != *src[0].GetDisplayName() {
		t.Errorf("display name %q, want %q", *created.GetDisplayName(), *src[0].GetDisplayName())
	}
	m, err := e.store.GetIDMap(ctx, e.migration, users.Type, *src[1].GetId())
	if err != nil || m.Created || m.TargetID != *existing.GetValue()[0].GetId() {
		t.Errorf("matched user's id map = %+v, %v", m, err)
	}
	// A second run (a redelivered step) creates nothing and reports the same.
	before, _ := e.target.Users().Get(ctx, nil)
	again, err := im.Import(ctx, snap)
	if err != nil || again != counts {
		t.Errorf("rerun = %+v, %v; want %+v", again, err, counts)
	}
	after, _ := e.target.Users().Get(ctx, nil)
	if len(after.GetValue()) != len(before.GetValue()) {
		t.Errorf("rerun changed the target's user count from %d to %d", len(before.GetValue()), len(after.GetValue()))
	}
	ghost, err := e.store.GetLedger(ctx, scope("w1"), "ghost@contoso.example")
	if err != nil || ghost.Status != wave.ObjFailed || ghost.LastError == "" {
		t.Errorf("ghost ledger = %+v, %v", ghost, err)
	}
}

func TestImportAfterCrashBetweenCreateAndRecordClaimsItsOwnUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	src := e.sourceUsers(t, 1)
	row := mapping.Row{Line: 2, Source: *src[0].GetUserPrincipalName(), Destination: "crash.case@fabrikam.example"}
	snap, err := users.Export(ctx, e.source, scope("w2"), []mapping.Row{row})
	if err != nil {
		t.Fatal(err)
	}
	// The first attempt recorded its intent, created the user, and died before recording the outcome.
	intent := state.LedgerEntry{Wave: "w2", Version: "v1", Phase: users.Type, Key: row.Source, Line: 2, Status: wave.ObjCreating,
		Attempts: 1, IntentUtc: time.Now().UTC().Add(-2 * time.Second), TargetKey: row.Destination}
	if err := e.store.PutLedger(ctx, intent); err != nil {
		t.Fatal(err)
	}
	// (as our create would have: the source's display name)
	made, err := e.target.Users().Post(ctx, newUser(row.Destination, "crash.case", *src[0].GetDisplayName(), true), nil)
	if err != nil {
		t.Fatal(err)
	}
	im := &users.Importer{Target: e.target, Store: e.store, Migration: e.migration, MaxAttempts: 3}
	counts, err := im.Import(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Created != 1 || counts.Matched != 0 {
		t.Errorf("counts = %+v: the account created by the earlier attempt is ours (Created), not Matched", counts)
	}
	m, err := e.store.GetIDMap(ctx, e.migration, users.Type, *src[0].GetId())
	if err != nil || !m.Created || m.TargetID != *made.GetId() {
		t.Errorf("id map = %+v, %v; want created, target %s", m, err, *made.GetId())
	}
}

func TestImportRefusesADisabledExistingAccount(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	src := e.sourceUsers(t, 1)
	upn := "disabled.target@fabrikam.example"
	if _, err := e.target.Users().Post(ctx, newUser(upn, "disabled.target", "Disabled", false), nil); err != nil {
		t.Fatal(err)
	}
	snap, err := users.Export(ctx, e.source, scope("w3"), []mapping.Row{{Line: 2, Source: *src[0].GetUserPrincipalName(), Destination: upn}})
	if err != nil {
		t.Fatal(err)
	}
	im := &users.Importer{Target: e.target, Store: e.store, Migration: e.migration, MaxAttempts: 3}
	counts, err := im.Import(ctx, snap)
	if err != nil || counts.Failed != 1 {
		t.Fatalf("counts = %+v, %v; want 1 failed", counts, err)
	}
	entry, err := e.store.GetLedger(ctx, scope("w3"), *src[0].GetUserPrincipalName())
	if err != nil || entry.Status != wave.ObjFailed || !strings.Contains(entry.LastError, "disabled") {
		t.Errorf("ledger = %+v, %v", entry, err)
	}
	if _, err := e.store.GetIDMap(ctx, e.migration, users.Type, *src[0].GetId()); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("a refused account must not enter the id map: %v", err)
	}
}

func TestGraphErrorsAreClassified(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	_, err := e.target.Users().ByUserId("nobody@fabrikam.example").Get(ctx, nil)
	if !graph.IsNotFound(err) || graph.IsRetryable(err) || graph.IsConflict(err) {
		t.Errorf("404: notFound=%v retryable=%v (%v)", graph.IsNotFound(err), graph.IsRetryable(err), err)
	}
	existing, _ := e.target.Users().Get(ctx, nil)
	u := newUser(*existing.GetValue()[0].GetUserPrincipalName(), "dup", "Dup", true)
	_, err = e.target.Users().Post(ctx, u, nil)
	if !graph.IsConflict(err) || graph.IsRetryable(err) {
		t.Errorf("duplicate UPN: conflict=%v retryable=%v (%v)", graph.IsConflict(err), graph.IsRetryable(err), graph.Describe(err))
	}
	if d := graph.Describe(err); !strings.Contains(d, "Request_BadRequest") || !strings.Contains(d, "userPrincipalName") {
		t.Errorf("Describe = %q", d)
	}
	// The source grant is read-only: a write there is a permanent 403.
	_, err = e.source.Users().Post(ctx, u, nil)
	if !graph.IsForbidden(err) || graph.IsRetryable(err) {
		t.Errorf("403: forbidden=%v retryable=%v (%v)", graph.IsForbidden(err), graph.IsRetryable(err), err)
	}
}

func TestTemporaryPasswordsAreStrongAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		pw, err := users.NewTemporaryPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 20 || seen[pw] {
			t.Fatalf("password %d: length %d, repeated %v", i, len(pw), seen[pw])
		}
		seen[pw] = true
		if !strings.ContainsAny(pw, "ABCDEFGHJKLMNPQRSTUVWXYZ") || !strings.ContainsAny(pw, "abcdefghijkmnopqrstuvwxyz") ||
			!strings.ContainsAny(pw, "23456789") || !strings.ContainsAny(pw, "!#$%&*+-=?@^_") {
			t.Errorf("password lacks a character class")
		}
	}
}

func TestImportRefusesASecondAccountForAnAlreadyMigratedSource(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	src := e.sourceUsers(t, 1)
	upn := *src[0].GetUserPrincipalName()
	im := &users.Importer{Target: e.target, Store: e.store, Migration: e.migration, MaxAttempts: 3}
	first, err := users.Export(ctx, e.source, scope("wa"), []mapping.Row{{Line: 2, Source: upn, Destination: "first.home@fabrikam.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := im.Import(ctx, first); err != nil || c.Created != 1 {
		t.Fatalf("first wave: %+v, %v", c, err)
	}
	second, err := users.Export(ctx, e.source, scope("wb"), []mapping.Row{{Line: 2, Source: upn, Destination: "second.home@fabrikam.example"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := im.Import(ctx, second)
	if err != nil || c.Failed != 1 {
		t.Fatalf("second wave: %+v, %v; want the row failed", c, err)
	}
	entry, _ := e.store.GetLedger(ctx, scope("wb"), upn)
	if !strings.Contains(entry.LastError, "first.home@fabrikam.example") {
		t.Errorf("reason %q should name the existing account", entry.LastError)
	}
	if _, err := targetUser(t, e, "second.home@fabrikam.example"); !graph.IsNotFound(err) {
		t.Errorf("a second account was created for one person: %v", err)
	}
}

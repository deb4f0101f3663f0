package handlers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

type domainReport struct {
	Action, Domain, Run, Refused string
	Blocking                     int
	Items                        []struct{ Kind, Field, Original, FreeStatus string }
}

// domainStep queues a domain move step as `t2t domain` does and waits for the function app's report.
func domainStep(ctx context.Context, t *testing.T, conn string, store *state.Store, domain, action string, dryRun bool) domainReport {
	t.Helper()
	run, err := ops.Domain(ctx, conn, domain, action, dryRun)
	if err != nil {
		t.Fatal(err)
	}
	for {
		var r domainReport
		_, err := store.GetJSON(ctx, wave.DomainReportPath(domain, action), &r)
		switch {
		case err == nil && r.Run == run:
			return r
		case err != nil && !errors.Is(err, state.ErrNotFound):
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("domain %s step %s (run %s): no report", domain, action, run)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// TestDomainStepsRunInTheFunctionApp: `t2t domain` steps go through the steps queue to the function
// app, which plans the move of the demo source's default domain (every user on it blocks its removal)
// and refuses to remove it or verify it in the target while the source uses it; nothing changes in
// either tenant, and the domain listing of waves does not show the domain moves' folder.
func TestDomainStepsRunInTheFunctionApp(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	store, err := state.Open(ctx, s.Azurite.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	conn := s.Azurite.ConnectionString()
	sourceBefore := dumpTenant(t, s, s.SourceTenantID)
	plan := domainStep(ctx, t, conn, store, "contoso.example", "plan", true)
	users := 0
	for _, u := range sourceBefore.Users {
		if strings.HasSuffix(strings.ToLower(u.UserPrincipalName), "@contoso.example") {
			users++
		}
	}
	if plan.Refused != "" || plan.Blocking < users || users == 0 {
		t.Errorf("plan: %d blocking objects (refused %q), want at least the %d users on the domain", plan.Blocking, plan.Refused, users)
	}
	for _, action := range []string{"remove", "verify"} {
		if r := domainStep(ctx, t, conn, store, "contoso.example", action, false); r.Refused == "" {
			t.Errorf("%s ran while the source uses the domain: %+v", action, r)
		}
	}
	if after := dumpTenant(t, s, s.SourceTenantID); len(after.Users) != len(sourceBefore.Users) {
		t.Errorf("the refused steps changed the source")
	}
	ids, err := store.Waves(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if strings.Contains(id, "domainmoves") {
			t.Errorf("the waves listing shows %q", id)
		}
	}
}

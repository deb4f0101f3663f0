package customroles_test

// The custom roles phase against the tenant simulator and Azurite. Role definitions carry no creation
// time, so an earlier attempt's role is recognised by its properties (fingerprint).

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/customroles"
	"t2t/shared/localstack"
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

// The example source tenant (contoso) has three custom roles (seed_policies.go).
var helpdesk = []string{"microsoft.directory/users/password/update", "microsoft.directory/users/invalidateAllRefreshTokens",
	"microsoft.directory/users/standard/read"}

func targetRoles(t *testing.T, s *phasetest.Setup) map[string]map[string]any {
	return s.ByName(t, "fabrikam", "roleDefinitions") // custom roles only: built-in ones are in every tenant
}

func actions(role map[string]any) []string {
	var out []string
	perms, _ := role["rolePermissions"].([]any)
	for _, p := range perms {
		list, _ := p.(map[string]any)["allowedResourceActions"].([]any)
		for _, a := range list {
			out = append(out, a.(string))
		}
	}
	slices.Sort(out)
	return out
}

func newRole(name string, acts []string) models.UnifiedRoleDefinitionable {
	r := models.NewUnifiedRoleDefinition()
	enabled := true
	r.SetDisplayName(&name)
	r.SetIsEnabled(&enabled)
	p := models.NewUnifiedRolePermission()
	p.SetAllowedResourceActions(acts)
	r.SetRolePermissions([]models.UnifiedRolePermissionable{p})
	return r
}

func sourceRole(t *testing.T, s *phasetest.Setup, name string) models.UnifiedRoleDefinitionable {
	t.Helper()
	resp, err := s.Source.RoleManagement().Directory().RoleDefinitions().Get(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.GetValue() {
		if *r.GetDisplayName() == name {
			return r
		}
	}
	t.Fatalf("no source role %q", name)
	return nil
}

func TestImportCopiesCustomRolesOnceAndNeverBuiltInOnes(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	counts, err := phasetest.Run(ctx, customroles.Phase, s.Env(t, "w1", false))
	if err != nil || counts != (wave.Counts{Created: 3}) {
		t.Fatalf("first wave = %+v, %v; want 3 created", counts, err)
	}
	got := targetRoles(t, s)
	if len(got) != 3 {
		t.Errorf("the target holds %d custom roles, want 3", len(got))
	}
	hd := got["Helpdesk Tier 1"]
	want := slices.Sorted(slices.Values(helpdesk))
	if hd == nil || !slices.Equal(actions(hd), want) || hd["description"] != "Resets passwords and signs users out." || hd["isEnabled"] != true {
		t.Errorf("Helpdesk Tier 1 in the target = %v; want its permissions %v, description and state copied", hd, want)
	}
	src := sourceRole(t, s, "Helpdesk Tier 1")
	if m, err := s.Store.GetIDMap(ctx, s.Migration, customroles.Type, *src.GetId()); err != nil || !m.Created || m.TargetID != hd["id"] {
		t.Errorf("id map = %+v, %v; want the source id mapped to the created role", m, err)
	}
	writes := s.Writes(t, simtest.FabrikamID)
	next, err := phasetest.Run(ctx, customroles.Phase, s.Env(t, "w2", false))
	if err != nil || next != (wave.Counts{Matched: 3}) {
		t.Errorf("next wave = %+v, %v; want 3 matched", next, err)
	}
	if n := s.Writes(t, simtest.FabrikamID); n != writes || len(targetRoles(t, s)) != 3 {
		t.Errorf("the next wave wrote %d times; the target holds %d custom roles", n-writes, len(targetRoles(t, s)))
	}
}

func TestImportAfterCrashRecognisesItsOwnRoleByItsProperties(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	intend := func(name string) {
		src := sourceRole(t, s, name)
		e := state.LedgerEntry{Wave: "w1", Version: "v1", Phase: customroles.Type, Key: *src.GetId(), SourceID: *src.GetId(),
			Status: wave.ObjCreating, Attempts: 1, IntentUtc: time.Now().UTC().Add(-2 * time.Second)}
		if err := s.Store.PutLedger(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// The first attempt created "Helpdesk Tier 1" as t2t would and died before recording it. Someone
	// else made a "Group Membership Manager" of their own meanwhile: not ours, though an intent exists.
	intend("Helpdesk Tier 1")
	intend("Group Membership Manager")
	desc := "Resets passwords and signs users out."
	ours := newRole("Helpdesk Tier 1", helpdesk)
	ours.SetDescription(&desc)
	scope := []string{"/"}
	ours.SetResourceScopes(scope)
	made, err := s.Target.RoleManagement().Directory().RoleDefinitions().Post(ctx, ours, nil)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := s.Target.RoleManagement().Directory().RoleDefinitions().Post(ctx,
		newRole("Group Membership Manager", []string{"microsoft.directory/groups/members/read"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := phasetest.Run(ctx, customroles.Phase, s.Env(t, "w1", false))
	if err != nil || counts != (wave.Counts{Created: 2, Matched: 1}) {
		t.Fatalf("counts = %+v, %v; want 2 created (one of them the orphan), 1 matched", counts, err)
	}
	if n := len(targetRoles(t, s)); n != 3 {
		t.Errorf("the target holds %d custom roles, want 3", n)
	}
	for src, want := range map[string]struct {
		id      string
		created bool
	}{"Helpdesk Tier 1": {*made.GetId(), true}, "Group Membership Manager": {*theirs.GetId(), false}} {
		m, err := s.Store.GetIDMap(ctx, s.Migration, customroles.Type, *sourceRole(t, s, src).GetId())
		if err != nil || m.TargetID != want.id || m.Created != want.created {
			t.Errorf("%s: id map %+v, %v; want target %s, created %v", src, m, err, want.id, want.created)
		}
	}
}

func TestDryRunAndRollback(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, nil, nil)
	before := s.Writes(t, simtest.FabrikamID)
	plan, err := phasetest.Run(ctx, customroles.Phase, s.Env(t, "dry", true))
	if err != nil || plan != (wave.Counts{Created: 3}) {
		t.Fatalf("plan = %+v, %v; want 3 would-create", plan, err)
	}
	if n := s.Writes(t, simtest.FabrikamID); n != before || len(targetRoles(t, s)) != 0 {
		t.Fatalf("a dry run wrote %d times; the target holds %d custom roles", n-before, len(targetRoles(t, s)))
	}
	env := s.Env(t, "w1", false)
	maps := s.RunMapped(t, customroles.Phase, env, 3)
	// Someone adds a permission to one created role: rollback leaves it and says so.
	kept := maps[0]
	name, _ := phase.SplitTargetKey(kept.TargetKey)
	patch := models.NewUnifiedRoleDefinition()
	desc := "edited in the target"
	patch.SetDescription(&desc)
	if _, err := s.Target.RoleManagement().Directory().RoleDefinitions().ByUnifiedRoleDefinitionId(kept.TargetID).Patch(ctx, patch, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		err := customroles.Phase.Rollback(ctx, env, m)
		if m == kept != errors.Is(err, phase.ErrChanged) || m != kept && err != nil {
			t.Errorf("rollback of %s = %v", m.TargetKey, err)
		}
	}
	if left := targetRoles(t, s); len(left) != 1 || left[name] == nil {
		t.Errorf("after rollback the target holds %v, want only %q", left, name)
	}
}

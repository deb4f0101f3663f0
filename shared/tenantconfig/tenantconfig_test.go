package tenantconfig_test

// The tenantConfig phase against the tenant simulator (in-process, real HTTPS) and Azurite: differing
// settings listed and nothing tenant-wide changed, the source's partner configuration created once
// when asked for (also after a crash between create and settle), matched when someone else made it,
// a dry run that writes nothing, and a rollback that deletes only what t2t created.

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/localstack"
	"t2t/shared/phase"
	"t2t/shared/phase/phasetest"
	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
	"t2t/shared/state"
	"t2t/shared/tenantconfig"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

// thirdTenant is a partner of the source that the target does not know.
const thirdTenant = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"

// tenants is the example configuration with settings that differ: the target restricts invitations,
// is German, and the source trusts MFA from other tenants and has a partner configuration.
func tenants() *simulator.Config {
	cfg := simulator.ExampleConfig()
	cfg.Tenants[0].Policies = &simulator.PoliciesConfig{CrossTenantAccess: &simulator.CrossTenantAccessConfig{
		Default:  map[string]any{"inboundTrust": map[string]any{"isMfaAccepted": true}},
		Partners: []map[string]any{{"tenantId": thirdTenant, "isServiceProvider": true}},
	}}
	cfg.Tenants[1].Organization = &simulator.OrganizationConfig{CountryLetterCode: "DE", PreferredLanguage: "de"}
	cfg.Tenants[1].Policies = &simulator.PoliciesConfig{Authorization: map[string]any{"allowInvitesFrom": "adminsAndGuestInviters"}}
	return cfg
}

type fixture struct {
	srv    *simulator.Server
	source *graph.Client
	target *graph.Client
	store  *state.Store
	mig    string
}

func newFixture(t *testing.T, cfg *simulator.Config) *fixture {
	s := phasetest.New(t, storageConn, cfg, nil)
	return &fixture{srv: s.Sim, source: s.Source, target: s.Target, store: s.Store, mig: s.Migration}
}

// wave names a wave of this test: ledgers are partitioned by wave, and every test shares Azurite.
func (f *fixture) wave(name string) string { return strings.ReplaceAll(f.mig, "/", "-") + "-" + name }

// env is a step environment for a wave of the fixture's migration; export uses Source, import Target.
func (f *fixture) env(t *testing.T, name string, partner, dryRun bool) *phase.Env {
	waveID := f.wave(name)
	return &phase.Env{Store: f.store, Source: f.source, Target: f.target, Migration: f.mig, Wave: waveID, Version: "v1",
		DryRun: dryRun, Options: wave.Options{Partner: partner, DomainMap: map[string]string{"contoso.example": "fabrikam.example"}},
		Manifest: func(context.Context) (*wave.Manifest, error) {
			return &wave.Manifest{Wave: waveID, SourceTenantID: simtest.ContosoID, TargetTenantID: simtest.FabrikamID}, nil
		},
		MaxAttempts: 3, Logf: t.Logf}
}

// run exports the source and imports (or plans) chunk 0.
func (f *fixture) run(t *testing.T, env *phase.Env) wave.Counts {
	t.Helper()
	ctx := context.Background()
	chunks, err := tenantconfig.Phase{}.Export(ctx, env, 0)
	if err != nil || len(chunks) != 1 || chunks[0] != 0 {
		t.Fatalf("Export: %v %v", chunks, err)
	}
	run := tenantconfig.Phase{}.Import
	if env.DryRun {
		run = tenantconfig.Phase{}.Plan
	}
	counts, err := run(ctx, env, 0)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return counts
}

func (f *fixture) entry(t *testing.T, name, key string) state.LedgerEntry {
	t.Helper()
	e, err := f.store.GetLedger(context.Background(), state.Scope{Wave: f.wave(name), Version: "v1", Phase: tenantconfig.Type}, key)
	if err != nil {
		t.Fatalf("ledger %s: %v", key, err)
	}
	return e
}

// admin decodes the answer of the simulator's admin API at path (under /_sim/) into v.
func (f *fixture) admin(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := f.srv.HTTPClient().Get(f.srv.URLs().GraphURL + "/_sim/" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// targetWrites is how many writes the migrator sent to the target since the simulator started.
func (f *fixture) targetWrites(t *testing.T) int64 {
	t.Helper()
	var all []simulator.Counter
	f.admin(t, "counters", &all)
	var n int64
	for _, c := range all {
		if c.Tenant == simtest.FabrikamID && c.Client == simtest.MigratorID {
			n += c.Writes
		}
	}
	return n
}

// targetSettings is the target's settings sections of the simulator's admin dump.
func (f *fixture) targetSettings(t *testing.T) string {
	t.Helper()
	var dump map[string]json.RawMessage
	f.admin(t, "tenants/fabrikam/dump", &dump)
	return string(dump["authorizationPolicy"]) + string(dump["crossTenantAccessDefault"]) + string(dump["crossTenantAccessPartners"])
}

func (f *fixture) partner(tenantID string) (models.CrossTenantAccessPolicyConfigurationPartnerable, error) {
	return f.target.Policies().CrossTenantAccessPolicy().Partners().ByCrossTenantAccessPolicyConfigurationPartnerTenantId(tenantID).Get(context.Background(), nil)
}

func TestDifferingSettingsAreListedAndNothingChanges(t *testing.T) {
	f := newFixture(t, tenants())
	before := f.targetSettings(t)
	env := f.env(t, "w1", false, false)
	counts := f.run(t, env)
	// allowInvitesFrom, countryLetterCode, preferredLanguage, the default's MFA trust, contoso.example,
	// the source's partner configuration for the third tenant.
	if counts.Skipped != 6 || counts.Created != 0 || counts.Failed != 0 || counts.Matched < 20 {
		t.Errorf("counts = %+v", counts)
	}
	for key, reason := range map[string]string{
		"setting:authorizationPolicy.allowInvitesFrom":                       "source everyone, target adminsAndGuestInviters: review and change by hand if wanted",
		"setting:organization.countryLetterCode":                             "source US, target DE: review and change by hand if wanted",
		"setting:crossTenantAccessPolicy.default.inboundTrust.isMfaAccepted": "source true, target false: review and change by hand if wanted",
		"domain:contoso.example":                                             "verified in the source, not in the target: the domain moves at cutover (remove it from the source tenant, then add and verify it in the target: 't2t domain plan|free|remove|add|verify|move'); until then t2t rewrites it to fabrikam.example",
		"partner:" + thirdTenant: "the source has a partner configuration for tenant " + thirdTenant +
			" (isServiceProvider true), the target has none: create it by hand if wanted",
	} {
		if e := f.entry(t, "w1", key); e.Status != wave.ObjSkipped || e.LastError != reason {
			t.Errorf("%s = %s %q, want Skipped %q", key, e.Status, e.LastError, reason)
		}
	}
	if e := f.entry(t, "w1", "setting:authorizationPolicy.defaultUserRolePermissions.allowedToCreateApps"); e.Status != wave.ObjMatched {
		t.Errorf("an equal setting: %+v", e)
	}
	if _, err := f.store.GetLedger(context.Background(), state.Scope{Wave: f.wave("w1"), Version: "v1", Phase: tenantconfig.Type}, "partner:"+simtest.ContosoID); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("without the partner option the source's partner configuration is not considered: %v", err)
	}
	if f.targetWrites(t) != 0 || f.targetSettings(t) != before {
		t.Errorf("the target changed: %d writes", f.targetWrites(t))
	}
	steps := tenantconfig.Phase{}.ManualSteps(env, counts)
	joined := strings.Join(steps, "\n")
	for _, want := range []string{
		"4 tenant-wide settings differ between source and target",
		"authorizationPolicy.allowInvitesFrom: source everyone, target adminsAndGuestInviters",
		"Domain contoso.example is verified in the source, not in the target",
		"cross-tenant access partner " + thirdTenant,
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("manual steps lack %q:\n%s", want, joined)
		}
	}
}

func TestPartnerIsCreatedOnceAndRolledBack(t *testing.T) {
	f := newFixture(t, tenants())
	ctx := context.Background()
	env := f.env(t, "w1", true, false)
	if c := f.run(t, env); c.Created != 1 || c.Failed != 0 {
		t.Fatalf("counts = %+v", c)
	}
	if _, err := f.partner(simtest.ContosoID); err != nil {
		t.Fatalf("partner configuration not in the target: %v", err)
	}
	m, err := f.store.GetIDMap(ctx, f.mig, tenantconfig.Type, simtest.ContosoID)
	if err != nil || !m.Created || m.TargetID != simtest.ContosoID || m.Wave != f.wave("w1") {
		t.Fatalf("id map = %+v, %v", m, err)
	}
	writes := f.targetWrites(t)
	if writes != 1 {
		t.Errorf("%d target writes, want 1", writes)
	}
	// A redelivered step and a later wave create nothing.
	if c := f.run(t, env); c.Created != 1 {
		t.Errorf("rerun counts = %+v", c)
	}
	if c := f.run(t, f.env(t, "w2", true, false)); c.Created != 0 {
		t.Errorf("second wave counts = %+v", c)
	}
	if e := f.entry(t, "w2", "partner:"+simtest.ContosoID); e.Status != wave.ObjMatched || e.LastError != "created by t2t in wave "+f.wave("w1") {
		t.Errorf("second wave entry = %+v", e)
	}
	if f.targetWrites(t) != writes {
		t.Errorf("reruns wrote to the target")
	}
	steps := strings.Join(tenantconfig.Phase{}.ManualSteps(env, wave.Counts{Created: 1}), "\n")
	if !strings.Contains(steps, "partner configuration for the source tenant "+simtest.ContosoID+" was created") {
		t.Errorf("manual steps: %s", steps)
	}

	if err := (tenantconfig.Phase{}).Rollback(ctx, env, m); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if _, err := f.partner(simtest.ContosoID); !graph.IsNotFound(err) {
		t.Errorf("after rollback: %v", err)
	}
	if err := (tenantconfig.Phase{}).Rollback(ctx, env, m); err != nil {
		t.Errorf("a second rollback (404 = gone): %v", err)
	}
}

func TestRollbackKeepsAPartnerChangedSinceCreation(t *testing.T) {
	f := newFixture(t, tenants())
	ctx := context.Background()
	env := f.env(t, "w1", true, false)
	f.run(t, env)
	m, err := f.store.GetIDMap(ctx, f.mig, tenantconfig.Type, simtest.ContosoID)
	if err != nil {
		t.Fatal(err)
	}
	patch := models.NewCrossTenantAccessPolicyConfigurationPartner()
	trust := models.NewCrossTenantAccessPolicyInboundTrust()
	yes := true
	trust.SetIsMfaAccepted(&yes)
	patch.SetInboundTrust(trust)
	item := f.target.Policies().CrossTenantAccessPolicy().Partners().ByCrossTenantAccessPolicyConfigurationPartnerTenantId(simtest.ContosoID)
	if _, err := item.Patch(ctx, patch, nil); err != nil {
		t.Fatal(err)
	}
	if err := (tenantconfig.Phase{}).Rollback(ctx, env, m); !errors.Is(err, phase.ErrChanged) {
		t.Fatalf("rollback of a changed configuration: %v, want ErrChanged", err)
	}
	if _, err := f.partner(simtest.ContosoID); err != nil {
		t.Errorf("the changed configuration was deleted: %v", err)
	}
}

func TestExistingPartnerIsMatchedAndNeverModified(t *testing.T) {
	cfg := tenants()
	cfg.Tenants[1].Policies.CrossTenantAccess = &simulator.CrossTenantAccessConfig{
		Partners: []map[string]any{{"tenantId": simtest.ContosoID, "isServiceProvider": true}}}
	f := newFixture(t, cfg)
	before := f.targetSettings(t)
	if c := f.run(t, f.env(t, "w1", true, false)); c.Created != 0 {
		t.Fatalf("counts = %+v", c)
	}
	e := f.entry(t, "w1", "partner:"+simtest.ContosoID)
	if e.Status != wave.ObjMatched || !strings.Contains(e.LastError, "leaves it as it is") {
		t.Errorf("entry = %+v", e)
	}
	m, err := f.store.GetIDMap(context.Background(), f.mig, tenantconfig.Type, simtest.ContosoID)
	if err != nil || m.Created {
		t.Errorf("id map = %+v, %v: an existing configuration is not t2t's", m, err)
	}
	if f.targetWrites(t) != 0 || f.targetSettings(t) != before {
		t.Errorf("the existing configuration was modified")
	}
}

// A create whose answer was lost: the configuration exists but, replicating, is not seen by the read;
// the create conflicts. With the intent recorded it is t2t's; without, someone else's.
func TestLostCreateAnswerIsReadBackFromTheConflict(t *testing.T) {
	for _, tc := range []struct {
		name    string
		intent  bool
		status  string
		created bool
	}{{"intent recorded", true, wave.ObjCreated, true}, {"no intent", false, wave.ObjMatched, false}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tenants()
			cfg.Tenants[1].ReplicationLag = simulator.Duration(time.Hour)
			f := newFixture(t, cfg)
			ctx := context.Background()
			key := "partner:" + simtest.ContosoID
			if tc.intent {
				intent := state.LedgerEntry{Wave: f.wave("w1"), Version: "v1", Phase: tenantconfig.Type, Key: key, Status: wave.ObjCreating,
					Attempts: 1, IntentUtc: time.Now().UTC().Add(-2 * time.Second), SourceID: simtest.ContosoID}
				if err := f.store.PutLedger(ctx, intent); err != nil {
					t.Fatal(err)
				}
			}
			body := models.NewCrossTenantAccessPolicyConfigurationPartner()
			id := simtest.ContosoID
			body.SetTenantId(&id)
			if _, err := f.target.Policies().CrossTenantAccessPolicy().Partners().Post(ctx, body, nil); err != nil {
				t.Fatal(err)
			}
			c := f.run(t, f.env(t, "w1", true, false))
			if e := f.entry(t, "w1", key); e.Status != tc.status || c.Failed != 0 {
				t.Errorf("entry = %+v, counts %+v; want %s", e, c, tc.status)
			}
			m, err := f.store.GetIDMap(ctx, f.mig, tenantconfig.Type, simtest.ContosoID)
			if err != nil || m.Created != tc.created {
				t.Errorf("id map = %+v, %v; want created %v", m, err, tc.created)
			}
			if n := strings.Count(f.targetSettings(t), `"tenantId":"`+simtest.ContosoID+`"`); n != 1 {
				t.Errorf("%d partner configurations for the source", n)
			}
		})
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	f := newFixture(t, tenants())
	before := f.targetSettings(t)
	c := f.run(t, f.env(t, "dry", true, true))
	// A dry run's WouldCreate and WouldMatch count as Created and Matched.
	if c.Created != 1 || c.Skipped != 6 || c.Matched < 20 || c.Failed != 0 {
		t.Errorf("counts = %+v", c)
	}
	e := f.entry(t, "dry", "partner:"+simtest.ContosoID)
	if e.Status != wave.ObjWouldCreate || !strings.Contains(e.LastError, "would create") {
		t.Errorf("partner verdict = %+v", e)
	}
	if f.targetWrites(t) != 0 || f.targetSettings(t) != before {
		t.Errorf("a dry run wrote to the target")
	}
	if _, err := f.store.GetIDMap(context.Background(), f.mig, tenantconfig.Type, simtest.ContosoID); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("a dry run recorded an id mapping: %v", err)
	}
}

func TestMissingWritePermissionFailsWithTheReason(t *testing.T) {
	cfg := tenants()
	roles := cfg.Tenants[1].Clients[0].Roles
	cfg.Tenants[1].Clients[0].Roles = nil
	for _, r := range roles {
		if r != "Policy.ReadWrite.CrossTenantAccess" {
			cfg.Tenants[1].Clients[0].Roles = append(cfg.Tenants[1].Clients[0].Roles, r)
		}
	}
	f := newFixture(t, cfg)
	c := f.run(t, f.env(t, "w1", true, false))
	e := f.entry(t, "w1", "partner:"+simtest.ContosoID)
	if c.Failed != 1 || e.Status != wave.ObjFailed || !strings.Contains(e.LastError, "needs Policy.ReadWrite.CrossTenantAccess") {
		t.Errorf("counts %+v, entry %+v", c, e)
	}
}

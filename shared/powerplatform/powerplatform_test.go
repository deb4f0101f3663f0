package powerplatform_test

// The powerPlatform phase against the tenant simulator's Power Platform service and Azurite: the
// state machine through to completion, a request that expires before its cutover and is submitted
// again, an environment type the move refuses, and the setting that keeps the phase off.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"t2t/shared/localstack"
	"t2t/shared/phase"
	"t2t/shared/phase/phasetest"
	"t2t/shared/powerplatform"
	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
	"t2t/shared/state"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

func config() *simulator.Config {
	cfg := simulator.ExampleConfig()
	cfg.Tenants[0].Environments = []simulator.EnvironmentConfig{
		{ID: "env-sales", DisplayName: "Sales", Type: "Production"},
		{ID: "env-hr", DisplayName: "HR", Type: "Sandbox"},
		{ID: "env-dev", DisplayName: "Dev", Type: "Developer"},
	}
	return cfg
}

// setup is a wave whose users ledger maps three enabled source users to three enabled target users.
func setup(ctx context.Context, t *testing.T, envs ...string) (*phasetest.Setup, *phase.Env) {
	t.Helper()
	s := phasetest.New(t, storageConn, config(), nil)
	env := s.Env(t, "pp", false)
	env.Options.PowerPlatformEnvironments = envs
	settings := map[string]string{powerplatform.SettingEnabled: "enabled", powerplatform.SettingURL: s.Sim.URLs().GraphURL + "/bap"}
	env.Setting = func(k string) string { return settings[k] }
	env.Manifest = func(context.Context) (*wave.Manifest, error) {
		return &wave.Manifest{Wave: "pp", SourceTenantID: simtest.ContosoID, TargetTenantID: simtest.FabrikamID}, nil
	}
	pick := func(tenant string) []string {
		var out []string
		for _, o := range s.Objects(t, tenant, "users") {
			if o["accountEnabled"] == true && o["userType"] == "Member" && len(out) < 3 {
				out = append(out, o["userPrincipalName"].(string))
			}
		}
		return out
	}
	src, tgt := pick("contoso"), pick("fabrikam")
	var entries []state.LedgerEntry
	for i := range src {
		entries = append(entries, state.LedgerEntry{Wave: "pp", Version: "v1", Phase: "users", Key: src[i], TargetKey: tgt[i],
			TargetID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), Status: wave.ObjCreated})
	}
	if err := env.Store.PutLedgers(ctx, entries); err != nil {
		t.Fatal(err)
	}
	return s, env
}

type request struct {
	ID, Status, Environment string
}

// requests reads the move requests as the target tenant's administrator sees them.
func requests(ctx context.Context, t *testing.T, s *phasetest.Setup) map[string][]request {
	t.Helper()
	var list struct {
		Value []struct {
			ID          string `json:"migrationId"`
			Status      string `json:"status"`
			Environment string `json:"environmentName"`
		} `json:"value"`
	}
	svc := s.Target.Service("https://service.powerapps.com", s.Sim.URLs().GraphURL+"/bap")
	if _, err := svc.Do(ctx, http.MethodGet, "/providers/Microsoft.BusinessAppPlatform/tenantToTenantMigrations?api-version=2021-04-01", nil, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string][]request{}
	for _, r := range list.Value {
		out[r.Environment] = append(out[r.Environment], request{r.ID, r.Status, r.Environment})
	}
	return out
}

func TestEnvironmentMovesThroughToCompletion(t *testing.T) {
	ctx := context.Background()
	s, env := setup(ctx, t, "env-sales", "env-dev")
	counts, err := phasetest.Run(ctx, powerplatform.Phase{}, env)
	if err != nil {
		t.Fatal(err)
	}
	if counts != (wave.Counts{Created: 1, Failed: 1}) {
		t.Errorf("counts = %+v, want the production environment moved and the developer one refused", counts)
	}
	reqs := requests(ctx, t, s)
	if got := reqs["env-sales"]; len(got) != 1 || got[0].Status != "Completed" {
		t.Errorf("env-sales requests %+v, want one Completed", got)
	}
	e, err := env.Store.GetLedger(ctx, env.Scope(powerplatform.Type, 0), "env-dev")
	if err != nil || e.Status != wave.ObjFailed || !strings.Contains(e.LastError, "EnvironmentTypeNotSupported") {
		t.Errorf("env-dev ledger %+v (%v), want Failed with the service's reason", e, err)
	}
	// A rerun submits nothing new.
	if again, err := phasetest.Run(ctx, powerplatform.Phase{}, env); err != nil || again != counts || len(requests(ctx, t, s)["env-sales"]) != 1 {
		t.Errorf("rerun = %+v (%v), requests %+v; want the same and no new request", again, err, requests(ctx, t, s))
	}
}

func TestExpiredRequestIsSubmittedAgainAtCutover(t *testing.T) {
	ctx := context.Background()
	s, env := setup(ctx, t, "env-hr")
	later := time.Now().Add(10 * 24 * time.Hour)
	env.Options.CutoverUtc = &later
	counts, err := phasetest.Run(ctx, powerplatform.Phase{}, env)
	if err != nil || counts.Pending != 1 {
		t.Fatalf("before the cutover = %+v (%v), want Pending (prepared, waiting for the cutover)", counts, err)
	}
	first := requests(ctx, t, s)["env-hr"]
	if len(first) != 1 || first[0].Status != "Prepared" {
		t.Fatalf("requests before the cutover %+v, want one Prepared", first)
	}
	resp, err := s.Sim.HTTPClient().Post(s.Sim.URLs().GraphURL+"/_sim/bap/advance?hours=200", "", nil)
	if err == nil {
		resp.Body.Close()
	}
	if got := requests(ctx, t, s)["env-hr"]; err != nil || got[0].Status != "Expired" {
		t.Fatalf("after 200 hours the request is %+v (%v), want Expired", got, err)
	}
	due := time.Now().Add(-time.Minute)
	env.Options.CutoverUtc = &due
	counts, err = phasetest.Run(ctx, powerplatform.Phase{}, env)
	if err != nil || counts.Created != 1 {
		t.Fatalf("at the cutover = %+v (%v), want the environment moved", counts, err)
	}
	got := requests(ctx, t, s)["env-hr"]
	statuses := map[string]int{}
	for _, r := range got {
		statuses[r.Status]++
	}
	if len(got) != 2 || statuses["Expired"] != 1 || statuses["Completed"] != 1 {
		t.Errorf("requests %+v, want the expired one and a new Completed one", got)
	}
	e, _ := env.Store.GetLedger(ctx, env.Scope(powerplatform.Type, 0), "env-hr")
	if !strings.Contains(e.LastError, "submitted again") {
		t.Errorf("ledger note %q should say the request was submitted again", e.LastError)
	}
}

func TestPhaseStaysOffUnlessEnabled(t *testing.T) {
	ctx := context.Background()
	s, env := setup(ctx, t, "env-sales")
	env.Setting = nil
	counts, err := phasetest.Run(ctx, powerplatform.Phase{}, env)
	if err != nil || counts != (wave.Counts{Skipped: 1}) || len(requests(ctx, t, s)) != 0 {
		t.Errorf("without the setting = %+v (%v), requests %v; want Skipped and no request", counts, err, requests(ctx, t, s))
	}
}

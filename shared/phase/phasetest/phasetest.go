// Package phasetest sets up what a phase package's tests need: the tenant simulator (in-process, real
// HTTPS), Graph clients for its source and target tenants, a state store on Azurite, phase.Env values
// for waves of one migration, a runner that exports and imports a phase as the step handler would
// (export without the target, import without the source), and the simulator's own view of a tenant
// (dump, counters), so that tests assert on the target without trusting t2t's state.
package phasetest

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Setup is one test's simulator, clients and store.
type Setup struct {
	Sim            *simulator.Server
	Source, Target *graph.Client
	Store          *state.Store
	// Migration is the test's own id map partition (from the test name).
	Migration string
}

// Options change how New builds the Graph clients; nil means the defaults.
type Options struct {
	// PolicyPerSecond paces conditional access requests (graph.Config.PolicyPerSecond); 0: no pacing.
	PolicyPerSecond float64
}

// New starts a simulator with cfg (nil: simulator.ExampleConfig) and opens the store at storageConn
// (Azurite, from localstack.MainWithAzurite; "" leaves Store nil, for tests of Graph calls only).
// The clients try each request 3 times and, unless opts says so, do not pace conditional access
// requests (the simulator's throttling is off unless cfg turns it on).
func New(t testing.TB, storageConn string, cfg *simulator.Config, opts *Options) *Setup {
	t.Helper()
	srv := simtest.Start(t, cfg, nil)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := srv.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	u := srv.URLs()
	gc := graph.Config{AuthorityHost: u.GraphURL + "/", GraphBaseURL: u.GraphURL + "/v1.0",
		ClientID: simtest.MigratorID, ClientSecret: simtest.MigratorSecret, CAFile: ca, MaxAttempts: 3}
	if opts != nil {
		gc.PolicyPerSecond = opts.PolicyPerSecond
	}
	src, err := graph.New(gc, simtest.ContosoID)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := graph.New(gc, simtest.FabrikamID)
	if err != nil {
		t.Fatal(err)
	}
	var store *state.Store
	if storageConn != "" {
		if store, err = state.Open(context.Background(), storageConn); err != nil {
			t.Fatal(err)
		}
	}
	name := strings.NewReplacer("/", "-", " ", "-").Replace(strings.ToLower(t.Name()))
	return &Setup{Sim: srv, Source: src, Target: tgt, Store: store, Migration: name}
}

// Env is a phase.Env for a wave of the test's migration (version v1), with both tenants' clients;
// Run hands each step only the half it may use.
func (s *Setup) Env(t testing.TB, waveID string, dryRun bool) *phase.Env {
	return &phase.Env{Store: s.Store, Source: s.Source, Target: s.Target, Migration: s.Migration,
		Wave: waveID, Version: "v1", DryRun: dryRun, Options: wave.Options{CAState: wave.CADisabled},
		MaxAttempts: 3, Logf: t.Logf}
}

// Run runs a phase for env as the step handler would: every export part (source only), then every
// chunk's import, or plan in a dry run (target only). It returns the summed tallies and the first
// import error.
func Run(ctx context.Context, p phase.Phase, env *phase.Env) (wave.Counts, error) {
	exp, imp := *env, *env
	exp.Target, imp.Source = nil, nil
	if _, both := p.(phase.BothTenants); both {
		imp.Source = env.Source
	}
	parts, err := p.Parts(ctx, &exp)
	if err != nil {
		return wave.Counts{}, err
	}
	var chunks []int
	for part := range parts {
		cs, err := p.Export(ctx, &exp, part)
		if err != nil {
			return wave.Counts{}, fmt.Errorf("export part %d: %w", part, err)
		}
		chunks = append(chunks, cs...)
	}
	var total wave.Counts
	for _, c := range chunks {
		run := p.Import
		if env.DryRun {
			run = p.Plan
		}
		n, err := run(ctx, &imp, c)
		if err != nil {
			return total, fmt.Errorf("chunk %d: %w", c, err)
		}
		total = total.Add(n)
	}
	return total, nil
}

// Dump returns the simulator's dump of a tenant (name or id): every object as Graph renders it.
func (s *Setup) Dump(t testing.TB, tenant string) map[string]any {
	t.Helper()
	var out map[string]any
	s.getJSON(t, "/_sim/tenants/"+tenant+"/dump", &out)
	return out
}

// Objects returns one collection of a tenant's dump (e.g. "namedLocations", "conditionalAccessPolicies").
func (s *Setup) Objects(t testing.TB, tenant, collection string) []map[string]any {
	t.Helper()
	list, _ := s.Dump(t, tenant)[collection].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, o := range list {
		if m, ok := o.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// ByName returns one collection of a tenant's dump by display name, failing the test when two objects
// share a name (t2t must never duplicate an object).
func (s *Setup) ByName(t testing.TB, tenant, collection string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, o := range s.Objects(t, tenant, collection) {
		name, _ := o["displayName"].(string)
		if out[name] != nil {
			t.Errorf("%s %q exists twice in %s", collection, name, tenant)
		}
		out[name] = o
	}
	return out
}

// IDMaps returns the test migration's id mappings of one type.
func (s *Setup) IDMaps(t testing.TB, typ string) []state.IDMapping {
	t.Helper()
	var out []state.IDMapping
	for m, err := range s.Store.IDMap(context.Background(), s.Migration, typ) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// RunMapped runs phase p for env and returns the id mappings of its type, failing the test unless
// they number want: the setup of every rollback test.
func (s *Setup) RunMapped(t testing.TB, p phase.Phase, env *phase.Env, want int) []state.IDMapping {
	t.Helper()
	if _, err := Run(context.Background(), p, env); err != nil {
		t.Fatal(err)
	}
	maps := s.IDMaps(t, p.Name())
	if len(maps) != want {
		t.Fatalf("%d id mappings, want %d", len(maps), want)
	}
	return maps
}

// Writes is how many writes the migrator app has sent to a tenant (by id) since the simulator started.
func (s *Setup) Writes(t testing.TB, tenantID string) int64 {
	t.Helper()
	var n int64
	for _, c := range s.Counters(t) {
		if strings.EqualFold(c.Tenant, tenantID) && strings.EqualFold(c.Client, simtest.MigratorID) {
			n += c.Writes
		}
	}
	return n
}

// Counters returns the simulator's traffic counters, per tenant and client.
func (s *Setup) Counters(t testing.TB) []simulator.Counter {
	t.Helper()
	var all []simulator.Counter
	s.getJSON(t, "/_sim/counters", &all)
	return all
}

func (s *Setup) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := s.Sim.HTTPClient().Get(s.Sim.URLs().GraphURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// NewUser is a user model ready to create: enabled, its display name and mail nickname from the
// UPN's local part, a temporary password.
func NewUser(upn string) models.Userable {
	u := models.NewUser()
	nick, enabled, pw := strings.Split(upn, "@")[0], true, "Temp-Passw0rd-For-Test!"
	u.SetUserPrincipalName(&upn)
	u.SetDisplayName(&nick)
	u.SetMailNickname(&nick)
	u.SetAccountEnabled(&enabled)
	p := models.NewPasswordProfile()
	p.SetPassword(&pw)
	u.SetPasswordProfile(p)
	return u
}

// CreateUser creates u in a tenant through Graph and returns its id.
func CreateUser(ctx context.Context, t testing.TB, c *graph.Client, u models.Userable) string {
	t.Helper()
	got, err := c.Users().Post(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return *got.GetId()
}

package domainmove_test

// The vanity-domain move against the tenant simulator and Azurite: the plan lists every object using
// the domain, the target steps are refused while the source holds it, free and remove release it,
// verify and move put the migrated objects on it in the target, and every step run again changes
// nothing. Assertions read both tenants through the simulator's dump.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/domainmove"
	"t2t/shared/localstack"
	"t2t/shared/phase/phasetest"
	"t2t/shared/simulator"
	"t2t/shared/state"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

const vanity = "vanity.example"

func config() *simulator.Config {
	cfg := simulator.ExampleConfig()
	src, tgt := &cfg.Tenants[0], &cfg.Tenants[1]
	src.Domains = append(src.Domains, simulator.DomainConfig{ID: vanity, IsVerified: true})
	for i := range src.Clients {
		src.Clients[i].Roles = append(src.Clients[i].Roles, "Domain.ReadWrite.All", "User.ReadWrite.All", "Application.ReadWrite.All", "Group.ReadWrite.All")
	}
	for i := range tgt.Clients {
		tgt.Clients[i].Roles = append(tgt.Clients[i].Roles, "Domain.ReadWrite.All", "User.ReadWrite.All", "Application.ReadWrite.All")
	}
	return cfg
}

func newUser(upn, mail string) models.Userable {
	u := phasetest.NewUser(upn)
	if mail != "" {
		u.SetMail(&mail)
	}
	return u
}

// seed puts three users and an app on the vanity domain in the source, their migrated counterparts
// in the target, and the id mappings between them.
func seed(ctx context.Context, t *testing.T, s *phasetest.Setup) domainmove.Tenants {
	t.Helper()
	var maps []state.IDMapping
	for i := range 3 {
		upn := fmt.Sprintf("vip%d@%s", i, vanity)
		su, err := s.Source.Users().Post(ctx, newUser(upn, upn), nil)
		if err != nil {
			t.Fatal(err)
		}
		tu, err := s.Target.Users().Post(ctx, newUser(fmt.Sprintf("vip%d@fabrikam.example", i), ""), nil)
		if err != nil {
			t.Fatal(err)
		}
		maps = append(maps, state.IDMapping{Migration: s.Migration, Type: "users", SourceID: *su.GetId(), TargetID: *tu.GetId(), Created: true})
	}
	app := models.NewApplication()
	name := "Vanity API"
	app.SetDisplayName(&name)
	app.SetIdentifierUris([]string{"https://api." + vanity})
	web := models.NewWebApplication()
	web.SetRedirectUris([]string{"https://app." + vanity + "/signin"})
	app.SetWeb(web)
	sa, err := s.Source.Applications().Post(ctx, app, nil)
	if err != nil {
		t.Fatal(err)
	}
	ta := models.NewApplication()
	ta.SetDisplayName(&name)
	tapp, err := s.Target.Applications().Post(ctx, ta, nil)
	if err != nil {
		t.Fatal(err)
	}
	maps = append(maps, state.IDMapping{Migration: s.Migration, Type: "applications", SourceID: *sa.GetId(), TargetID: *tapp.GetId(), Created: true})
	if err := s.Store.PutIDMaps(ctx, maps); err != nil {
		t.Fatal(err)
	}
	return domainmove.Tenants{Source: s.Source, Target: s.Target, Store: s.Store, Migration: s.Migration}
}

func run(ctx context.Context, t *testing.T, tn domainmove.Tenants, action string, dry bool) *domainmove.Report {
	t.Helper()
	r, err := domainmove.Run(ctx, tn, action, vanity, "run-"+action, dry)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return r
}

// onVanity lists a tenant's users and apps using the domain, by UPN and identifierUri.
func onVanity(t *testing.T, s *phasetest.Setup, tenant string) []string {
	var out []string
	for _, u := range s.Objects(t, tenant, "users") {
		if strings.HasSuffix(u["userPrincipalName"].(string), "@"+vanity) {
			out = append(out, u["userPrincipalName"].(string))
		}
	}
	for _, a := range s.Objects(t, tenant, "applications") {
		for _, uri := range a["identifierUris"].([]any) {
			if strings.Contains(uri.(string), vanity) {
				out = append(out, uri.(string))
			}
		}
	}
	return out
}

// redirects joins the web redirect URIs of a tenant's applications.
func redirects(t *testing.T, s *phasetest.Setup, tenant string) string {
	var out []string
	for _, a := range s.Objects(t, tenant, "applications") {
		if web, ok := a["web"].(map[string]any); ok {
			for _, u := range web["redirectUris"].([]any) {
				out = append(out, u.(string))
			}
		}
	}
	return strings.Join(out, " ")
}

func TestDomainMovesFromSourceToTarget(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, config(), nil)
	tn := seed(ctx, t, s)

	plan := run(ctx, t, tn, "plan", true)
	fields := map[string]int{}
	for _, it := range plan.Items {
		fields[it.Field]++
	}
	if plan.Blocking != 4 || fields["userPrincipalName"] != 3 || fields["mail"] != 3 || fields["identifierUri"] != 1 || fields["redirectUri"] != 1 {
		t.Fatalf("plan: %d blocking objects, fields %v; want the 3 users (UPN and mail), the app's identifierUri and its redirect URI listed", plan.Blocking, fields)
	}
	for _, action := range []string{"remove", "verify"} {
		if r := run(ctx, t, tn, action, false); r.Refused == "" {
			t.Errorf("%s ran while the source still uses the domain: %+v", action, r)
		}
	}
	if r := run(ctx, t, tn, "move", false); !strings.Contains(r.Refused, "not verified") {
		t.Errorf("move before verification: %q, want a refusal", r.Refused)
	}
	if dry := run(ctx, t, tn, "free", true); len(onVanity(t, s, "contoso")) != 4 || dry.Items[0].FreeStatus != domainmove.StatusWould {
		t.Fatalf("the dry free changed the source or said nothing: %v", onVanity(t, s, "contoso"))
	}

	free := run(ctx, t, tn, "free", false)
	if left := onVanity(t, s, "contoso"); len(left) != 0 || free.Blocking != 4 {
		t.Fatalf("after free the source still uses the domain: %v", left)
	}
	srcWrites := s.Writes(t, "contoso")
	if again := run(ctx, t, tn, "free", false); again.Blocking != 0 || s.Writes(t, "contoso") != srcWrites {
		t.Errorf("free again found %d blocking objects and wrote %d times, want none", again.Blocking, s.Writes(t, "contoso")-srcWrites)
	}
	if r := run(ctx, t, tn, "remove", false); r.Refused != "" {
		t.Fatalf("remove refused after free: %s", r.Refused)
	}
	add := run(ctx, t, tn, "add", false)
	if !strings.Contains(strings.Join(add.Notes, "\n"), "TXT "+vanity) {
		t.Errorf("add should report the TXT record to publish: %v", add.Notes)
	}
	if r := run(ctx, t, tn, "verify", false); !strings.Contains(r.Refused, "TXT record") {
		t.Errorf("verify before the DNS record is published: %q, want the target's refusal", r.Refused)
	}
	resp, err := s.Sim.HTTPClient().Post(s.Sim.URLs().GraphURL+"/_sim/tenants/fabrikam/domains/"+vanity+"/dns", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := run(ctx, t, tn, "verify", false); r.Refused != "" {
		t.Fatalf("verify refused: %s", r.Refused)
	}

	run(ctx, t, tn, "move", false)
	got := onVanity(t, s, "fabrikam")
	if len(got) != 4 || !strings.Contains(strings.Join(got, " "), "https://api."+vanity) {
		t.Errorf("after move the target has %v on the domain, want the 3 users and the app", got)
	}
	if r := redirects(t, s, "fabrikam"); !strings.Contains(r, "https://app."+vanity+"/signin") {
		t.Errorf("after move the target app's redirect URIs are %q, want the source's on the domain", r)
	}
	writes := s.Writes(t, "fabrikam")
	if again := run(ctx, t, tn, "move", false); s.Writes(t, "fabrikam") != writes || again.Refused != "" {
		t.Errorf("move again wrote %d times (refused %q), want nothing", s.Writes(t, "fabrikam")-writes, again.Refused)
	}
}

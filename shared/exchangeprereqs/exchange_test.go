package exchangeprereqs_test

// Mailbox-move prerequisites against the tenant simulator's Exchange admin API and Azurite: target
// mail users stamped with the source mailboxes' GUIDs and x500 addresses through paged and throttled
// cmdlet calls, the licensing guard refusing a target user that already holds an Exchange licence,
// the source mailboxes put in the scope group, and a rerun that stamps nothing again.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/exchangeprereqs"
	"t2t/shared/graph"
	"t2t/shared/localstack"
	"t2t/shared/phase/phasetest"
	"t2t/shared/simulator"
	"t2t/shared/state"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

func cmdlet(ctx context.Context, t *testing.T, c *graph.Client, url, name string, params map[string]any) []map[string]any {
	t.Helper()
	var page struct{ Value []map[string]any }
	body := map[string]any{"CmdletInput": map[string]any{"CmdletName": name, "Parameters": params}}
	if _, err := c.Service("https://outlook.office365.com", url).Do(ctx, http.MethodPost, "/adminapi/beta/"+c.TenantID+"/InvokeCommand", body, &page); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return page.Value
}

func TestMailUsersAreStampedAndLicensedUsersRefused(t *testing.T) {
	ctx := context.Background()
	cfg := simulator.ExampleConfig()
	cfg.Tenants[0].MailboxMoveGroup = "MailboxMoveScope"
	cfg.Tenants[1].Skus = []simulator.SkuConfig{{SkuPartNumber: "SPE_E3", Units: 10, ServicePlans: []string{"EXCHANGE_S_ENTERPRISE", "TEAMS1"}}}
	s := phasetest.New(t, storageConn, cfg, nil)
	url := s.Sim.URLs().GraphURL
	env := s.Env(t, "exo", false)
	env.Options.Workloads = []string{"Exchange"}
	settings := map[string]string{exchangeprereqs.SettingEnabled: "enabled", exchangeprereqs.SettingURL: url, exchangeprereqs.SettingScopeGroup: "MailboxMoveScope"}
	env.Setting = func(k string) string { return settings[k] }

	var sources []string
	for _, u := range s.Objects(t, "contoso", "users") {
		if u["userType"] == "Member" && u["mail"] != nil && len(sources) < 3 {
			sources = append(sources, u["userPrincipalName"].(string))
		}
	}
	var entries []state.LedgerEntry
	targets := map[string]string{}
	for i, src := range sources {
		upn := fmt.Sprintf("moved%d@fabrikam.example", i)
		u := phasetest.NewUser(upn)
		loc := "GB"
		u.SetUsageLocation(&loc)
		id := phasetest.CreateUser(ctx, t, s.Target, u)
		targets[src] = upn
		entries = append(entries, state.LedgerEntry{Wave: "exo", Version: "v1", Phase: "users", Key: src, TargetID: id, TargetKey: upn, Status: wave.ObjCreated})
		if i == 2 { // licensed too early
			skus, err := s.Target.SubscribedSkus().Get(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			body := graphusers.NewItemAssignLicensePostRequestBody()
			l := models.NewAssignedLicense()
			l.SetSkuId(skus.GetValue()[0].GetSkuId())
			l.SetDisabledPlans([]uuid.UUID{})
			body.SetAddLicenses([]models.AssignedLicenseable{l})
			body.SetRemoveLicenses([]uuid.UUID{})
			if _, err := s.Target.Users().ByUserId(id).AssignLicense().Post(ctx, body, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := env.Store.PutLedgers(ctx, entries); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Sim.HTTPClient().Post(url+"/_sim/exchange/throttle?count=2", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	counts, err := phasetest.Run(ctx, exchangeprereqs.Phase{}, env)
	if err != nil || counts.Created != 2 || counts.Failed != 1 {
		t.Fatalf("run = %+v (%v), want 2 stamped and the licensed user refused", counts, err)
	}
	e, _ := env.Store.GetLedger(ctx, env.Scope(exchangeprereqs.Type, 0), sources[2])
	if !strings.Contains(e.LastError, "Exchange licence") || !strings.Contains(e.LastError, "SPE_E3") {
		t.Errorf("the refused user's reason %q should name the Exchange licence", e.LastError)
	}
	for _, src := range sources[:2] {
		box := cmdlet(ctx, t, s.Source, url, "Get-Mailbox", map[string]any{"Identity": src})[0]
		mu := cmdlet(ctx, t, s.Target, url, "Get-MailUser", map[string]any{"Identity": targets[src]})[0]
		if mu["ExchangeGuid"] != box["ExchangeGuid"] {
			t.Errorf("%s: ExchangeGuid %v, want the source's %v", src, mu["ExchangeGuid"], box["ExchangeGuid"])
		}
		if a := box["ArchiveGuid"].(string); a != "00000000-0000-0000-0000-000000000000" && mu["ArchiveGuid"] != a {
			t.Errorf("%s: ArchiveGuid %v, want %v", src, mu["ArchiveGuid"], a)
		}
		var addrs []string
		for _, a := range mu["EmailAddresses"].([]any) {
			addrs = append(addrs, a.(string))
		}
		want := []string{"X500:" + box["LegacyExchangeDN"].(string)}
		for _, a := range box["EmailAddresses"].([]any) {
			if strings.HasPrefix(a.(string), "X500:") {
				want = append(want, a.(string))
			}
		}
		for _, w := range want {
			if !slices.Contains(addrs, w) {
				t.Errorf("%s: target addresses %v lack %s", src, addrs, w)
			}
		}
	}
	var members []string
	for _, m := range cmdlet(ctx, t, s.Source, url, "Get-DistributionGroupMember", map[string]any{"Identity": "MailboxMoveScope"}) {
		members = append(members, m["PrimarySmtpAddress"].(string))
	}
	if len(members) != 2 {
		t.Errorf("scope group members %v, want the two stamped source mailboxes", members)
	}

	// A new version of the wave stamps nothing again: every stamp is found in place.
	again := *env
	again.Version = "v2"
	for i := range entries {
		entries[i].Version = "v2"
	}
	if err := env.Store.PutLedgers(ctx, entries[:2]); err != nil {
		t.Fatal(err)
	}
	if n, err := phasetest.Run(ctx, exchangeprereqs.Phase{}, &again); err != nil || n.Matched != 2 {
		t.Errorf("second run = %+v (%v), want both already stamped", n, err)
	}
}

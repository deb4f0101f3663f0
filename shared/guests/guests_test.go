package guests_test

// The guests phase against the tenant simulator and Azurite: the source's guests in a wave's groups
// are invited once with no mail, a guest whose address the target already holds is matched, an
// address two target accounts hold is refused, a rerun changes nothing, and guests.csv carries the
// redemption links. Assertions read the target through the simulator's dump.

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"t2t/shared/groups"
	"t2t/shared/guests"
	"t2t/shared/localstack"
	"t2t/shared/phase"
	"t2t/shared/phase/phasetest"
	"t2t/shared/simulator"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

type dumpUser struct {
	ID, Mail, UserType, UserPrincipalName string
	OtherMails                            []string
}

type dumpGroup struct {
	ID, DisplayName string
	GroupTypes      []string
	MailEnabled     bool
	SecurityEnabled bool
	Members         []string
}

// sourceScope puts a groups snapshot of the source's static security groups that have guest members
// in the wave, as the groups phase would, and returns the guests they hold.
func sourceScope(ctx context.Context, t *testing.T, s *phasetest.Setup, env *phase.Env) []dumpUser {
	t.Helper()
	guestByID := map[string]dumpUser{}
	for _, o := range s.Objects(t, "contoso", "users") {
		if o["userType"] == "Guest" {
			u := dumpUser{ID: o["id"].(string), UserType: "Guest", UserPrincipalName: o["userPrincipalName"].(string)}
			u.Mail, _ = o["mail"].(string)
			guestByID[u.ID] = u
		}
	}
	snap := groups.Snapshot{}
	seen := map[string]bool{}
	var inScope []dumpUser
	for _, o := range s.Objects(t, "contoso", "groups") {
		if o["mailEnabled"] == true || o["membershipRule"] != nil && o["membershipRule"] != "" {
			continue
		}
		var members []string
		for _, m := range o["members"].([]any) {
			if g, ok := guestByID[m.(string)]; ok {
				members = append(members, m.(string))
				if !seen[g.ID] {
					seen[g.ID] = true
					inScope = append(inScope, g)
				}
			}
		}
		if len(members) > 0 {
			snap.Groups = append(snap.Groups, groups.SourceGroup{ID: o["id"].(string), DisplayName: o["displayName"].(string),
				SecurityEnabled: true})
		}
	}
	if len(inScope) < 3 {
		t.Fatalf("the seeded source has %d guests in static groups; the test needs 3", len(inScope))
	}
	if err := env.PutSnapshot(ctx, groups.Type, 0, snap); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.PutFact(ctx, env.Wave, env.Version, wave.Fact{Phase: groups.Type, Kind: wave.FactChunk, Index: 0}); err != nil {
		t.Fatal(err)
	}
	return inScope
}

// holdAddress creates a target member whose otherMails holds address, as an earlier collaboration
// might have left it.
func holdAddress(ctx context.Context, t *testing.T, s *phasetest.Setup, nick, address string) string {
	t.Helper()
	u := phasetest.NewUser(nick + "@fabrikam.example")
	u.SetOtherMails([]string{address})
	return phasetest.CreateUser(ctx, t, s.Target, u)
}

func TestGuestsAreInvitedOnceMatchedOrRefused(t *testing.T) {
	ctx := context.Background()
	cfg := simulator.ExampleConfig()
	cfg.Tenants[0].Seed.Guests = 12
	s := phasetest.New(t, storageConn, cfg, nil)
	env := s.Env(t, "w1", false)
	inScope := sourceScope(ctx, t, s, env)
	address := func(u dumpUser) string {
		if u.Mail != "" {
			return u.Mail
		}
		return guests.Guest{UPN: u.UserPrincipalName}.Address()
	}
	matched := holdAddress(ctx, t, s, "matched.member", address(inScope[0]))
	holdAddress(ctx, t, s, "twin.one", address(inScope[1]))
	holdAddress(ctx, t, s, "twin.two", address(inScope[1]))
	before := len(s.Objects(t, "fabrikam", "users"))

	counts, err := phasetest.Run(ctx, guests.Phase{}, env)
	if err != nil {
		t.Fatal(err)
	}
	want := wave.Counts{Created: len(inScope) - 2, Matched: 1, Failed: 1}
	if counts != want {
		t.Errorf("first run = %+v, want %+v", counts, want)
	}
	after := s.Objects(t, "fabrikam", "users")
	if len(after) != before+len(inScope)-2 {
		t.Errorf("the target has %d users, want %d (one invitation per guest not already there)", len(after), before+len(inScope)-2)
	}
	for _, g := range inScope[2:] {
		n := 0
		for _, o := range after {
			if strings.EqualFold(asString(o["mail"]), address(g)) {
				n++
				if o["userType"] != "Guest" || o["externalUserState"] != "PendingAcceptance" {
					t.Errorf("invited %s is %v/%v, want a Guest pending acceptance", address(g), o["userType"], o["externalUserState"])
				}
			}
		}
		if n != 1 {
			t.Errorf("guest %s is in the target %d times, want once", address(g), n)
		}
	}
	if mails := s.Dump(t, "fabrikam")["tenant"].(map[string]any)["invitationMails"]; mails != float64(0) {
		t.Errorf("the target sent %v invitation mails; t2t must send none", mails)
	}
	e, err := env.Store.GetLedger(ctx, env.Scope(guests.Type, 0), inScope[1].ID)
	if err != nil || e.Status != wave.ObjFailed || !strings.Contains(e.LastError, "ambiguous") {
		t.Errorf("ambiguous guest's ledger entry = %+v (%v), want Failed with the reason", e, err)
	}
	if m, err := env.Store.GetIDMap(ctx, env.Migration, guests.Type, inScope[0].ID); err != nil || m.TargetID != matched || m.Created {
		t.Errorf("matched guest's mapping = %+v (%v), want the existing member %s, not created", m, err, matched)
	}

	// A rerun (a redelivered wave) invites nobody again and settles from the ledger.
	writes := s.Writes(t, "fabrikam")
	again, err := phasetest.Run(ctx, guests.Phase{}, env)
	if err != nil {
		t.Fatal(err)
	}
	if again != want || s.Writes(t, "fabrikam") != writes {
		t.Errorf("rerun = %+v with %d writes, want %+v and none", again, s.Writes(t, "fabrikam")-writes, want)
	}

	checkCSV(ctx, t, env, inScope)
}

// checkCSV writes guests.csv as the wave's finalize does and checks a redemption link per invitation.
func checkCSV(ctx context.Context, t *testing.T, env *phase.Env, inScope []dumpUser) {
	t.Helper()
	if err := env.Store.PutFact(ctx, env.Wave, env.Version, wave.Fact{Phase: guests.Type, Kind: wave.FactChunk, Index: 0}); err != nil {
		t.Fatal(err)
	}
	if err := (guests.Phase{}).WriteOutputs(ctx, env); err != nil {
		t.Fatal(err)
	}
	data, _, err := env.Store.GetBytes(ctx, guests.CSVPath(env.Wave))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) != len(inScope)+1 {
		t.Fatalf("guests.csv: %d lines (%v), want a header and %d guests:\n%s", len(rows), err, len(inScope), data)
	}
	status := map[string]int{}
	for _, r := range rows[1:] {
		status[r[4]]++
		if hasURL := strings.Contains(r[6], "/redeem?"); hasURL != (r[4] == wave.ObjCreated) {
			t.Errorf("guests.csv row %v: a redemption link belongs to exactly the invited guests", r)
		}
	}
	if status[wave.ObjCreated] != len(inScope)-2 || status[wave.ObjMatched] != 1 || status[wave.ObjFailed] != 1 {
		t.Errorf("guests.csv statuses %v", status)
	}
	if !slices.Equal(rows[0][:3], []string{"SourceId", "DisplayName", "Address"}) {
		t.Errorf("guests.csv header %v", rows[0])
	}
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

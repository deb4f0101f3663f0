package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"t2t/shared/graph"
	"t2t/shared/keyvault"
	"t2t/shared/localstack"
	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// b2bUser is a user as the simulator's dump shows it, with its B2B and hybrid properties.
type b2bUser struct {
	ID                    string   `json:"id"`
	UserPrincipalName     string   `json:"userPrincipalName"`
	UserType              string   `json:"userType"`
	AccountEnabled        bool     `json:"accountEnabled"`
	Mail                  string   `json:"mail"`
	OtherMails            []string `json:"otherMails"`
	ExternalUserState     string   `json:"externalUserState"`
	CreationType          string   `json:"creationType"`
	OnPremisesImmutableID string   `json:"onPremisesImmutableId"`
	Identities            []struct {
		IssuerAssignedID string `json:"issuerAssignedId"`
	} `json:"identities"`
}

func dumpB2B(t *testing.T, s *localstack.Stack, tenantID string) map[string]b2bUser {
	t.Helper()
	var dump struct {
		Users []b2bUser `json:"users"`
	}
	if err := json.Unmarshal([]byte(simGet(t, s, "/_sim/tenants/"+tenantID+"/dump")), &dump); err != nil {
		t.Fatal(err)
	}
	out := map[string]b2bUser{}
	for _, u := range dump.Users {
		out[u.ID] = u
	}
	return out
}

// writesIn is how many Graph writes a tenant has served.
func writesIn(t *testing.T, s *localstack.Stack, tenantID string) int64 {
	var all []struct {
		Tenant string `json:"tenant"`
		Writes int64  `json:"writes"`
	}
	if err := json.Unmarshal([]byte(simGet(t, s, "/_sim/counters")), &all); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, c := range all {
		if c.Tenant == tenantID {
			n += c.Writes
		}
	}
	return n
}

// Anchors of the hybrid-link rows: base64 of 16 bytes (valid), and of 15 bytes (refused by the row).
const (
	goodAnchor = "5GTWc4YIc0q3RcaU2kXdtA=="
	badAnchor  = "eHh4eHh4eHh4eHh4eHh4"
)

// TestCoexistenceWaveThenCutover: a coexistence wave invites each user into the target as an external
// member linked to the source address; a cutover dry run writes to neither tenant and lists what it
// would do; the cutover converts every target user to an internal member under its destination UPN
// with a temporary password in Key Vault, and B2B-links every source account to it; a second cutover
// writes nothing. The translation table's SIDs follow the object ids.
func TestCoexistenceWaveThenCutover(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, rows, ids, matchedTarget := runCoexistenceWave(ctx, t, s)

	// Dry run, through the HTTP function: nothing written to either tenant.
	srcWrites, tgtWrites := writesIn(t, s, s.SourceTenantID), writesIn(t, s, s.TargetTenantID)
	dry := waitCutover(ctx, t, store, postCutover(t, s, "coexist", true))
	if w1, w2 := writesIn(t, s, s.SourceTenantID), writesIn(t, s, s.TargetTenantID); w1 != srcWrites || w2 != tgtWrites {
		t.Errorf("cutover dry run wrote %d source and %d target requests", w1-srcWrites, w2-tgtWrites)
	}
	if c := dry.Steps[wave.CutoverConvert]; !dry.DryRun || c.Created != len(rows)-1 || c.Matched != 1 || dry.Steps[wave.CutoverLink].Created != len(rows) {
		t.Errorf("dry run report: %+v", dry)
	}
	assertWhatIf(ctx, t, store, len(rows))

	// The cutover, through ops (the CLI's path), its first step delivered three times: the duplicates
	// queue every chunk again, and the chunks' claims and facts keep each user's writes to one.
	run, err := ops.Cutover(ctx, s.Azurite.ConnectionString(), store, "coexist", false)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := ops.Enqueue(ctx, s.Azurite.ConnectionString(), "steps", wave.Step{Wave: "coexist", Version: run, Op: wave.OpCutover}); err != nil {
			t.Fatal(err)
		}
	}
	srcWrites, tgtWrites = writesIn(t, s, s.SourceTenantID), writesIn(t, s, s.TargetTenantID)
	done := waitCutover(ctx, t, store, run)
	time.Sleep(2 * time.Second) // let the duplicates' chunk steps run too
	// Per converted user one Key Vault secret (the simulator counts the vault's writes under the
	// target tenant) and one conversion; the anchors are two PATCHes; nothing else.
	if n := writesIn(t, s, s.TargetTenantID) - tgtWrites; n != int64(2*(len(rows)-1)+2) {
		t.Errorf("the cutover made %d target writes, want %d", n, 2*(len(rows)-1)+2)
	}
	if n := writesIn(t, s, s.SourceTenantID) - srcWrites; n != int64(len(rows)) {
		t.Errorf("the cutover made %d source writes, want one invitation per user (%d)", n, len(rows))
	}
	if c := done.Steps[wave.CutoverConvert]; c.Created != len(rows)-1 || c.Matched != 1 || c.Failed != 0 || done.Steps[wave.CutoverLink].Created != len(rows) {
		t.Errorf("cutover report: %+v", done)
	}
	t.Logf("cutover %s: %+v", run, done.Steps)
	assertCutOver(ctx, t, s, rows, ids, matchedTarget)

	// Again: nothing to do, no write anywhere.
	srcWrites, tgtWrites = writesIn(t, s, s.SourceTenantID), writesIn(t, s, s.TargetTenantID)
	again, err := ops.Cutover(ctx, s.Azurite.ConnectionString(), store, "coexist", false)
	if err != nil {
		t.Fatal(err)
	}
	rep := waitCutover(ctx, t, store, again)
	if w1, w2 := writesIn(t, s, s.SourceTenantID), writesIn(t, s, s.TargetTenantID); w1 != srcWrites || w2 != tgtWrites {
		t.Errorf("a repeated cutover wrote %d source and %d target requests", w1-srcWrites, w2-tgtWrites)
	}
	if c := rep.Steps[wave.CutoverConvert]; c.Matched != len(rows) || rep.Steps[wave.CutoverLink].Matched != len(rows) {
		t.Errorf("repeated cutover report: %+v", rep)
	}
	assertTranslation(ctx, t, store, rows, ids)
	assertPasswordsOnlyInVault(ctx, t, s, rows)
}

// runCoexistenceWave runs a coexistence wave of coexistenceFile and checks the target: an external
// member linked to the source address per row, but the one matched to an existing internal account.
func runCoexistenceWave(ctx context.Context, t *testing.T, s *localstack.Stack) (*state.Store, map[string]coexRow, map[string]string, string) {
	t.Helper()
	srcBefore, tgtBefore := dumpB2B(t, s, s.SourceTenantID), dumpB2B(t, s, s.TargetTenantID)
	data, rows, matchedTarget := coexistenceFile(t, srcBefore, tgtBefore)
	if err := ops.UploadWith(ctx, s.Azurite.ConnectionString(), "coexist.csv", data,
		&ops.UploadOptions{Mode: wave.ModeCoexistence, Phases: []string{"users"}}); err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(ctx, s.Azurite.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	if st := waitDone(ctx, t, store, "coexist"); st.Report.Totals.Failed != 0 || st.Report.Rows.Invalid != 1 {
		t.Fatalf("coexistence wave: %s, report totals %+v, rows %+v, failures %+v", st.Line(), st.Report.Totals, st.Report.Rows, st.Report.Failures)
	}
	if e := readErrorsCSV(ctx, t, store, "coexist"); len(e) != 1 || !strings.Contains(e[len(rows)+2], "16 bytes") {
		t.Errorf("errors.csv does not refuse the bad ImmutableId row (line %d) alone: %v", len(rows)+2, e)
	}
	ids := targetIDs(ctx, t, store, rows)
	tgt := dumpB2B(t, s, s.TargetTenantID)
	for src, r := range rows {
		u := tgt[ids[src]]
		if r.dest == matchedTarget {
			if u.ID != tgtBefore[u.ID].ID || u.ExternalUserState != "" {
				t.Errorf("%s: the existing internal account %s was not matched as is: %+v", src, r.dest, u)
			}
			continue
		}
		if u.UserType != "Member" || u.ExternalUserState != "PendingAcceptance" || u.CreationType != "Invitation" ||
			!strings.Contains(u.UserPrincipalName, "#EXT#") || !strings.EqualFold(u.Mail, srcBefore[src].UserPrincipalName) {
			t.Errorf("%s: target account is not an external member linked to the source address: %+v", src, u)
		}
	}
	if n := len(tgt) - len(tgtBefore); n != len(rows)-1 {
		t.Errorf("the wave added %d target users, want %d", n, len(rows)-1)
	}

	return store, rows, ids, matchedTarget
}

type coexRow struct {
	dest, anchor string
}

// coexistenceFile maps 24 source members (two chunks) to new destinations, one to an existing target
// member, two with a valid ImmutableId, and adds a row whose ImmutableId is refused.
func coexistenceFile(t *testing.T, src, tgt map[string]b2bUser) ([]byte, map[string]coexRow, string) {
	taken := map[string]bool{}
	var existing string
	for _, u := range tgt {
		taken[strings.ToLower(u.UserPrincipalName)] = true
		if existing == "" && u.UserType == "Member" && u.AccountEnabled && u.ExternalUserState == "" && strings.HasSuffix(u.UserPrincipalName, "@fabrikam.example") {
			existing = u.UserPrincipalName
		}
	}
	var sources []b2bUser
	for _, u := range src {
		if u.UserType == "Member" && u.AccountEnabled && u.ExternalUserState == "" && strings.HasSuffix(u.UserPrincipalName, "@contoso.example") {
			sources = append(sources, u)
		}
	}
	slices.SortFunc(sources, func(a, b b2bUser) int { return strings.Compare(a.UserPrincipalName, b.UserPrincipalName) })
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"Source", "Destination", "ImmutableId"})
	rows := map[string]coexRow{}
	for _, u := range sources {
		if len(rows) == 24 {
			break
		}
		local := strings.SplitN(u.UserPrincipalName, "@", 2)[0]
		r := coexRow{dest: local + "@fabrikam.example"}
		switch {
		case len(rows) == 0:
			r.dest = existing
		case taken[strings.ToLower(r.dest)]:
			continue
		case len(rows) == 1:
			r.anchor = goodAnchor
		case len(rows) == 2:
			r.anchor = goodAnchor2
		}
		rows[u.ID] = r
		_ = w.Write([]string{u.UserPrincipalName, r.dest, r.anchor})
	}
	_ = w.Write([]string{"bad.anchor@contoso.example", "bad.anchor@fabrikam.example", badAnchor})
	w.Flush()
	if existing == "" || len(rows) != 24 {
		t.Fatalf("seed has no existing target member (%q) or too few sources (%d)", existing, len(rows))
	}
	return buf.Bytes(), rows, existing
}

// targetIDs reads each source user's target id from the id map.
func targetIDs(ctx context.Context, t *testing.T, store *state.Store, rows map[string]coexRow) map[string]string {
	out := map[string]string{}
	for src := range rows {
		var m state.IDMapping
		var err error
		for migration := range migrationsOf(ctx, t, store) {
			if m, err = store.GetIDMap(ctx, migration, users.Type, src); err == nil {
				break
			}
		}
		if m.TargetID == "" {
			t.Fatalf("no id mapping for source user %s", src)
		}
		out[src] = m.TargetID
	}
	return out
}

// migrationsOf lists the migration ids the wave's id mappings use (one, the stack's).
func migrationsOf(ctx context.Context, t *testing.T, store *state.Store) map[string]bool {
	var m wave.Manifest
	if _, err := store.GetJSON(ctx, wave.ManifestPath("coexist"), &m); err != nil {
		t.Fatal(err)
	}
	return map[string]bool{m.MigrationID: true}
}

// postCutover asks the Cutover HTTP function for a cutover and returns the run it started.
func postCutover(t *testing.T, s *localstack.Stack, id string, dryRun bool) string {
	body, _ := json.Marshal(map[string]bool{"dryRun": dryRun})
	resp, err := http.Post(s.FunctionsURL+"/cutover/"+id, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Run    string `json:"run"`
		DryRun bool   `json:"dryRun"`
	}
	if resp.StatusCode != http.StatusAccepted || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Run == "" || out.DryRun != dryRun {
		t.Fatalf("POST cutover/%s = %d %+v", id, resp.StatusCode, out)
	}
	resp, err = http.Post(s.FunctionsURL+"/cutover/no-such-wave", "application/json", nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST cutover/no-such-wave = %d, want 404", resp.StatusCode)
		}
	}
	return out.Run
}

// waitCutover waits for the report of run.
func waitCutover(ctx context.Context, t *testing.T, store *state.Store, run string) *wave.CutoverReport {
	t.Helper()
	for {
		r, err := ops.CutoverReport(ctx, store, "coexist")
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			t.Fatal(err)
		}
		if r != nil && r.Run == run {
			return r
		}
		select {
		case <-ctx.Done():
			t.Fatalf("cutover %s did not finish: %v", run, ctx.Err())
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// assertWhatIf checks cutover-whatif.csv: both steps of every user, each one to do, but the
// conversion of the account that was internal already.
func assertWhatIf(ctx context.Context, t *testing.T, store *state.Store, users int) {
	data, _, err := store.GetBytes(ctx, wave.CutoverWhatIfPath("coexist"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) != 1+2*users {
		t.Fatalf("cutover-whatif.csv has %d records (%v), want %d", len(recs), err, 1+2*users)
	}
	actions := map[string]int{}
	for _, r := range recs[1:] {
		actions[r[3]+" "+r[4]]++
	}
	if actions[wave.CutoverConvert+" do"] != users-1 || actions[wave.CutoverConvert+" already done"] != 1 || actions[wave.CutoverLink+" do"] != users {
		t.Errorf("cutover-whatif.csv actions: %v", actions)
	}
}

// assertCutOver checks both tenants after the cutover.
func assertCutOver(ctx context.Context, t *testing.T, s *localstack.Stack, rows map[string]coexRow, ids map[string]string, matched string) {
	vault := stackVault(t, s)
	src, tgt := dumpB2B(t, s, s.SourceTenantID), dumpB2B(t, s, s.TargetTenantID)
	for sid, r := range rows {
		u := tgt[ids[sid]]
		if u.UserType != "Member" || u.ExternalUserState != "" || len(u.Identities) != 0 || !strings.EqualFold(u.UserPrincipalName, r.dest) ||
			u.OnPremisesImmutableID != r.anchor {
			t.Errorf("target account of %s after cutover: %+v, want internal member %s (anchor %q)", sid, u, r.dest, r.anchor)
		}
		if _, err := vault.Get(ctx, users.SecretName("coexist", sid)); (err == nil) == (r.dest == matched) {
			t.Errorf("temporary password of %s in Key Vault: %v (the matched internal account %s gets none)", sid, err, matched)
		}
		b := src[sid]
		linked := b.ExternalUserState != "" && slices.ContainsFunc(b.Identities, func(i struct {
			IssuerAssignedID string `json:"issuerAssignedId"`
		}) bool {
			return strings.EqualFold(i.IssuerAssignedID, r.dest)
		})
		if b.ID != sid || !linked || b.UserType != "Member" {
			t.Errorf("source account %s after cutover is not B2B-linked to %s: %+v", sid, r.dest, b)
		}
	}
}

// assertTranslation checks translation.csv: one line per migrated user, with SIDs that follow the
// ids (the rule itself is checked against independent pairs in package cloudsid).
func assertTranslation(ctx context.Context, t *testing.T, store *state.Store, rows map[string]coexRow, ids map[string]string) {
	data, _, err := store.GetBytes(ctx, wave.TranslationCSVPath("coexist"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) != 1+len(rows) {
		t.Fatalf("translation.csv has %d records (%v), want %d", len(recs), err, 1+len(rows))
	}
	for _, r := range recs[1:] {
		if r[0] != "user" || ids[r[3]] != r[4] || !strings.EqualFold(rows[r[3]].dest, r[2]) ||
			!strings.HasPrefix(r[5], "S-1-12-1-") || !strings.HasPrefix(r[6], "S-1-12-1-") {
			t.Errorf("translation row %v", r)
		}
	}
	var doc struct {
		Entries []map[string]string `json:"entries"`
	}
	raw, _, err := store.GetBytes(ctx, wave.TranslationJSONPath("coexist"))
	if err != nil || json.Unmarshal(raw, &doc) != nil || len(doc.Entries) != len(rows) {
		t.Errorf("translation.json: %v, %d entries", err, len(doc.Entries))
	}
}

// assertPasswordsOnlyInVault checks that no temporary password of the cutover appears in storage
// (blobs, tables, queues) or in the stack's log.
func assertPasswordsOnlyInVault(ctx context.Context, t *testing.T, s *localstack.Stack, rows map[string]coexRow) {
	vault := stackVault(t, s)
	haystacks := storageText(ctx, t, s.Azurite.ConnectionString())
	logText, err := os.ReadFile(stackLogs[s])
	if err != nil || len(logText) == 0 {
		t.Fatalf("reading the stack log: %v", err)
	}
	haystacks["the stack log"] = string(logText)
	found := 0
	for sid := range rows {
		pw, err := vault.Get(ctx, users.SecretName("coexist", sid))
		if err != nil || pw == "" {
			continue
		}
		found++
		for where, text := range haystacks {
			if strings.Contains(text, pw) {
				t.Errorf("the temporary password of %s appears in %s", sid, where)
			}
		}
	}
	if found != len(rows)-1 {
		t.Errorf("found %d temporary passwords, want %d", found, len(rows)-1)
	}
}

func stackVault(t *testing.T, s *localstack.Stack) *keyvault.Vault {
	settings := s.Settings()
	vault, err := keyvault.New(graph.Config{AuthorityHost: settings["T2T_AUTHORITY_HOST"], ClientID: settings["T2T_CLIENT_ID"],
		ClientSecret: settings["T2T_CLIENT_SECRET"], CAFile: s.CAFile}, s.VaultURL, s.TargetTenantID)
	if err != nil {
		t.Fatal(err)
	}
	return vault
}

// TestCutoverConvergesUnderLostAnswers: invitations and conversions often run but lose their answer
// (504, dropped connection), so the transport retries them into "already done" refusals. The wave
// still invites each person once, the cutover still converts and links everyone with no failure, and
// a second cutover writes nothing.
func TestCutoverConvergesUnderLostAnswers(t *testing.T) {
	s := startStackWith(t, demoTenantsWith(t, func(cfg map[string]any) {
		lost := map[string]any{"rate504": 0.25, "rateDrop": 0.1}
		route := func(pattern string) map[string]any {
			r := map[string]any{"method": "POST", "pattern": pattern}
			for k, v := range lost {
				r[k] = v
			}
			return r
		}
		cfg["faults"] = map[string]any{"seed": 5, "routes": []any{route("/invitations"), route("/users/{id}/convertExternalToInternalMemberUser")}}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, rows, ids, matched := runCoexistenceWave(ctx, t, s)
	run, err := ops.Cutover(ctx, s.Azurite.ConnectionString(), store, "coexist", false)
	if err != nil {
		t.Fatal(err)
	}
	// The handler is also killed as soon as the run has started: its chunk steps come back later.
	killed := make(chan int, 1)
	go func() {
		kills := 0
		defer func() { killed <- kills }()
		for ctx.Err() == nil {
			var r wave.CutoverRun
			if _, err := store.GetJSON(ctx, wave.CutoverRunPath("coexist", run), &r); err == nil {
				for _, pid := range children(s.PIDs()["funchost"]) {
					if syscall.Kill(pid, syscall.SIGKILL) == nil {
						kills++
					}
				}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	done := waitCutover(ctx, t, store, run)
	t.Logf("handler killed %d times during the cutover", <-killed)
	if c := done.Steps[wave.CutoverConvert]; c.Created != len(rows)-1 || c.Matched != 1 || len(done.Failed) != 0 || done.Steps[wave.CutoverLink].Created != len(rows) {
		t.Errorf("cutover report under faults: %+v", done)
	}
	assertCutOver(ctx, t, s, rows, ids, matched)
	if c := simCounters(t, s); c.Faults504+c.Dropped == 0 {
		t.Errorf("no answer was lost (counters %+v); the test proves nothing", c)
	} else {
		t.Logf("lost answers: %d 504s, %d dropped", c.Faults504, c.Dropped)
	}
	srcWrites, tgtWrites := writesIn(t, s, s.SourceTenantID), writesIn(t, s, s.TargetTenantID)
	waitCutover(ctx, t, store, mustCutover(ctx, t, s, store))
	if w1, w2 := writesIn(t, s, s.SourceTenantID), writesIn(t, s, s.TargetTenantID); w1 != srcWrites || w2 != tgtWrites {
		t.Errorf("a repeated cutover wrote %d source and %d target requests", w1-srcWrites, w2-tgtWrites)
	}
}

func mustCutover(ctx context.Context, t *testing.T, s *localstack.Stack, store *state.Store) string {
	run, err := ops.Cutover(ctx, s.Azurite.ConnectionString(), store, "coexist", false)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

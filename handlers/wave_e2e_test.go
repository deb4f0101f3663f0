package handlers_test

// The walking skeleton end to end: Azurite, the tenant simulator, the local Functions host and the
// handler, each a real process, driven by uploading the demo mapping file. Outcomes are asserted
// through the simulator's admin API (what the target tenant really holds) and through storage
// (ledger, report, errors.csv), never through the handler's own logs.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"t2t/shared/graph"
	"t2t/shared/keyvault"
	"t2t/shared/localstack"
	"t2t/shared/ops"
	"t2t/shared/report"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

type simUser struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	JobTitle          string `json:"jobTitle"`
	AccountEnabled    bool   `json:"accountEnabled"`
	ManagerID         string `json:"managerId"`
	Mail              string `json:"mail"`
	UserType          string `json:"userType"`
}

// binDir returns the folder with the binaries: T2T_BIN (make test) or a fresh build.
func binDir(t testing.TB) string {
	if dir := os.Getenv("T2T_BIN"); dir != "" {
		return dir
	}
	dir := t.TempDir()
	root, err := localstack.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"handler", "funchost", "tenantsim"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./cmd/"+name)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, out)
		}
	}
	return dir
}

// stackLogs maps a running stack to the file its processes log to.
var stackLogs = map[*localstack.Stack]string{}

func startStack(t *testing.T) *localstack.Stack {
	t.Helper()
	root, err := localstack.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return startStackWith(t, filepath.Join(root, "demo", "tenants.json"))
}

func startStackWith(t *testing.T, tenants string) *localstack.Stack {
	t.Helper()
	return startStackOptions(t, localstack.StackOptions{Tenants: tenants})
}

// startStackOptions starts a stack of contoso → fabrikam from o's tenants file (with o's settings),
// logging to a file shown when the test fails.
func startStackOptions(t *testing.T, o localstack.StackOptions) *localstack.Stack {
	t.Helper()
	logs, err := os.Create(filepath.Join(t.TempDir(), "stack.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o.BinDir, o.Source, o.Target, o.Logs = binDir(t), "contoso", "fabrikam", logs
	s, err := localstack.StartStack(ctx, o)
	if err != nil {
		t.Fatalf("starting the stack: %v", err)
	}
	stackLogs[s] = logs.Name()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			data, _ := os.ReadFile(logs.Name())
			t.Logf("stack log (tail):\n%s", tail(string(data), 6000))
		}
		logs.Close()
	})
	return s
}

func simClient(t testing.TB, s *localstack.Stack) *http.Client {
	base, err := graph.BaseTransport(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: base, Timeout: 30 * time.Second}
}

// dumpUsers reads a tenant's users from the simulator's admin API, keyed by lower-case UPN.
func dumpUsers(t testing.TB, s *localstack.Stack, tenantID string) map[string]simUser {
	t.Helper()
	resp, err := simClient(t, s).Get(s.GraphURL + "/_sim/tenants/" + tenantID + "/dump")
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	defer resp.Body.Close()
	var dump struct {
		Users []simUser `json:"users"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dump); err != nil {
		t.Fatalf("decoding dump: %v", err)
	}
	out := map[string]simUser{}
	for _, u := range dump.Users {
		if u.UserType == "Guest" {
			continue // B2B guests are the guests phase's (guestOutcome checks them), not the file's rows
		}
		out[strings.ToLower(u.UserPrincipalName)] = u
	}
	return out
}

func TestWaveMigratesDemoMappingEndToEnd(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	data, store, final, sourceBefore, targetBefore := runDemoWave(ctx, t, s, nil)
	r, targetAfter := checkDemoOutcome(ctx, t, s, store, data, final, sourceBefore, targetBefore)
	assertLedger(ctx, t, store, r.Phases["users"])
	assertMigrationState(ctx, t, store, s, r.Phases["users"])
	assertWaveStatusHTTP(t, s, "usermapping")
	assertSecretsKeptOnlyInVault(ctx, t, s, store, r.Phases["users"].Created)

	// The same file again: processed by the host (a new blob version) but changes nothing.
	manifestBefore, _, _ := store.GetBytes(ctx, wave.ManifestPath("usermapping"))
	if err := ops.Upload(ctx, s.Azurite.ConnectionString(), "usermapping.csv", data); err != nil {
		t.Fatal(err)
	}
	// Confirm that the host handed the new blob version to WaveStart (its log says so), rather than
	// sleeping and hoping it did.
	const seen = "is identical to the file already started"
	deadline := time.Now().Add(time.Minute)
	for {
		logs, _ := os.ReadFile(stackLogs[s])
		if strings.Contains(string(logs), seen) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WaveStart never reported the identical upload (%q) within a minute", seen)
		}
		time.Sleep(200 * time.Millisecond)
	}
	manifestAfter, _, _ := store.GetBytes(ctx, wave.ManifestPath("usermapping"))
	if !bytes.Equal(manifestBefore, manifestAfter) {
		t.Error("uploading the identical file again rewrote the manifest")
	}
	if again := dumpUsers(t, s, s.TargetTenantID); len(again) != len(targetAfter) {
		t.Errorf("second upload changed the target: %d users, was %d", len(again), len(targetAfter))
	}
}

// TestDemoWaveConvergesUnderThrottlingLagAndFaults runs the demo wave against tenants that throttle as
// documented, hide new objects for a second (replication lag) and fail a share of requests (503, 504
// after the write, dropped connections). The outcome must be exactly the calm run's: every user
// created or matched once, no duplicate, every failure explained, passwords in Key Vault.
func TestDemoWaveConvergesUnderThrottlingLagAndFaults(t *testing.T) {
	tenants := demoTenantsWith(t, func(cfg map[string]any) {
		cfg["throttling"] = map[string]any{"enabled": true, "timeScale": 10}
		// Creates lose their answer often (the write happens, the client sees a 504 or a dropped
		// connection and retries into a conflict); everything else fails now and then.
		cfg["faults"] = map[string]any{"seed": 3, "rate503": 0.03, "rate504": 0.02, "rateDrop": 0.01,
			"routes": []any{map[string]any{"method": "POST", "pattern": "/users", "rate504": 0.1, "rateDrop": 0.05}}}
		cfg["tenants"].([]any)[1].(map[string]any)["replicationLag"] = "1s"
	})
	s := startStackWith(t, tenants)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	csv, store, final, sourceBefore, targetBefore := runDemoWave(ctx, t, s, nil)
	r, _ := checkDemoOutcome(ctx, t, s, store, csv, final, sourceBefore, targetBefore)
	assertLedger(ctx, t, store, r.Phases["users"])
	assertSecretsKeptOnlyInVault(ctx, t, s, store, r.Phases["users"].Created)
	c := simCounters(t, s)
	if c.Faults503+c.Faults504+c.Dropped == 0 {
		t.Errorf("no fault was injected (counters %+v); the test proves nothing", c)
	}
	retried := 0
	for e, err := range store.Ledger(ctx, "usermapping", usermappingVersion(ctx, t, store), users.Type) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Attempts > 1 {
			retried++
		}
	}
	t.Logf("requests %d, 429s %d, faults 503/504/dropped %d/%d/%d, users retried on a later delivery %d",
		c.Requests, c.Throttled, c.Faults503, c.Faults504, c.Dropped, retried)
}

// runDemoWave uploads the demo mapping file (with o, nil for a plain upload) and waits for the wave
// to finish; it returns the file, the store, the final status and the tenants' users before.
func runDemoWave(ctx context.Context, t *testing.T, s *localstack.Stack, o *ops.UploadOptions) ([]byte, *state.Store, ops.Status, map[string]simUser, map[string]simUser) {
	root, _ := localstack.ModuleRoot()
	data, err := os.ReadFile(filepath.Join(root, "demo", "usermapping.csv"))
	if err != nil {
		t.Fatal(err)
	}
	sourceBefore := dumpUsers(t, s, s.SourceTenantID)
	targetBefore := dumpUsers(t, s, s.TargetTenantID)
	if err := ops.UploadWith(ctx, s.Azurite.ConnectionString(), "usermapping.csv", data, o); err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(ctx, s.Azurite.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	return data, store, waitDone(ctx, t, store, "usermapping"), sourceBefore, targetBefore
}

// checkDemoOutcome works out, independently of the pipeline, what each row should have become, and
// compares the target tenant, errors.csv and the report with it.
func checkDemoOutcome(ctx context.Context, t *testing.T, s *localstack.Stack, store *state.Store, data []byte,
	final ops.Status, sourceBefore, targetBefore map[string]simUser) (*report.Report, map[string]simUser) {
	t.Helper()
	// errors.csv names the deliberately invalid rows, each with a reason.
	errRows := readErrorsCSV(ctx, t, store, "usermapping")
	for _, line := range demoInvalidLines {
		if errRows[line] == "" {
			t.Errorf("errors.csv has no entry for invalid row %d (have %v)", line, errRows)
		}
	}
	if final.Manifest.InvalidRows != len(demoInvalidLines) {
		t.Errorf("manifest counts %d invalid rows, want %d", final.Manifest.InvalidRows, len(demoInvalidLines))
	}

	// Independently of the pipeline, work out what each valid row should have become.
	targetAfter := dumpUsers(t, s, s.TargetTenantID)
	wantCreated, wantMatched, wantFailed := 0, 0, 0
	for _, row := range validRows(t, data) {
		src, srcOK := sourceBefore[strings.ToLower(row[0])]
		pre, existed := targetBefore[strings.ToLower(row[1])]
		got, nowThere := targetAfter[strings.ToLower(row[1])]
		switch {
		case !srcOK:
			wantFailed++
			if nowThere && !existed {
				t.Errorf("%s was created although its source %s does not exist", row[1], row[0])
			}
		case existed && !pre.AccountEnabled:
			wantFailed++
		case existed:
			wantMatched++
			if got.ID != pre.ID || got.DisplayName != pre.DisplayName {
				t.Errorf("matched user %s was changed: before %+v after %+v", row[1], pre, got)
			}
		default:
			wantCreated++
			if !nowThere {
				t.Errorf("%s (from %s) is not in the target tenant", row[1], row[0])
			} else if got.DisplayName != src.DisplayName || got.JobTitle != src.JobTitle {
				t.Errorf("%s: display name %q / job %q, want %q / %q", row[1], got.DisplayName, got.JobTitle, src.DisplayName, src.JobTitle)
			}
		}
	}
	if len(targetAfter) != len(targetBefore)+wantCreated {
		t.Errorf("target has %d users, want %d before + %d created", len(targetAfter), len(targetBefore), wantCreated)
	}
	r := final.Report
	if r.Phases["users"].Created != wantCreated || r.Phases["users"].Matched != wantMatched || r.Phases["users"].Failed != wantFailed {
		t.Errorf("report users = %+v, want created %d matched %d failed %d", r.Phases["users"], wantCreated, wantMatched, wantFailed)
	}
	if wantCreated < 100 || wantMatched == 0 || wantFailed == 0 {
		t.Errorf("the demo file should exercise create (%d), match (%d) and fail (%d)", wantCreated, wantMatched, wantFailed)
	}
	for _, f := range r.Failures {
		if f.Reason == "" || f.Row == 0 {
			t.Errorf("failure without row or reason: %+v", f)
		}
	}
	return r, targetAfter
}

// demoInvalidLines are the rows of demo/usermapping.csv written to be rejected.
var demoInvalidLines = []int{9, 21, 35, 49, 50, 63, 64, 77, 90}

func waitDone(ctx context.Context, t testing.TB, store *state.Store, id string) ops.Status {
	t.Helper()
	var last ops.Status
	for st, err := range ops.Watch(ctx, store, id, 300*time.Millisecond) {
		if err != nil {
			t.Fatalf("wave %s did not finish: %v (last: %s)", id, err, last.Line())
		}
		last = st
	}
	if last.Report == nil {
		t.Fatalf("wave %s ended without a report: %s", id, last.Line())
	}
	return last
}

func readErrorsCSV(ctx context.Context, t *testing.T, store *state.Store, id string) map[int]string {
	data, _, err := store.GetBytes(ctx, wave.ErrorsPath(id))
	if err != nil {
		t.Fatalf("errors.csv: %v", err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) == 0 || strings.Join(recs[0], ",") != "row,column,value,reason" {
		t.Fatalf("errors.csv is not the expected CSV: %v %q", err, data)
	}
	out := map[int]string{}
	for _, r := range recs[1:] {
		var line int
		fmt.Sscan(r[0], &line)
		out[line] += r[3]
	}
	return out
}

// validRows are the rows of the demo file not listed in demoInvalidLines, as [source, destination].
func validRows(t *testing.T, data []byte) [][2]string {
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil {
		t.Fatalf("demo csv: %v", err)
	}
	invalid := map[int]bool{}
	for _, l := range demoInvalidLines {
		invalid[l] = true
	}
	var out [][2]string
	for i, r := range recs[1:] {
		if !invalid[i+2] {
			out = append(out, [2]string{strings.TrimSpace(r[0]), strings.TrimSpace(r[1])})
		}
	}
	return out
}

func assertLedger(ctx context.Context, t *testing.T, store *state.Store, want wave.Counts) {
	var got wave.Counts
	for e, err := range store.Ledger(ctx, "usermapping", usermappingVersion(ctx, t, store), users.Type) {
		if err != nil {
			t.Fatal(err)
		}
		switch e.Status {
		case wave.ObjCreated:
			got.Created++
			if e.TargetID == "" || e.SourceID == "" {
				t.Errorf("created entry without ids: %+v", e)
			}
		case wave.ObjMatched:
			got.Matched++
		case wave.ObjFailed:
			got.Failed++
			if e.LastError == "" {
				t.Errorf("failed entry without a reason: %+v", e)
			}
		default:
			t.Errorf("ledger entry left in status %s: %+v", e.Status, e)
		}
	}
	if got != want {
		t.Errorf("ledger tallies %+v, report says %+v", got, want)
	}
}

func assertWaveStatusHTTP(t *testing.T, s *localstack.Stack, id string) {
	resp, err := http.Get(s.FunctionsURL + "/waves/" + id)
	if err != nil {
		t.Fatalf("GET waves/%s: %v", id, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Status string `json:"status"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil || !strings.HasPrefix(out.Status, "Completed") {
		t.Errorf("GET waves/%s = %d %s", id, resp.StatusCode, body)
	}
	resp, err = http.Get(s.FunctionsURL + "/waves/no-such-wave")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET waves/no-such-wave = %d, want 404", resp.StatusCode)
		}
	}
}

func assertMigrationState(ctx context.Context, t *testing.T, store *state.Store, s *localstack.Stack, want wave.Counts) {
	var ms struct {
		MigrationID         string `json:"MigrationId"`
		SourceTenantID      string `json:"SourceTenantId"`
		DestinationTenantID string `json:"DestinationTenantId"`
		Phases              map[string]struct {
			Status  string
			Objects map[string]struct{ SourceId, TargetId, Status string }
		}
		IDMappings       map[string]map[string]string `json:"IdMappings"`
		RollbackManifest []struct{ Type, SourceId, TargetId string }
	}
	if _, err := store.GetJSON(ctx, wave.StatePath("usermapping"), &ms); err != nil {
		t.Fatalf("MigrationState.json: %v", err)
	}
	if ms.SourceTenantID != s.SourceTenantID || ms.DestinationTenantID != s.TargetTenantID || ms.MigrationID == "" {
		t.Errorf("MigrationState header = %q %q %q", ms.MigrationID, ms.SourceTenantID, ms.DestinationTenantID)
	}
	objs := ms.Phases["users"].Objects
	if len(objs) != want.Created+want.Matched+want.Failed {
		t.Errorf("MigrationState has %d user objects, want %d", len(objs), want.Created+want.Matched+want.Failed)
	}
	users := 0
	for _, item := range ms.RollbackManifest {
		if item.Type == "users" {
			users++
		}
	}
	if users != want.Created {
		t.Errorf("rollback manifest lists %d users, want the %d created (never the matched)", users, want.Created)
	}
	if len(ms.IDMappings["users"]) != want.Created+want.Matched {
		t.Errorf("IdMappings has %d users, want %d", len(ms.IDMappings["users"]), want.Created+want.Matched)
	}
}

// assertSecretsKeptOnlyInVault checks that every created user's temporary password is in Key Vault,
// and that neither those passwords nor the app's client secret appear in any blob, table entity,
// queue message, log line (the handler's stderr and the Logs arrays the host printed) or extra text.
func assertSecretsKeptOnlyInVault(ctx context.Context, t *testing.T, s *localstack.Stack, store *state.Store, created int, extra ...map[string]string) {
	settings := s.Settings()
	gc := graph.Config{AuthorityHost: settings["T2T_AUTHORITY_HOST"], ClientID: settings["T2T_CLIENT_ID"],
		ClientSecret: settings["T2T_CLIENT_SECRET"], CAFile: s.CAFile}
	vault, err := keyvault.New(gc, s.VaultURL, s.TargetTenantID)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{settings["T2T_CLIENT_SECRET"]}
	for e, err := range store.Ledger(ctx, "usermapping", usermappingVersion(ctx, t, store), users.Type) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != wave.ObjCreated {
			continue
		}
		pw, err := vault.Get(ctx, users.SecretName("usermapping", e.SourceID))
		if err != nil {
			t.Errorf("no temporary password in Key Vault for %s: %v", e.Key, err)
			continue
		}
		secrets = append(secrets, pw)
	}
	if len(secrets) != created+1 {
		t.Errorf("found %d temporary passwords, want %d", len(secrets)-1, created)
	}
	haystacks := storageText(ctx, t, s.Azurite.ConnectionString())
	logText, err := os.ReadFile(stackLogs[s])
	if err != nil || len(logText) == 0 {
		t.Fatalf("reading the stack log: %v", err)
	}
	haystacks["the stack log"] = string(logText)
	for _, e := range extra {
		for k, v := range e {
			haystacks[k] = v
		}
	}
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for where, text := range haystacks {
			if strings.Contains(text, sec) {
				t.Errorf("a secret appears in %s", where)
			}
		}
	}
}

// storageText returns every blob and table entity of the account as text, keyed by where it lives.
func storageText(ctx context.Context, t *testing.T, conn string) map[string]string {
	out := map[string]string{}
	bc, err := azblob.NewClientFromConnectionString(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	for page := bc.NewListContainersPager(nil); page.More(); {
		resp, err := page.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range resp.ContainerItems {
			for bp := bc.NewListBlobsFlatPager(*c.Name, nil); bp.More(); {
				br, err := bp.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range br.Segment.BlobItems {
					dl, err := bc.DownloadStream(ctx, *c.Name, *b.Name, nil)
					if err != nil {
						t.Fatal(err)
					}
					data, _ := io.ReadAll(dl.Body)
					dl.Body.Close()
					out["blob "+*c.Name+"/"+*b.Name] = string(data)
				}
			}
		}
	}
	tc, err := aztables.NewServiceClientFromConnectionString(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{state.LedgerTable, state.IDMapTable, state.ChunksTable} {
		var all strings.Builder
		for p := tc.NewClient(table).NewListEntitiesPager(nil); p.More(); {
			resp, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range resp.Entities {
				all.Write(e)
			}
		}
		out["table "+table] = all.String()
	}
	qs, err := azqueue.NewServiceClientFromConnectionString(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p := qs.NewListQueuesPager(nil); p.More(); {
		resp, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range resp.Queues {
			msgs, err := qs.NewQueueClient(*q.Name).PeekMessages(ctx, &azqueue.PeekMessagesOptions{NumberOfMessages: to.Ptr(int32(32))})
			if err != nil {
				t.Fatal(err)
			}
			var all strings.Builder
			for _, m := range msgs.Messages {
				text := *m.MessageText
				if raw, err := base64.StdEncoding.DecodeString(text); err == nil {
					text = string(raw)
				}
				all.WriteString(text + "\n")
			}
			out["queue "+*q.Name] = all.String()
		}
	}
	return out
}

// usermappingVersion is the version of the demo wave's current file.
func usermappingVersion(ctx context.Context, t testing.TB, store *state.Store) string {
	var m wave.Manifest
	if _, err := store.GetJSON(ctx, wave.ManifestPath("usermapping"), &m); err != nil {
		t.Fatal(err)
	}
	return wave.VersionOf(&m)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func TestWaveRejectsUnreadableFileAndConvergesOnChangedFile(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	conn := s.Azurite.ConnectionString()
	store, err := state.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	targetBefore := dumpUsers(t, s, s.TargetTenantID)

	// A file without the Source/Destination header is rejected as a whole, in errors.csv.
	if err := ops.Upload(ctx, conn, "Bad File.csv", []byte("Email,NewEmail\r\na@contoso.example,a@fabrikam.example\r\n")); err != nil {
		t.Fatal(err)
	}
	bad := waitStatus(ctx, t, store, "bad-file")
	if bad.Manifest.Status != wave.StatusRejected {
		t.Errorf("unreadable file: status %s, want %s", bad.Manifest.Status, wave.StatusRejected)
	}
	if reasons := readErrorsCSV(ctx, t, store, "bad-file"); !strings.Contains(reasons[1], "Source and Destination") {
		t.Errorf("errors.csv row 1 = %q, want it to name the missing columns", reasons[1])
	}

	// A small wave, then the same wave with one more row: only the new user is created.
	src := sortedUPNs(dumpUsers(t, s, s.SourceTenantID))
	csv1 := "Source,Destination\n"
	for _, upn := range src[:3] {
		csv1 += upn + "," + strings.Replace(upn, "@contoso.example", ".rerun@fabrikam.example", 1) + "\n"
	}
	csv2 := csv1 + src[3] + "," + strings.Replace(src[3], "@contoso.example", ".rerun@fabrikam.example", 1) + "\n"
	if err := ops.Upload(ctx, conn, "small.csv", []byte(csv1)); err != nil {
		t.Fatal(err)
	}
	first := waitDone(ctx, t, store, "small")
	if first.Report.Phases["users"].Created != 3 {
		t.Fatalf("first version: %+v", first.Report.Phases["users"])
	}
	if err := ops.Upload(ctx, conn, "small.csv", []byte(csv2)); err != nil {
		t.Fatal(err)
	}
	second := waitFor(ctx, t, store, "small", func(st ops.Status) bool {
		return st.Manifest != nil && st.Manifest.TotalRows == 4 && st.Done() && st.Report != nil && st.Report.Rows.Total == 4
	})
	if second.Report.Phases["users"].Created+second.Report.Phases["users"].Matched != 4 || second.Report.Phases["users"].Failed != 0 {
		t.Errorf("second version: %+v", second.Report.Phases["users"])
	}
	after := dumpUsers(t, s, s.TargetTenantID)
	if len(after) != len(targetBefore)+4 {
		t.Errorf("target has %d users; want %d before + 4 (the rerun must not duplicate)", len(after), len(targetBefore))
	}

	// t2t retry: the same file runs again as a new version; everything is settled from the id map.
	prev, err := ops.Retry(ctx, conn, store, "small")
	if err != nil {
		t.Fatal(err)
	}
	third := waitFor(ctx, t, store, "small", func(st ops.Status) bool {
		return st.Manifest != nil && wave.VersionOf(st.Manifest) != prev && st.Done()
	})
	if third.Report.Phases["users"] != second.Report.Phases["users"] || third.Report.Version == second.Report.Version {
		t.Errorf("retry: %+v (version %s), want the same tallies as %+v under a new version", third.Report.Phases["users"], third.Report.Version, second.Report.Phases["users"])
	}
	if again := dumpUsers(t, s, s.TargetTenantID); len(again) != len(after) {
		t.Errorf("retry changed the target: %d users, was %d", len(again), len(after))
	}
}

// demoTenantsWith writes a copy of demo/tenants.json changed by edit and returns its path.
func demoTenantsWith(t testing.TB, edit func(cfg map[string]any)) string {
	root, _ := localstack.ModuleRoot()
	data, err := os.ReadFile(filepath.Join(root, "demo", "tenants.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	out, _ := json.Marshal(cfg)
	path := filepath.Join(t.TempDir(), "tenants.json")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitStatus waits until the wave has a manifest in a final state (a rejected file has no report).
func waitStatus(ctx context.Context, t *testing.T, store *state.Store, id string) ops.Status {
	t.Helper()
	var last ops.Status
	for st, err := range ops.Watch(ctx, store, id, 300*time.Millisecond) {
		if err != nil {
			t.Fatalf("wave %s: %v (last: %s)", id, err, last.Line())
		}
		last = st
	}
	return last
}

// waitFor polls the wave until cond holds.
func waitFor(ctx context.Context, t *testing.T, store *state.Store, id string, cond func(ops.Status) bool) ops.Status {
	t.Helper()
	for {
		st, err := ops.Look(ctx, store, id)
		if err != nil {
			t.Fatalf("wave %s: %v", id, err)
		}
		if cond(st) {
			return st
		}
		select {
		case <-ctx.Done():
			t.Fatalf("wave %s: %v (last: %s)", id, ctx.Err(), st.Line())
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func sortedUPNs(m map[string]simUser) []string {
	out := make([]string, 0, len(m))
	for _, u := range m {
		if u.AccountEnabled {
			out = append(out, u.UserPrincipalName)
		}
	}
	sort.Strings(out)
	return out
}

// TestWaveWithoutDomainPermissionIsRejectedWithReason: without Domain.Read.All in the target the
// destinations cannot be checked; the wave is rejected with that reason instead of retrying into the
// blob trigger's poison queue with nothing to show, and nothing is written to the target.
func TestWaveWithoutDomainPermissionIsRejectedWithReason(t *testing.T) {
	tenants := demoTenantsWith(t, func(cfg map[string]any) {
		client := cfg["tenants"].([]any)[1].(map[string]any)["clients"].([]any)[0].(map[string]any)
		var roles []any
		for _, r := range client["roles"].([]any) {
			if r != "Domain.Read.All" && r != "Domain.ReadWrite.All" { // either grants the read
				roles = append(roles, r)
			}
		}
		client["roles"] = roles
	})
	s := startStackWith(t, tenants)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	targetBefore := dumpUsers(t, s, s.TargetTenantID)
	src := sortedUPNs(dumpUsers(t, s, s.SourceTenantID))
	csv := "Source,Destination\n" + src[0] + "," + strings.Replace(src[0], "@contoso.example", "@fabrikam.example", 1) + "\n"
	if err := ops.Upload(ctx, s.Azurite.ConnectionString(), "noperm.csv", []byte(csv)); err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(ctx, s.Azurite.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	st := waitStatus(ctx, t, store, "noperm")
	if st.Manifest.Status != wave.StatusRejected {
		t.Errorf("status %s, want %s", st.Manifest.Status, wave.StatusRejected)
	}
	if reasons := readErrorsCSV(ctx, t, store, "noperm"); !strings.Contains(reasons[0], "Domain.Read.All") ||
		!strings.Contains(reasons[0], "Authorization_RequestDenied") {
		t.Errorf("errors.csv = %q; want the missing permission named", reasons[0])
	}
	if after := dumpUsers(t, s, s.TargetTenantID); len(after) != len(targetBefore) {
		t.Errorf("a rejected wave changed the target: %d users, was %d", len(after), len(targetBefore))
	}
}

// TestDemoDryRunPredictsTheRealRun: a dry run of the demo file writes whatif.csv with the verdict of
// every row, changes nothing in the target or the vault, and the real run that follows does exactly
// what it predicted.
func TestDemoDryRunPredictsTheRealRun(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	writesBefore := targetWrites(t, s)
	data, store, dry, sourceBefore, targetBefore := runDemoWave(ctx, t, s, &ops.UploadOptions{DryRun: true})
	if !dry.Report.DryRun || !dry.Manifest.DryRun {
		t.Fatalf("not reported as a dry run: %+v", dry.Report)
	}
	if w := targetWrites(t, s); w != writesBefore {
		t.Errorf("the dry run sent %d writes to the target tenant (simulator counters), want 0", w-writesBefore)
	}
	if after := dumpUsers(t, s, s.TargetTenantID); len(after) != len(targetBefore) {
		t.Errorf("the dry run changed the target: %d users, was %d", len(after), len(targetBefore))
	}
	if vault := simGet(t, s, "/_sim/vault"); strings.Contains(vault, "t2t-usermapping") {
		t.Errorf("the dry run wrote temporary passwords: %s", vault)
	}
	whatif, _, err := store.GetBytes(ctx, wave.WhatIfPath("usermapping"))
	if err != nil {
		t.Fatalf("whatif.csv: %v", err)
	}
	recs, err := csv.NewReader(bytes.NewReader(whatif)).ReadAll()
	if err != nil || len(recs) < 2 || strings.Join(recs[0], ",") != "phase,row,source,destination,action,reason" {
		t.Fatalf("whatif.csv is not the expected CSV: %v %q", err, whatif)
	}
	actions := map[string]int{}
	phases := map[string]int{}
	for _, r := range recs[1:] {
		phases[r[0]]++
		if r[0] == "groups" && r[4] != "create" && r[4] != "skip" && r[4] != "refuse" {
			t.Errorf("whatif groups line %v: a first dry run can only create, skip (a manual step) or refuse", r)
		}
		if r[0] != "users" {
			continue
		}
		r = r[1:]
		src, pre := sourceBefore[strings.ToLower(r[1])], targetBefore[strings.ToLower(r[2])]
		want := "create"
		switch {
		case src.ID == "" || (pre.ID != "" && !pre.AccountEnabled):
			want = "refuse"
		case pre.ID != "":
			want = "match"
		}
		if r[3] != want {
			t.Errorf("whatif row %s (%s -> %s): %s, want %s (%s)", r[0], r[1], r[2], r[3], want, r[4])
		}
		if r[3] == "refuse" && r[4] == "" {
			t.Errorf("whatif row %s is refused without a reason", r[0])
		}
		actions[r[3]]++
	}
	for _, name := range dry.Report.PhaseOrder {
		c := dry.Report.Phases[name]
		if phases[name] != c.Total() {
			t.Errorf("whatif.csv has %d %s lines, the dry run's report counts %d objects", phases[name], name, c.Total())
		}
	}
	if len(dry.Report.PhaseOrder) < 5 || phases["groups"] == 0 || phases["applications"] == 0 {
		t.Errorf("the dry run should plan every phase: %v, whatif lines per phase %v", dry.Report.PhaseOrder, phases)
	}
	// The real run of the same file is a new version, and does what the dry run said.
	if err := ops.Upload(ctx, s.Azurite.ConnectionString(), "usermapping.csv", data); err != nil {
		t.Fatal(err)
	}
	live := waitFor(ctx, t, store, "usermapping", func(st ops.Status) bool {
		return st.Manifest != nil && !st.Manifest.DryRun && st.Done()
	})
	r, _ := checkDemoOutcome(ctx, t, s, store, data, live, sourceBefore, targetBefore)
	if r.Phases["users"].Created != actions["create"] || r.Phases["users"].Matched != actions["match"] || r.Phases["users"].Failed != actions["refuse"] {
		t.Errorf("real run %+v, dry run predicted %v", r.Phases["users"], actions)
	}
}

// targetWrites is how many writes the simulator counted in the target tenant (all clients).
func targetWrites(t *testing.T, s *localstack.Stack) int64 { return writesIn(t, s, s.TargetTenantID) }

// simGet reads a simulator admin endpoint as text.
func simGet(t *testing.T, s *localstack.Stack, path string) string {
	resp, err := simClient(t, s).Get(s.GraphURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

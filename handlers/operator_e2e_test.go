package handlers_test

// What an operator sees, end to end on the local stack: the HTML status page and the wave's HTML
// report in a real headless Chromium, the progress events against their published schema, the
// handler's records forwarded as the host does, and no secret anywhere.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"t2t/shared/jsonschema"
	"t2t/shared/localstack"
	"t2t/shared/logfields"
	"t2t/shared/report"
	"t2t/shared/state"
	"t2t/shared/wave"
)

const hostileName = `<img src=x onerror=alert(1)>`

// seeder is a client of the source tenant allowed to change users, for setting up a test's data
// through Graph as an administrator would (the migration app only reads the source).
const (
	seederID     = "5eed5eed-0000-4000-8000-000000000001"
	seederSecret = "seeder-secret-for-tests"
)

// TestOperatorViewsInABrowser runs the demo wave, the source groups renamed to a hostile display
// name, on a stack whose ProgressSink is off (so every progress event stays on the
// queue), then checks: every event validates against docs/progress-events.schema.json; report.html
// and report.csv; the handler's JSON records reached the host under their invocation id; no secret in
// any log, Logs array, blob, table or queue message; and, in headless Chromium, the status page lists
// the wave with its counts, the wave's page and report.html show a failure's reason and the hostile
// name as text, and no script ran. Screenshots go to T2T_ARTIFACTS (default: the test's temp folder).
func TestOperatorViewsInABrowser(t *testing.T) {
	browser := chromiumPath(t) // fails, never skips, without a browser
	tenants := demoTenantsWith(t, func(cfg map[string]any) {
		src := cfg["tenants"].([]any)[0].(map[string]any)
		src["clients"] = append(src["clients"].([]any), map[string]any{"clientId": seederID, "secret": seederSecret,
			"displayName": "test seeder", "roles": []string{"Group.ReadWrite.All"}})
	})
	s := startStackOptions(t, localstack.StackOptions{Tenants: tenants, Env: map[string]string{"AzureWebJobs.ProgressSink.Disabled": "true"}})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	renamed := renameSourceGroups(t, s)
	_, store, final, _, _ := runDemoWave(ctx, t, s, nil)
	r := final.Report
	if len(r.Failures) == 0 || !slices.ContainsFunc(r.Pending, func(f report.Failure) bool { return strings.HasPrefix(f.Name, hostileName) }) {
		t.Fatalf("the wave should have failures and pending groups with the hostile names of the %d renamed (failures %+v, pending %+v)",
			renamed, r.Failures, r.Pending)
	}
	failure := r.Failures[0]

	events := drainQueue(ctx, t, s.Azurite.ConnectionString(), "progress")
	assertEventsMatchSchema(t, events, r.PhaseOrder)
	assertReportCSV(ctx, t, store, r)
	assertRecordsForwarded(t, s, failure)
	assertSecretsKeptOnlyInVault(ctx, t, s, store, r.Phases["users"].Created, map[string]string{"the progress events": strings.Join(events, "\n")})

	artefacts := os.Getenv("T2T_ARTIFACTS")
	if artefacts == "" {
		artefacts = t.TempDir()
	}
	if err := os.MkdirAll(artefacts, 0o755); err != nil {
		t.Fatal(err)
	}
	html, _, err := store.GetBytes(ctx, wave.ReportHTMLPath("usermapping"))
	if err != nil {
		t.Fatalf("report.html: %v", err)
	}
	reportFile := filepath.Join(artefacts, "report.html")
	if err := os.WriteFile(reportFile, html, 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, browser)
	b.statusPages(t, s, r, failure, artefacts)
	b.reportPage(t, reportFile, r, failure, artefacts)
	if n := b.dialogs.Load(); n > 0 {
		t.Errorf("a page opened %d JavaScript dialog(s): the hostile name ran as markup", n)
	}
}

// chromiumPath finds the browser (T2T_CHROMIUM, or chromium on PATH); without one the test fails.
func chromiumPath(t *testing.T) string {
	if p := os.Getenv("T2T_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found: `make tools` installs the Debian package chromium (apt-get install -y chromium), or set T2T_CHROMIUM")
	return ""
}

// renameSourceGroups gives every source group a hostile display name (hostileName and a number), as
// an administrator could through Graph; the wave's groups whose membership waits for later waves list
// it among the pending objects. It returns how many were renamed.
func renameSourceGroups(t *testing.T, s *localstack.Stack) int {
	t.Helper()
	token := seederToken(t, s)
	call := func(method, path string, body any) *http.Response {
		var rd *bytes.Reader
		if body != nil {
			data, _ := json.Marshal(body)
			rd = bytes.NewReader(data)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequest(method, s.GraphURL+"/v1.0"+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := simClient(t, s).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := call(http.MethodGet, "/groups?$select=id,displayName&$top=999", nil)
	var list struct {
		Value []struct{ ID string } `json:"value"`
	}
	err := json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("listing source groups: %s %v", resp.Status, err)
	}
	renamed := 0
	for i, g := range list.Value {
		resp := call(http.MethodPatch, "/groups/"+g.ID, map[string]string{"displayName": fmt.Sprintf("%s %d", hostileName, i)})
		resp.Body.Close()
		if resp.StatusCode < 300 {
			renamed++ // Graph refuses changes to mail-enabled groups; those keep their names
		}
	}
	if renamed == 0 {
		t.Fatal("no source group could be renamed")
	}
	return renamed
}

func seederToken(t *testing.T, s *localstack.Stack) string {
	t.Helper()
	form := url.Values{"client_id": {seederID}, "client_secret": {seederSecret}, "grant_type": {"client_credentials"},
		"scope": {"https://graph.microsoft.com/.default"}}
	resp, err := simClient(t, s).PostForm(s.GraphURL+"/"+s.SourceTenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("seeder token: %s %v", resp.Status, err)
	}
	return tok.AccessToken
}

// drainQueue receives and deletes every message of a queue, returning their texts (base64 decoded,
// as host.json's messageEncoding says).
func drainQueue(ctx context.Context, t *testing.T, conn, name string) []string {
	t.Helper()
	q, err := azqueue.NewQueueClientFromConnectionString(conn, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		resp, err := q.DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{NumberOfMessages: to.Ptr(int32(32)), VisibilityTimeout: to.Ptr(int32(300))})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Messages) == 0 {
			return out
		}
		for _, m := range resp.Messages {
			raw, err := base64.StdEncoding.DecodeString(*m.MessageText)
			if err != nil {
				t.Fatalf("progress message is not base64: %q", *m.MessageText)
			}
			out = append(out, string(raw))
			if _, err := q.DeleteMessage(ctx, *m.MessageID, *m.PopReceipt, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// assertEventsMatchSchema validates every event against the published schema and checks that the
// wave emitted each kind, and phase events for every phase that ran.
func assertEventsMatchSchema(t *testing.T, events []string, phases []string) {
	t.Helper()
	root, _ := localstack.ModuleRoot()
	data, err := os.ReadFile(filepath.Join(root, "docs", "progress-events.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	schema, err := jsonschema.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	kinds, settled := map[string]int{}, map[string]bool{}
	for _, ev := range events {
		for _, err := range schema.Validate([]byte(ev)) {
			t.Errorf("event %s: %v", ev, err)
		}
		var e wave.Event
		_ = json.Unmarshal([]byte(ev), &e)
		kinds[e.Kind]++
		if e.Kind == wave.EventPhaseSettled {
			settled[e.Phase] = true
		}
	}
	for _, k := range []string{wave.EventWaveStarted, wave.EventPhaseStarted, wave.EventChunkSettled, wave.EventPhaseSettled, wave.EventWaveCompleted} {
		if kinds[k] == 0 {
			t.Errorf("no %s event among %d (%v)", k, len(events), kinds)
		}
	}
	for _, p := range phases {
		if !settled[p] {
			t.Errorf("no phase.settled event for %s", p)
		}
	}
	t.Logf("%d progress events validated: %v", len(events), kinds)
}

// assertReportCSV checks report.csv: a line per phase in order with the report's counts, and a total.
func assertReportCSV(ctx context.Context, t *testing.T, store *state.Store, r *report.Report) {
	t.Helper()
	data, _, err := store.GetBytes(ctx, wave.ReportCSVPath("usermapping"))
	if err != nil {
		t.Fatalf("report.csv: %v", err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) != len(r.PhaseOrder)+2 {
		t.Fatalf("report.csv has %d lines, want a header, %d phases and a total: %v\n%s", len(recs), len(r.PhaseOrder), err, data)
	}
	for i, name := range r.PhaseOrder {
		c := r.Phases[name]
		want := []string{name, fmt.Sprint(c.Created), fmt.Sprint(c.Matched), fmt.Sprint(c.Skipped), fmt.Sprint(c.Pending),
			fmt.Sprint(c.Failed), fmt.Sprint(c.Total()), fmt.Sprint(r.Writes[name])}
		if !slices.Equal(recs[i+1], want) {
			t.Errorf("report.csv line %d = %q, want %q", i+2, recs[i+1], want)
		}
	}
	if total := recs[len(recs)-1]; total[0] != "total" || total[5] != fmt.Sprint(r.Totals.Failed) {
		t.Errorf("report.csv total line %q, want %d failed", total, r.Totals.Failed)
	}
}

// assertRecordsForwarded: the local host printed the handler's JSON records from the invocations'
// Logs under each function, with the id of the invocation it had announced (Executing ... Id=), and a
// failed object has its record with wave, phase, chunk, key and reason.
func assertRecordsForwarded(t *testing.T, s *localstack.Stack, f report.Failure) {
	t.Helper()
	logText, err := os.ReadFile(stackLogs[s])
	if err != nil {
		t.Fatal(err)
	}
	executing := map[string]string{} // invocation id -> function
	exec := regexp.MustCompile(`(?m)Executing 'Functions\.(\w+)' \(Reason=.*, Id=([0-9a-f-]+)\)$`)
	for _, m := range exec.FindAllStringSubmatch(string(logText), -1) {
		executing[m[2]] = m[1]
	}
	record := regexp.MustCompile(`\[(\w+)\] (\{"time".*\})$`)
	forwarded, failedRecord := map[string]int{}, false
	for _, line := range strings.Split(string(logText), "\n") {
		m := record.FindStringSubmatch(line)
		if m == nil || m[1] == "handler" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(m[2]), &rec); err != nil {
			t.Errorf("forwarded record is not JSON: %s", line)
			continue
		}
		id, _ := rec["invocationId"].(string)
		if executing[id] != m[1] || rec["function"] != m[1] {
			t.Errorf("record under %s names invocation %q of %q (host ran %q): %s", m[1], id, rec["function"], executing[id], line)
		}
		forwarded[m[1]]++
		if rec["msg"] == logfields.MsgObjectFailed && rec["key"] == f.Source && rec["err"] == f.Reason &&
			rec["wave"] == "usermapping" && rec["phase"] == f.Phase && rec["chunk"] != nil {
			failedRecord = true
		}
	}
	if !failedRecord {
		t.Errorf("no %q record for %s (%s) among the forwarded records", logfields.MsgObjectFailed, f.Source, f.Reason)
	}
	for _, fn := range []string{"WaveStart", "StepRun"} {
		if forwarded[fn] == 0 {
			t.Errorf("no record of %s forwarded from Logs (%v)", fn, forwarded)
		}
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"t2t/shared/localstack"
	"t2t/shared/report"
	"t2t/shared/state"
	"t2t/shared/wave"
)

var (
	builtOnce sync.Once
	builtDir  string
	builtErr  error
)

// binDir is T2T_BIN (make test sets it), or a folder where this test process builds the binaries.
func binDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("T2T_BIN"); d != "" {
		return d
	}
	builtOnce.Do(func() {
		root, err := localstack.ModuleRoot()
		if err != nil {
			builtErr = err
			return
		}
		if builtDir, builtErr = os.MkdirTemp("", "t2t-cli-bin-"); builtErr != nil {
			return
		}
		for _, name := range []string{"handler", "funchost", "tenantsim", "t2t"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(builtDir, name), "./cmd/"+name)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				builtErr = fmt.Errorf("building %s: %w\n%s", name, err, out)
				return
			}
		}
	})
	if builtErr != nil {
		t.Fatal(builtErr)
	}
	return builtDir
}

// startStack starts Azurite, the simulated tenants and the local Functions host running the handler.
// Writes are paced at 10 a second so that a wave of a few dozen users is still running when the
// test looks at it.
func startStack(t *testing.T) (*localstack.Stack, *state.Store) {
	t.Helper()
	root, err := localstack.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "stack.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := localstack.StartStack(ctx, localstack.StackOptions{BinDir: binDir(t), Tenants: filepath.Join(root, "demo", "tenants.json"),
		Source: "contoso", Target: "fabrikam", Logs: logs, Env: map[string]string{"T2T_GRAPH_WRITES_PER_SEC": "10"}})
	if err != nil {
		t.Fatalf("starting the stack: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			data, _ := os.ReadFile(logs.Name())
			t.Logf("stack log (tail):\n%s", data[max(0, len(data)-4000):])
		}
		logs.Close()
	})
	store, err := state.Open(ctx, s.Azurite.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	return s, store
}

// pilotFile writes the demo mapping file's first 40 rows as pilot.csv: three rows are rejected (a bad
// source, an unverified destination domain, a repeated row) and row 31's destination exists disabled,
// so the wave finishes with failures.
func pilotFile(t *testing.T) string {
	t.Helper()
	root, _ := localstack.ModuleRoot()
	f, err := os.Open(filepath.Join(root, "demo", "usermapping.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(lines) < 41 {
		lines = append(lines, sc.Text())
	}
	path := filepath.Join(t.TempDir(), "pilot.csv")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCommandsAgainstLocalStack runs every command against a running stack and a real wave: exit
// codes, table and JSON output, and what each command changed in storage.
func TestCommandsAgainstLocalStack(t *testing.T) {
	s, store := startStack(t)
	env := map[string]string{"AzureWebJobsStorage": s.Azurite.ConnectionString()}
	ctx := context.Background()

	// An empty account.
	if r := t2tCode(t, env, exitOK, "status"); !strings.Contains(r.out, "no waves yet") {
		t.Errorf("status: %s", r.out)
	}
	if r := t2tCode(t, env, exitOK, "status", "-o", "json"); strings.TrimSpace(r.out) != `{
  "waves": []
}` {
		t.Errorf("status -o json: %s", r.out)
	}
	for _, args := range [][]string{{"status", "pilot"}, {"report", "pilot"}, {"retry", "pilot"}, {"rollback", "pilot"},
		{"watch", "pilot", "--start-wait", "1s", "--interval", "200ms"}} {
		if r := t2tCode(t, env, exitNotFound, args...); !strings.Contains(r.errOut, "pilot") {
			t.Errorf("%v: %s", args, r.errOut)
		}
	}
	// A wrong account key: storage refuses it.
	bad := strings.Replace(s.Azurite.ConnectionString(), "AccountKey=", "AccountKey=AAAA", 1)
	if r := t2tCode(t, map[string]string{"AzureWebJobsStorage": bad}, exitAuth, "status"); !strings.Contains(r.errOut, "refused") {
		t.Errorf("bad key: %s", r.errOut)
	}
	t2tCode(t, env, exitNotFound, "start", filepath.Join(t.TempDir(), "none.csv"))

	// start: a users-only wave, uploaded with its options as metadata.
	file := pilotFile(t)
	r := t2tCode(t, env, exitOK, "start", file, "--phases", "users", "--rewrite", "contoso.example=fabrikam.example", "-o", "json")
	var started startResult
	if err := json.Unmarshal([]byte(r.out), &started); err != nil || started != (startResult{Wave: "pilot", Blob: "mappings/pilot.csv"}) {
		t.Fatalf("start -o json: %s (%v)", r.out, err)
	}
	// The wave appears; while it runs its report is not available yet.
	m := waitManifest(t, store, "pilot", func(m *wave.Manifest) bool { return true })
	if m.Status == wave.StatusRunning {
		if r := t2tCode(t, env, exitNotAvailable, "report", "pilot"); !strings.Contains(r.errOut, "not available yet") {
			t.Errorf("report while running: %s", r.errOut)
		}
		if r := t2t(t, env, "watch", "pilot", "--timeout", "300ms", "--interval", "100ms"); r.code != exitTimeout && r.code != exitFailures {
			t.Errorf("watch --timeout: exit %d, want %d (or %d had the wave just finished)\n%s", r.code, exitTimeout, exitFailures, r.errOut)
		} else if r.code == exitTimeout && !strings.Contains(r.errOut, "wave pilot has not finished") {
			t.Errorf("watch --timeout: %s", r.errOut)
		}
	} else {
		t.Logf("the wave finished before the report could be asked for while running (%s)", m.Status)
	}
	if m.Options.Phases[0] != "users" || m.Options.DomainMap["contoso.example"] != "fabrikam.example" {
		t.Errorf("options did not ride on the upload: %+v", m.Options)
	}

	// watch, off a terminal: plain lines, then the summary; failures exit 3.
	r = t2tCode(t, env, exitFailures, "watch", "pilot", "--interval", "300ms")
	for _, want := range []string{"wave pilot: Running", "users running, chunks", "Graph writes", "quota 20/s",
		"wave pilot: CompletedWithErrors", "users:", "row 31 barbara.walker@contoso.example"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("watch output lacks %q:\n%s", want, r.out)
		}
	}
	var rep report.Report
	if _, err := store.GetJSON(ctx, wave.ReportPath("pilot"), &rep); err != nil {
		t.Fatal(err)
	}
	users := rep.Phases["users"]
	if rep.Rows.Invalid != 3 || users != (wave.Counts{Created: 31, Matched: 5, Failed: 1}) || rep.Writes["users"] < 31 {
		t.Errorf("report: rows %+v users %+v writes %v", rep.Rows, users, rep.Writes)
	}

	// watch again, -o json: one JSON object per line, the last one the outcome.
	r = t2tCode(t, env, exitFailures, "watch", "pilot", "-o", "json")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	var last struct {
		Kind   string         `json:"kind"`
		Report *report.Report `json:"report"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Kind != "done" || last.Report.Totals != rep.Totals {
		t.Errorf("watch -o json last line: %s (%v)", lines[len(lines)-1], err)
	}
	// watch with bars (forced: the test's output is no terminal).
	r = t2tCode(t, env, exitFailures, "watch", "pilot", "--progress", "bars")
	if !strings.Contains(r.out, "users") || !strings.Contains(r.out, "chunks") || !strings.Contains(r.out, "[=") {
		t.Errorf("watch --progress bars:\n%q", r.out)
	}

	// status: the list and the wave.
	if r := t2tCode(t, env, exitOK, "status"); !strings.Contains(r.out, "pilot") || !strings.Contains(r.out, "CompletedWithErrors") {
		t.Errorf("status:\n%s", r.out)
	}
	r = t2tCode(t, env, exitOK, "status", "pilot")
	if !strings.Contains(r.out, "PHASE") || !strings.Contains(r.out, "settled") || !strings.Contains(r.out, "report: t2t report pilot") {
		t.Errorf("status pilot:\n%s", r.out)
	}
	var view waveView
	r = t2tCode(t, env, exitOK, "status", "pilot", "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &view); err != nil || view.Phases["users"].Counts != users || !view.ReportReady ||
		view.Phases["users"].Writes != rep.Writes["users"] {
		t.Errorf("status pilot -o json: %s (%v)", r.out, err)
	}

	// report: table, json (report.json as stored), csv and html documents.
	if r := t2tCode(t, env, exitOK, "report", "pilot"); !strings.Contains(r.out, "manual steps:") || !strings.Contains(r.out, "users:") {
		t.Errorf("report:\n%s", r.out)
	}
	var got report.Report
	r = t2tCode(t, env, exitOK, "report", "pilot", "--format", "json")
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || got.Totals != rep.Totals || got.Version != rep.Version {
		t.Errorf("report --format json: %v", err)
	}
	for _, format := range []string{"csv", "html"} {
		path := wave.ReportCSVPath("pilot")
		if format == "html" {
			path = wave.ReportHTMLPath("pilot")
		}
		stored, _, err := store.GetBytes(ctx, path)
		if errors.Is(err, state.ErrNotFound) {
			// This function app does not write the document: the CLI says so with exit code 4. Then a
			// document is put there to check that it is printed as stored.
			if r := t2tCode(t, env, exitNotFound, "report", "pilot", "--format", format); !strings.Contains(r.errOut, "waves/"+path+" does not exist") {
				t.Errorf("report --format %s: %s", format, r.errOut)
			}
			stored = []byte("report document, " + format + ", <b>&amp;</b>\n")
			if _, err := store.PutBytes(ctx, path, stored, "text/"+format, state.Cond{}); err != nil {
				t.Fatal(err)
			}
		} else if err != nil {
			t.Fatal(err)
		}
		if r := t2tCode(t, env, exitOK, "report", "pilot", "--format", format); r.out != string(stored) {
			t.Errorf("report --format %s printed %q, stored %q", format, r.out, stored)
		}
	}

	// Shell completion of a WAVE argument lists the waves in storage.
	if r := t2tCode(t, env, exitOK, "__complete", "report", "pi"); !strings.HasPrefix(r.out, "pilot\n") {
		t.Errorf("completion of WAVE: %q", r.out)
	}

	// cutover: without a yes (no terminal to ask on) nothing is queued; a dry run is, and its report
	// comes back (the wave's users are internal members already: nothing to convert).
	if r := t2tCode(t, env, exitUsage, "cutover", "pilot"); !strings.Contains(r.errOut, "not confirmed: nothing was done") {
		t.Errorf("cutover without --yes: %q", r.errOut)
	}
	if _, _, err := store.GetBytes(context.Background(), wave.CutoverReportPath("pilot")); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("an unconfirmed cutover left a report: %v", err)
	}
	r = t2tCode(t, env, exitOK, "cutover", "pilot", "--dry-run", "--timeout", "90s", "-o", "json")
	var cut wave.CutoverReport
	if err := json.Unmarshal([]byte(r.out), &cut); err != nil || cut.Wave != "pilot" || !cut.DryRun || cut.Run == "" {
		t.Errorf("cutover --dry-run -o json: %v %s", err, r.out)
	}
	t2tCode(t, env, exitNotFound, "cutover", "nosuchwave", "--yes")

	// rollback --dry-run: queued; the function app writes rollback.json.
	r = t2tCode(t, env, exitOK, "rollback", "pilot", "--dry-run")
	if !strings.Contains(r.out, "rollback of wave pilot queued (dry run: true)") {
		t.Errorf("rollback: %s", r.out)
	}
	waitDocument(t, store, wave.RollbackPath("pilot"))

	// start of a wave that exists: a note says which version status and watch show meanwhile.
	if r := t2tCode(t, env, exitOK, "start", file, "--phases", "users", "--rewrite", "contoso.example=fabrikam.example"); !strings.Contains(r.errOut,
		"wave pilot already exists (version "+rep.Version+", CompletedWithErrors)") {
		t.Errorf("start again: %s", r.errOut)
	}

	// retry: the file runs again as a new version.
	r = t2tCode(t, env, exitOK, "retry", "pilot", "-o", "json")
	var retried map[string]string
	if err := json.Unmarshal([]byte(r.out), &retried); err != nil || retried["previousVersion"] != rep.Version {
		t.Errorf("retry -o json: %s", r.out)
	}
	waitManifest(t, store, "pilot", func(m *wave.Manifest) bool { return wave.VersionOf(m) != rep.Version })

	// A dry run under another name: watch says nothing is written, and the summary is the plan's.
	r = t2tCode(t, env, exitOK, "start", file, "--wave", "drill", "--dry-run", "--phases", "users")
	if !strings.Contains(r.out, "dry run of wave drill") || r.errOut != "" {
		t.Errorf("start --dry-run: %s", r.out)
	}
	r = t2tCode(t, env, exitFailures, "watch", "drill", "--interval", "300ms")
	if !strings.Contains(r.out, "dry run: nothing is written to the target") || !strings.Contains(r.out, "dry run (what would happen; verdicts in waves/drill/whatif.csv)") {
		t.Errorf("watch of a dry run:\n%s", r.out)
	}
}

// TestExitCodesOfTheBinary checks the exit codes as a shell sees them, from the built binary.
func TestExitCodesOfTheBinary(t *testing.T) {
	bin := filepath.Join(binDir(t), "t2t")
	for args, want := range map[string]int{"cutover": exitUsage, "bogus": exitUsage, "--help": exitOK} {
		cmd := exec.Command(bin, strings.Fields(args)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != want {
			t.Errorf("t2t %s: exit code %d, want %d", args, code, want)
		}
	}
}

func waitManifest(t *testing.T, store *state.Store, id string, ok func(*wave.Manifest) bool) *wave.Manifest {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var m wave.Manifest
		_, err := store.GetJSON(context.Background(), wave.ManifestPath(id), &m)
		if err == nil && ok(&m) {
			return &m
		}
		if time.Now().After(deadline) {
			t.Fatalf("wave %s: no manifest as expected within a minute (%v)", id, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitDocument(t *testing.T, store *state.Store, path string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, _, err := store.GetBytes(context.Background(), path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waves/%s was not written within a minute", path)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"t2t/shared/localstack"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// result is one in-process run of the CLI.
type result struct {
	code        int
	out, errOut string
}

// t2t runs the command line in process with only the given environment.
func t2t(t testing.TB, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, args, &out, &errOut, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return result{code, out.String(), errOut.String()}
}

func (r result) want(t testing.TB, code int, args ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("t2t %s: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.out, r.errOut)
	}
}

// t2tOK runs and checks the exit code.
func t2tCode(t testing.TB, env map[string]string, code int, args ...string) result {
	t.Helper()
	r := t2t(t, env, args...)
	r.want(t, code, args...)
	return r
}

func TestHelpOnEveryCommand(t *testing.T) {
	root := (&cli{lookupEnv: os.LookupEnv}).rootCommand()
	r := t2tCode(t, nil, exitOK, "--help")
	for _, want := range []string{"Exit codes:", "  3    the wave finished with failures", "  5    not available yet",
		"--storage", "--account-url", "--output", "validate", "watch", "cutover", "completion"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("t2t --help lacks %q", want)
		}
	}
	for _, cmd := range root.Commands() {
		if cmd.Name() == "help" {
			continue
		}
		r := t2tCode(t, nil, exitOK, cmd.Name(), "--help")
		if !strings.Contains(r.out, "Usage:") || !strings.Contains(r.out, cmd.Use) {
			t.Errorf("t2t %s --help:\n%s", cmd.Name(), r.out)
		}
	}
	r = t2tCode(t, nil, exitOK, "report", "--help")
	if !strings.Contains(r.out, "--format string") || !strings.Contains(r.out, "table, json, csv or html") {
		t.Errorf("report --help does not document --format:\n%s", r.out)
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "__start_t2t",
		"zsh":        "#compdef t2t",
		"fish":       "complete -c t2t",
		"powershell": "Register-ArgumentCompleter",
	} {
		r := t2tCode(t, nil, exitOK, "completion", shell)
		if !strings.Contains(r.out, marker) {
			t.Errorf("completion %s lacks %q", shell, marker)
		}
	}
	// The completion protocol itself: flag values offered for --format.
	r := t2tCode(t, nil, exitOK, "__complete", "report", "pilot", "--format", "")
	for _, f := range []string{"table", "json", "csv", "html"} {
		if !strings.Contains(r.out, f+"\n") {
			t.Errorf("completion of --format lacks %s:\n%s", f, r.out)
		}
	}
	t2tCode(t, nil, exitUsage, "completion", "tcsh")
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"},
		{"status", "--bogus"},
		{"watch"},
		{"report", "a", "b"},
		{"--output", "yaml", "status"},
		{"report", "pilot", "--format", "pdf"},
		{"watch", "pilot", "--progress", "fancy"},
		{"status", "Not A Wave!"},
		{"status"}, // no storage configured
		{"start", "x.csv", "--ca-state", "enabled", "--storage", "UseDevelopmentStorage=true"},
		{"start", "x.csv", "--rewrite", "nodomain", "--storage", "UseDevelopmentStorage=true"},
		{"start", "x.csv", "--workloads", "Yammer", "--storage", "UseDevelopmentStorage=true"},
		{"start", "x.csv", "--license", "E3", "--storage", "UseDevelopmentStorage=true"},
		{"domain", "steal", "contoso.com", "--storage", "UseDevelopmentStorage=true"},
		{"domain", "plan"},
		{"status", "--account-url", "https://127.0.0.1:1/devstoreaccount1"}, // no queue or table URL to derive
	} {
		r := t2tCode(t, map[string]string{}, exitUsage, args...)
		if !strings.HasPrefix(r.errOut, "t2t: ") || !strings.Contains(r.errOut, "--help") {
			t.Errorf("t2t %s: stderr %q", strings.Join(args, " "), r.errOut)
		}
	}
}

func TestExitCodeOfErrors(t *testing.T) {
	for err, want := range map[error]int{
		fmt.Errorf("reading: %w", state.ErrNotFound):                      exitNotFound,
		fmt.Errorf("watching: %w", context.Canceled):                      exitInterrupted,
		fmt.Errorf("watching: %w", context.DeadlineExceeded):              exitTimeout,
		fmt.Errorf("listing: %w", &azcore.ResponseError{StatusCode: 403}): exitAuth,
		fmt.Errorf("listing: %w", &azcore.ResponseError{StatusCode: 500}): exitFailed,
		withCode(exitNotAvailable, state.ErrNotFound):                     exitNotAvailable,
	} {
		if got := codeOf(err); got != want {
			t.Errorf("%v: exit code %d, want %d", err, got, want)
		}
	}
}

func TestAccountURLDerivesQueueAndTable(t *testing.T) {
	for in, want := range map[string][2]string{
		"https://acct.blob.core.windows.net":       {"https://acct.queue.core.windows.net", "https://acct.table.core.windows.net"},
		"https://acct.blob.core.chinacloudapi.cn/": {"https://acct.queue.core.chinacloudapi.cn/", "https://acct.table.core.chinacloudapi.cn/"},
		"https://127.0.0.1:10000/devstoreaccount1": {"", ""},
	} {
		if q, tb := sibling(in, "queue"), sibling(in, "table"); q != want[0] || tb != want[1] {
			t.Errorf("%s: queue %q table %q, want %q", in, q, tb, want)
		}
	}
	s := storageFlags{}
	c, err := s.conn(func(k string) (string, bool) {
		v, ok := map[string]string{"AzureWebJobsStorage__accountName": "acct"}[k]
		return v, ok
	})
	if err != nil || c.BlobURL != "https://acct.blob.core.windows.net" || c.TableURL != "https://acct.table.core.windows.net" || !c.Identity() {
		t.Errorf("__accountName: %+v %v", c, err)
	}
	s.connString = "UseDevelopmentStorage=true"
	if c, _ := s.conn(func(string) (string, bool) { return "", false }); c.Identity() {
		t.Error("--storage is a connection string")
	}
}

// A validation file: row 3 bad syntax, rows 4 and 5 one source to two destinations, row 6 repeats
// row 2, row 7 on a domain the target has not verified.
const validateCSV = "Source,Destination\r\n" +
	"ann@contoso.example,ann@fabrikam.example\r\n" +
	"not-an-address,x@fabrikam.example\r\n" +
	"bob@contoso.example,bob1@fabrikam.example\r\n" +
	"bob@contoso.example,bob2@fabrikam.example\r\n" +
	"ann@contoso.example,ann@fabrikam.example\r\n" +
	"cy@contoso.example,cy@unverified.example\r\n"

func TestValidateOffline(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "wave1.csv")
	if err := os.WriteFile(file, []byte(validateCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	// No target configured: the domain rule is skipped, with a note.
	r := t2tCode(t, nil, exitFailures, "validate", file)
	if !strings.Contains(r.errOut, "domain rule was skipped") || !strings.Contains(r.out, "6 rows, 2 valid, 4 rejected") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.out, r.errOut)
	}
	errorsCSV, err := os.ReadFile(filepath.Join(dir, "wave1.errors.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const want = "row,column,value,reason\n" +
		"3,Source,not-an-address,not a user principal name (expected name@domain)\n" +
		"4,Source,bob@contoso.example,the same source is mapped to another destination on row 5\n" +
		"5,Source,bob@contoso.example,the same source is mapped to another destination on row 4\n" +
		"6,Source,ann@contoso.example,duplicate of row 2\n"
	if string(errorsCSV) != want {
		t.Errorf("errors.csv:\n%s\nwant:\n%s", errorsCSV, want)
	}

	// With the target's domains: row 7 is rejected too; JSON output; --errors elsewhere.
	other := filepath.Join(dir, "out", "e.csv")
	_ = os.MkdirAll(filepath.Dir(other), 0o755)
	r = t2tCode(t, map[string]string{targetDomainsEnv: "Fabrikam.example"}, exitFailures, "validate", file, "--errors", other, "-o", "json")
	var res validateResult
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, r.out)
	}
	if res.DomainCheck != "checked" || res.Rows != (rowCounts{Total: 6, Valid: 1, Invalid: 5}) || res.ErrorsFile != other ||
		res.Errors[len(res.Errors)-1].Reason != "the domain unverified.example is not a verified domain of the target tenant" {
		t.Errorf("%+v", res)
	}
	if data, _ := os.ReadFile(other); !strings.Contains(string(data), "7,Destination,cy@unverified.example") {
		t.Errorf("--errors file:\n%s", data)
	}

	// A clean file exits 0; an unusable one exits 3 with the file-level reason; a missing one 4.
	clean := filepath.Join(dir, "clean.csv")
	_ = os.WriteFile(clean, []byte("source,destination\nann@contoso.example,ann@fabrikam.example\n"), 0o644)
	r = t2tCode(t, nil, exitOK, "validate", clean, "--target-domains", "fabrikam.example")
	if !strings.Contains(r.out, "1 rows, 1 valid, 0 rejected") {
		t.Errorf("clean: %s", r.out)
	}
	empty := filepath.Join(dir, "empty.csv")
	_ = os.WriteFile(empty, []byte("Name;Mail\n"), 0o644)
	r = t2tCode(t, nil, exitFailures, "validate", empty)
	if !strings.Contains(r.out, "the file is unusable: the header has no Source and Destination columns") {
		t.Errorf("unusable: %s", r.out)
	}
	t2tCode(t, nil, exitNotFound, "validate", filepath.Join(dir, "missing.csv"))
}

func TestMeterEstimatesWritesLeftAtTheQuota(t *testing.T) {
	m := newMeter(20)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &wave.Progress{Phases: map[string]*wave.PhaseProgress{
		// users: 10 chunks declared, 4 settled with 80 writes: 20 per chunk, 6 left -> 120 writes.
		"users": {Started: true, Parts: 2, PartsDone: 2, Chunks: 10, ChunksDone: 4, Writes: 80, Throttled: 2, Retried: 3},
		// groups: 3 chunks declared, none settled: one write per object, 3*20 = 60.
		"groups": {Started: true, Parts: 1, PartsDone: 1, Chunks: 3},
		// settled phases add their writes and nothing left.
		"namedLocations": {Started: true, Parts: 1, PartsDone: 1, Chunks: 1, ChunksDone: 1, Writes: 5},
	}}
	x := m.observe(p, false, t0)
	if x.Writes != 85 || x.Throttled != 2 || x.Retried != 3 || x.WritesLeft != 180 || x.ETA != 9*time.Second || x.Rate != 0 {
		t.Errorf("first look: %+v", x)
	}
	p.Phases["users"].ChunksDone, p.Phases["users"].Writes = 6, 120
	x = m.observe(p, false, t0.Add(2*time.Second))
	if x.Rate != 20 || x.WritesLeft != 140 {
		t.Errorf("second look: %+v", x)
	}
	if got := strings.Join(m.order, ","); got != "groups,namedLocations,users" {
		t.Errorf("order %s", got)
	}
	if x := newMeter(20).observe(p, true, t0); x.WritesLeft != 0 || !strings.Contains(x.line(), "dry run") {
		t.Errorf("dry run: %+v", x)
	}
}

// TestOperatorBinaryLinksNoRehearsalPackages keeps the operator's t2t free of the tenant simulator,
// the local stack and the local Functions host (and of the Graph SDK: the CLI never talks to Graph).
func TestOperatorBinaryLinksNoRehearsalPackages(t *testing.T) {
	root, err := localstack.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	deps := func(pkg string) string {
		cmd := exec.Command("go", "list", "-deps", pkg)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return string(out)
	}
	operator := deps("./cmd/t2t")
	for _, banned := range []string{"t2t/shared/simulator", "t2t/shared/localstack", "t2t/shared/funchost",
		"github.com/microsoftgraph/msgraph-sdk-go"} {
		for _, line := range strings.Split(operator, "\n") {
			if line == banned || strings.HasPrefix(line, banned+"/") {
				t.Errorf("cmd/t2t links %s", line)
			}
		}
	}
	// The check would pass vacuously if the names were wrong: the lab binary does link them.
	lab := deps("./cmd/t2t-lab")
	for _, want := range []string{"t2t/shared/simulator\n", "t2t/shared/localstack\n"} {
		if !strings.Contains(lab, want) {
			t.Errorf("cmd/t2t-lab does not link %s", strings.TrimSpace(want))
		}
	}
}

package funchost

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"t2t/shared/localstack"
)

// loadRepoApp loads the repository's own host.json and functions/*/function.json, unchanged.
func loadRepoApp(t *testing.T) *app {
	t.Helper()
	root, err := localstack.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	a, err := loadApp(Config{Root: root, SettingsFile: writeSettings(t, map[string]string{"AzureWebJobsStorage": "UseDevelopmentStorage=true",
		"T2T_DELTA_SCHEDULE": localstack.DefaultDeltaSchedule})})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestLoadRepoApp loads the repository's own host.json and functions/*/function.json, unchanged.
func TestLoadRepoApp(t *testing.T) {
	a := loadRepoApp(t)
	if len(a.problems) > 0 || len(a.warnings) > 0 {
		t.Fatalf("problems %v warnings %v", a.problems, a.warnings)
	}
	triggers := map[string]string{}
	for _, fn := range a.functions {
		triggers[fn.name] = fn.trigger.Type
	}
	want := map[string]string{"WaveStart": "blobTrigger", "StepRun": "queueTrigger", "ProgressSink": "queueTrigger", "WaveStatus": "httpTrigger", "DeltaSync": "timerTrigger"}
	for name, typ := range want {
		if triggers[name] != typ {
			t.Errorf("%s: trigger %q, want %q (all: %v)", name, triggers[name], typ, triggers)
		}
	}
	q := a.host.queues
	if q.batchSize != 16 || q.newBatchThreshold != 8 || q.maxDequeueCount != 5 || !q.base64 ||
		q.visibilityTimeout != 10*time.Second || q.maxPollingInterval != 2*time.Second {
		t.Errorf("queue settings %+v", q)
	}
	if a.host.functionTimeout != 10*time.Minute || a.host.routePrefix != "api" || a.host.executable != "handler" {
		t.Errorf("host settings %+v", a.host)
	}
}

func TestSettingsPrecedence(t *testing.T) {
	t.Setenv("FUNCHOST_TEST_FROM_ENV", "env")
	path := writeSettings(t, map[string]string{"FUNCHOST_TEST_FROM_ENV": "file", "OnlyInFile": "file", "Both": "file"})
	ls, err := readLocalSettings(Config{SettingsFile: path})
	if err != nil {
		t.Fatal(err)
	}
	s := mergeSettings(ls, map[string]string{"Both": "override"})
	if s["FUNCHOST_TEST_FROM_ENV"] != "env" || s["OnlyInFile"] != "file" || s["Both"] != "override" {
		t.Errorf("settings %v", map[string]string{"env": s["FUNCHOST_TEST_FROM_ENV"], "file": s["OnlyInFile"], "both": s["Both"]})
	}
	got, err := resolveSettingRefs("%OnlyInFile%-q-%both%", s)
	if err != nil || got != "file-q-override" {
		t.Errorf("resolveSettingRefs: %q, %v", got, err)
	}
	if _, err := resolveSettingRefs("%Nope%", s); err == nil {
		t.Error("a missing setting resolved")
	}
}

func TestParseTimeSpan(t *testing.T) {
	tests := map[string]time.Duration{
		"00:00:10": 10 * time.Second, "00:10:00": 10 * time.Minute, "01:02:03": time.Hour + 2*time.Minute + 3*time.Second,
		"00:00:00.250": 250 * time.Millisecond, "1.00:00:00": 24 * time.Hour, "00:05": 5 * time.Minute,
	}
	for in, want := range tests {
		if got, err := parseTimeSpan(in); err != nil || got != want {
			t.Errorf("parseTimeSpan(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "10", "aa:bb:cc", "00:61:00", "00:00:60"} {
		if _, err := parseTimeSpan(bad); err == nil {
			t.Errorf("parseTimeSpan(%q) accepted", bad)
		}
	}
}

func TestQueueMessages(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`["a", {"k":"v"}, 3]`, []string{"a", `{"k":"v"}`, "3"}},
		{`"plain text"`, []string{"plain text"}},
		{`{"k": [1, 2]}`, []string{`{"k":[1,2]}`}},
		{`42`, []string{"42"}},
	}
	for _, tt := range tests {
		got, err := queueMessages(json.RawMessage(tt.in))
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("queueMessages(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestHostID(t *testing.T) {
	if got := hostIDFor("/x/My_Function.App", nil); got != "my-function-app" {
		t.Errorf("hostIDFor: %q", got)
	}
	if got := hostIDFor("/x/y", map[string]string{"AzureFunctionsWebHost__hostid": "fixed"}); got != "fixed" {
		t.Errorf("hostIDFor with setting: %q", got)
	}
}

func writeSettings(t *testing.T, values map[string]string) string {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"IsEncrypted": false, "Values": values})
	path := filepath.Join(t.TempDir(), "local.settings.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDevelopmentStorage(t *testing.T) {
	if got, want := expandDevelopmentStorage("UseDevelopmentStorage=true"), localstack.ConnectionString(10000, 10001, 10002); got != want {
		t.Errorf("UseDevelopmentStorage=true expands to\n%s\nwant\n%s", got, want)
	}
	if got := expandDevelopmentStorage("AccountName=x;AccountKey=y"); got != "AccountName=x;AccountKey=y" {
		t.Errorf("an explicit connection string changed: %s", got)
	}
}

package funchost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWaveStartDeclaresEventGrid: the deployed WaveStart must use the Event Grid source (Flex
// Consumption has no other), and the local host serves that same function.json by listing the
// container, saying so in its startup summary and in the invocation reason.
func TestWaveStartDeclaresEventGrid(t *testing.T) {
	a := loadRepoApp(t)
	for _, fn := range a.functions {
		if fn.name != "WaveStart" {
			continue
		}
		if fn.trigger.Source != "EventGrid" {
			t.Fatalf("WaveStart blob trigger source %q, want EventGrid", fn.trigger.Source)
		}
		summary := fn.triggerSummary("http://127.0.0.1:7071", a.host.queues, "1s")
		if !strings.Contains(summary, "container listed every 1s, standing in for source EventGrid") {
			t.Errorf("summary %q", summary)
		}
		if got := sourceName(fn.trigger); got != "EventGrid" {
			t.Errorf("invocation reason source %q", got)
		}
		return
	}
	t.Fatal("no WaveStart function")
}

// TestBlobTriggerSourceValues: both documented sources load (case-insensitively, as the host parses
// enums); anything else is a load error for that function only.
func TestBlobTriggerSourceValues(t *testing.T) {
	root := t.TempDir()
	host, err := os.ReadFile(filepath.Join("testdata", "app", "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "host.json"), host, 0o644); err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{"Grid": "EventGrid", "GridLower": "eventgrid", "Scan": "LogsAndContainerScan",
		"Default": "", "Polling": "Polling"}
	for name, source := range sources {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		fj := `{"bindings": [{"name": "b", "type": "blobTrigger", "direction": "in", "path": "in/{name}",
			"connection": "AzureWebJobsStorage", "source": "` + source + `"}]}`
		if err := os.WriteFile(filepath.Join(dir, "function.json"), []byte(fj), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err := loadApp(Config{Root: root, SettingsFile: writeSettings(t, map[string]string{"AzureWebJobsStorage": "UseDevelopmentStorage=true"})})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.functions) != 4 || len(a.problems) != 1 || !strings.Contains(a.problems[0], `Polling: binding "b": blob trigger source "Polling"`) {
		t.Errorf("loaded %d functions, problems %q", len(a.functions), a.problems)
	}
}

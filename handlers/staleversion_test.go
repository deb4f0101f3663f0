package handlers

import (
	"testing"

	"t2t/shared/state"
	"t2t/shared/wave"
)

// TestStepsOfAReplacedFileVersionStop checks that an import step queued for a file version that has
// since been replaced ends before touching storage or Graph (no Graph is configured here: reaching it
// would fail the invocation).
func TestStepsOfAReplacedFileVersionStop(t *testing.T) {
	ctx, store, url := storageApp(t)
	if _, err := store.PutJSON(ctx, wave.CurrentPath("sv"), wave.Current{Version: "new000000000"}, state.Cond{}); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"StepRun", "ProgressSink"} {
		var item any = wave.Step{Wave: "sv", Version: "old000000000", Op: wave.OpImport, Phase: "users", Chunk: 0}
		if fn == "ProgressSink" {
			item = wave.Event{Kind: wave.EventWaveStarted, Wave: "sv", Version: "old000000000"}
		}
		status, out := invokeQueue(t, url, fn, item)
		if status != 200 || len(out.Outputs) != 0 {
			t.Errorf("%s of a replaced version: %d, outputs %v, logs %v; want 200 and nothing done", fn, status, out.Outputs, out.Logs)
		}
	}
	if _, err := store.GetJSON(ctx, wave.ProgressPath("sv"), &wave.Progress{}); !isNotFound(err) {
		t.Errorf("an old version's event reached progress.json: %v", err)
	}
}

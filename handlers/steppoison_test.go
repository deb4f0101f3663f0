package handlers

import (
	"encoding/json"
	"strings"
	"testing"

	"t2t/shared/mapping"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// TestStepPoisonFailsUnfinishedObjectsAndLetsTheWaveFinish drives the StepPoison function through the
// handler's HTTP surface with a payload shaped like the real host's, against real storage (Azurite).
func TestStepPoisonFailsUnfinishedObjectsAndLetsTheWaveFinish(t *testing.T) {
	ctx, store, url := storageApp(t)
	const version = "abc000000000"
	m := wave.Manifest{Wave: "pw", ContentSHA256: version, Status: wave.StatusRunning, Parts: 1, Chunks: 1,
		Options: wave.Options{Phases: []string{users.Type}}}
	rows := []mapping.Row{
		{Line: 2, Source: "a@s.example", Destination: "a@t.example"},
		{Line: 3, Source: "b@s.example", Destination: "b@t.example"},
		{Line: 4, Source: "c@s.example", Destination: "c@t.example"},
	}
	for path, doc := range map[string]any{wave.ManifestPath("pw"): m, wave.CurrentPath("pw"): wave.Current{Version: version},
		wave.RowsPath("pw", version, 0): rows} {
		if _, err := store.PutJSON(ctx, path, doc, state.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.PutFact(ctx, "pw", version, wave.Fact{Phase: users.Type, Kind: wave.FactPlan, Parts: 1}); err != nil {
		t.Fatal(err)
	}
	sc := state.Scope{Wave: "pw", Version: version, Phase: users.Type, Chunk: 0}
	done := state.LedgerEntry{Wave: "pw", Version: version, Phase: users.Type, Key: "a@s.example", Line: 2, Status: wave.ObjCreated, Attempts: 1, TargetID: "t1"}
	stuck := state.LedgerEntry{Wave: "pw", Version: version, Phase: users.Type, Key: "b@s.example", Line: 3, Status: wave.ObjCreating, Attempts: 5,
		LastError: "TooManyRequests: throttled"}
	for _, e := range []state.LedgerEntry{done, stuck} {
		if err := store.PutLedger(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	step := wave.Step{Wave: "pw", Version: version, Op: wave.OpExport, Phase: users.Type, Part: 0}
	status, out := invokeQueue(t, url, "StepPoison", step)
	if status != 200 {
		t.Fatalf("StepPoison answered %d: %+v", status, out)
	}
	if got, _ := store.GetLedger(ctx, sc, "a@s.example"); got.Status != wave.ObjCreated {
		t.Errorf("a finished object was changed: %+v", got)
	}
	got, _ := store.GetLedger(ctx, sc, "b@s.example")
	if got.Status != wave.ObjFailed || !strings.Contains(got.LastError, "throttled") || !strings.Contains(got.LastError, "steps-poison") {
		t.Errorf("stuck object = %+v; want Failed keeping its last error", got)
	}
	if got, _ := store.GetLedger(ctx, sc, "c@s.example"); got.Status != wave.ObjFailed || got.Line != 4 {
		t.Errorf("never-started object = %+v; want Failed with its row", got)
	}
	steps, _ := json.Marshal(out.Outputs["steps"])
	if !strings.Contains(string(steps), `"op":"finalize"`) || !strings.Contains(string(steps), `"version":"abc000000000"`) {
		t.Errorf("the last chunk's poison should queue finalize, outputs: %s", steps)
	}
	facts, err := store.Facts(ctx, "pw", version)
	if err != nil {
		t.Fatal(err)
	}
	p := wave.Summarize(facts)[users.Type]
	if p == nil || !p.Complete() || p.Counts != (wave.Counts{Created: 1, Failed: 2}) {
		t.Errorf("users progress after the poison = %+v, want complete with 1 created and 2 failed", p)
	}
	// Delivered again (the poison queue is at-least-once too), it changes nothing.
	if status, _ := invokeQueue(t, url, "StepPoison", step); status != 200 {
		t.Fatalf("second StepPoison answered %d", status)
	}
	facts, _ = store.Facts(ctx, "pw", version)
	if p2 := wave.Summarize(facts)[users.Type]; p2.Counts != p.Counts || len(facts) != 4 { // plan, part, chunk and its bucket
		t.Errorf("a repeated poison changed the facts: %+v (%d facts)", p2, len(facts))
	}
}

// TestUnknownPhaseOrMalformedStepIsDroppedOnce checks that a step that can never succeed is
// acknowledged (logged, not redelivered five times).
func TestUnknownPhaseOrMalformedStepIsDroppedOnce(t *testing.T) {
	_, _, url := storageApp(t)
	for _, item := range []any{
		wave.Step{Wave: "x", Version: "v", Op: wave.OpImport, Phase: "mailboxes"},
		wave.Step{Wave: "x", Version: "v", Op: "explode", Phase: users.Type},
		map[string]any{"wave": 42},
	} {
		status, out := invokeQueue(t, url, "StepRun", item)
		if status != 200 || len(out.Outputs) != 0 || !strings.Contains(strings.Join(out.Logs, " "), "dropping step") {
			t.Errorf("StepRun(%v) = %d, outputs %v, logs %v; want 200, nothing queued, the reason logged", item, status, out.Outputs, out.Logs)
		}
	}
}

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
	sc := state.Scope{Wave: "pw", Version: "abc", Phase: users.Type, Chunk: 0}
	done := state.LedgerEntry{Wave: "pw", Version: "abc", Phase: users.Type, Key: "a@s.example", Line: 2, Status: wave.ObjCreated, Attempts: 1, TargetID: "t1"}
	stuck := state.LedgerEntry{Wave: "pw", Version: "abc", Phase: users.Type, Key: "b@s.example", Line: 3, Status: wave.ObjCreating, Attempts: 5,
		LastError: "TooManyRequests: throttled"}
	for _, e := range []state.LedgerEntry{done, stuck} {
		if err := store.PutLedger(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	step := wave.Step{Wave: "pw", Version: "abc", Phase: wave.PhaseExportUsers, Chunk: 0, Chunks: 1, Rows: []mapping.Row{
		{Line: 2, Source: "a@s.example", Destination: "a@t.example"},
		{Line: 3, Source: "b@s.example", Destination: "b@t.example"},
		{Line: 4, Source: "c@s.example", Destination: "c@t.example"},
	}}
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
	if !strings.Contains(string(steps), `"phase":"finalize"`) || !strings.Contains(string(steps), `"version":"abc"`) {
		t.Errorf("the last chunk's poison should queue finalize, outputs: %s", steps)
	}
	n := 0
	for c, err := range store.Chunks(ctx, "pw", "abc") {
		if err != nil {
			t.Fatal(err)
		}
		if c.Failed != 2 || c.Created != 1 {
			t.Errorf("chunk record %+v", c)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d chunk records, want 1", n)
	}
}

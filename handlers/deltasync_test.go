package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"t2t/shared/wave"
)

// TestProgressSinkTakesDeltaEvents: a delta.completed event names a migration, not a wave; the sink
// accepts it (no redelivery) and writes no wave's progress for it.
func TestProgressSinkTakesDeltaEvents(t *testing.T) {
	ctx, store, url := storageApp(t)
	ev := wave.Event{Kind: wave.EventDeltaCompleted, Migration: "src_tgt", Status: "completed",
		Counts: &wave.Counts{Created: 2, Skipped: 1}, Utc: time.Now().UTC()}
	status, resp := invokeQueue(t, url, "ProgressSink", ev)
	if status != http.StatusOK || !strings.Contains(strings.Join(resp.Logs, "\n"), "delta sync of src_tgt: completed") {
		t.Fatalf("ProgressSink answered %d %v", status, resp.Logs)
	}
	if ids, err := store.Waves(ctx); err != nil || len(ids) != 0 {
		t.Errorf("a delta event made wave documents %v (%v)", ids, err)
	}
}

package ops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"t2t/shared/state"
	"t2t/shared/storageconn"
	"t2t/shared/wave"
)

// cutoverTriggered is the content of wave.CutoverTriggeredPath.
type cutoverTriggered struct {
	Run string    `json:"run"`
	At  time.Time `json:"at"`
	Utc time.Time `json:"utc"`
}

// StartDueCutovers starts the planned cutover (upload option t2tcutover, wave.Options.CutoverUtc) of
// every wave whose time has come at now and that can be cut over, and returns the runs it started, by
// wave. It is meant for a timer (the DeltaSync schedule, say). Each planned time starts once: a marker
// blob is written after the step is queued, so a crash in between starts it again rather than never
// (a cutover run twice changes nothing), and two checks at the same moment may both start it, with
// the same harmless result.
func StartDueCutovers(ctx context.Context, connStr string, store *state.Store, now time.Time) (map[string]string, error) {
	clients, err := connClients(connStr)
	if err != nil {
		return nil, err
	}
	return StartDueCutoversOn(ctx, clients, store, now)
}

// StartDueCutoversOn is StartDueCutovers on the clients of any storage connection.
func StartDueCutoversOn(ctx context.Context, clients *storageconn.Clients, store *state.Store, now time.Time) (map[string]string, error) {
	ids, err := store.Waves(ctx)
	if err != nil {
		return nil, err
	}
	started := map[string]string{}
	for _, id := range ids {
		var m wave.Manifest
		if _, err := store.GetJSON(ctx, wave.ManifestPath(id), &m); errors.Is(err, state.ErrNotFound) {
			continue
		} else if err != nil {
			return started, err
		}
		if !m.Options.CutoverDue(now) || wave.CheckCutover(&m) != nil {
			continue
		}
		marker := wave.CutoverTriggeredPath(id, *m.Options.CutoverUtc)
		var done cutoverTriggered
		if _, err := store.GetJSON(ctx, marker, &done); err == nil {
			continue
		} else if !errors.Is(err, state.ErrNotFound) {
			return started, err
		}
		run := wave.NewCutoverRun(now)
		if err := EnqueueOn(ctx, clients, "steps", wave.Step{Wave: id, Version: run, Op: wave.OpCutover}); err != nil {
			return started, fmt.Errorf("starting the planned cutover of %s: %w", id, err)
		}
		if _, err := store.PutJSON(ctx, marker, cutoverTriggered{Run: run, At: *m.Options.CutoverUtc, Utc: now.UTC()}, state.Cond{}); err != nil {
			return started, err
		}
		started[id] = run
	}
	return started, nil
}

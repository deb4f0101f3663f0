package handlers

import (
	"context"
	"fmt"
	"time"

	"t2t/shared/logfields"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// progressRefresh bounds how often progress.json is rewritten per wave: events within it skip the
// write, except the ones that close a phase or the wave.
const progressRefresh = time.Second

// ProgressSink keeps waves/<wave>/progress.json, a view for tools that read blobs. Events state facts
// and the summary is re-derived from the facts table, never incremented, so a duplicate, late, lost
// or reordered event cannot make it wrong; readers that need it exact (watch, WaveStatus) derive it
// themselves the same way.
func (a *App) ProgressSink(ctx context.Context, inv *invocation) error {
	var ev wave.Event
	if err := inv.req.JSON("item", &ev); err != nil {
		inv.logf("dropping a malformed progress event: %v", err)
		return nil
	}
	if ev.Kind == wave.EventDeltaCompleted {
		inv.logf("delta sync of %s: %s", ev.Migration, ev.Status) // its report is in the delta container
		return nil
	}
	if err := wave.CheckID(ev.Wave); err != nil {
		inv.logf("dropping a progress event: %v", err)
		return nil
	}
	inv.with(logfields.Wave, ev.Wave)
	if ev.Phase != "" {
		inv.with(logfields.Phase, ev.Phase)
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	// The rate limit is checked first: most events of a busy wave end here, after one read.
	closing := ev.Kind == wave.EventPhaseSettled || ev.Kind == wave.EventWaveCompleted
	var prev wave.Progress
	if _, err := store.GetJSON(ctx, wave.ProgressPath(ev.Wave), &prev); err == nil && !closing &&
		prev.Version == ev.Version && time.Since(prev.UpdatedUtc) < progressRefresh {
		return nil
	} else if err != nil && !isNotFound(err) {
		return err
	}
	if current, err := isCurrent(ctx, store, ev.Wave, ev.Version); err != nil {
		return err
	} else if !current {
		inv.logf("wave %s: ignoring a %s event of replaced file version %s", ev.Wave, ev.Kind, ev.Version)
		return nil
	}
	_, p, err := store.Progress(ctx, ev.Wave)
	if err != nil {
		return fmt.Errorf("summarizing wave %s: %w", ev.Wave, err)
	}
	if _, err := store.PutJSON(ctx, wave.ProgressPath(ev.Wave), p, state.Cond{}); err != nil {
		return err
	}
	inv.logf("wave %s: %s", ev.Wave, ev.Kind)
	return nil
}

package handlers

import (
	"context"
	"errors"
	"fmt"

	"t2t/shared/mapping"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// poisonReason is recorded for objects whose step kept failing and has no more specific error.
const poisonReason = "the step failed on every delivery and was moved to the steps-poison queue; `t2t retry` runs the wave again"

// StepPoison runs for a step that failed maxDequeueCount times. It marks the step's unfinished objects
// Failed (keeping the last error each one recorded), counts the chunk as done, and lets the wave
// finish, so that a wave never hangs on one bad chunk and nothing is silently lost.
func (a *App) StepPoison(ctx context.Context, inv *invocation) error {
	var step wave.Step
	if err := inv.req.JSON("item", &step); err != nil {
		inv.logf("dropping an unreadable poison message: %v", err)
		return nil // nothing to attribute it to; the host already logged the original failures
	}
	if err := step.Validate(); err != nil {
		inv.logf("dropping an invalid poison message: %v", err)
		return nil
	}
	if step.Phase == wave.PhaseFinalize {
		inv.logf("wave %s: finalize failed repeatedly; the ledger is complete, run `t2t report` after fixing storage", step.Wave)
		return nil
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	chunks := map[int][]mapping.Row{step.Chunk: nil}
	if step.Phase == wave.PhaseExportUsers {
		chunks = step.SplitRows()
	}
	for chunk := range chunks {
		one := wave.Step{Wave: step.Wave, Version: step.Version, DryRun: step.DryRun, Phase: wave.PhaseImportUsers, Chunk: chunk, Chunks: step.Chunks}
		rows := chunks[chunk]
		if rows == nil {
			if rows, err = snapshotRows(ctx, store, one); err != nil {
				return err
			}
		}
		var counts wave.Counts
		for _, row := range rows {
			status, err := failIfUnfinished(ctx, store, stepScope(one), row)
			if err != nil {
				return err
			}
			counts = counts.With(status)
		}
		inv.logf("wave %s chunk %d (%s) was poisoned: %d objects marked failed", step.Wave, chunk, step.Phase, counts.Failed)
		if err := a.chunkDone(ctx, inv, store, one, counts); err != nil {
			return err
		}
	}
	return nil
}

// snapshotRows finds the rows of an import chunk in its export snapshot.
func snapshotRows(ctx context.Context, store *state.Store, step wave.Step) ([]mapping.Row, error) {
	var snap users.Snapshot
	if _, err := store.GetJSON(ctx, wave.ExportPath(step.Wave, step.Version, step.Chunk), &snap); err != nil {
		return nil, fmt.Errorf("reading the snapshot of poisoned chunk %d: %w", step.Chunk, err)
	}
	rows := make([]mapping.Row, 0, len(snap.Users)+len(snap.Missing))
	for _, u := range snap.Users {
		rows = append(rows, u.Row)
	}
	for _, m := range snap.Missing {
		rows = append(rows, m.Row)
	}
	return rows, nil
}

// failIfUnfinished marks a row's user Failed unless the ledger already has a final status for it.
func failIfUnfinished(ctx context.Context, store *state.Store, sc state.Scope, row mapping.Row) (string, error) {
	e, err := store.GetLedger(ctx, sc, row.Source)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return "", err
	}
	if e.Status == wave.ObjCreated || e.Status == wave.ObjMatched || e.Status == wave.ObjFailed {
		return e.Status, nil
	}
	e.Wave, e.Version, e.Phase, e.Chunk = sc.Wave, sc.Version, sc.Phase, sc.Chunk
	e.Key, e.Line, e.TargetKey, e.Status = row.Source, row.Line, row.Destination, wave.ObjFailed
	if e.LastError == "" {
		e.LastError = poisonReason
	} else {
		e.LastError += " (" + poisonReason + ")"
	}
	return wave.ObjFailed, store.PutLedger(ctx, e)
}

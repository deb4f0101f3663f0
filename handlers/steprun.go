package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"t2t/shared/report"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// maxUserAttempts matches host.json's maxDequeueCount: a user still failing for passing reasons on
// the last delivery is marked Failed (retryable with `t2t retry`) before the message would be poisoned.
const maxUserAttempts = 5

// StepRun executes one step from the steps queue. Each phase is a reconcile: it re-reads what it
// needs, converges, and is safe to run twice or concurrently.
func (a *App) StepRun(ctx context.Context, inv *invocation) error {
	var step wave.Step
	if err := inv.req.JSON("item", &step); err != nil {
		return fmt.Errorf("malformed step message: %w", err)
	}
	if err := step.Validate(); err != nil {
		return fmt.Errorf("rejecting step message: %w", err)
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	if current, err := isCurrent(ctx, store, step.Wave, step.Version); err != nil {
		return err
	} else if !current {
		inv.logf("wave %s: dropping a %s step of replaced file version %s", step.Wave, step.Phase, step.Version)
		return nil
	}
	switch step.Phase {
	case wave.PhaseExportUsers:
		return a.exportUsers(ctx, inv, store, step)
	case wave.PhaseImportUsers:
		return a.importUsers(ctx, inv, store, step)
	default:
		return a.finalize(ctx, inv, store, step)
	}
}

// exportUsers reads the step's source users (up to ExportChunks chunks) into one export snapshot per
// chunk and queues each chunk's import. It reads only the source tenant and writes only snapshots.
func (a *App) exportUsers(ctx context.Context, inv *invocation, store *state.Store, step wave.Step) error {
	src, err := a.sourceGraph()
	if err != nil {
		return err
	}
	all, err := users.Export(ctx, src, stepScope(step), step.Rows)
	if err != nil {
		return err
	}
	for chunk, rows := range step.SplitRows() {
		snap := all.Subset(chunk, rows)
		if _, err := store.PutJSON(ctx, wave.ExportPath(step.Wave, step.Version, chunk), snap, state.Cond{}); err != nil {
			return err
		}
		inv.output("steps", wave.Step{Wave: step.Wave, Version: step.Version, DryRun: step.DryRun,
			Phase: wave.PhaseImportUsers, Chunk: chunk, Chunks: step.Chunks})
	}
	inv.logf("wave %s chunks %d+: exported %d users, %d missing", step.Wave, step.Chunk, len(all.Users), len(all.Missing))
	return nil
}

// importUsers creates or matches the snapshot's users in the target; when the last chunk is done it
// queues the wave's finalize step. It reads only the snapshot and the target.
func (a *App) importUsers(ctx context.Context, inv *invocation, store *state.Store, step wave.Step) error {
	var snap users.Snapshot
	if _, err := store.GetJSON(ctx, wave.ExportPath(step.Wave, step.Version, step.Chunk), &snap); err != nil {
		return fmt.Errorf("reading the export snapshot: %w", err)
	}
	target, err := a.targetGraph()
	if err != nil {
		return err
	}
	im := &users.Importer{Target: target, Store: store, Migration: a.Settings.MigrationID, MaxAttempts: maxUserAttempts}
	var counts wave.Counts
	if step.DryRun {
		counts, err = im.Plan(ctx, &snap) // reads only: nothing reaches the target or the vault
	} else {
		vault, verr := a.secretStore()
		if verr != nil {
			return verr
		}
		if vault != nil {
			im.Vault = vault
		}
		counts, err = im.Import(ctx, &snap)
	}
	if err != nil {
		return err // ErrRetryLater included: the queue redelivers after its visibility timeout
	}
	inv.logf("wave %s chunk %d: %d created, %d matched, %d failed", step.Wave, step.Chunk, counts.Created, counts.Matched, counts.Failed)
	return a.chunkDone(ctx, inv, store, step, counts)
}

// chunkDone records an import chunk as done, reports it, and queues the wave's finalize step once
// every chunk of this version is done.
func (a *App) chunkDone(ctx context.Context, inv *invocation, store *state.Store, step wave.Step, counts wave.Counts) error {
	rec := state.ChunkRecord{Wave: step.Wave, Version: step.Version, Phase: step.Phase, Chunk: step.Chunk,
		Created: counts.Created, Matched: counts.Matched, Failed: counts.Failed}
	if err := store.PutChunk(ctx, rec); err != nil {
		return err
	}
	inv.output("progress", wave.Event{Kind: wave.EventChunkDone, Wave: step.Wave, Version: step.Version, Phase: step.Phase,
		Chunk: step.Chunk, Chunks: step.Chunks, Counts: counts, Utc: time.Now().UTC()})
	// Our chunk record is written before we count, so of two chunks finishing together at least one
	// sees both done; both may, and finalize is idempotent.
	done, err := countChunks(ctx, store, step.Wave, step.Version, step.Phase)
	if err != nil {
		return err
	}
	if done >= step.Chunks {
		inv.output("steps", wave.Step{Wave: step.Wave, Version: step.Version, DryRun: step.DryRun, Phase: wave.PhaseFinalize})
	}
	return nil
}

// stepScope is the ledger scope of a step's users.
func stepScope(step wave.Step) state.Scope {
	return state.Scope{Wave: step.Wave, Version: step.Version, Phase: users.Type, Chunk: step.Chunk}
}

func countChunks(ctx context.Context, store *state.Store, waveID, version, phase string) (int, error) {
	n := 0
	for c, err := range store.Chunks(ctx, waveID, version) {
		if err != nil {
			return 0, err
		}
		if c.Phase == phase {
			n++
		}
	}
	return n, nil
}

// finalize builds report.json and MigrationState.json from the ledger and closes the manifest.
func (a *App) finalize(ctx context.Context, inv *invocation, store *state.Store, step wave.Step) error {
	var m wave.Manifest
	if _, err := store.GetJSON(ctx, wave.ManifestPath(step.Wave), &m); err != nil {
		return err
	}
	if wave.VersionOf(&m) != step.Version {
		inv.logf("wave %s: skipping the finalize of version %s; the file changed since (now %s)", step.Wave, step.Version, wave.VersionOf(&m))
		return nil
	}
	var entries []state.LedgerEntry
	for e, err := range store.Ledger(ctx, step.Wave, step.Version, users.Type) {
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	now := time.Now().UTC()
	rep := report.Build(&m, entries, a.Settings.KeyVaultURL != "", now)
	rep.Version = step.Version
	if m.DryRun {
		if _, err := store.PutBytes(ctx, wave.WhatIfPath(step.Wave), report.WhatIfCSV(entries), "text/csv", state.Cond{}); err != nil {
			return err
		}
	}
	if _, err := store.PutJSON(ctx, wave.ReportPath(step.Wave), rep, state.Cond{}); err != nil {
		return err
	}
	ms := report.BuildState(&m, entries, rep.Status, now)
	if _, err := store.PutJSON(ctx, wave.StatePath(step.Wave), ms, state.Cond{}); err != nil {
		return err
	}
	err := state.Update(ctx, store, wave.ManifestPath(step.Wave), func() *wave.Manifest { return &m },
		func(cur *wave.Manifest) bool {
			if wave.VersionOf(cur) != step.Version {
				return false // a newer file restarted the wave just now; its own finalize will close it
			}
			cur.Status, cur.UpdatedUtc = rep.Status, now
			if p := cur.Phases["users"]; p != nil {
				p.Status, p.CompletedUtc = rep.Status, &now
			}
			return true
		})
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	inv.logf("wave %s finished: %s (%d created, %d matched, %d failed, %d invalid rows)", step.Wave, rep.Status,
		rep.Users.Created, rep.Users.Matched, rep.Users.Failed, rep.Rows.Invalid)
	inv.output("progress", wave.Event{Kind: wave.EventWaveCompleted, Wave: step.Wave, Version: step.Version, Counts: rep.Users, Utc: now})
	return nil
}

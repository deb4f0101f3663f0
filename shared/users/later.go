package users

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Later phases that work on the wave's users (managers, licences, devices, Exchange, content jobs,
// Power Platform) read them through these, not through the users phase's internals.

// Chunks lists the users phase's settled chunks of the wave version: a later phase that works per
// users chunk exports its part i from chunk i of them.
func Chunks(ctx context.Context, env *phase.Env) ([]int, error) {
	return env.Store.PhaseChunks(ctx, env.Wave, env.Version, Type)
}

// PartSnapshot reads the users snapshot that export part part of phaseName works on. It returns a
// nil snapshot when that users chunk has none (its export part was poisoned), and a terminal error
// for a part beyond the users phase's chunks.
func PartSnapshot(ctx context.Context, env *phase.Env, phaseName string, part int) (int, *Snapshot, error) {
	cs, err := Chunks(ctx, env)
	if err != nil {
		return 0, nil, err
	}
	if part >= len(cs) {
		return 0, nil, phase.Terminal(fmt.Errorf("%s part %d: the users phase has %d chunks", phaseName, part, len(cs)))
	}
	var snap Snapshot
	if err := env.GetSnapshot(ctx, Type, cs[part], &snap); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return cs[part], nil, nil
		}
		return 0, nil, err
	}
	return cs[part], &snap, nil
}

// Migrated returns the ledger entries of the wave version's users t2t created or matched (Key: the
// source UPN, TargetID, TargetKey: the destination UPN), by source UPN. A dry run's planned ones count
// in a dry run.
func Migrated(ctx context.Context, env *phase.Env) ([]state.LedgerEntry, error) {
	var out []state.LedgerEntry
	for e, err := range env.Store.Ledger(ctx, env.Wave, env.Version, Type) {
		if err != nil {
			return nil, err
		}
		done := e.Status == wave.ObjCreated || e.Status == wave.ObjMatched ||
			env.DryRun && (e.Status == wave.ObjWouldCreate || e.Status == wave.ObjWouldMatch)
		if done && (e.TargetID != "" || env.DryRun) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b state.LedgerEntry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

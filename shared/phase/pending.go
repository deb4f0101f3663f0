package phase

import (
	"context"
	"errors"
	"fmt"

	"t2t/shared/state"
	"t2t/shared/wave"
)

// References to objects of later waves (a manager, say) are the same problem in every phase: the
// referencing object is settled Pending in its own wave's ledger, the reference is recorded with
// Defer, and the phase of a later wave that maps the referenced object asks Waiting for the
// references its objects complete, sets each, and calls SettleRef. Defer writes the reference
// before it reads the id map once more, and a later wave maps its objects before it reads the
// references, so a reference recorded while the later wave runs is never lost: one of the two sees
// the other.

// Defer records that the ledger entry key of chunk (of phaseName) waits for the object typ/sourceID,
// which has no target yet. It returns the object's target id if the id map knows it by now (a wave
// mapped it meanwhile): the caller sets the reference itself then, and settles the entry with
// SettleRef. A dry run records nothing and returns "".
func (env *Env) Defer(ctx context.Context, phaseName string, chunk int, key string, ref state.PendingRef) (string, error) {
	if env.DryRun {
		return "", nil
	}
	ref.Migration, ref.Wave, ref.Version, ref.Phase, ref.Chunk, ref.Key = env.Migration, env.Wave, env.Version, phaseName, chunk, key
	if err := env.Store.PutPendingRef(ctx, ref); err != nil {
		return "", err
	}
	m, err := env.Store.GetIDMap(ctx, env.Migration, ref.Type, ref.SourceID)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	return m.TargetID, nil
}

// Waiting lists the references that wait for any of sourceIDs (objects of typ this wave mapped).
func (env *Env) Waiting(ctx context.Context, typ string, sourceIDs []string) ([]state.PendingRef, error) {
	if env.DryRun {
		return nil, nil
	}
	ids, err := env.Store.WaitedFor(ctx, env.Migration, typ, unique(sourceIDs))
	if err != nil {
		return nil, err
	}
	var out []state.PendingRef
	for _, id := range ids {
		refs, err := env.Store.PendingRefs(ctx, env.Migration, typ, id)
		if err != nil {
			return nil, err
		}
		out = append(out, refs...)
	}
	return out, nil
}

// SettleRef records that a pending reference is set: the waiting ledger entry (in whichever wave
// recorded it) is settled with status and reason, and the reference is removed. Settling twice is
// harmless.
func (env *Env) SettleRef(ctx context.Context, ref state.PendingRef, status, reason string) error {
	e, err := env.Store.GetLedger(ctx, ref.Scope(), ref.Key)
	switch {
	case errors.Is(err, state.ErrNotFound):
		e = state.LedgerEntry{Wave: ref.Wave, Version: ref.Version, Phase: ref.Phase, Chunk: ref.Chunk, Key: ref.Key,
			SourceID: ref.FromSourceID, Attempts: 1}
	case err != nil:
		return fmt.Errorf("reading the ledger entry waiting for %s %s: %w", ref.Type, ref.SourceID, err)
	}
	if e.Status == wave.ObjPending || e.Status == "" || e.Status == wave.ObjCreating {
		e.Status, e.LastError, e.TargetID = status, reason, ref.FromTargetID
		if err := env.Store.PutLedger(ctx, e); err != nil {
			return err
		}
	}
	return env.Store.DeletePendingRef(ctx, ref)
}

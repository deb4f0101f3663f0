package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// rollbackPage is how many objects one rollback step deletes before queuing the next page.
const rollbackPage = 40

// rollbackVersion is the ledger version a rollback records its outcomes under.
const rollbackVersion = "rollback"

// RollbackReport is waves/<wave>/rollback.json.
type RollbackReport struct {
	Wave         string                    `json:"wave"`
	DryRun       bool                      `json:"dryRun"`
	CompletedUtc time.Time                 `json:"completedUtc"`
	Phases       map[string]RollbackCounts `json:"phases"`
	Kept         []RollbackItem            `json:"kept"`
	Failed       []RollbackItem            `json:"failed"`
	Notes        []string                  `json:"notes"`
}

// RollbackCounts tallies one phase's rollback.
type RollbackCounts struct {
	Deleted     int `json:"deleted"`
	WouldDelete int `json:"wouldDelete,omitempty"`
	Kept        int `json:"kept"`
	Failed      int `json:"failed"`
}

// RollbackItem is an object rollback left in place, with the reason.
type RollbackItem struct {
	Phase    string `json:"phase"`
	SourceID string `json:"sourceId"`
	TargetID string `json:"targetId"`
	Key      string `json:"key"`
	Reason   string `json:"reason"`
}

// Rollback outcomes in the rollback ledger.
const (
	rbDeleted     = "Deleted"
	rbWouldDelete = "WouldDelete"
	rbKept        = "Kept"
	rbFailed      = "Failed"
)

// rollback deletes what t2t created in a wave, according to the id map, in reverse dependency order
// (conditional access first), a page per step. A step without a phase starts at the last phase. It is
// idempotent: deleted objects leave the id map, kept ones are marked, so a second rollback finds
// nothing new to do. In a dry run it lists what it would delete.
func (a *App) rollback(ctx context.Context, inv *invocation, store *state.Store, step wave.Step) error {
	order := slices.Clone(a.Phases)
	slices.Reverse(order)
	if step.Phase == "" {
		inv.logf("wave %s: rollback requested (dry run: %t)", step.Wave, step.DryRun)
		inv.emit("steps", wave.Step{Wave: step.Wave, Version: rollbackVersion, DryRun: step.DryRun, Op: wave.OpRollback, Phase: order[0].Name()})
		return nil
	}
	p, _ := a.Phases.Lookup(step.Phase)
	env := &phase.Env{Store: store, Migration: a.Settings.MigrationID, Wave: step.Wave, Version: rollbackVersion,
		DryRun: step.DryRun, MaxAttempts: maxObjectAttempts, Logf: inv.logf}
	var err error
	if env.Target, err = a.targetGraph(); err != nil {
		return err
	}
	todo, more, err := rollbackTodo(ctx, env, p.Name(), step.Chunk)
	if err != nil {
		return err
	}
	var entries []state.LedgerEntry
	for _, m := range todo {
		e := state.LedgerEntry{Wave: step.Wave, Version: rollbackVersion, Phase: p.Name(), Chunk: step.Chunk, Key: m.SourceID,
			SourceID: m.SourceID, TargetID: m.TargetID, TargetKey: m.TargetKey, Attempts: 1}
		e.Status, e.LastError = a.rollbackOne(ctx, env, p, m)
		entries = append(entries, e)
	}
	if err := store.PutLedgers(ctx, entries); err != nil {
		return err
	}
	next := wave.Step{Wave: step.Wave, Version: rollbackVersion, DryRun: step.DryRun, Op: wave.OpRollback, Phase: p.Name(), Chunk: step.Chunk + 1}
	if !more {
		i := slices.IndexFunc(order, func(q phase.Phase) bool { return q.Name() == p.Name() })
		if i == len(order)-1 {
			return a.rollbackReport(ctx, inv, store, step.Wave, step.DryRun)
		}
		next.Phase, next.Chunk = order[i+1].Name(), 0
	}
	inv.emit("steps", next)
	return nil
}

// rollbackTodo lists the page of objects of phase that t2t created in the wave and rollback has not
// dealt with; more reports whether another page follows. A dry run pages through everything (it
// deletes nothing, so the list does not shrink).
func rollbackTodo(ctx context.Context, env *phase.Env, typ string, page int) ([]state.IDMapping, bool, error) {
	var todo []state.IDMapping
	skip := 0
	if env.DryRun {
		skip = page * rollbackPage
	}
	for m, err := range env.Store.IDMap(ctx, env.Migration, typ) {
		if err != nil {
			return nil, false, err
		}
		if m.Wave != env.Wave || !m.Created || m.Kept != "" {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(todo) == rollbackPage {
			return todo, true, nil
		}
		todo = append(todo, m)
	}
	return todo, false, nil
}

// rollbackOne deletes one object (or, in a dry run, says it would) and returns the outcome.
func (a *App) rollbackOne(ctx context.Context, env *phase.Env, p phase.Phase, m state.IDMapping) (string, string) {
	if env.DryRun {
		return rbWouldDelete, ""
	}
	err := p.Rollback(ctx, env, m)
	switch {
	case errors.Is(err, phase.ErrChanged):
		m.Kept = err.Error()
		if perr := env.Store.PutIDMaps(ctx, []state.IDMapping{m}); perr != nil {
			return rbFailed, perr.Error()
		}
		return rbKept, err.Error()
	case err != nil:
		return rbFailed, phase.Describe(err)
	}
	if err := env.Store.DeleteIDMap(ctx, env.Migration, p.Name(), m.SourceID); err != nil {
		return rbFailed, fmt.Sprintf("deleted, but the id mapping stays: %v", err)
	}
	return rbDeleted, ""
}

// rollbackReport writes rollback.json from the rollback ledger of every phase.
func (a *App) rollbackReport(ctx context.Context, inv *invocation, store *state.Store, waveID string, dryRun bool) error {
	r := RollbackReport{Wave: waveID, DryRun: dryRun, CompletedUtc: time.Now().UTC(), Phases: map[string]RollbackCounts{},
		Kept: []RollbackItem{}, Failed: []RollbackItem{}, Notes: []string{
			"Deleted users, Microsoft 365 groups and app registrations are in the target tenant's deleted items and can be restored for 30 days; deleted security groups cannot be restored (Entra deletes them permanently).",
			"Objects t2t matched to existing accounts were never touched; objects changed since t2t created them were kept.",
		}}
	for _, p := range a.Phases {
		var c RollbackCounts
		for e, err := range store.Ledger(ctx, waveID, rollbackVersion, p.Name()) {
			if err != nil {
				return err
			}
			item := RollbackItem{Phase: p.Name(), SourceID: e.SourceID, TargetID: e.TargetID, Key: e.TargetKey, Reason: e.LastError}
			switch e.Status {
			case rbDeleted:
				c.Deleted++
			case rbWouldDelete:
				c.WouldDelete++
			case rbKept:
				c.Kept++
				r.Kept = append(r.Kept, item)
			default:
				c.Failed++
				r.Failed = append(r.Failed, item)
			}
		}
		r.Phases[p.Name()] = c
	}
	if _, err := store.PutJSON(ctx, wave.RollbackPath(waveID), r, state.Cond{}); err != nil {
		return err
	}
	inv.logf("wave %s: rollback finished (dry run: %t)", waveID, dryRun)
	return nil
}

package handlers

import (
	"context"

	"t2t/shared/wave"
)

// poisonReason is recorded for objects whose step kept failing and has no more specific error.
const poisonReason = "the step failed on every delivery and was moved to the steps-poison queue; `t2t retry` runs the wave again"

// StepPoison runs for a step that failed maxDequeueCount times. Through the registry it marks the
// step's unfinished objects Failed (keeping the last error each one recorded) and records the step as
// settled, so that a wave never hangs on one bad chunk and nothing is silently lost.
func (a *App) StepPoison(ctx context.Context, inv *invocation) error {
	step, err := a.decodeStep(inv)
	if err != nil {
		inv.logf("dropping an unusable poison message: %v", err)
		return nil // nothing to attribute it to; the host already logged the original failures
	}
	switch step.Op {
	case wave.OpFinalize:
		inv.logf("wave %s: finalize failed repeatedly; the ledger is complete, `t2t retry` runs the wave again", step.Wave)
		return nil
	case wave.OpRollback:
		inv.logf("wave %s: a rollback step of %s failed repeatedly; `t2t rollback` runs it again", step.Wave, step.Phase)
		return nil
	case wave.OpDomain:
		inv.logf("domain %s: the %s step failed repeatedly; 't2t domain %s %s' runs it again", step.Domain, step.Action, step.Action, step.Domain)
		return nil
	case wave.OpCutover:
		inv.logf("wave %s: cutover %s step of %s chunk %d failed repeatedly; `t2t cutover` runs it again (done users are left as they are)",
			step.Wave, step.Version, step.Phase, step.Chunk)
		return nil
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	if current, err := isCurrent(ctx, store, step.Wave, step.Version); err != nil || !current {
		return err
	}
	env, err := a.env(ctx, inv, store, wave.Step{Wave: step.Wave, Version: step.Version, DryRun: step.DryRun, Op: wave.OpFinalize})
	if err != nil {
		return err
	}
	p, _ := a.Phases.Lookup(step.Phase)
	inv.logf("wave %s: %s %s step (part %d, chunk %d) was poisoned; its unfinished objects are marked failed", step.Wave, step.Op, step.Phase, step.Part, step.Chunk)
	return a.Phases.Poison(ctx, env, p, step, poisonReason, inv.emit)
}

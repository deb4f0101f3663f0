package handlers

import (
	"context"

	"t2t/shared/domainmove"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// domainStep runs one step of a vanity-domain move (t2t domain ACTION DOMAIN queues it): with both
// tenants, since the move frees the domain in the source and adopts it in the target. Each step is a
// reconcile that reads before it writes, and a refusal is its report, not a failure; the report is
// domainmoves/<domain>/<action>.json.
func (a *App) domainStep(ctx context.Context, inv *invocation, store *state.Store, step wave.Step) error {
	src, err := a.sourceGraph()
	if err != nil {
		return err
	}
	tgt, err := a.targetGraph()
	if err != nil {
		return err
	}
	t := domainmove.Tenants{Source: src, Target: tgt, Store: store, Migration: a.Settings.MigrationID}
	rep, err := domainmove.Run(ctx, t, step.Action, step.Domain, step.Version, step.DryRun)
	if err != nil {
		return err
	}
	inv.logf("domain %s: %s (dry run %t): %d items, %d objects still using it in the source, refused: %q",
		rep.Domain, rep.Action, rep.DryRun, len(rep.Items), rep.Blocking, rep.Refused)
	return nil
}

package handlers

import (
	"context"
	"fmt"

	"t2t/shared/state"
	"t2t/shared/wave"
)

// ProgressSink folds progress events into the wave's progress.json.
func (a *App) ProgressSink(ctx context.Context, inv *invocation) error {
	var ev wave.Event
	if err := inv.req.JSON("item", &ev); err != nil {
		return fmt.Errorf("malformed progress event: %w", err)
	}
	if err := wave.CheckID(ev.Wave); err != nil {
		return fmt.Errorf("progress event: %w", err)
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	if current, err := isCurrent(ctx, store, ev.Wave, ev.Version); err != nil {
		return err
	} else if !current {
		inv.logf("wave %s: ignoring a %s event of replaced file version %s", ev.Wave, ev.Kind, ev.Version)
		return nil
	}
	err = state.Update(ctx, store, wave.ProgressPath(ev.Wave),
		func() *wave.Progress { return &wave.Progress{Wave: ev.Wave, Done: map[string]wave.Counts{}} },
		func(p *wave.Progress) bool { return p.Apply(ev) })
	if err != nil {
		return err
	}
	inv.logf("wave %s: %s", ev.Wave, ev.Kind)
	return nil
}

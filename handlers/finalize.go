package handlers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"t2t/shared/phase"
	"t2t/shared/report"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// finalizeStale is how old a finalize claim must be before another delivery takes it over (its holder
// died). It is shorter than the queue's five deliveries (visibility timeout 10 s), so a redelivered
// finalize outlives a crashed holder; a finalize takes seconds.
const finalizeStale = 40 * time.Second

// errFinalizing is returned to a delivery that found the finalize claimed and the wave still open:
// the message comes back later and exits once the holder has closed the wave, or takes over.
var errFinalizing = errors.New("finalize is running in another invocation; trying again later")

// finalize builds report.json (and whatif.csv for a dry run) and MigrationState.json from every
// phase's ledger and closes the manifest. It runs once per wave version: the first delivery claims
// it, concurrent ones exit at once, and a crashed one is taken over after finalizeStale.
func (a *App) finalize(ctx context.Context, inv *invocation, env *phase.Env) (err error) {
	m, err := env.Manifest(ctx)
	if err != nil {
		return err
	}
	if wave.VersionOf(m) != env.Version {
		inv.logf("wave %s: skipping the finalize of version %s; the file changed since (now %s)", env.Wave, env.Version, wave.VersionOf(m))
		return nil
	}
	if m.Status != wave.StatusRunning {
		return nil // finalized already
	}
	claimPath := fmt.Sprintf("%s/finalize/%s.claim", env.Wave, env.Version)
	owner := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	if ok, err := env.Store.Claim(ctx, claimPath, owner, finalizeStale); err != nil || !ok {
		if err == nil {
			err = errFinalizing
		}
		return err
	}
	defer func() {
		if err != nil {
			_ = env.Store.Release(ctx, claimPath) // let the redelivery run it at once
		}
	}()
	ledgers, err := a.phaseLedgers(ctx, env, m)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	rep := report.Build(m, ledgers, now)
	facts, err := env.Store.Facts(ctx, env.Wave, env.Version)
	if err != nil {
		return err
	}
	rep.Writes = map[string]int{}
	for name, p := range wave.Summarize(facts) {
		rep.Writes[name] = p.Writes
	}
	if m.DryRun {
		if _, err := env.Store.PutBytes(ctx, wave.WhatIfPath(env.Wave), report.WhatIfCSV(ledgers), "text/csv", state.Cond{}); err != nil {
			return err
		}
	}
	if _, err := env.Store.PutJSON(ctx, wave.ReportPath(env.Wave), rep, state.Cond{}); err != nil {
		return err
	}
	if _, err := env.Store.PutJSON(ctx, wave.StatePath(env.Wave), report.BuildState(m, ledgers, now), state.Cond{}); err != nil {
		return err
	}
	if err := closeManifest(ctx, env.Store, env.Wave, env.Version, rep.Status, rep.Phases, now); err != nil {
		return err
	}
	inv.logf("wave %s finished: %s (%d created, %d matched, %d pending, %d failed, %d invalid rows)", env.Wave, rep.Status,
		rep.Totals.Created, rep.Totals.Matched, rep.Totals.Pending, rep.Totals.Failed, rep.Rows.Invalid)
	ev := wave.Event{Kind: wave.EventWaveCompleted, Wave: env.Wave, Version: env.Version, Counts: &rep.Totals, Status: rep.Status, Utc: now}
	inv.output("progress", ev)
	return nil
}

// phaseLedgers reads every selected phase's ledger, in registry order.
func (a *App) phaseLedgers(ctx context.Context, env *phase.Env, m *wave.Manifest) ([]report.PhaseLedger, error) {
	var out []report.PhaseLedger
	for _, p := range a.Phases {
		if !m.Options.Runs(p.Name()) {
			continue
		}
		pl := report.PhaseLedger{Name: p.Name()}
		for e, err := range env.Store.Ledger(ctx, env.Wave, env.Version, p.Name()) {
			if err != nil {
				return nil, err
			}
			pl.Entries = append(pl.Entries, e)
		}
		if ms, ok := p.(phase.ManualSteps); ok {
			var c wave.Counts
			for _, e := range pl.Entries {
				c = c.With(e.Status)
			}
			pl.ManualSteps = ms.ManualSteps(env, c)
		}
		out = append(out, pl)
	}
	return out, nil
}

// closeManifest sets the wave's final status and each phase's, unless a newer file took the wave over.
func closeManifest(ctx context.Context, store *state.Store, waveID, version, status string, counts map[string]wave.Counts, now time.Time) error {
	err := state.Update(ctx, store, wave.ManifestPath(waveID), func() *wave.Manifest { return &wave.Manifest{} },
		func(cur *wave.Manifest) bool {
			if wave.VersionOf(cur) != version {
				return false // a newer file restarted the wave just now; its own finalize will close it
			}
			cur.Status, cur.UpdatedUtc = status, now
			if cur.Phases == nil {
				cur.Phases = map[string]*wave.Phase{}
			}
			for name, c := range counts {
				p := cur.Phases[name]
				if p == nil {
					p = &wave.Phase{StartedUtc: cur.CreatedUtc}
					cur.Phases[name] = p
				}
				p.Status = wave.StatusCompleted
				if c.Failed > 0 {
					p.Status = wave.StatusCompletedWithErrors
				}
				if p.CompletedUtc == nil {
					p.CompletedUtc = &now
				}
			}
			return true
		})
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	return nil
}

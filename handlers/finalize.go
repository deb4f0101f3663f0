package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	for _, p := range a.Phases {
		if out, ok := p.(phase.Outputs); ok && m.Options.Runs(p.Name()) {
			if err := out.WriteOutputs(ctx, env); err != nil {
				return fmt.Errorf("writing the outputs of phase %s: %w", p.Name(), err)
			}
		}
	}
	now := time.Now().UTC()
	rep, shown, err := a.streamReport(ctx, env, m, now)
	if err != nil {
		return err
	}
	if _, err := env.Store.PutJSON(ctx, wave.ReportPath(env.Wave), rep, state.Cond{}); err != nil {
		return err
	}
	if err := writeReportViews(ctx, env.Store, rep, shown, now); err != nil {
		return err
	}
	read := func(phase string, fn func(state.LedgerEntry) error) error {
		for e, err := range env.Store.Ledger(ctx, env.Wave, env.Version, phase) {
			if err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
	err = env.Store.PutStream(ctx, wave.StatePath(env.Wave), "application/json", func(w io.Writer) error {
		return report.WriteState(w, m, rep.PhaseOrder, read, now)
	})
	if err != nil {
		return err
	}
	if err := a.writeTranslation(ctx, env, m); err != nil {
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

// streamReport reads every selected phase's ledger once, in registry order, into report.json's
// tallies and first failures while failures.csv (and a dry run's whatif.csv) stream to storage: the
// handler's memory does not grow with the wave.
func (a *App) streamReport(ctx context.Context, env *phase.Env, m *wave.Manifest, now time.Time) (*report.Report, []report.Listed, error) {
	failures := env.Store.OpenStream(ctx, wave.FailuresPath(env.Wave), "text/csv")
	var whatif *state.Stream
	var whatifW io.Writer
	if m.DryRun {
		whatif = env.Store.OpenStream(ctx, wave.WhatIfPath(env.Wave), "text/csv")
		whatifW = whatif
	}
	abort := func(err error) (*report.Report, []report.Listed, error) {
		failures.Abort(err)
		if whatif != nil {
			whatif.Abort(err)
		}
		return nil, nil, err
	}
	b := report.NewBuilder(m, now, failures, whatifW)
	for _, p := range a.Phases {
		if !m.Options.Runs(p.Name()) {
			continue
		}
		b.StartPhase(p.Name())
		for e, err := range env.Store.Ledger(ctx, env.Wave, env.Version, p.Name()) {
			if err != nil {
				return abort(err)
			}
			b.Add(e)
		}
		var manual []string
		if ms, ok := p.(phase.ManualSteps); ok {
			manual = ms.ManualSteps(env, b.Current())
		}
		b.EndPhase(manual)
	}
	rep, err := b.Finish()
	if err != nil {
		return abort(err)
	}
	if err := failures.Close(); err != nil {
		return nil, nil, err
	}
	if whatif != nil {
		if err := whatif.Close(); err != nil {
			return nil, nil, err
		}
	}
	facts, err := env.Store.Summary(ctx, env.Wave, env.Version)
	if err != nil {
		return nil, nil, err
	}
	rep.Writes, rep.Times = map[string]int{}, map[string]report.Span{}
	for name, p := range wave.Summarize(facts) {
		rep.Writes[name] = p.Writes
		if !p.FirstUtc.IsZero() {
			rep.Times[name] = report.Span{StartedUtc: p.FirstUtc, SettledUtc: p.LastUtc}
		}
	}
	return rep, b.Shown(), nil
}

// writeReportViews writes report.html (for a person: bars, timings, the first report.MaxShown
// failures, manual steps) and report.csv (per-phase counts) next to report.json. Both are small
// whatever the wave's size: the failures table is capped and points to failures.csv.
func writeReportViews(ctx context.Context, store *state.Store, rep *report.Report, shown []report.Listed, now time.Time) error {
	err := store.PutStream(ctx, wave.ReportHTMLPath(rep.Wave), "text/html; charset=utf-8", func(w io.Writer) error {
		return report.WriteHTML(w, rep, shown, now)
	})
	if err != nil {
		return err
	}
	return store.PutStream(ctx, wave.ReportCSVPath(rep.Wave), "text/csv", func(w io.Writer) error {
		return report.WriteCSV(w, rep)
	})
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

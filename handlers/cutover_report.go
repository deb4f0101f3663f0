package handlers

import (
	"context"

	"strconv"
	"time"

	"t2t/shared/csvout"
	"t2t/shared/mapping"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// cutoverFailedListed bounds the failures cutover.json lists (the ledger holds them all).
const cutoverFailedListed = 500

// finishCutover writes the run's report once every chunk of every phase with a cutover has settled.
// Several chunks settling at once may each see the run complete; the report they write is the same.
func (a *App) finishCutover(ctx context.Context, inv *invocation, store *state.Store, run wave.CutoverRun) error {
	facts, err := store.Facts(ctx, run.Wave, run.Run)
	if err != nil {
		return err
	}
	sum := wave.Summarize(facts)
	for _, name := range run.Phases {
		if sum[name] == nil || !sum[name].Complete() {
			return nil
		}
	}
	r := wave.CutoverReport{Wave: run.Wave, Run: run.Run, Of: run.Of, DryRun: run.DryRun, CompletedUtc: time.Now().UTC(),
		Steps: map[string]wave.Counts{}, Failed: []wave.CutoverItem{}, Notes: cutoverNotes(run.DryRun)}
	var whatif *state.Stream
	var w *csvout.Writer
	if run.DryRun {
		whatif = store.OpenStream(ctx, wave.CutoverWhatIfPath(run.Wave), "text/csv")
		w = csvout.NewWriter(whatif)
		_ = w.Write([]string{"row", "source", "destination", "step", "action", "reason"})
	}
	for _, step := range []string{wave.CutoverConvert, wave.CutoverLink} {
		if err := addCutoverStep(&r, store.Ledger(ctx, run.Wave, run.Run, step), step, w); err != nil {
			if whatif != nil {
				whatif.Abort(err)
			}
			return err
		}
	}
	if whatif != nil {
		if w.Flush(); w.Error() != nil {
			whatif.Abort(w.Error())
			return w.Error()
		}
		if err := whatif.Close(); err != nil {
			return err
		}
	}
	if _, err := store.PutJSON(ctx, wave.CutoverReportPath(run.Wave), r, state.Cond{}); err != nil {
		return err
	}
	inv.logf("wave %s: cutover %s finished (dry run: %t): %v", run.Wave, run.Run, run.DryRun, r.Steps)
	return nil
}

// add tallies one step's ledger into the report (and a dry run's verdicts into w).
func addCutoverStep(r *wave.CutoverReport, entries func(func(state.LedgerEntry, error) bool), step string, w *csvout.Writer) error {
	var c wave.Counts
	for e, err := range entries {
		if err != nil {
			return err
		}
		c = c.With(e.Status)
		if e.Status == wave.ObjFailed || !wave.Settled(e.Status) {
			if len(r.Failed) < cutoverFailedListed {
				r.Failed = append(r.Failed, wave.CutoverItem{Step: step, Source: e.Key, Destination: e.TargetKey, Reason: e.LastError})
			} else {
				r.MoreFailed++
			}
		}
		if w != nil {
			if err := w.Write([]string{strconv.Itoa(e.Line), mapping.Defuse(e.Key), mapping.Defuse(e.TargetKey), step,
				cutoverAction(e.Status), mapping.Defuse(e.LastError)}); err != nil {
				return err
			}
		}
	}
	r.Steps[step] = c
	return nil
}

// cutoverAction names a dry run's verdict in cutover-whatif.csv.
func cutoverAction(status string) string {
	switch status {
	case wave.ObjWouldCreate:
		return "do"
	case wave.ObjWouldMatch:
		return "already done"
	case wave.ObjSkipped:
		return "skip"
	case wave.ObjFailed:
		return "refuse"
	}
	return status
}

func cutoverNotes(dryRun bool) []string {
	if dryRun {
		return []string{"Dry run: nothing was written to either tenant or to Key Vault; cutover-whatif.csv lists, per user and step, what a cutover would do."}
	}
	return []string{
		"Converted cloud users sign in to the target with a temporary password kept in Key Vault as secret t2t-<wave>-<source object id>; they must change it at first sign-in.",
		"Source accounts are now B2B users pointing at the target identity: their object ids, memberships and shares are kept.",
		"Running the cutover again changes nothing for users already converted and linked.",
	}
}

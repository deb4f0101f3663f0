package handlers

import (
	"context"
	"errors"

	"t2t/shared/groups"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/translation"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// writeTranslation writes waves/<wave>/translation.csv and translation.json: every user and group of
// the wave version that has a target object (created or matched), with both object ids and cloud
// SIDs. It streams the ledgers, so memory does not grow with the wave. A dry run has no target
// objects and writes none.
func (a *App) writeTranslation(ctx context.Context, env *phase.Env, m *wave.Manifest) error {
	if m.DryRun {
		return nil
	}
	csvOut := env.Store.OpenStream(ctx, wave.TranslationCSVPath(env.Wave), "text/csv")
	jsonOut := env.Store.OpenStream(ctx, wave.TranslationJSONPath(env.Wave), "application/json")
	abort := func(err error) error {
		csvOut.Abort(err)
		jsonOut.Abort(err)
		return err
	}
	w, err := translation.NewWriter(env.Wave, csvOut, jsonOut)
	if err != nil {
		return abort(err)
	}
	for _, kind := range []struct{ phase, typ string }{{users.Type, translation.User}, {groups.Type, translation.Group}} {
		if !m.Options.Runs(kind.phase) {
			continue
		}
		for e, err := range env.Store.Ledger(ctx, env.Wave, env.Version, kind.phase) {
			if err != nil {
				return abort(err)
			}
			if !translatable(e) {
				continue
			}
			source, target := e.Key, e.TargetKey
			if kind.typ == translation.Group {
				source, target = e.Name, e.Name // a group keeps its display name; its key is its id
			}
			err := w.Add(kind.typ, source, target, e.SourceID, e.TargetID)
			if errors.Is(err, translation.ErrBadID) {
				env.Logf("wave %s: %v; left out of the translation table", env.Wave, err) // never block finalize
				continue
			}
			if err != nil {
				return abort(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		return abort(err)
	}
	if err := csvOut.Close(); err != nil {
		jsonOut.Abort(err)
		return err
	}
	return jsonOut.Close()
}

// translatable reports a ledger entry that names a real target object.
func translatable(e state.LedgerEntry) bool {
	return (e.Status == wave.ObjCreated || e.Status == wave.ObjMatched) && e.SourceID != "" && e.TargetID != "" && e.TargetID != phase.PlannedID
}

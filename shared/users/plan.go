package users

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Plan is the what-if of Import, for a dry run: it decides what Import would do with each user of
// the snapshot (create, match an existing account, or refuse, with the reason) from the id map and a
// read of the target (15 destinations per request), and records the verdicts in the ledger. It writes
// nothing to the target, the vault or the id map.
func (im *Importer) Plan(ctx context.Context, snap *Snapshot) (wave.Counts, []state.IDMapping, error) {
	scope := snap.Scope()
	ids := make([]string, len(snap.Users))
	for i, ex := range snap.Users {
		ids[i] = ex.User.ID
	}
	mapped, err := im.Store.GetIDMaps(ctx, im.Migration, Type, ids)
	if err != nil {
		return wave.Counts{}, nil, err
	}
	existing, err := im.existingTargets(ctx, snap)
	if err != nil {
		return wave.Counts{}, nil, err
	}
	var counts wave.Counts
	var entries []state.LedgerEntry
	var planned []state.IDMapping
	for _, m := range snap.Missing {
		e := state.LedgerEntry{Key: m.Row.Source, Line: m.Row.Line, Status: wave.ObjFailed, LastError: m.Reason, TargetKey: m.Row.Destination}
		setScope(&e, scope)
		entries = append(entries, e)
	}
	for _, ex := range snap.Users {
		e := state.LedgerEntry{Key: ex.Row.Source, Line: ex.Row.Line, SourceID: ex.User.ID, TargetKey: ex.Row.Destination}
		setScope(&e, scope)
		e.Status, e.TargetID, e.LastError = verdict(ex, mapped, existing)
		if e.Status == wave.ObjWouldCreate && !im.Coexistence {
			guest, err := im.targetGuest(ctx, ex)
			var perm phase.Permanent
			switch {
			case errors.As(err, &perm):
				e.Status, e.LastError = wave.ObjFailed, perm.Reason
			case err != nil:
				return wave.Counts{}, nil, err
			case guest != nil:
				e.Status, e.TargetID = wave.ObjWouldMatch, deref(guest.GetId())
				e.LastError = wave.NoteConverted + "would convert the target's guest " + deref(guest.GetUserPrincipalName()) + " to this internal member (same object id)"
			}
		}
		if e.Status == wave.ObjWouldCreate && im.Coexistence {
			e.LastError = "would invite as an external member linked to " + sourceAddress(ex) + " (coexistence)"
		}
		entries = append(entries, e)
		switch e.Status {
		case wave.ObjWouldCreate:
			planned = append(planned, state.IDMapping{Type: Type, SourceID: ex.User.ID, TargetID: phase.PlannedID, Created: true, TargetKey: ex.Row.Destination})
		case wave.ObjWouldMatch:
			planned = append(planned, state.IDMapping{Type: Type, SourceID: ex.User.ID, TargetID: e.TargetID, TargetKey: ex.Row.Destination})
		}
	}
	for _, e := range entries {
		counts = counts.With(e.Status)
	}
	return counts, planned, im.Store.PutLedgers(ctx, entries)
}

// existingTargets reads the accounts that already hold the snapshot's destination UPNs.
func (im *Importer) existingTargets(ctx context.Context, snap *Snapshot) (map[string]SourceUser, error) {
	out := map[string]SourceUser{}
	for start := 0; start < len(snap.Users); start += filterBatch {
		part := snap.Users[start:min(start+filterBatch, len(snap.Users))]
		upns := make([]string, len(part))
		for i, ex := range part {
			upns[i] = ex.Row.Destination
		}
		found, err := readByUPN(ctx, im.Target, upns)
		if err != nil {
			return nil, fmt.Errorf("reading %d destination accounts: %w", len(upns), err)
		}
		for k, v := range found {
			out[k] = v
		}
	}
	return out, nil
}

// verdict is what Import would do with one user: the same rules, decided from reads only.
func verdict(ex Exported, mapped map[string]state.IDMapping, existing map[string]SourceUser) (status, targetID, reason string) {
	if m, ok := mapped[ex.User.ID]; ok {
		if m.TargetKey != "" && !strings.EqualFold(m.TargetKey, ex.Row.Destination) {
			return wave.ObjFailed, m.TargetID, fmt.Sprintf(msgMigratedElsewhere, m.TargetKey, m.Wave)
		}
		return wave.ObjWouldMatch, m.TargetID, "already migrated (wave " + m.Wave + ")"
	}
	t, ok := existing[strings.ToLower(ex.Row.Destination)]
	switch {
	case !ok:
		return wave.ObjWouldCreate, "", ""
	case !t.AccountEnabled:
		return wave.ObjFailed, t.ID, msgDisabledTarget
	default:
		return wave.ObjWouldMatch, t.ID, "an account with this UPN exists in the target"
	}
}

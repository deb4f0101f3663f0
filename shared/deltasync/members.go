package deltasync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"

	"t2t/shared/graph"
	"t2t/shared/groups"
	"t2t/shared/membership"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// bindSize is the most references one members@odata.bind request may carry.
const bindSize = 20

// lagDeadline is how long an add waits out replication lag before it is left to the next run.
const lagDeadline = 20 * time.Second

// addMembers adds members (target id -> source id) to a mapped group, 20 per request, and records
// in the id map those added to a group t2t did not create, so that only they are ever removed.
func (a *applier) addMembers(ctx context.Context, g state.IDMapping, add map[string]string) {
	ids := make([]string, 0, len(add))
	for t := range add {
		ids = append(ids, t)
	}
	slices.Sort(ids)
	for start := 0; start < len(ids); start += bindSize {
		part := ids[start:min(start+bindSize, len(ids))]
		if err := addRefs(ctx, a.Target, g.TargetID, part); err != nil {
			a.fail("memberships", g, fmt.Sprintf("adding %d members", len(part)), err)
			continue
		}
		var rows []state.IDMapping
		for _, t := range part {
			a.rep.changed(Change{Type: "memberships", SourceID: strings.ToLower(g.SourceID) + "|" + add[t], TargetID: g.TargetID + "|" + t, Action: "added"})
			if !g.Created {
				rows = append(rows, membershipRow(a.Migration, g, add[t], t))
			}
		}
		if err := a.Store.PutIDMaps(ctx, rows); err != nil {
			a.fail("memberships", g, "recording the added members", err)
		}
	}
}

func membershipRow(migration string, g state.IDMapping, sourceMember, targetMember string) state.IDMapping {
	return state.IDMapping{Migration: migration, Type: membership.Type, SourceID: membershipKey(g.SourceID, sourceMember),
		TargetID: g.TargetID + "|members|" + targetMember, Created: true, Wave: g.Wave, TargetKey: g.TargetKey}
}

// removeMembers removes members (target id -> source id) that t2t added: every member of a group t2t
// created, and the recorded ones of a group it matched. Others are counted and left.
func (a *applier) removeMembers(ctx context.Context, g state.IDMapping, remove map[string]string) {
	if len(remove) == 0 {
		return
	}
	var recorded map[string]state.IDMapping
	if !g.Created {
		keys := make([]string, 0, len(remove))
		for _, src := range remove {
			keys = append(keys, membershipKey(g.SourceID, src))
		}
		var err error
		if recorded, err = a.Store.GetIDMaps(ctx, a.Migration, membership.Type, keys); err != nil {
			a.fail("memberships", g, "reading the recorded memberships", err)
			return
		}
	}
	for t, src := range remove {
		key := membershipKey(g.SourceID, src)
		if _, ours := recorded[key]; !g.Created && !ours {
			a.rep.count("memberships", "keptNotAddedByT2T", 1)
			continue
		}
		err := send(ctx, a.Target, abstractions.DELETE, "/groups/"+g.TargetID+"/members/"+t+"/$ref", nil)
		gone := graph.IsNotFound(err) // not (or no longer) a member: nothing to remove
		if err != nil && !gone {
			a.fail("memberships", g, "removing member "+t, err)
			continue
		}
		if !g.Created {
			if err := a.Store.DeleteIDMap(ctx, a.Migration, membership.Type, key); err != nil {
				a.fail("memberships", g, "forgetting the removed membership", err)
				continue
			}
		}
		if gone {
			a.rep.count("memberships", "alreadyAbsent", 1)
			continue
		}
		a.rep.changed(Change{Type: "memberships", SourceID: strings.ToLower(g.SourceID) + "|" + src, TargetID: g.TargetID + "|" + t, Action: "removed"})
	}
}

// addRefs binds up to 20 members in one request, waiting out replication lag. References already
// there make Graph refuse the whole request; then they are added one by one, and those already
// there count as done.
func addRefs(ctx context.Context, c *graph.Client, groupID string, ids []string) error {
	urls := make([]string, len(ids))
	for i, id := range ids {
		urls[i] = graph.DirectoryObjectURL(id)
	}
	err := phase.RetryLag(ctx, lagDeadline, func(ctx context.Context) error {
		return send(ctx, c, abstractions.PATCH, "/groups/"+groupID, map[string]any{"members@odata.bind": urls})
	})
	if err == nil || graph.IsAlreadyThere(err) && len(ids) == 1 {
		return nil
	}
	if !graph.IsAlreadyThere(err) {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := addRefs(ctx, c, groupID, []string{id}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// resolvePending adds the pending memberships whose member a wave has migrated since: the member is
// added unless the target group has it already (that wave's membership phase may have added it).
func (a *applier) resolvePending(ctx context.Context) error {
	sc := pendingScope(a.Migration)
	var open []state.LedgerEntry
	for e, err := range a.Store.ChunkLedger(ctx, sc) {
		if err != nil {
			return err
		}
		if e.Status == wave.ObjPending {
			open = append(open, e)
		}
	}
	if len(open) == 0 {
		return nil
	}
	ids, gids := make([]string, len(open)), make([]string, len(open))
	for i, e := range open {
		ids[i], gids[i] = e.SourceID, e.TargetKey
	}
	ix := &memberIndex{bySource: map[string]state.IDMapping{}}
	for _, typ := range []string{users.Type, groups.Type} {
		got, err := a.Store.GetIDMaps(ctx, a.Migration, typ, ids)
		if err != nil {
			return err
		}
		for k, m := range got {
			ix.bySource[strings.ToLower(k)] = m
		}
	}
	grps, err := a.Store.GetIDMaps(ctx, a.Migration, groups.Type, gids)
	if err != nil {
		return err
	}
	var done []state.LedgerEntry
	for _, e := range open {
		t, ok := ix.target(e.SourceID)
		g, gok := grps[e.TargetKey]
		if !ok || !gok {
			a.rep.count("memberships", "stillPending", 1)
			continue
		}
		present, err := listIDs(ctx, a.Target, "/groups/"+g.TargetID+"/members?$select=id")
		if err != nil {
			a.fail("memberships", g, "reading the target group's members", err)
			continue
		}
		e.Status, e.TargetID = wave.ObjCreated, g.TargetID
		if slices.Contains(present, t) {
			e.LastError = "already in the target group when its member was migrated"
			a.rep.count("memberships", "pendingAlreadyThere", 1)
		} else {
			if err := addRefs(ctx, a.Target, g.TargetID, []string{t}); err != nil {
				a.fail("memberships", g, "adding pending member "+t, err)
				continue
			}
			if !g.Created {
				if err := a.Store.PutIDMaps(ctx, []state.IDMapping{membershipRow(a.Migration, g, e.SourceID, t)}); err != nil {
					return err
				}
			}
			e.LastError = "added after its member was migrated"
			a.rep.changed(Change{Type: "memberships", SourceID: e.Key, TargetID: g.TargetID + "|" + t, Action: "pendingAdded"})
		}
		done = append(done, e)
	}
	if len(done) == 0 {
		return nil
	}
	return a.Store.PutLedgers(ctx, done)
}

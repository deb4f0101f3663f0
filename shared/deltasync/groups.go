package deltasync

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"

	"t2t/shared/groups"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// groupProps are the group properties delta sync keeps in step. Others (mail nickname, visibility,
// group types, the dynamic rule) are fixed when the group is created.
var groupProps = []string{"displayName", "description"}

var groupSelect = []string{"id", "displayName", "description", "members"}

// ref is one entry of members@delta.
type ref struct {
	ID      string          `json:"id"`
	Type    string          `json:"@odata.type"`
	Removed json.RawMessage `json:"@removed"`
}

func (r ref) kind() string { return strings.TrimPrefix(r.Type, "#microsoft.graph.") }

// memberIndex translates members between the tenants: source id to mapping (users and groups), and,
// for a full round, target id to source id of every object t2t mapped.
type memberIndex struct {
	bySource map[string]state.IDMapping
	byTarget map[string]string
}

func (ix *memberIndex) target(sourceID string) (string, bool) {
	m, ok := ix.bySource[strings.ToLower(sourceID)]
	return strings.ToLower(m.TargetID), ok
}

// index reads the mappings of the members a round names (all of them for a full round).
func (a *applier) index(ctx context.Context, items []object, full bool) (*memberIndex, error) {
	ix := &memberIndex{bySource: map[string]state.IDMapping{}, byTarget: map[string]string{}}
	var ids []string
	for _, it := range items {
		for _, r := range refs(it) {
			ids = append(ids, strings.ToLower(r.ID))
		}
	}
	for _, typ := range []string{users.Type, groups.Type} {
		if full {
			for m, err := range a.Store.IDMap(ctx, a.Migration, typ) {
				if err != nil {
					return nil, err
				}
				ix.bySource[strings.ToLower(m.SourceID)] = m
				ix.byTarget[strings.ToLower(m.TargetID)] = strings.ToLower(m.SourceID)
			}
			continue
		}
		got, err := a.Store.GetIDMaps(ctx, a.Migration, typ, ids)
		if err != nil {
			return nil, err
		}
		for k, m := range got {
			ix.bySource[strings.ToLower(k)] = m
		}
	}
	return ix, nil
}

func refs(it object) []ref {
	var out []ref
	_ = json.Unmarshal(it["members@delta"], &out)
	return out
}

// applyGroups applies a groups round: property changes, deletions (reported) and memberships of
// mapped groups.
func (a *applier) applyGroups(ctx context.Context, r *roundResult) error {
	items := merge(r.items)
	full := r.mode == ModeFull
	mapped, err := a.mappings(ctx, groups.Type, items, full)
	if err != nil {
		return err
	}
	ix, err := a.index(ctx, items, full)
	if err != nil {
		return err
	}
	pend := &pendingBatch{scope: pendingScope(a.Migration)}
	var jobs []func()
	seen := map[string]bool{}
	for _, it := range items {
		id := strings.ToLower(it.str("id"))
		seen[id] = true
		m, ok := mapped[id]
		if !ok {
			a.rep.count("groups", "notMapped", 1)
			a.rep.count("memberships", "notMapped", len(refs(it)))
			continue
		}
		if it.has("@removed") {
			a.rep.changed(Change{Type: "groups", SourceID: m.SourceID, TargetID: m.TargetID, Action: "deletionReported",
				Detail: "deleted in the source (" + removedReason(it) + "); groups are never deleted or changed for it"})
			continue
		}
		jobs = append(jobs, func() {
			a.groupChanged(ctx, m, it, full)
			a.groupMembers(ctx, m, it, ix, full, pend)
		})
	}
	if full {
		for id, m := range mapped {
			if !seen[id] {
				a.rep.changed(Change{Type: "groups", SourceID: m.SourceID, TargetID: m.TargetID, Action: "deletionReported",
					Detail: "no longer in the source (full round); groups are never deleted or changed for it"})
			}
		}
	}
	_ = phase.Parallel(len(jobs), applyWidth, func(i int) error { jobs[i](); return nil })
	return pend.flush(ctx, a)
}

// groupChanged writes a mapped group's changed display name and description (see applyProps).
func (a *applier) groupChanged(ctx context.Context, m state.IDMapping, it object, full bool) {
	if patch := a.applyProps(ctx, "groups", groupProps, m, it, full); patch != nil {
		a.rep.changed(Change{Type: "groups", SourceID: m.SourceID, TargetID: m.TargetID, Action: "updated",
			Detail: strings.Join(slices.Sorted(maps.Keys(patch)), ",")})
	}
}

// memberPlan is what one group's members@delta asks of the target.
type memberPlan struct {
	add    map[string]string // target member id -> source member id
	remove map[string]string // target member id -> source member id
}

// groupMembers applies one mapped group's membership changes.
func (a *applier) groupMembers(ctx context.Context, g state.IDMapping, it object, ix *memberIndex, full bool, pend *pendingBatch) {
	rs := refs(it)
	if len(rs) == 0 && !full {
		return
	}
	var info object
	if err := getJSON(ctx, a.Target, "/groups/"+g.TargetID+"?$select=id,groupTypes", "", &info); err != nil {
		a.fail("memberships", g, "reading the target group", err)
		return
	}
	if strings.Contains(string(info["groupTypes"]), "DynamicMembership") {
		a.rep.count("memberships", "dynamicGroup", len(rs)) // its rule, not t2t, decides its members
		return
	}
	p := memberPlan{add: map[string]string{}, remove: map[string]string{}}
	var settled []string // unmapped members removed in the source: their pending entries end
	for _, r := range rs {
		t, ok := ix.target(r.ID)
		switch {
		case ok && len(r.Removed) == 0:
			p.add[t] = strings.ToLower(r.ID)
		case ok:
			p.remove[t] = strings.ToLower(r.ID)
		case r.kind() != "user" && r.kind() != "group":
			a.rep.count("memberships", "otherMemberType", 1) // devices, contacts, service principals are not t2t's
		case len(r.Removed) > 0:
			settled = append(settled, strings.ToLower(r.ID))
		case full:
			a.rep.count("memberships", "memberNotMigrated", 1) // the membership phase lists these as pending
		default:
			pend.add(g, strings.ToLower(r.ID), r.kind())
			a.rep.count("memberships", "pending", 1)
		}
	}
	pend.settle(g, settled)
	var present []string
	if len(p.add) > 0 || full {
		var err error
		if present, err = listIDs(ctx, a.Target, "/groups/"+g.TargetID+"/members?$select=id"); err != nil {
			a.fail("memberships", g, "reading the target group's members", err)
			return
		}
	}
	for _, t := range present {
		if _, ok := p.add[t]; ok {
			delete(p.add, t)
			a.rep.count("memberships", "alreadyThere", 1)
		} else if src, ours := ix.byTarget[t]; full && ours {
			p.remove[t] = src // a full round: a t2t object the source group no longer has
		}
	}
	if full {
		for t := range p.remove {
			if !slices.Contains(present, t) {
				delete(p.remove, t)
			}
		}
	}
	a.addMembers(ctx, g, p.add)
	a.removeMembers(ctx, g, p.remove)
}

// membershipKey is the id map key of a membership t2t added to a group it did not create (the
// membership phase's form).
func membershipKey(groupID, memberID string) string {
	return strings.ToLower(groupID) + "|members|" + strings.ToLower(memberID)
}

// pendingBatch collects one run's pending memberships and the ones that ended, written at the end.
type pendingBatch struct {
	scope   state.Scope
	mu      sync.Mutex
	entries []state.LedgerEntry
	ended   []state.LedgerEntry
}

// pendingScope is the ledger partition of a migration's pending memberships. "_delta" is no wave
// id (wave ids hold only a-z, 0-9 and -), so no wave's ledger shares it.
func pendingScope(migration string) state.Scope {
	return state.Scope{Wave: "_delta", Version: migration, Phase: "groupMembership", Chunk: 0}
}

func (p *pendingBatch) add(g state.IDMapping, member, kind string) {
	e := state.LedgerEntry{Key: strings.ToLower(g.SourceID) + "|" + member, Name: g.TargetKey, SourceID: member,
		TargetID: g.TargetID, TargetKey: strings.ToLower(g.SourceID), Status: wave.ObjPending, Attempts: 1,
		LastError: "the " + kind + " is not migrated yet; the membership is added once a wave migrates it"}
	setScope(&e, p.scope)
	p.mu.Lock()
	p.entries = append(p.entries, e)
	p.mu.Unlock()
}

func (p *pendingBatch) settle(g state.IDMapping, members []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range members {
		e := state.LedgerEntry{Key: strings.ToLower(g.SourceID) + "|" + m, SourceID: m, TargetID: g.TargetID,
			TargetKey: strings.ToLower(g.SourceID), Status: wave.ObjSkipped, Attempts: 1,
			LastError: "removed from the group in the source before the member was migrated"}
		setScope(&e, p.scope)
		p.ended = append(p.ended, e)
	}
}

// flush records the new pending entries, and ends the pending entries whose member left the group.
func (p *pendingBatch) flush(ctx context.Context, a *applier) error {
	if len(p.ended) > 0 {
		keys := make([]string, len(p.ended))
		for i, e := range p.ended {
			keys[i] = e.Key
		}
		have, err := a.Store.GetLedgers(ctx, p.scope, keys)
		if err != nil {
			return err
		}
		for _, e := range p.ended {
			if h, ok := have[e.Key]; ok && h.Status == wave.ObjPending {
				p.entries = append(p.entries, e)
				a.rep.count("memberships", "pendingEnded", 1)
			}
		}
	}
	if len(p.entries) == 0 {
		return nil
	}
	return a.Store.PutLedgers(ctx, p.entries)
}

func setScope(e *state.LedgerEntry, sc state.Scope) {
	e.Wave, e.Version, e.Phase, e.Chunk = sc.Wave, sc.Version, sc.Phase, sc.Chunk
}

package membership

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/groups"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// prepare reads a chunk's snapshot and ledger and translates its groups and members to the target.
func prepare(ctx context.Context, env *phase.Env, chunk int) (*Snapshot, *phase.Chunk, *resolved, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return nil, nil, nil, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys(snap))
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := resolve(ctx, env, snap)
	return snap, ledger, r, err
}

// Import implements phase.Phase: per group, the migrated members missing in the target are added 20
// per request. The target's members are read first unless the group was created by this wave and
// never touched since (then it has none to skip), so a rerun writes nothing.
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, ledger, r, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	var jobs []*job
	for _, g := range snap.Groups {
		if ledger.Done(g.GroupID) {
			continue
		}
		m, ok := r.groups[g.GroupID]
		if !ok {
			ledger.Set(g.GroupID, wave.ObjSkipped, "", "the group was not migrated (see the groups phase); its members were not added")
			continue
		}
		e := ledger.Entry(g.GroupID)
		fresh := m.Created && m.Wave == env.Wave && e.Attempts == 0
		ledger.Intend(g.GroupID)
		jobs = append(jobs, &job{g: g, target: m, fresh: fresh})
	}
	if err := ledger.Flush(ctx); err != nil {
		return wave.Counts{}, err
	}
	_ = phase.Parallel(len(jobs), 4, func(i int) error {
		jobs[i].run(ctx, env, r)
		return nil
	})
	var added []state.IDMapping
	retry := 0
	for _, j := range jobs {
		added = append(added, j.added...)
		switch {
		case j.err != nil:
			if ledger.Fail(j.g.GroupID, j.err) {
				retry++
			}
		case len(j.missing) > 0:
			ledger.Set(j.g.GroupID, wave.ObjPending, j.target.TargetID, pendingReason(j.missing))
		default:
			ledger.Set(j.g.GroupID, wave.ObjCreated, j.target.TargetID, fmt.Sprintf("%d members added", j.addedN))
		}
	}
	if err := env.Map(ctx, added); err != nil {
		return wave.Counts{}, err
	}
	return ledger.Finish(ctx, retry)
}

// job reconciles one group's owners and members.
type job struct {
	g       GroupMembers
	target  state.IDMapping
	fresh   bool // created by this wave, never touched since: no member to skip, owners bound at create
	added   []state.IDMapping
	addedN  int
	missing []string
	err     error
}

// run adds the group's migrated owners and members that the target lacks. Memberships added to a
// group this wave did not create are recorded for rollback.
func (j *job) run(ctx context.Context, env *phase.Env, r *resolved) {
	for _, rel := range []string{"owners", "members"} {
		refs := j.g.Owners
		if rel == "members" {
			refs = j.g.Members
		}
		add, source, missing := r.split(refs, rel)
		j.missing = append(j.missing, missing...)
		if j.fresh && rel == "owners" {
			continue // bound in the create
		}
		if !j.fresh && len(add) > 0 {
			have, err := members(ctx, env.Target, j.target.TargetID, rel)
			if err != nil {
				j.err = err
				return
			}
			add = without(add, have)
		}
		for start := 0; start < len(add); start += bindSize {
			part := add[start:min(start+bindSize, len(add))]
			if j.err = addRefs(ctx, env.Target, j.target.TargetID, rel, part); j.err != nil {
				return
			}
			if rel == "members" {
				j.addedN += len(part)
			}
			if !(j.target.Created && j.target.Wave == env.Wave) {
				for _, t := range part {
					j.added = append(j.added, state.IDMapping{Type: Type, SourceID: j.g.GroupID + "|" + rel + "|" + source[t],
						TargetID: j.target.TargetID + "|" + rel + "|" + t, Created: true, TargetKey: j.g.Name})
				}
			}
		}
	}
}

// without returns ids minus those in have (source refs whose ids are target ids).
func without(ids []string, have []groups.Ref) []string {
	present := make(map[string]bool, len(have))
	for _, h := range have {
		present[strings.ToLower(h.ID)] = true
	}
	var out []string
	for _, id := range ids {
		if !present[strings.ToLower(id)] {
			out = append(out, id)
		}
	}
	return out
}

// addRefs binds up to 20 members or owners in one request (PATCH <rel>@odata.bind), waiting out
// replication lag of objects created seconds ago. References already there make Graph refuse the
// whole request; then they are added one by one, and those already there count as done.
func addRefs(ctx context.Context, c *graph.Client, groupID, rel string, ids []string) error {
	err := phase.RetryLag(ctx, lagDeadline, func(ctx context.Context) error { return bind(ctx, c, groupID, rel, ids) })
	if err == nil || !graph.IsAlreadyThere(err) || len(ids) == 1 {
		if graph.IsAlreadyThere(err) {
			return nil
		}
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := addRefs(ctx, c, groupID, rel, []string{id}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func bind(ctx context.Context, c *graph.Client, groupID, rel string, ids []string) error {
	urls := make([]string, len(ids))
	for i, id := range ids {
		urls[i] = graph.DirectoryObjectURL(id)
	}
	body := models.NewGroup()
	body.SetAdditionalData(map[string]any{rel + "@odata.bind": urls})
	if _, err := c.Groups().ByGroupId(groupID).Patch(ctx, body, nil); err != nil {
		return fmt.Errorf("adding %d %s to group %s: %w", len(ids), rel, groupID, err)
	}
	return nil
}

// Plan implements phase.Phase: per group, how many members would be added and which wait for a later
// wave; the target is read (current members of existing groups), never written.
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, ledger, r, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	for _, g := range snap.Groups {
		m, ok := r.groups[g.GroupID]
		if !ok {
			ledger.Set(g.GroupID, wave.ObjSkipped, "", "the group would not be migrated (see the groups phase)")
			continue
		}
		add, _, missing := r.split(g.Members, "members")
		_, _, missingOwners := r.split(g.Owners, "owners")
		missing = append(missing, missingOwners...)
		if m.TargetID != phase.PlannedID && len(add) > 0 {
			have, err := members(ctx, env.Target, m.TargetID, "members")
			if err != nil {
				return wave.Counts{}, err
			}
			add = without(add, have)
		}
		if len(missing) > 0 {
			ledger.Set(g.GroupID, wave.ObjPending, m.TargetID, fmt.Sprintf("%d members would be added; %s", len(add), pendingReason(missing)))
			continue
		}
		ledger.Set(g.GroupID, wave.ObjWouldCreate, m.TargetID, fmt.Sprintf("%d members would be added", len(add)))
	}
	return ledger.Finish(ctx, 0)
}

// Rollback implements phase.Phase: it removes one membership t2t added to a group it did not create
// in that wave (groups it created go to the recycle bin with their memberships).
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	parts := strings.Split(m.TargetID, "|")
	if len(parts) != 3 {
		return phase.Permanent{Reason: "malformed membership mapping " + m.TargetID}
	}
	groupID, rel, memberID := parts[0], parts[1], parts[2]
	var err error
	if rel == "owners" {
		err = env.Target.Groups().ByGroupId(groupID).Owners().ByDirectoryObjectId(memberID).Ref().Delete(ctx, nil)
	} else {
		err = env.Target.Groups().ByGroupId(groupID).Members().ByDirectoryObjectId(memberID).Ref().Delete(ctx, nil)
	}
	if err != nil && !phase.IsGone(err) {
		return fmt.Errorf("removing %s %s of group %s: %w", rel, memberID, m.TargetKey, err)
	}
	return nil
}

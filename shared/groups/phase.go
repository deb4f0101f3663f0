package groups

import (
	"context"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/groupswithuniquename"

	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"

	graphgroups "github.com/microsoftgraph/msgraph-sdk-go/groups"
)

// Phase is the groups phase.
type Phase struct{}

var (
	_ phase.Phase       = Phase{}
	_ phase.ChunkKeyed  = Phase{}
	_ phase.ManualSteps = Phase{}
)

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: owners are users, so users come first.
func (Phase) After() []string { return []string{users.Type} }

// Parts implements phase.Phase: one part per users export part (the groups of those users).
func (Phase) Parts(ctx context.Context, env *phase.Env) (int, error) {
	m, err := env.Manifest(ctx)
	if err != nil {
		return 0, err
	}
	return m.Parts, nil
}

// Plan implements phase.Phase: the verdict per group from the id map and a read of the target by
// uniqueName; nothing is written to the target. Groups it would create go into the dry run's id map.
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	w, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	var planned []state.IDMapping
	for _, g := range w.snap.Groups {
		if settle(w, env, g) {
			if e := w.ledger.Entry(g.ID); e.Status == wave.ObjMatched || e.Status == wave.ObjCreated {
				w.ledger.Set(g.ID, wave.ObjWouldMatch, e.TargetID, "already migrated")
			}
			continue
		}
		name := phase.UniqueName(env, Type, g.ID)
		got, err := env.Target.GroupsWithUniqueName(&name).Get(ctx, &groupswithuniquename.GroupsWithUniqueNameRequestBuilderGetRequestConfiguration{
			QueryParameters: &groupswithuniquename.GroupsWithUniqueNameRequestBuilderGetQueryParameters{Select: []string{"id"}}})
		switch {
		case err == nil:
			w.ledger.Set(g.ID, wave.ObjWouldMatch, deref(got.GetId()), "t2t created it before (uniqueName "+name+")")
			planned = append(planned, state.IDMapping{Type: Type, SourceID: g.ID, TargetID: deref(got.GetId()), TargetKey: name})
		case phase.IsGone(err):
			_, note := newTargetGroup(g, name, w.owners, w.ids, env.Options.DomainMap)
			w.ledger.Set(g.ID, wave.ObjWouldCreate, "", note)
			planned = append(planned, state.IDMapping{Type: Type, SourceID: g.ID, TargetID: phase.PlannedID, Created: true, TargetKey: name})
		default:
			return wave.Counts{}, fmt.Errorf("looking up group %s: %w", name, err)
		}
	}
	if err := env.Map(ctx, planned); err != nil {
		return wave.Counts{}, err
	}
	return w.ledger.Finish(ctx, 0)
}

// Rollback implements phase.Phase: the group goes to the recycle bin (restorable for 30 days),
// unless it was renamed since t2t created it.
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	item := env.Target.Groups().ByGroupId(m.TargetID)
	return phase.DeleteUnlessChanged(ctx, m, "group", func(ctx context.Context) (string, error) {
		g, err := item.Get(ctx, &graphgroups.GroupItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphgroups.GroupItemRequestBuilderGetQueryParameters{Select: []string{"id", "displayName"}}})
		if err != nil {
			return "", err
		}
		return deref(g.GetDisplayName()), nil
	}, func(ctx context.Context) error { return item.Delete(ctx, nil) })
}

// ChunkKeys implements phase.ChunkKeyed.
func (Phase) ChunkKeys(ctx context.Context, env *phase.Env, chunk int) ([]phase.Key, error) {
	var snap Snapshot
	if err := env.GetSnapshot(ctx, Type, chunk, &snap); err != nil {
		return nil, err
	}
	keys := make([]phase.Key, len(snap.Groups))
	for i, g := range snap.Groups {
		keys[i] = phase.Key{Key: g.ID, Name: g.DisplayName, SourceID: g.ID, TargetKey: phase.UniqueName(env, Type, g.ID)}
	}
	return keys, nil
}

// ManualSteps implements phase.ManualSteps.
func (Phase) ManualSteps(env *phase.Env, counts wave.Counts) []string {
	var steps []string
	if counts.Skipped > 0 {
		steps = append(steps, fmt.Sprintf("%d mail-enabled security groups or distribution lists cannot be created through Graph: create them in Exchange Online (the report lists each with its members).", counts.Skipped))
	}
	if counts.Created > 0 && !env.DryRun {
		steps = append(steps, "Microsoft 365 groups get their mail address and proxy addresses from the target's default domain: check the addresses people and systems use.")
	}
	return steps
}

package managers

import (
	"context"
	"fmt"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// lagDeadline is how long a manager write waits out replication lag (a user created seconds ago).
const lagDeadline = 30 * time.Second

// verdict is what one user's manager needs: a status to settle with now, or a write (user and
// manager resolved).
type verdict struct {
	link           Link
	user, manager  string // target ids
	status, reason string // set when no write is needed
}

// classify resolves one user and its manager to the target. A manager not migrated yet is
// deferred (a pending reference) unless the id map knows it by now.
func classify(ctx context.Context, env *phase.Env, chunk int, l Link, targets map[string]string) (verdict, error) {
	v := verdict{link: l, user: targets[l.SourceID], manager: targets[l.ManagerID]}
	switch {
	case v.user == "":
		v.status, v.reason = wave.ObjSkipped, "the user was not migrated (see the users phase); its manager was not set"
	case l.ManagerType != "user":
		v.status, v.reason = wave.ObjSkipped, fmt.Sprintf("the manager %s is a %s, which t2t does not migrate: set it by hand", l.ManagerID, l.ManagerType)
	case v.manager == "":
		id, err := env.Defer(ctx, Type, chunk, l.UPN, state.PendingRef{Type: users.Type, SourceID: l.ManagerID, Kind: "manager",
			FromSourceID: l.SourceID, FromTargetID: v.user})
		if err != nil {
			return v, err
		}
		if v.manager = id; id == "" {
			v.status, v.reason = wave.ObjPending, fmt.Sprintf("the manager %s (%s) is not migrated yet; the wave that migrates it sets it", nameOr(l.ManagerName, l.ManagerID), l.ManagerID)
		}
	}
	return v, nil
}

func nameOr(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

// prepare reads a chunk's snapshot and ledger and resolves its users and their managers.
func prepare(ctx context.Context, env *phase.Env, chunk int) (*Snapshot, *phase.Chunk, map[string]string, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return nil, nil, nil, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys(snap))
	if err != nil {
		return nil, nil, nil, err
	}
	var ids []string
	for _, l := range snap.Users {
		ids = append(ids, l.SourceID, l.ManagerID)
	}
	targets, err := env.Resolve(ctx, users.Type, ids)
	return snap, ledger, targets, err
}

// settledFor reports whether a user's entry needs no more work: settled by an earlier delivery,
// except Pending, which a rerun looks at again (its manager may have been migrated since).
func settledFor(ledger *phase.Chunk, key string) bool {
	return ledger.Done(key) && ledger.Entry(key).Status != wave.ObjPending
}

// Import implements phase.Phase: each user's target manager is set unless it is already the one,
// then the references that earlier waves left waiting for this chunk's users are set.
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, ledger, targets, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	var writes []verdict
	for _, l := range snap.Users {
		if l.ManagerID == "" || settledFor(ledger, l.UPN) {
			continue
		}
		v, err := classify(ctx, env, chunk, l, targets)
		if err != nil {
			return wave.Counts{}, err
		}
		if v.status != "" {
			ledger.Set(l.UPN, v.status, v.user, v.reason)
			continue
		}
		ledger.Intend(l.UPN)
		writes = append(writes, v)
	}
	if err := ledger.Flush(ctx); err != nil {
		return wave.Counts{}, err
	}
	results := make([]setResult, len(writes))
	_ = phase.Parallel(len(writes), 4, func(i int) error {
		results[i] = set(ctx, env.Target, writes[i].user, writes[i].manager)
		return nil
	})
	var links []state.IDMapping
	retry := 0
	for i, v := range writes {
		r := results[i]
		switch {
		case r.err != nil:
			if ledger.Fail(v.link.UPN, r.err) {
				retry++
			}
		case r.changed:
			ledger.Set(v.link.UPN, wave.ObjCreated, v.user, "manager set to "+nameOr(v.link.ManagerName, v.manager))
			links = append(links, link(v.link.SourceID, v.user, v.manager, r.previous))
		default:
			ledger.Set(v.link.UPN, wave.ObjMatched, v.user, "the target already has this manager")
		}
	}
	more, n, err := completeWaiting(ctx, env, snap, targets)
	if err != nil {
		return wave.Counts{}, err
	}
	links = append(links, more...)
	if err := env.Map(ctx, links); err != nil {
		return wave.Counts{}, err
	}
	return ledger.Finish(ctx, retry+n)
}

// link is the id mapping of a manager t2t set: rollback removes it while it is still that manager,
// unless the user had another manager before (that one cannot be restored, so the link is kept).
func link(userSource, userTarget, manager, previous string) state.IDMapping {
	return state.IDMapping{Type: Type, SourceID: userSource, TargetID: userTarget, TargetKey: manager,
		Fingerprint: manager, Created: previous == ""}
}

// completeWaiting sets the managers that earlier waves' users wait for, now that this chunk's users
// (their managers) are migrated. It returns the links set and how many hit a passing failure.
func completeWaiting(ctx context.Context, env *phase.Env, snap *Snapshot, targets map[string]string) ([]state.IDMapping, int, error) {
	ids := make([]string, 0, len(snap.Users))
	for _, l := range snap.Users {
		if targets[l.SourceID] != "" {
			ids = append(ids, l.SourceID)
		}
	}
	refs, err := env.Waiting(ctx, users.Type, ids)
	if err != nil {
		return nil, 0, err
	}
	var links []state.IDMapping
	retry := 0
	for _, ref := range refs {
		manager := targets[ref.SourceID]
		r := set(ctx, env.Target, ref.FromTargetID, manager)
		status, reason := wave.ObjCreated, fmt.Sprintf("manager set by wave %s, which migrated it", env.Wave)
		switch {
		case r.err != nil && phase.Retryable(r.err):
			retry++
			continue
		case r.err != nil:
			status, reason = wave.ObjFailed, "setting the manager once it was migrated: "+phase.Describe(r.err)
		case r.changed:
			links = append(links, link(ref.FromSourceID, ref.FromTargetID, manager, r.previous))
		}
		if err := env.SettleRef(ctx, ref, status, reason); err != nil {
			return nil, 0, err
		}
	}
	return links, retry, nil
}

type setResult struct {
	previous string // the target's manager before ("" for none)
	changed  bool
	err      error
}

// set makes manager the target user's manager unless it is already.
func set(ctx context.Context, c *graph.Client, user, manager string) setResult {
	cur, err := current(ctx, c, user)
	if err != nil {
		return setResult{err: err}
	}
	if cur == manager {
		return setResult{previous: cur}
	}
	body := models.NewReferenceUpdate()
	u := graph.DirectoryObjectURL(manager)
	body.SetOdataId(&u)
	err = phase.RetryLag(ctx, lagDeadline, func(ctx context.Context) error {
		return c.Users().ByUserId(user).Manager().Ref().Put(ctx, body, nil)
	})
	if err != nil {
		return setResult{previous: cur, err: fmt.Errorf("setting the manager of %s: %w", user, err)}
	}
	return setResult{previous: cur, changed: true}
}

// current reads a target user's manager id ("" for none: Graph's 404 on the manager).
func current(ctx context.Context, c *graph.Client, user string) (string, error) {
	o, err := c.Users().ByUserId(user).Manager().Get(ctx, &graphusers.ItemManagerRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.ItemManagerRequestBuilderGetQueryParameters{Select: []string{"id"}},
	})
	switch {
	case graph.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("reading the manager of %s: %w", user, err)
	case o == nil || o.GetId() == nil:
		return "", nil
	}
	return *o.GetId(), nil
}

// Plan implements phase.Phase: what Import would do, nothing written to the target.
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, ledger, targets, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	retry := 0
	for _, l := range snap.Users {
		if l.ManagerID == "" || ledger.Done(l.UPN) {
			continue
		}
		v, err := classify(ctx, env, chunk, l, targets)
		if err != nil {
			return wave.Counts{}, err
		}
		switch {
		case v.status != "":
			ledger.Set(l.UPN, v.status, v.user, v.reason)
		case v.user == phase.PlannedID || v.manager == phase.PlannedID:
			ledger.Set(l.UPN, wave.ObjWouldCreate, v.user, "would set the manager to "+nameOr(l.ManagerName, v.manager))
		default:
			cur, err := current(ctx, env.Target, v.user)
			if err != nil {
				if ledger.Fail(l.UPN, err) {
					retry++
				}
				continue
			}
			if cur == v.manager {
				ledger.Set(l.UPN, wave.ObjWouldMatch, v.user, "the target already has this manager")
			} else {
				ledger.Set(l.UPN, wave.ObjWouldCreate, v.user, "would set the manager to "+nameOr(l.ManagerName, v.manager))
			}
		}
	}
	return ledger.Finish(ctx, retry)
}

// Rollback implements phase.Phase: it removes a manager t2t set while it is still that manager.
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	cur, err := current(ctx, env.Target, m.TargetID)
	if err != nil {
		return err
	}
	switch {
	case cur == "":
		return nil
	case cur != m.Fingerprint:
		return fmt.Errorf("the user's manager is now %s, not the one t2t set: %w", cur, phase.ErrChanged)
	}
	err = env.Target.Users().ByUserId(m.TargetID).Manager().Ref().Delete(ctx, nil)
	if phase.IsGone(err) {
		return nil
	}
	return err
}

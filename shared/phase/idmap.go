package phase

import (
	"context"
	"errors"
	"strings"
	"time"

	"t2t/shared/graph"
	"t2t/shared/state"
)

// Resolve translates source ids of one object type to target ids through the id map (one query per
// 20 ids). In a dry run, objects the dry run would create resolve to a placeholder, so that later
// phases plan against them.
func (env *Env) Resolve(ctx context.Context, typ string, sourceIDs []string) (map[string]string, error) {
	ids := unique(sourceIDs)
	got, err := env.Store.GetIDMaps(ctx, env.Migration, typ, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(got))
	for id, m := range got {
		out[id] = m.TargetID
	}
	if env.DryRun {
		var rest []string
		for _, id := range ids {
			if _, ok := out[id]; !ok {
				rest = append(rest, id)
			}
		}
		planned, err := env.Store.GetIDMaps(ctx, env.planNamespace(), typ, rest)
		if err != nil {
			return nil, err
		}
		for id, m := range planned {
			out[id] = m.TargetID
		}
	}
	return out, nil
}

// Mapped reads the id mappings of source ids of one type.
func (env *Env) Mapped(ctx context.Context, typ string, sourceIDs []string) (map[string]state.IDMapping, error) {
	return env.Store.GetIDMaps(ctx, env.Migration, typ, unique(sourceIDs))
}

// Map records source→target mappings. In a dry run they go to a namespace of the dry run's own, so
// that later phases of the dry run resolve them and real waves never see them.
func (env *Env) Map(ctx context.Context, ms []state.IDMapping) error {
	ns := env.Migration
	if env.DryRun {
		ns = env.planNamespace()
	}
	for i := range ms {
		ms[i].Migration, ms[i].Wave = ns, env.Wave
	}
	return env.Store.PutIDMaps(ctx, ms)
}

// PlannedID is the placeholder target id of an object a dry run would create.
const PlannedID = "(would be created)"

func (env *Env) planNamespace() string {
	return env.Migration + "~dryrun~" + env.Wave + "~" + env.Version
}

func unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// UniqueName is the deterministic alternate key t2t gives an object it creates by upsert (groups,
// applications): the same source object always yields the same name, so a repeated create finds the
// first one. Graph allows letters, digits and a few symbols; a GUID-based name stays within them.
func UniqueName(env *Env, typ, sourceID string) string {
	src := env.Migration
	if i := strings.IndexByte(src, '_'); i > 0 {
		src = src[:i] // the source tenant id
	}
	return "t2t-" + typ + "-" + strings.ToLower(src) + "-" + strings.ToLower(sourceID)
}

// WaitConsistent waits out replication lag: it calls read until it has confirmed n times in a row,
// or the deadline passes (then the last error, or errLag). Entra replicates in seconds; waiting here
// beats a queue redelivery minutes later (the model: terraform-provider-azuread's consistency helper).
func WaitConsistent(ctx context.Context, deadline time.Duration, n int, read func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	streak, wait := 0, 250*time.Millisecond
	var last error
	for {
		ok, err := read(ctx)
		switch {
		case err == nil && ok:
			streak++
			if streak >= n {
				return nil
			}
		case err != nil && !Retryable(err) && !isNotFound(err):
			return err
		default:
			streak, last = 0, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			if last != nil {
				return Lagging(last.Error())
			}
			return Lagging("not confirmed before the deadline")
		case <-t.C:
		}
		wait = min(wait*2, 2*time.Second)
	}
}

func isNotFound(err error) bool {
	return errors.Is(err, state.ErrNotFound) || graphNotFound(err)
}

// RetryLag runs write until it stops failing for replication lag (a referenced object created
// seconds ago, not readable yet: 404, or Graph's 400 "objects being referenced do not exist"), or
// the deadline passes; then the last error is returned, for the queue's redelivery to take over.
func RetryLag(ctx context.Context, deadline time.Duration, write func(context.Context) error) error {
	var last error
	err := WaitConsistent(ctx, deadline, 1, func(ctx context.Context) (bool, error) {
		last = write(ctx)
		if last != nil && (graph.IsReplicationLag(last) || graph.IsNotFound(last)) {
			return false, nil
		}
		return last == nil, last
	})
	if errors.Is(err, errLag) && last != nil {
		return last
	}
	return err
}

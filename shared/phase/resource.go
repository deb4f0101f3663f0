package phase

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/microsoft/kiota-abstractions-go/serialization"

	"t2t/shared/graph"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Model is what name matching needs of a Graph SDK model.
type Model interface {
	serialization.Parsable
	GetId() *string
	GetDisplayName() *string
}

// Resource is a tenant-scoped phase over a kind of Graph object migrated by display name (named
// locations, custom role definitions, conditional access policies): how to list, create, read and
// delete the object in a tenant, which of its properties Graph sets itself, and the hooks a phase
// adds for what is particular to its type. Every wave re-runs it: it exports every source object (one
// part, chunks of wave.ChunkSize), creates what is missing, matches what exists by display name, and
// creates what was Pending once its references resolve.
type Resource[M Model] struct {
	// Type is the phase name and the id map type.
	Type string
	// RunsAfter names the phases whose objects this type references.
	RunsAfter []string
	// New makes the SDK model from JSON (models.Create…FromDiscriminatorValue).
	New serialization.ParsableFactory
	// ReadOnly are the top-level properties Graph sets itself: left out of a create's body and of
	// fingerprints.
	ReadOnly []string
	List     func(ctx context.Context, c *graph.Client) ([]M, error)
	Create   func(ctx context.Context, c *graph.Client, m M) (M, error)
	Get      func(ctx context.Context, c *graph.Client, id string) (M, error)
	Delete   func(ctx context.Context, c *graph.Client, id string) error
	// Annotate, if set, completes the exported items from the source (e.g. Item.Universal).
	Annotate func(ctx context.Context, env *Env, items []Item, objs []M) error
	// Prepare, if set, rewrites a chunk's create bodies before import or plan (references remapped)
	// and says which objects must wait.
	Prepare Prepare[M]
	// Steps, if set, lists the manual steps after the phase (phase.ManualSteps).
	Steps func(env *Env, counts wave.Counts) []string
}

var (
	_ Phase       = Resource[Model]{}
	_ ChunkKeyed  = Resource[Model]{}
	_ ManualSteps = Resource[Model]{}
)

// Name implements Phase.
func (r Resource[M]) Name() string { return r.Type }

// After implements Phase.
func (r Resource[M]) After() []string { return r.RunsAfter }

// Parts implements Phase: one part lists every object of the source.
func (r Resource[M]) Parts(context.Context, *Env) (int, error) { return 1, nil }

// Plan implements Phase: Import decides the same way and, in a dry run, writes nothing to the target.
func (r Resource[M]) Plan(ctx context.Context, env *Env, chunk int) (wave.Counts, error) {
	return r.Import(ctx, env, chunk)
}

// ChunkKeys implements ChunkKeyed.
func (r Resource[M]) ChunkKeys(ctx context.Context, env *Env, chunk int) ([]Key, error) {
	return ItemKeys(ctx, env, r.Type, chunk)
}

// ManualSteps implements ManualSteps.
func (r Resource[M]) ManualSteps(env *Env, counts wave.Counts) []string {
	if r.Steps == nil {
		return nil
	}
	return r.Steps(env, counts)
}

// Items lists every object of the type in tenant c as snapshot items (and as models, for a phase
// that annotates its items before ExportItems).
func (r Resource[M]) Items(ctx context.Context, c *graph.Client) ([]Item, []M, error) {
	objs, err := r.List(ctx, c)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the source's %s: %w", r.Type, err)
	}
	items := make([]Item, len(objs))
	for i, o := range objs {
		raw, err := graph.Marshal(o)
		if err != nil {
			return nil, nil, err
		}
		items[i] = Item{SourceID: deref(o.GetId()), Name: deref(o.GetDisplayName()), Object: raw}
	}
	return items, objs, nil
}

// Export implements Phase: every source object of the type, as the phase's snapshot chunks.
func (r Resource[M]) Export(ctx context.Context, env *Env, _ int) ([]int, error) {
	items, objs, err := r.Items(ctx, env.Source)
	if err != nil {
		return nil, err
	}
	if r.Annotate != nil {
		if err := r.Annotate(ctx, env, items, objs); err != nil {
			return nil, err
		}
	}
	return ExportItems(ctx, env, r.Type, items)
}

// Prepare turns a chunk's items into create bodies (bodies[i] is items[i] without its read-only
// properties) and may rewrite them, returning per item a non-empty reason to keep it Pending.
type Prepare[M Model] func(ctx context.Context, env *Env, items []Item, bodies []M) (blocked []string, err error)

// Import implements Phase: one chunk converged by display name (ByName), or planned in a dry run.
func (r Resource[M]) Import(ctx context.Context, env *Env, chunk int) (wave.Counts, error) {
	items, err := ReadItems(ctx, env, r.Type, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	bodies := make([]M, len(items))
	for i, it := range items {
		if bodies[i], err = r.body(it.Object); err != nil {
			return wave.Counts{}, Terminal(fmt.Errorf("%s %s in the snapshot of chunk %d: %w", r.Type, it.SourceID, chunk, err))
		}
	}
	blocked := make([]string, len(items))
	if r.Prepare != nil {
		if blocked, err = r.Prepare(ctx, env, items, bodies); err != nil {
			return wave.Counts{}, err
		}
	}
	objs := make([]Named, len(items))
	for i, it := range items {
		body := bodies[i]
		raw, err := graph.Marshal(body)
		if err != nil {
			return wave.Counts{}, err
		}
		objs[i] = Named{Key: it.Key(), Fingerprint: Fingerprint(raw, r.ReadOnly...), Blocked: blocked[i],
			Create: func(ctx context.Context) (Found, error) {
				made, err := r.Create(ctx, env.Target, body)
				if err != nil {
					return Found{}, err
				}
				return r.found(made), nil
			}}
	}
	return ByName(ctx, env, r.Type, chunk, objs, func(ctx context.Context) ([]Found, error) {
		list, err := r.List(ctx, env.Target)
		out := make([]Found, len(list))
		for i, m := range list {
			out[i] = r.found(m)
		}
		return out, err
	})
}

// Rollback implements Phase: an object t2t created is deleted unless it changed since (RollbackCreated).
func (r Resource[M]) Rollback(ctx context.Context, env *Env, m state.IDMapping) error {
	return RollbackCreated(ctx, m, func(ctx context.Context) (Found, error) {
		cur, err := r.Get(ctx, env.Target, m.TargetID)
		if err != nil {
			return Found{}, err
		}
		return r.found(cur), nil
	}, func(ctx context.Context) error { return r.Delete(ctx, env.Target, m.TargetID) })
}

// body is a snapshot object as a create body: the model without its read-only properties.
func (r Resource[M]) body(raw json.RawMessage) (M, error) {
	var zero M
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		return zero, err
	}
	for _, k := range r.ReadOnly {
		delete(props, k)
	}
	clean, err := json.Marshal(props)
	if err != nil {
		return zero, err
	}
	return graph.Unmarshal[M](clean, r.New)
}

// found is a target object as name matching sees it.
func (r Resource[M]) found(m M) Found {
	f := Found{ID: deref(m.GetId()), Name: deref(m.GetDisplayName())}
	if c, ok := any(m).(interface{ GetCreatedDateTime() *time.Time }); ok && c.GetCreatedDateTime() != nil {
		f.Created = *c.GetCreatedDateTime()
	}
	if raw, err := graph.Marshal(m); err == nil {
		f.Fingerprint = Fingerprint(raw, r.ReadOnly...)
	}
	return f
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

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

// Resource is a kind of Graph object that a tenant-scoped phase migrates by display name (named
// locations, custom role definitions, conditional access policies): how to list, create, read and
// delete it in a tenant, and which of its properties Graph sets itself. Its methods are the phase's
// export, import (or plan) and rollback; the phase package adds what is particular to its type.
type Resource[M Model] struct {
	// Type is the phase name and the id map type.
	Type string
	// New makes the SDK model from JSON (models.Create…FromDiscriminatorValue).
	New serialization.ParsableFactory
	// ReadOnly are the top-level properties Graph sets itself: left out of a create's body and of
	// fingerprints.
	ReadOnly []string
	List     func(ctx context.Context, c *graph.Client) ([]M, error)
	Create   func(ctx context.Context, c *graph.Client, m M) (M, error)
	Get      func(ctx context.Context, c *graph.Client, id string) (M, error)
	Delete   func(ctx context.Context, c *graph.Client, id string) error
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

// Export writes every source object of the type as the phase's snapshot chunks.
func (r Resource[M]) Export(ctx context.Context, env *Env) ([]int, error) {
	items, _, err := r.Items(ctx, env.Source)
	if err != nil {
		return nil, err
	}
	return ExportItems(ctx, env, r.Type, items)
}

// Prepare turns a chunk's items into create bodies (bodies[i] is items[i] without its read-only
// properties) and may rewrite them, returning per item a non-empty reason to keep it Pending.
type Prepare[M Model] func(ctx context.Context, env *Env, items []Item, bodies []M) (blocked []string, err error)

// Import converges one chunk by display name (ByName), or plans it in a dry run. prepare may be nil.
func (r Resource[M]) Import(ctx context.Context, env *Env, chunk int, prepare Prepare[M]) (wave.Counts, error) {
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
	if prepare != nil {
		if blocked, err = prepare(ctx, env, items, bodies); err != nil {
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

// Rollback deletes an object t2t created unless it changed since (RollbackCreated).
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

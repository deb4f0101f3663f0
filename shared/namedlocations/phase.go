// Package namedlocations migrates conditional access named locations (IP ranges and countries,
// https://learn.microsoft.com/graph/api/resources/namedlocation): every wave of a migration lists the
// source's locations and creates each one missing in the target, or matches the target's location of
// the same display name (Graph gives named locations no alternate key). Conditional access policies
// reference them through the id map (type namedLocations). Graph allows 1 request per second per
// tenant here; the transport paces them (graph.Config.PolicyPerSecond).
package namedlocations

import (
	"context"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Type is the phase name and the id map type.
const Type = "namedLocations"

// Phase is the named locations phase: tenant-scoped, one export part, chunks of wave.ChunkSize.
type Phase struct{}

var (
	_ phase.Phase      = Phase{}
	_ phase.ChunkKeyed = Phase{}
)

// resource is how named locations are listed, created, read and deleted.
var resource = phase.Resource[models.NamedLocationable]{
	Type:     Type,
	New:      models.CreateNamedLocationFromDiscriminatorValue,
	ReadOnly: []string{"id", "createdDateTime", "modifiedDateTime"},
	List: func(ctx context.Context, c *graph.Client) ([]models.NamedLocationable, error) {
		b := c.Identity().ConditionalAccess().NamedLocations()
		return graph.All[models.NamedLocationable](ctx,
			func(ctx context.Context) (models.NamedLocationCollectionResponseable, error) { return b.Get(ctx, nil) },
			func(ctx context.Context, next string) (models.NamedLocationCollectionResponseable, error) {
				return b.WithUrl(next).Get(ctx, nil)
			})
	},
	Create: func(ctx context.Context, c *graph.Client, m models.NamedLocationable) (models.NamedLocationable, error) {
		return c.Identity().ConditionalAccess().NamedLocations().Post(ctx, m, nil)
	},
	Get: func(ctx context.Context, c *graph.Client, id string) (models.NamedLocationable, error) {
		return c.Identity().ConditionalAccess().NamedLocations().ByNamedLocationId(id).Get(ctx, nil)
	},
	Delete: func(ctx context.Context, c *graph.Client, id string) error {
		return c.Identity().ConditionalAccess().NamedLocations().ByNamedLocationId(id).Delete(ctx, nil)
	},
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: named locations reference nothing t2t migrates.
func (Phase) After() []string { return nil }

// Parts implements phase.Phase: one part lists every location of the source.
func (Phase) Parts(context.Context, *phase.Env) (int, error) { return 1, nil }

// Export implements phase.Phase.
func (Phase) Export(ctx context.Context, env *phase.Env, _ int) ([]int, error) {
	return resource.Export(ctx, env)
}

// Import implements phase.Phase: each location is matched by display name or created as exported.
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return resource.Import(ctx, env, chunk, nil)
}

// Plan implements phase.Phase.
func (p Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return resource.Import(ctx, env, chunk, nil)
}

// Rollback implements phase.Phase: a location t2t created is deleted unless it was modified since.
// Graph refuses to delete a location a policy still references; roll back conditional access first.
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	return resource.Rollback(ctx, env, m)
}

// ChunkKeys implements phase.ChunkKeyed.
func (Phase) ChunkKeys(ctx context.Context, env *phase.Env, chunk int) ([]phase.Key, error) {
	return phase.ItemKeys(ctx, env, Type, chunk)
}

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
)

// Type is the phase name and the id map type.
const Type = "namedLocations"

// Phase is the named locations phase. It runs after nothing: locations reference nothing t2t
// migrates. Rollback deletes a location t2t created unless it was modified since; Graph refuses to
// delete one a policy still references, so conditional access rolls back first.
var Phase = phase.Resource[models.NamedLocationable]{
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

// Package conditionalaccess migrates conditional access policies
// (https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy). Every reference a policy
// holds (users, groups, roles, applications, named locations, workload identities) is remapped
// through the id map; a policy with a reference that does not resolve yet is not created with it
// dropped (a dropped exclusion can lock people out): it waits, Pending, listing its unresolved
// references, and a later wave creates it once they resolve. Policies are created disabled, or
// report-only when the wave asks; t2t never enables one. A target policy of the same display name is
// matched and never modified (Graph gives policies no alternate key). Graph allows 1 request per
// second per tenant here; the transport paces them (graph.Config.PolicyPerSecond).
package conditionalaccess

import (
	"context"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/customroles"
	"t2t/shared/graph"
	"t2t/shared/namedlocations"
	"t2t/shared/phase"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// Type is the phase name and the id map type.
const Type = "conditionalAccess"

const reportOnly = wave.CAReportOnly

// Phase is the conditional access phase. Rollback deletes a policy t2t created unless it was
// modified since (enabling it counts: an enforced policy is left for an administrator to remove).
var Phase = phase.Resource[models.ConditionalAccessPolicyable]{
	Type: Type,
	// Every phase whose objects a policy may name: their id map types (users, groups, customRoles,
	// namedLocations, appIds, servicePrincipals) are resolved below.
	RunsAfter: []string{namedlocations.Type, customroles.Type, users.Type, "groups", "applications", "servicePrincipals"},
	New:       models.CreateConditionalAccessPolicyFromDiscriminatorValue,
	ReadOnly:  []string{"id", "createdDateTime", "modifiedDateTime", "templateId"},
	List: func(ctx context.Context, c *graph.Client) ([]models.ConditionalAccessPolicyable, error) {
		b := c.Identity().ConditionalAccess().Policies()
		return graph.All[models.ConditionalAccessPolicyable](ctx,
			func(ctx context.Context) (models.ConditionalAccessPolicyCollectionResponseable, error) {
				return b.Get(ctx, nil)
			},
			func(ctx context.Context, next string) (models.ConditionalAccessPolicyCollectionResponseable, error) {
				return b.WithUrl(next).Get(ctx, nil)
			})
	},
	Create: func(ctx context.Context, c *graph.Client, m models.ConditionalAccessPolicyable) (models.ConditionalAccessPolicyable, error) {
		return c.Identity().ConditionalAccess().Policies().Post(ctx, m, nil)
	},
	Get: func(ctx context.Context, c *graph.Client, id string) (models.ConditionalAccessPolicyable, error) {
		return c.Identity().ConditionalAccess().Policies().ByConditionalAccessPolicyId(id).Get(ctx, nil)
	},
	Delete: func(ctx context.Context, c *graph.Client, id string) error {
		return c.Identity().ConditionalAccess().Policies().ByConditionalAccessPolicyId(id).Delete(ctx, nil)
	},
	Annotate: universalIDs,
	Prepare:  remap,
	Steps:    manualSteps,
}

func manualSteps(env *phase.Env, counts wave.Counts) []string {
	state := "disabled"
	if env.Options.CAState == reportOnly {
		state = "report-only"
	}
	steps := []string{fmt.Sprintf("Conditional access policies were created %s (t2t never enables one): review each in the target "+
		"and enable it when its users, groups and applications are in place.", state)}
	if counts.Pending > 0 {
		steps = append(steps, fmt.Sprintf("%d conditional access policies were not created: they reference objects that do not resolve "+
			"in the target yet (listed with each policy). A later wave creates them once those are migrated; references t2t does "+
			"not migrate (terms of use, custom controls, custom authentication strengths) need the policy created by hand.", counts.Pending))
	}
	return steps
}

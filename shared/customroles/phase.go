// Package customroles migrates custom Microsoft Entra role definitions
// (https://learn.microsoft.com/graph/api/resources/unifiedroledefinition, isBuiltIn false), their
// permissions copied: every wave of a migration creates the source's custom roles missing in the
// target, or matches the target's role of the same display name (Graph gives role definitions no
// alternate key). Built-in roles are never created: their template ids are the same in every tenant,
// so conditional access uses them as they are. The id map (type customRoles) takes a source custom
// role's id to its target id.
package customroles

import (
	"context"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/wave"
)

// Type is the phase name and the id map type.
const Type = "customRoles"

// Definitions lists a tenant's built-in or custom role definitions, every page
// (https://learn.microsoft.com/graph/api/rbacapplication-list-roledefinitions).
func Definitions(ctx context.Context, c *graph.Client, builtIn bool) ([]models.UnifiedRoleDefinitionable, error) {
	filter := fmt.Sprintf("isBuiltIn eq %t", builtIn)
	b := c.RoleManagement().Directory().RoleDefinitions()
	cfg := &rolemanagement.DirectoryRoleDefinitionsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleDefinitionsRequestBuilderGetQueryParameters{Filter: &filter}}
	return graph.All[models.UnifiedRoleDefinitionable](ctx,
		func(ctx context.Context) (models.UnifiedRoleDefinitionCollectionResponseable, error) {
			return b.Get(ctx, cfg)
		},
		func(ctx context.Context, next string) (models.UnifiedRoleDefinitionCollectionResponseable, error) {
			return b.WithUrl(next).Get(ctx, nil)
		})
}

// Phase is the custom roles phase. It runs after nothing: role definitions reference nothing t2t
// migrates. Rollback deletes a role t2t created unless it was modified since (role definitions carry
// no timestamps: the fingerprint of their properties tells).
var Phase = phase.Resource[models.UnifiedRoleDefinitionable]{
	Type: Type,
	New:  models.CreateUnifiedRoleDefinitionFromDiscriminatorValue,
	// templateId is left to the target (a custom role's defaults to its new id); version is Graph's.
	ReadOnly: []string{"id", "isBuiltIn", "templateId", "version", "inheritsPermissionsFrom"},
	List: func(ctx context.Context, c *graph.Client) ([]models.UnifiedRoleDefinitionable, error) {
		return Definitions(ctx, c, false)
	},
	Create: func(ctx context.Context, c *graph.Client, m models.UnifiedRoleDefinitionable) (models.UnifiedRoleDefinitionable, error) {
		return c.RoleManagement().Directory().RoleDefinitions().Post(ctx, m, nil)
	},
	Get: func(ctx context.Context, c *graph.Client, id string) (models.UnifiedRoleDefinitionable, error) {
		return c.RoleManagement().Directory().RoleDefinitions().ByUnifiedRoleDefinitionId(id).Get(ctx, nil)
	},
	Delete: func(ctx context.Context, c *graph.Client, id string) error {
		return c.RoleManagement().Directory().RoleDefinitions().ByUnifiedRoleDefinitionId(id).Delete(ctx, nil)
	},
	Steps: manualSteps,
}

func manualSteps(_ *phase.Env, counts wave.Counts) []string {
	if counts.Created+counts.Matched == 0 {
		return nil
	}
	return []string{fmt.Sprintf("Role assignments are not migrated: assign the %d custom roles to their holders in the target.",
		counts.Created+counts.Matched)}
}

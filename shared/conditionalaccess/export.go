package conditionalaccess

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"t2t/shared/customroles"
	"t2t/shared/graph"
	"t2t/shared/phase"
)

// microsoftTenants own Microsoft's first-party applications: a service principal whose
// appOwnerOrganizationId is one of them is for an app present in every tenant under the same appId.
var microsoftTenants = []string{
	"f8cdef31-a31e-4b4a-93e4-5f571e91255a", // Microsoft Services
	"72f988bf-86f1-41af-91ab-2d7cd011db47", // Microsoft
}

// filterBatch is how many values one in() filter holds (https://learn.microsoft.com/graph/filter-query-parameter).
const filterBatch = 15

// universalIDs records, per exported policy, the references that are the same in every tenant and
// pass through unchanged: built-in role template ids and Microsoft first-party appIds. It reads the
// source's built-in role definitions once and the service principals of the referenced appIds (15
// per request).
func universalIDs(ctx context.Context, env *phase.Env, items []phase.Item, objs []policy) error {
	roles, appIDs := map[string]bool{}, map[string]bool{}
	for _, p := range objs {
		for _, rl := range refLists {
			for _, id := range rl.get(p) {
				switch {
				case slices.Contains(rl.specials, id):
				case rl.typ == appIDsType:
					appIDs[strings.ToLower(id)] = true
				case rl.typ == customroles.Type: // a custom role, or a built-in one (its template id)
					roles[strings.ToLower(id)] = true
				}
			}
		}
	}
	universal := map[string]bool{}
	if len(roles) > 0 {
		builtIn, err := builtInRoles(ctx, env.Source)
		if err != nil {
			return err
		}
		for id := range roles {
			universal[id] = builtIn[id]
		}
	}
	if len(appIDs) > 0 {
		firstParty, err := firstPartyApps(ctx, env.Source, slices.Sorted(maps.Keys(appIDs)))
		if err != nil {
			return err
		}
		for id := range appIDs {
			universal[id] = firstParty[id]
		}
	}
	for i, p := range objs {
		var u []string
		for _, rl := range refLists {
			for _, id := range rl.get(p) {
				if universal[strings.ToLower(id)] && !slices.Contains(u, id) {
					u = append(u, id)
				}
			}
		}
		items[i].Universal = u
	}
	return nil
}

// builtInRoles returns the source's built-in role ids and template ids, lower-case.
func builtInRoles(ctx context.Context, c *graph.Client) (map[string]bool, error) {
	list, err := customroles.Definitions(ctx, c, true)
	if err != nil {
		return nil, fmt.Errorf("listing the source's built-in roles: %w", err)
	}
	out := map[string]bool{}
	for _, r := range list {
		for _, id := range []*string{r.GetId(), r.GetTemplateId()} {
			if id != nil {
				out[strings.ToLower(*id)] = true
			}
		}
	}
	return out, nil
}

// firstPartyApps returns which of appIDs (lower-case) belong to Microsoft first-party applications,
// from the source's service principals.
func firstPartyApps(ctx context.Context, c *graph.Client, appIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(appIDs); start += filterBatch {
		batch := appIDs[start:min(start+filterBatch, len(appIDs))]
		filter := "appId in ('" + strings.Join(batch, "','") + "')"
		top := int32(len(batch))
		resp, err := c.ServicePrincipals().Get(ctx, &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{
				Filter: &filter, Select: []string{"appId", "appOwnerOrganizationId"}, Top: &top}})
		if err != nil {
			return nil, fmt.Errorf("reading the source's service principals of %d applications: %w", len(batch), err)
		}
		for _, sp := range resp.GetValue() {
			if sp.GetAppId() != nil && sp.GetAppOwnerOrganizationId() != nil &&
				slices.Contains(microsoftTenants, strings.ToLower(sp.GetAppOwnerOrganizationId().String())) {
				out[strings.ToLower(*sp.GetAppId())] = true
			}
		}
	}
	return out, nil
}

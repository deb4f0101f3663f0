package groups

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	graphgroups "github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// groupFields is the $select of a group read: exactly SourceGroup's scalar properties.
var groupFields = []string{"id", "displayName", "description", "mailNickname", "mail", "mailEnabled", "securityEnabled",
	"groupTypes", "membershipRule", "membershipRuleProcessingState", "visibility", "isAssignableToRole", "proxyAddresses"}

// readWidth is how many source reads of one export part are in flight.
const readWidth = 4

// chunksPerPart bounds the chunk numbers one export part may use: part p writes chunks
// p*chunksPerPart and up, so parts never collide.
const chunksPerPart = 1000

// Export implements phase.Phase. Part p covers the users of users export part p: it reads their
// transitive group memberships (direct groups and the groups those are nested in), claims the groups
// no other part claimed first (a group many wave users share is exported once), and reads each
// claimed group with its owners into snapshot chunks.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	userIDs, err := partUsers(ctx, env, part)
	if err != nil {
		return nil, err
	}
	found, err := transitiveGroups(ctx, env.Source, userIDs)
	if err != nil {
		return nil, err
	}
	mine, err := env.Store.ClaimKeys(ctx, env.Wave+"_"+env.Version+"_"+Type, found, fmt.Sprintf("part-%d", part))
	if err != nil {
		return nil, err
	}
	sort.Strings(mine)
	gs, err := readGroups(ctx, env.Source, mine)
	if err != nil {
		return nil, err
	}
	var chunks []int
	for i := 0; i < len(gs); i += wave.ChunkSize {
		chunk := part*chunksPerPart + i/wave.ChunkSize
		if err := env.PutSnapshot(ctx, Type, chunk, Snapshot{Chunk: chunk, Groups: gs[i:min(i+wave.ChunkSize, len(gs))]}); err != nil {
			return nil, err
		}
		chunks = append(chunks, chunk)
	}
	env.Logf("wave %s groups part %d: %d users belong to %d groups, %d claimed here", env.Wave, part, len(userIDs), len(found), len(mine))
	return chunks, nil
}

// partUsers reads the source ids of the users of users export part p from their snapshots.
func partUsers(ctx context.Context, env *phase.Env, part int) ([]string, error) {
	m, err := env.Manifest(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for c := part * wave.ExportChunks; c < min((part+1)*wave.ExportChunks, m.Chunks); c++ {
		var snap users.Snapshot
		if err := env.GetSnapshot(ctx, users.Type, c, &snap); err != nil {
			return nil, err
		}
		for _, u := range snap.Users {
			ids = append(ids, u.User.ID)
		}
	}
	return ids, nil
}

// transitiveGroups returns the ids of the groups the users belong to, directly or through nesting.
func transitiveGroups(ctx context.Context, src *graph.Client, userIDs []string) ([]string, error) {
	var mu sync.Mutex
	seen := map[string]bool{}
	err := phase.Parallel(len(userIDs), readWidth, func(i int) error {
		resp, err := src.Users().ByUserId(userIDs[i]).TransitiveMemberOf().Get(ctx, &graphusers.ItemTransitiveMemberOfRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphusers.ItemTransitiveMemberOfRequestBuilderGetQueryParameters{Select: []string{"id"}}})
		if err != nil {
			return fmt.Errorf("reading the groups of source user %s: %w", userIDs[i], err)
		}
		return src.Each(ctx, resp, func(o models.DirectoryObjectable) bool {
			if graph.ObjectType(o) == "group" && o.GetId() != nil {
				mu.Lock()
				seen[*o.GetId()] = true
				mu.Unlock()
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}

// idFilter is how many ids one "id in (...)" filter holds (Graph allows 15 values in an in() clause).
const idFilter = 15

// readGroups reads groups by id (15 per request), then each one's owners, and the members of the
// groups Graph cannot create (for the manual step). Result in ids order; a group deleted since it was
// found is left out.
func readGroups(ctx context.Context, src *graph.Client, ids []string) ([]SourceGroup, error) {
	byID := map[string]SourceGroup{}
	for start := 0; start < len(ids); start += idFilter {
		part := ids[start:min(start+idFilter, len(ids))]
		filter := "id in ('" + strings.Join(part, "','") + "')"
		resp, err := src.Groups().Get(ctx, &graphgroups.GroupsRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphgroups.GroupsRequestBuilderGetQueryParameters{Filter: &filter, Select: groupFields}})
		if err != nil {
			return nil, fmt.Errorf("reading %d source groups: %w", len(part), err)
		}
		for _, g := range resp.GetValue() {
			sg := fromModel(g)
			byID[sg.ID] = sg
		}
	}
	out := make([]SourceGroup, 0, len(byID))
	for _, id := range ids {
		if g, ok := byID[id]; ok {
			out = append(out, g)
		}
	}
	err := phase.Parallel(len(out), readWidth, func(i int) error {
		g := &out[i]
		var err error
		if g.Owners, err = refs(ctx, src, g.ID, "owners"); err != nil {
			return err
		}
		if !g.Creatable() {
			g.Members, err = refs(ctx, src, g.ID, "members")
		}
		return err
	})
	return out, err
}

// refs lists a group's owners or members as (id, type, name).
func refs(ctx context.Context, src *graph.Client, groupID, rel string) ([]Ref, error) {
	sel := []string{"id", "displayName", "userPrincipalName"}
	var resp models.DirectoryObjectCollectionResponseable
	var err error
	if rel == "owners" {
		resp, err = src.Groups().ByGroupId(groupID).Owners().Get(ctx, &graphgroups.ItemOwnersRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphgroups.ItemOwnersRequestBuilderGetQueryParameters{Select: sel}})
	} else {
		resp, err = src.Groups().ByGroupId(groupID).Members().Get(ctx, &graphgroups.ItemMembersRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphgroups.ItemMembersRequestBuilderGetQueryParameters{Select: sel}})
	}
	if err != nil {
		return nil, fmt.Errorf("reading the %s of source group %s: %w", rel, groupID, err)
	}
	var out []Ref
	err = src.Each(ctx, resp, func(o models.DirectoryObjectable) bool {
		out = append(out, Ref{ID: deref(o.GetId()), Type: graph.ObjectType(o), Name: nameOf(o)})
		return true
	})
	slices.SortFunc(out, func(a, b Ref) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

func nameOf(o models.DirectoryObjectable) string {
	for _, k := range []string{"userPrincipalName", "displayName"} {
		if v, ok := o.GetAdditionalData()[k].(*string); ok && v != nil {
			return *v
		}
	}
	switch v := o.(type) {
	case models.Userable:
		return deref(v.GetUserPrincipalName())
	case models.Groupable:
		return deref(v.GetDisplayName())
	case models.ServicePrincipalable:
		return deref(v.GetDisplayName())
	}
	return ""
}

func fromModel(g models.Groupable) SourceGroup {
	b := func(p *bool) bool { return p != nil && *p }
	return SourceGroup{
		ID: deref(g.GetId()), DisplayName: deref(g.GetDisplayName()), Description: deref(g.GetDescription()),
		MailNickname: deref(g.GetMailNickname()), Mail: deref(g.GetMail()), MailEnabled: b(g.GetMailEnabled()),
		SecurityEnabled: b(g.GetSecurityEnabled()), GroupTypes: g.GetGroupTypes(), MembershipRule: deref(g.GetMembershipRule()),
		MembershipRuleProcessingState: deref(g.GetMembershipRuleProcessingState()), Visibility: deref(g.GetVisibility()),
		IsAssignableToRole: b(g.GetIsAssignableToRole()), ProxyAddresses: g.GetProxyAddresses(),
	}
}

func deref(p *string) string { return phase.Str(p) }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

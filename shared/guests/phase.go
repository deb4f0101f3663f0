// Package guests migrates the source's B2B guests that the wave's objects need: guests (userType
// Guest) who are members or owners of the groups in the wave's scope, and guests who hold app role
// assignments. Each is invited into the target with no invitation mail (t2t never sends mail; the
// administrators send guests.csv's redemption links themselves), or matched when the target already
// holds an account with its address, and mapped in the id map so that memberships and assignments
// follow it like any user's.
package guests

import (
	"context"
	"errors"
	"fmt"
	"strings"

	graphgroups "github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/groups"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
)

// Type is the phase name and the id map type of guests (memberships resolve users through it too).
const Type = "guests"

// Phase is the guests phase.
type Phase struct{}

var (
	_ phase.Phase      = Phase{}
	_ phase.ChunkKeyed = Phase{}
	_ phase.Outputs    = Phase{}
)

// Guest is one source guest in the wave's scope.
type Guest struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Mail        string   `json:"mail,omitempty"`
	UPN         string   `json:"userPrincipalName"`
	OtherMails  []string `json:"otherMails,omitempty"`
	// Why says what brought the guest into scope (the first group, or an app role assignment).
	Why string `json:"why"`
}

// Address is the address the guest is invited with: its mail, else its first other mail, else the
// address its #EXT# user principal name encodes; "" when it has none.
func (g Guest) Address() string {
	switch {
	case g.Mail != "":
		return g.Mail
	case len(g.OtherMails) > 0:
		return g.OtherMails[0]
	}
	local, _, ok := strings.Cut(g.UPN, "#EXT#")
	if i := strings.LastIndexByte(local, '_'); ok && i > 0 {
		return local[:i] + "@" + local[i+1:]
	}
	return ""
}

// Snapshot is one chunk of the export.
type Snapshot struct {
	Chunk  int     `json:"chunk"`
	Guests []Guest `json:"guests"`
}

// guestSelect is what the export reads of a member, owner or guest.
var guestSelect = []string{"id", "displayName", "mail", "userPrincipalName", "otherMails", "userType"}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: the guests in scope are read from the groups phase's snapshot.
func (Phase) After() []string { return []string{users.Type, groups.Type} }

func groupChunks(ctx context.Context, env *phase.Env) ([]int, error) {
	return env.Store.PhaseChunks(ctx, env.Wave, env.Version, groups.Type)
}

// Parts implements phase.Phase: one part, so that a guest of several groups is exported (and
// counted) once.
func (Phase) Parts(context.Context, *phase.Env) (int, error) { return 1, nil }

// chunkSize is how many guests an import chunk holds.
const chunkSize = 100

// Export implements phase.Phase: the guests among the members and owners of every groups chunk's
// groups, then the source's guests that hold app role assignments, each once, in chunks of chunkSize.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	if part != 0 {
		return nil, phase.Terminal(fmt.Errorf("guests part %d: the phase has one part", part))
	}
	cs, err := groupChunks(ctx, env)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var all []Guest
	add := func(list []Guest) {
		for _, g := range list {
			if !seen[g.ID] {
				seen[g.ID] = true
				all = append(all, g)
			}
		}
	}
	for _, c := range cs {
		found, err := groupGuests(ctx, env, c)
		if err != nil {
			return nil, err
		}
		add(found)
	}
	found, err := assignedGuests(ctx, env.Source)
	if err != nil {
		return nil, err
	}
	add(found)
	var chunks []int
	for c := 0; c == 0 || c*chunkSize < len(all); c++ {
		part := all[c*chunkSize : min((c+1)*chunkSize, len(all))]
		if err := env.PutSnapshot(ctx, Type, c, Snapshot{Chunk: c, Guests: part}); err != nil {
			return nil, err
		}
		chunks = append(chunks, c)
	}
	return chunks, nil
}

// groupGuests reads the guests among one groups chunk's members and owners (the groups t2t creates;
// a dynamic group's members come from its rule).
func groupGuests(ctx context.Context, env *phase.Env, chunk int) ([]Guest, error) {
	var gs groups.Snapshot
	if err := env.GetSnapshot(ctx, groups.Type, chunk, &gs); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil, nil // a poisoned groups export part has no snapshot
		}
		return nil, err
	}
	seen := map[string]bool{}
	var out []Guest
	for _, g := range gs.Groups {
		if !g.Creatable() {
			continue
		}
		rels := []string{"owners", "members"}
		if g.Dynamic() {
			rels = rels[:1]
		}
		for _, rel := range rels {
			list, err := related(ctx, env.Source, g.ID, rel)
			if err != nil {
				return nil, err
			}
			for _, u := range list {
				if guest, ok := asGuest(u, strings.TrimSuffix(rel, "s")+" of "+g.DisplayName); ok && !seen[guest.ID] {
					seen[guest.ID] = true
					out = append(out, guest)
				}
			}
		}
	}
	return out, nil
}

func related(ctx context.Context, c *graph.Client, groupID, rel string) ([]models.DirectoryObjectable, error) {
	var resp models.DirectoryObjectCollectionResponseable
	var err error
	if rel == "owners" {
		resp, err = c.Groups().ByGroupId(groupID).Owners().Get(ctx, &graphgroups.ItemOwnersRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphgroups.ItemOwnersRequestBuilderGetQueryParameters{Select: guestSelect}})
	} else {
		resp, err = c.Groups().ByGroupId(groupID).Members().Get(ctx, &graphgroups.ItemMembersRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphgroups.ItemMembersRequestBuilderGetQueryParameters{Select: guestSelect}})
	}
	if err != nil {
		return nil, fmt.Errorf("reading the %s of group %s: %w", rel, groupID, err)
	}
	var out []models.DirectoryObjectable
	err = c.Each(ctx, resp, func(o models.DirectoryObjectable) bool {
		out = append(out, o)
		return true
	})
	return out, err
}

// asGuest returns o as a Guest when it is a user of userType Guest.
func asGuest(o models.DirectoryObjectable, why string) (Guest, bool) {
	u, ok := o.(models.Userable)
	if !ok || u.GetId() == nil || !strings.EqualFold(deref(u.GetUserType()), "Guest") {
		return Guest{}, false
	}
	return Guest{ID: *u.GetId(), DisplayName: deref(u.GetDisplayName()), Mail: deref(u.GetMail()),
		UPN: deref(u.GetUserPrincipalName()), OtherMails: u.GetOtherMails(), Why: why}, true
}

// assignedGuests lists the source's guests and keeps those holding at least one app role assignment
// (the servicePrincipals phase decides which assignments migrate; a guest whose assignments do not
// is invited all the same, and says why in guests.csv).
func assignedGuests(ctx context.Context, c *graph.Client) ([]Guest, error) {
	filter := "userType eq 'Guest'"
	b := c.Users()
	all, err := graph.All[models.Userable](ctx,
		func(ctx context.Context) (models.UserCollectionResponseable, error) {
			return b.Get(ctx, &graphusers.UsersRequestBuilderGetRequestConfiguration{
				QueryParameters: &graphusers.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: guestSelect}})
		},
		func(ctx context.Context, next string) (models.UserCollectionResponseable, error) {
			return b.WithUrl(next).Get(ctx, nil)
		})
	if err != nil {
		return nil, fmt.Errorf("listing the source's guests: %w", err)
	}
	held := make([]bool, len(all))
	top := int32(1)
	err = phase.Parallel(len(all), 4, func(i int) error {
		resp, err := c.Users().ByUserId(deref(all[i].GetId())).AppRoleAssignments().Get(ctx, &graphusers.ItemAppRoleAssignmentsRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphusers.ItemAppRoleAssignmentsRequestBuilderGetQueryParameters{Top: &top, Select: []string{"id"}}})
		if err != nil {
			return fmt.Errorf("reading the app role assignments of guest %s: %w", deref(all[i].GetId()), err)
		}
		held[i] = len(resp.GetValue()) > 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Guest
	for i, u := range all {
		if g, ok := asGuest(u, "holds an app role assignment"); ok && held[i] {
			out = append(out, g)
		}
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func snapshot(ctx context.Context, env *phase.Env, chunk int) (*Snapshot, error) {
	return phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
}

// ChunkKeys implements phase.ChunkKeyed.
func (Phase) ChunkKeys(ctx context.Context, env *phase.Env, chunk int) ([]phase.Key, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return nil, err
	}
	return keys(snap), nil
}

func keys(snap *Snapshot) []phase.Key {
	out := make([]phase.Key, len(snap.Guests))
	for i, g := range snap.Guests {
		out[i] = phase.Key{Key: g.ID, Name: g.DisplayName, SourceID: g.ID, TargetKey: g.Address()}
	}
	return out
}

// Package membership migrates the members of the wave's groups (nested groups included): 20 members
// per request (members@odata.bind), only those missing in the target, and never a removal of a
// membership t2t did not add. A member not migrated yet leaves its group Pending; a later wave that
// migrates it finds the group in its own scope and adds it then.
package membership

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	graphgroups "github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/groups"
	"t2t/shared/guests"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
)

// Type is the phase name, and the id map type of memberships t2t added to groups it did not create
// in the same wave (rollback removes those; a group t2t created takes its memberships with it).
const Type = "groupMembership"

// bindSize is the most references one members@odata.bind request may carry.
const bindSize = 20

// lagDeadline is how long an add waits out replication lag (a member or group created seconds ago)
// before the step is left to the queue's redelivery.
const lagDeadline = 30 * time.Second

// Phase is the group membership phase.
type Phase struct{}

var (
	_ phase.Phase      = Phase{}
	_ phase.ChunkKeyed = Phase{}
)

// GroupMembers is one group's members as read from the source.
type GroupMembers struct {
	GroupID string       `json:"groupId"`
	Name    string       `json:"name"`
	Members []groups.Ref `json:"members"`
	// Owners come from the groups snapshot: owners not migrated when the group was created are added
	// here once they are.
	Owners []groups.Ref `json:"owners,omitempty"`
}

// Snapshot is one chunk of the membership export: the members of one groups chunk's groups.
type Snapshot struct {
	Chunk  int            `json:"chunk"`
	Groups []GroupMembers `json:"groups"`
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase.
func (Phase) After() []string { return []string{groups.Type, guests.Type} }

// groupChunks lists the groups phase's chunks in order: membership part i exports chunk i of them.
func groupChunks(ctx context.Context, env *phase.Env) ([]int, error) {
	return env.Store.PhaseChunks(ctx, env.Wave, env.Version, groups.Type)
}

// Parts implements phase.Phase: one part per groups chunk.
func (Phase) Parts(ctx context.Context, env *phase.Env) (int, error) {
	cs, err := groupChunks(ctx, env)
	return len(cs), err
}

// Export implements phase.Phase: it reads the members of one groups chunk's static groups (dynamic
// groups get theirs from their rule; groups Graph cannot create are manual steps).
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	cs, err := groupChunks(ctx, env)
	if err != nil {
		return nil, err
	}
	if part >= len(cs) {
		return nil, phase.Terminal(fmt.Errorf("membership part %d: the groups phase has %d chunks", part, len(cs)))
	}
	chunk := cs[part]
	var gs groups.Snapshot
	if err := env.GetSnapshot(ctx, groups.Type, chunk, &gs); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil, nil // a poisoned groups export part has no snapshot
		}
		return nil, err
	}
	snap := Snapshot{Chunk: chunk}
	for _, g := range gs.Groups {
		if g.Creatable() {
			snap.Groups = append(snap.Groups, GroupMembers{GroupID: g.ID, Name: g.DisplayName, Owners: g.Owners, Members: []groups.Ref{}})
			if g.Dynamic() {
				snap.Groups[len(snap.Groups)-1].Members = nil // a rule, not t2t, decides its members
			}
		}
	}
	err = phase.Parallel(len(snap.Groups), 4, func(i int) error {
		if snap.Groups[i].Members == nil {
			return nil
		}
		var err error
		snap.Groups[i].Members, err = members(ctx, env.Source, snap.Groups[i].GroupID, "members")
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := env.PutSnapshot(ctx, Type, chunk, snap); err != nil {
		return nil, err
	}
	return []int{chunk}, nil
}

// members lists a group's direct members or its owners (id and kind).
func members(ctx context.Context, c *graph.Client, groupID, rel string) ([]groups.Ref, error) {
	var resp models.DirectoryObjectCollectionResponseable
	var err error
	if rel == "owners" {
		resp, err = c.Groups().ByGroupId(groupID).Owners().Get(ctx, &graphgroups.ItemOwnersRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphgroups.ItemOwnersRequestBuilderGetQueryParameters{Select: []string{"id"}}})
	} else {
		resp, err = c.Groups().ByGroupId(groupID).Members().Get(ctx, &graphgroups.ItemMembersRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphgroups.ItemMembersRequestBuilderGetQueryParameters{Select: []string{"id"}}})
	}
	if err != nil {
		return nil, fmt.Errorf("reading the %s of group %s: %w", rel, groupID, err)
	}
	var out []groups.Ref
	err = c.Each(ctx, resp, func(o models.DirectoryObjectable) bool {
		if o.GetId() != nil {
			out = append(out, groups.Ref{ID: *o.GetId(), Type: graph.ObjectType(o)})
		}
		return true
	})
	return out, err
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
	out := make([]phase.Key, len(snap.Groups))
	for i, g := range snap.Groups {
		out[i] = phase.Key{Key: g.GroupID, Name: g.Name, SourceID: g.GroupID}
	}
	return out
}

// resolved is a chunk's groups and members translated to the target.
type resolved struct {
	groups  map[string]state.IDMapping // source group id -> its mapping
	objects map[string]string          // source user or group id -> target id
}

func resolve(ctx context.Context, env *phase.Env, snap *Snapshot) (*resolved, error) {
	var gids, uids []string
	for _, g := range snap.Groups {
		gids = append(gids, g.GroupID)
		for _, m := range append(slices.Clone(g.Members), g.Owners...) {
			switch m.Type {
			case "user":
				uids = append(uids, m.ID)
			case "group":
				gids = append(gids, m.ID)
			}
		}
	}
	r := &resolved{objects: map[string]string{}}
	var err error
	if r.groups, err = env.Mapped(ctx, groups.Type, gids); err != nil {
		return nil, err
	}
	for typ, ids := range map[string][]string{users.Type: uids, guests.Type: uids, groups.Type: gids} {
		got, err := env.Resolve(ctx, typ, ids)
		if err != nil {
			return nil, err
		}
		for k, v := range got {
			r.objects[k] = v
		}
	}
	return r, nil
}

// split divides a group's members (or owners) into target ids to add and the ones that are not
// migrated (yet, or ever: devices, contacts and service principals are not t2t's).
func (r *resolved) split(refs []groups.Ref, rel string) (add []string, source map[string]string, missing []string) {
	source = map[string]string{}
	for _, m := range refs {
		if t, ok := r.objects[m.ID]; ok && (m.Type == "user" || m.Type == "group" && rel == "members") {
			add = append(add, t)
			source[t] = m.ID
		} else {
			missing = append(missing, strings.TrimSuffix(rel, "s")+" "+m.Type+" "+m.ID)
		}
	}
	slices.Sort(add)
	return add, source, missing
}

func pendingReason(missing []string) string {
	const show = 10
	n, more := len(missing), ""
	if len(missing) > show {
		more = fmt.Sprintf(" and %d more", len(missing)-show)
		missing = missing[:show]
	}
	return fmt.Sprintf("%d members not migrated yet (%s%s); a later wave that migrates them adds them", n, strings.Join(missing, ", "), more)
}

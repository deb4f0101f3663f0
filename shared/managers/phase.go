// Package managers migrates the manager chain (https://learn.microsoft.com/graph/api/user-post-manager):
// once a wave's users exist in the target, each one whose source user has a manager gets the target
// account of that manager. A manager t2t has not migrated yet (a later wave's user) leaves the user
// Pending, with a pending reference (phase.Defer) that the later wave's managers phase completes.
// Managers are only ever set, never cleared: a user without a source manager is left as it is.
package managers

import (
	"context"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/users"
)

// Type is the phase name, and the id map type of the manager links t2t set (rollback removes them).
const Type = "managers"

// Phase is the manager chain phase.
type Phase struct{}

var (
	_ phase.Phase      = Phase{}
	_ phase.ChunkKeyed = Phase{}
)

// Link is one of a wave's users and its source manager ("" when it has none).
type Link struct {
	SourceID string `json:"sourceId"`
	UPN      string `json:"upn"`
	Name     string `json:"name"`
	Line     int    `json:"line"`
	// ManagerID is the source manager's id, ManagerType its kind (a manager may be an org contact,
	// which t2t does not migrate).
	ManagerID   string `json:"managerId,omitempty"`
	ManagerType string `json:"managerType,omitempty"`
	ManagerName string `json:"managerName,omitempty"`
}

// Snapshot is one chunk of the export: the users of one users chunk with their source managers.
type Snapshot struct {
	Chunk int    `json:"chunk"`
	Users []Link `json:"users"`
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: managers are users, so every user of the wave must be settled.
func (Phase) After() []string { return []string{users.Type} }

// Parts implements phase.Phase: one part per users chunk.
func (Phase) Parts(ctx context.Context, env *phase.Env) (int, error) {
	cs, err := users.Chunks(ctx, env)
	return len(cs), err
}

// Export implements phase.Phase: it reads the source manager of each user of one users chunk.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	chunk, us, err := users.PartSnapshot(ctx, env, Type, part)
	if err != nil || us == nil {
		return nil, err // a poisoned users export part has no snapshot
	}
	snap := Snapshot{Chunk: chunk, Users: make([]Link, len(us.Users))}
	for i, u := range us.Users {
		snap.Users[i] = Link{SourceID: u.User.ID, UPN: u.User.UserPrincipalName, Name: u.User.DisplayName, Line: u.Row.Line}
	}
	err = phase.Parallel(len(snap.Users), 4, func(i int) error {
		return readManager(ctx, env.Source, &snap.Users[i])
	})
	if err != nil {
		return nil, err
	}
	if err := env.PutSnapshot(ctx, Type, chunk, snap); err != nil {
		return nil, err
	}
	return []int{chunk}, nil
}

// readManager fills in l's source manager; Graph answers 404 for a user without one.
func readManager(ctx context.Context, c *graph.Client, l *Link) error {
	o, err := c.Users().ByUserId(l.SourceID).Manager().Get(ctx, &graphusers.ItemManagerRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.ItemManagerRequestBuilderGetQueryParameters{Select: []string{"id", "displayName"}},
	})
	switch {
	case graph.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading the manager of %s: %w", l.UPN, err)
	case o == nil || o.GetId() == nil:
		return nil
	}
	l.ManagerID, l.ManagerType = *o.GetId(), graph.ObjectType(o)
	if u, ok := o.(models.Userable); ok && u.GetDisplayName() != nil {
		l.ManagerName = *u.GetDisplayName()
	}
	return nil
}

func snapshot(ctx context.Context, env *phase.Env, chunk int) (*Snapshot, error) {
	return phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
}

// ChunkKeys implements phase.ChunkKeyed: the chunk's users that have a manager.
func (Phase) ChunkKeys(ctx context.Context, env *phase.Env, chunk int) ([]phase.Key, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return nil, err
	}
	return keys(snap), nil
}

// keys are the ledger keys of a chunk: its users with a source manager, by source UPN.
func keys(snap *Snapshot) []phase.Key {
	var out []phase.Key
	for _, l := range snap.Users {
		if l.ManagerID != "" {
			out = append(out, phase.Key{Key: l.UPN, Name: l.Name, Line: l.Line, SourceID: l.SourceID, TargetKey: l.ManagerName})
		}
	}
	return out
}

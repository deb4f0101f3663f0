// Package licenses applies the wave's licence map (wave.Options.LicenseMap, source SKU to target SKU
// by skuPartNumber): each migrated user gets, in the target, the mapped SKUs of the licences it holds
// in the source (https://learn.microsoft.com/graph/api/user-assignlicense). Licences are only ever
// added: a target licence t2t did not assign is left alone. The phase runs after every phase whose
// work an Exchange licence would spoil (mailbox stamping: a licensed target user gets an empty
// mailbox that blocks the mailbox move), and does nothing when the wave maps no SKU.
package licenses

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/users"
)

// Type is the phase name and the id map type of the licences t2t assigned (rollback removes them).
const Type = "licenses"

// Phase is the licence phase. RunsAfter lists the phases it must follow besides users (mailbox
// stamping, once registered), set in the registry.
type Phase struct {
	RunsAfter []string
}

var (
	_ phase.Phase      = Phase{}
	_ phase.ChunkKeyed = Phase{}
)

// User is one of the wave's users with the part numbers of the source SKUs it holds.
type User struct {
	SourceID string   `json:"sourceId"`
	UPN      string   `json:"upn"`
	Name     string   `json:"name"`
	Line     int      `json:"line"`
	Skus     []string `json:"skus,omitempty"`
}

// Snapshot is one chunk of the export: the users of one users chunk and their source licences.
type Snapshot struct {
	Chunk int    `json:"chunk"`
	Users []User `json:"users"`
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase.
func (p Phase) After() []string { return append([]string{users.Type}, p.RunsAfter...) }

// Parts implements phase.Phase: one part per users chunk, none when the wave maps no SKU.
func (Phase) Parts(ctx context.Context, env *phase.Env) (int, error) {
	if len(env.Options.LicenseMap) == 0 {
		return 0, nil
	}
	cs, err := users.Chunks(ctx, env)
	return len(cs), err
}

// filterBatch is how many ids one in() filter names.
const filterBatch = 15

// Export implements phase.Phase: the source licences of one users chunk's users, by part number.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	chunk, us, err := users.PartSnapshot(ctx, env, Type, part)
	if err != nil || us == nil {
		return nil, err // a poisoned users export part has no snapshot
	}
	names, err := skuNames(ctx, env.Source)
	if err != nil {
		return nil, err
	}
	snap := Snapshot{Chunk: chunk}
	for start := 0; start < len(us.Users); start += filterBatch {
		batch := us.Users[start:min(start+filterBatch, len(us.Users))]
		ids := make([]string, len(batch))
		for i, u := range batch {
			ids[i] = u.User.ID
		}
		held, err := assigned(ctx, env.Source, ids)
		if err != nil {
			return nil, err
		}
		for _, u := range batch {
			lu := User{SourceID: u.User.ID, UPN: u.User.UserPrincipalName, Name: u.User.DisplayName, Line: u.Row.Line}
			for _, id := range held[u.User.ID] {
				lu.Skus = append(lu.Skus, names[id])
			}
			snap.Users = append(snap.Users, lu)
		}
	}
	if err := env.PutSnapshot(ctx, Type, chunk, snap); err != nil {
		return nil, err
	}
	return []int{chunk}, nil
}

// skuNames maps a tenant's SKU ids to their part numbers.
func skuNames(ctx context.Context, c *graph.Client) (map[string]string, error) {
	resp, err := c.SubscribedSkus().Get(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the subscribed SKUs of tenant %s: %w", c.TenantID, err)
	}
	out := map[string]string{}
	for _, s := range resp.GetValue() {
		if s.GetSkuId() != nil && s.GetSkuPartNumber() != nil {
			out[s.GetSkuId().String()] = strings.ToUpper(*s.GetSkuPartNumber())
		}
	}
	return out, nil
}

// assigned reads the licences (SKU ids) of up to filterBatch users.
func assigned(ctx context.Context, c *graph.Client, ids []string) (map[string][]string, error) {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = "'" + id + "'"
	}
	filter := "id in (" + strings.Join(quoted, ",") + ")"
	top := int32(len(ids))
	resp, err := c.Users().Get(ctx, &graphusers.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UsersRequestBuilderGetQueryParameters{Filter: &filter, Top: &top,
			Select: []string{"id", "assignedLicenses"}}})
	if err != nil {
		return nil, fmt.Errorf("reading the licences of %d users: %w", len(ids), err)
	}
	out := map[string][]string{}
	for _, u := range resp.GetValue() {
		out[deref(u.GetId())] = skuIDs(u.GetAssignedLicenses())
	}
	return out, nil
}

func skuIDs(ls []models.AssignedLicenseable) []string {
	var out []string
	for _, l := range ls {
		if l.GetSkuId() != nil {
			out = append(out, l.GetSkuId().String())
		}
	}
	slices.Sort(out)
	return out
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
	return keys(env, snap), nil
}

// keys are the chunk's users holding at least one SKU the wave maps.
func keys(env *phase.Env, snap *Snapshot) []phase.Key {
	var out []phase.Key
	for _, u := range snap.Users {
		if len(mapped(env, u)) > 0 {
			out = append(out, phase.Key{Key: u.UPN, Name: u.Name, Line: u.Line, SourceID: u.SourceID})
		}
	}
	return out
}

// mapped lists the target part numbers a user's source SKUs map to.
func mapped(env *phase.Env, u User) []string {
	var out []string
	for _, s := range u.Skus {
		if t, ok := env.Options.LicenseMap[s]; ok && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

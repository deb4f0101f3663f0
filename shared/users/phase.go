package users

import (
	"context"
	"fmt"
	"strings"

	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/mapping"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Phase is the users phase: the wave's mapping rows, exported in parts of wave.PartRows rows (five
// chunks) and imported a chunk of wave.ChunkSize at a time.
type Phase struct{}

var (
	_ phase.Phase       = Phase{}
	_ phase.Keyed       = Phase{}
	_ phase.ChunkKeyed  = Phase{}
	_ phase.ManualSteps = Phase{}
)

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: users depend on nothing t2t migrates.
func (Phase) After() []string { return nil }

// Parts implements phase.Phase: one part per rows blob.
func (Phase) Parts(ctx context.Context, env *phase.Env) (int, error) {
	m, err := env.Manifest(ctx)
	if err != nil {
		return 0, err
	}
	return m.Parts, nil
}

func partRows(ctx context.Context, env *phase.Env, part int) ([]mapping.Row, error) {
	var rows []mapping.Row
	if _, err := env.Store.GetJSON(ctx, wave.RowsPath(env.Wave, env.Version, part), &rows); err != nil {
		return nil, fmt.Errorf("reading the rows of part %d: %w", part, err)
	}
	return rows, nil
}

// splitRows cuts a part's rows into chunks numbered from the part's first.
func splitRows(part int, rows []mapping.Row) map[int][]mapping.Row {
	out := map[int][]mapping.Row{}
	for i, r := range rows {
		c := part*wave.ExportChunks + i/wave.ChunkSize
		out[c] = append(out[c], r)
	}
	return out
}

// Export implements phase.Phase: it reads the part's source users into one snapshot per chunk.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	rows, err := partRows(ctx, env, part)
	if err != nil {
		return nil, err
	}
	all, err := Export(ctx, env.Source, env.Scope(Type, part*wave.ExportChunks), rows)
	if err != nil {
		return nil, err
	}
	var chunks []int
	for chunk, rs := range splitRows(part, rows) {
		if err := env.PutSnapshot(ctx, Type, chunk, all.Subset(chunk, rs)); err != nil {
			return nil, err
		}
		chunks = append(chunks, chunk)
	}
	env.Logf("wave %s users part %d: exported %d users, %d missing", env.Wave, part, len(all.Users), len(all.Missing))
	return chunks, nil
}

func (Phase) importer(env *phase.Env) *Importer {
	im := &Importer{Target: env.Target, Store: env.Store, Migration: env.Migration, MaxAttempts: env.MaxAttempts,
		Coexistence: env.Options.Coexistence(), FirstRun: env.FirstRun}
	if env.Vault != nil {
		im.Vault = env.Vault
	}
	return im
}

func snapshot(ctx context.Context, env *phase.Env, chunk int) (*Snapshot, error) {
	var snap Snapshot
	if err := env.GetSnapshot(ctx, Type, chunk, &snap); err != nil {
		return nil, err
	}
	return &snap, nil
}

// Import implements phase.Phase.
func (p Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	return p.importer(env).Import(ctx, snap)
}

// Plan implements phase.Phase. Users it would create or match go into the dry run's own id map, so
// that the dry run's later phases (owners, members) plan against them.
func (p Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	counts, planned, err := p.importer(env).Plan(ctx, snap)
	if err != nil {
		return counts, err
	}
	return counts, env.Map(ctx, planned)
}

// Rollback implements phase.Phase: the user goes to the recycle bin (restorable for 30 days), unless
// someone renamed it since t2t created it.
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	u, err := env.Target.Users().ByUserId(m.TargetID).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName"}}})
	if phase.IsGone(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading user %s: %w", m.TargetKey, err)
	}
	if !strings.EqualFold(deref(u.GetUserPrincipalName()), m.TargetKey) {
		return fmt.Errorf("user %s is now %s: %w", m.TargetKey, deref(u.GetUserPrincipalName()), phase.ErrChanged)
	}
	if err := env.Target.Users().ByUserId(m.TargetID).Delete(ctx, nil); err != nil && !phase.IsGone(err) {
		return fmt.Errorf("deleting user %s: %w", m.TargetKey, err)
	}
	return nil
}

// PartKeys implements phase.Keyed.
func (Phase) PartKeys(ctx context.Context, env *phase.Env, part int) (map[int][]phase.Key, error) {
	rows, err := partRows(ctx, env, part)
	if err != nil {
		return nil, err
	}
	out := map[int][]phase.Key{}
	for chunk, rs := range splitRows(part, rows) {
		for _, r := range rs {
			out[chunk] = append(out[chunk], phase.Key{Key: r.Source, Line: r.Line, TargetKey: r.Destination})
		}
	}
	return out, nil
}

// ChunkKeys implements phase.ChunkKeyed.
func (Phase) ChunkKeys(ctx context.Context, env *phase.Env, chunk int) ([]phase.Key, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return nil, err
	}
	keys := make([]phase.Key, 0, len(snap.Users)+len(snap.Missing))
	for _, u := range snap.Users {
		keys = append(keys, phase.Key{Key: u.Row.Source, Line: u.Row.Line, SourceID: u.User.ID, TargetKey: u.Row.Destination})
	}
	for _, m := range snap.Missing {
		keys = append(keys, phase.Key{Key: m.Row.Source, Line: m.Row.Line, TargetKey: m.Row.Destination})
	}
	return keys, nil
}

// ManualSteps implements phase.ManualSteps.
func (Phase) ManualSteps(env *phase.Env, counts wave.Counts) []string {
	var steps []string
	if len(env.Options.LicenseMap) == 0 {
		steps = append(steps, "Licences were not assigned: map them with 't2t start --license SOURCE_SKU=TARGET_SKU' (the licenses phase assigns them after the mailbox-move stamps), or assign them after the mailbox move (a licence given before the stamps provisions an empty mailbox that blocks the move).")
	}
	if len(env.Options.Workloads) == 0 {
		steps = append(steps, "Mailbox, OneDrive and Teams data were not moved: name them with 't2t start --workloads Exchange,ODSP,Teams' to move them with cross-tenant migration jobs at the cutover, or move them with another tool.")
	}
	switch {
	case counts.Created == 0 || env.DryRun:
	case env.Vault != nil:
		steps = append(steps, "Created users sign in with a temporary password kept in Key Vault as secret t2t-"+env.Wave+
			"-<source object id>; hand it over securely (they must change it at first sign-in).")
	default:
		steps = append(steps, "Created users have a random temporary password that was not kept (no Key Vault configured): reset their passwords before handing the accounts over.")
	}
	return steps
}

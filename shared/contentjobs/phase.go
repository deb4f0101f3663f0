package contentjobs

import (
	"context"
	"fmt"
	"slices"
	"time"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// Type is the phase name and the id map type of the jobs t2t created (rollback cancels them).
const Type = "contentJobs"

// MaxUsers is the most users one job may hold (documented limit of resources per job).
const MaxUsers = 2000

// Phase is the content migration jobs phase.
type Phase struct{}

var (
	_ phase.Phase       = Phase{}
	_ phase.ChunkKeyed  = Phase{}
	_ phase.Cutover     = Phase{}
	_ phase.ManualSteps = Phase{}
)

// Member is one user of a job.
type Member struct {
	TargetID string `json:"targetId"`
	UPN      string `json:"upn"`
}

// Snapshot is one chunk: one job and its users.
type Snapshot struct {
	Chunk     int      `json:"chunk"`
	Name      string   `json:"name"`
	Workloads []string `json:"workloads"`
	Users     []Member `json:"users"`
}

// JobName is a job's display name: unique per tenant, and the same for every delivery of the wave
// version, so a redelivered step finds the job it created.
func JobName(waveID, version string, chunk int) string {
	return fmt.Sprintf("t2t-%s-%s-%02d", waveID, version, chunk+1)
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: jobs move the content of migrated users, whose mail users carry the
// mailbox-move stamps (exchangePrereqs, when the wave moves mailboxes).
func (Phase) After() []string { return []string{users.Type, "exchangePrereqs"} }

// Parts implements phase.Phase: one part when the wave names workloads.
func (Phase) Parts(_ context.Context, env *phase.Env) (int, error) {
	if len(env.Options.Workloads) == 0 {
		return 0, nil
	}
	return 1, nil
}

// Export implements phase.Phase: the wave's created and matched users, by target id, in jobs of at
// most MaxUsers. It reads the users ledger, not a tenant.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	migrated, err := users.Migrated(ctx, env)
	if err != nil {
		return nil, err
	}
	members := make([]Member, len(migrated))
	for i, e := range migrated {
		members[i] = Member{TargetID: e.TargetID, UPN: e.TargetKey}
	}
	slices.SortFunc(members, func(a, b Member) int {
		if a.TargetID < b.TargetID {
			return -1
		}
		if a.TargetID > b.TargetID {
			return 1
		}
		return 0
	})
	var chunks []int
	for c := 0; c*MaxUsers < len(members); c++ {
		snap := Snapshot{Chunk: c, Name: JobName(env.Wave, env.Version, c), Workloads: env.Options.Workloads,
			Users: members[c*MaxUsers : min((c+1)*MaxUsers, len(members))]}
		if err := env.PutSnapshot(ctx, Type, c, snap); err != nil {
			return nil, err
		}
		chunks = append(chunks, c)
	}
	return chunks, nil
}

// ChunkKeys implements phase.ChunkKeyed: the chunk's job.
func (Phase) ChunkKeys(ctx context.Context, env *phase.Env, chunk int) ([]phase.Key, error) {
	snap, err := phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
	if err != nil {
		return nil, err
	}
	return []phase.Key{{Key: snap.Name, Name: snap.Name}}, nil
}

// Import implements phase.Phase: the chunk's job is created (or found by name) and validated; it
// migrates at the wave's cutover, so a validated job is Pending until then.
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, err := phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, []phase.Key{{Key: snap.Name, Name: snap.Name}})
	if err != nil {
		return wave.Counts{}, err
	}
	if ledger.Done(snap.Name) {
		return ledger.Finish(ctx, 0)
	}
	ledger.Intend(snap.Name)
	j, err := ensure(ctx, env, snap)
	if err == nil {
		j, err = validated(ctx, env.Target, j, false)
	}
	retry := 0
	switch {
	case err != nil:
		if ledger.Fail(snap.Name, err) {
			retry++
		}
	case j.Status == statusValidating:
		ledger.Entry(snap.Name).TargetID = j.ID
		retry++
	case j.Status == statusValidatePassed:
		ledger.Set(snap.Name, wave.ObjPending, j.ID, fmt.Sprintf("%d users validated for %v; the job migrates at the wave's cutover (validation is good for seven days, then it is validated again)", len(snap.Users), snap.Workloads))
	default:
		ledger.Set(snap.Name, wave.ObjFailed, j.ID, "job "+j.DisplayName+" is "+j.Status+": "+j.Message)
	}
	return ledger.Finish(ctx, retry)
}

// ensure finds the chunk's job by name or creates it, recording it for rollback.
func ensure(ctx context.Context, env *phase.Env, snap *Snapshot) (*job, error) {
	j, err := findJob(ctx, env.Target, snap.Name)
	if err != nil || j != nil {
		return j, err
	}
	m, err := env.Manifest(ctx)
	if err != nil {
		return nil, err
	}
	at := time.Now().UTC().Add(time.Hour)
	if env.Options.CutoverUtc != nil && env.Options.CutoverUtc.After(at) {
		at = *env.Options.CutoverUtc
	}
	ids := make([]string, len(snap.Users))
	for i, u := range snap.Users {
		ids[i] = u.TargetID
	}
	j, err = createJob(ctx, env.Target, job{DisplayName: snap.Name, CompleteAfterDateTime: at.Format(time.RFC3339),
		SourceTenantID: m.SourceTenantID, ResourceType: "Users", Resources: ids, Workloads: snap.Workloads})
	if err != nil {
		return nil, err
	}
	return j, env.Map(ctx, []state.IDMapping{{Type: Type, SourceID: snap.Name, TargetID: j.ID, TargetKey: snap.Name, Created: true}})
}

// validated validates a job that needs it (submitted, failed validation, or, when revalidate, passed
// validation more than seven days ago) and waits a little for the answer.
func validated(ctx context.Context, c *graph.Client, j *job, revalidate bool) (*job, error) {
	need := j.Status == statusSubmitted || j.Status == statusValidateFailed || revalidate && j.Status == statusValidatePassed
	if need {
		if err := act(ctx, c, j.ID, "validate"); err != nil {
			return j, err
		}
		j.Status = statusValidating
	}
	if j.Status == statusValidating {
		return poll(ctx, c, j)
	}
	return j, nil
}

// expired reports whether a passed validation is older than seven days.
func expired(j *job, now time.Time) bool {
	at, err := time.Parse(time.RFC3339, j.LastUpdatedDateTime)
	return j.Status == statusValidatePassed && err == nil && now.Sub(at) > validationLifetime
}

// Plan implements phase.Phase: the jobs the wave would create; nothing is written to the target.
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, err := phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, []phase.Key{{Key: snap.Name, Name: snap.Name}})
	if err != nil {
		return wave.Counts{}, err
	}
	ledger.Set(snap.Name, wave.ObjWouldCreate, "", fmt.Sprintf("would create job %s with %d users for %v, validate it, and migrate it at the wave's cutover", snap.Name, len(snap.Users), snap.Workloads))
	return ledger.Finish(ctx, 0)
}

// Rollback implements phase.Phase: a job that has not finished is cancelled; a finished one moved
// content that t2t cannot move back (kept, with the reason).
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	j, err := getJob(ctx, env.Target, m.TargetID)
	if phase.IsGone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	switch j.Status {
	case statusCancelled:
		return nil
	case statusCompleted, statusWithErrors, statusFailed:
		return fmt.Errorf("job %s is %s: the content it moved stays in the target (move it back with a job in the other direction): %w", j.DisplayName, j.Status, phase.ErrChanged)
	}
	return act(ctx, env.Target, j.ID, "cancel")
}

// ManualSteps implements phase.ManualSteps.
func (Phase) ManualSteps(env *phase.Env, counts wave.Counts) []string {
	if counts == (wave.Counts{}) {
		return nil
	}
	return []string{
		"Content jobs: grant the migration app CrossTenantContentMigration.ReadWrite.All in the target (not yet on t2t's permission contract: its app role id must be read from the Graph service principal of your tenant) and assign the Microsoft 365 Migration Administrator prerequisites Microsoft lists for cross-tenant migration.",
		"Content jobs: the Exchange workload needs the organization relationships and the migration endpoint of cross-tenant mailbox migration in place before the cutover.",
	}
}

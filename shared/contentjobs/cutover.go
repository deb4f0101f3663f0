package contentjobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Cutover implements phase.Cutover: at the wave's cutover every job of wave version of is migrated
// (validated again first when its validation expired), polled, and its users' failed tasks ledgered
// with their reasons. Chunk 0 of the cutover run does the work; the other chunks have none.
func (Phase) Cutover(ctx context.Context, env *phase.Env, of string, chunk int) (wave.Counts, error) {
	if chunk != 0 {
		return wave.Counts{}, nil
	}
	jobs, err := env.Store.PhaseChunks(ctx, env.Wave, of, Type)
	if err != nil {
		return wave.Counts{}, err
	}
	existing, err := listJobs(ctx, env.Target) // once for every job of the wave
	if err != nil {
		return wave.Counts{}, err
	}
	var total wave.Counts
	retry := 0
	for _, c := range jobs {
		var snap Snapshot
		if _, err := env.Store.GetJSON(ctx, wave.ExportPath(env.Wave, of, Type, c), &snap); err != nil {
			return total, err
		}
		n, wait, err := cutoverJob(ctx, env, c, &snap, existing[strings.ToLower(snap.Name)])
		if err != nil {
			return total, err
		}
		total = total.Add(n)
		if wait {
			retry++
		}
	}
	if retry > 0 {
		return total, fmt.Errorf("%d content jobs still running: %w", retry, phase.ErrRetryLater)
	}
	return total, nil
}

// cutoverJob migrates one job as far as it goes now; wait reports that it is still running.
func cutoverJob(ctx context.Context, env *phase.Env, chunk int, snap *Snapshot, j *job) (wave.Counts, bool, error) {
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, []phase.Key{{Key: snap.Name, Name: snap.Name}})
	if err != nil {
		return wave.Counts{}, false, err
	}
	if ledger.Done(snap.Name) {
		return ledger.Counts(), false, nil
	}
	switch {
	case j == nil:
		ledger.Set(snap.Name, wave.ObjFailed, "", "the wave created no job "+snap.Name+" (see its contentJobs phase)")
		n, err := ledger.Finish(ctx, 0)
		return n, false, err
	case env.DryRun:
		ledger.Set(snap.Name, wave.ObjWouldCreate, j.ID, "would migrate job "+j.DisplayName+" ("+j.Status+")")
		n, err := ledger.Finish(ctx, 0)
		return n, false, err
	}
	ledger.Intend(snap.Name)
	j, revalidated, err := migrate(ctx, env.Target, j)
	if err != nil {
		retry := 0
		if ledger.Fail(snap.Name, err) {
			retry = 1
		}
		n, ferr := ledger.Finish(ctx, 0)
		if ferr != nil {
			return n, false, ferr
		}
		return n, retry > 0, nil
	}
	if j.Status == statusMigrating || j.Status == statusValidating {
		ledger.Entry(snap.Name).TargetID = j.ID
		n, err := ledger.Finish(ctx, 0)
		return n, true, err
	}
	failed, err := recordTasks(ctx, env, chunk, j, snap)
	if err != nil {
		return wave.Counts{}, false, err
	}
	note := fmt.Sprintf("%s: %d users, %d failed", j.Status, len(snap.Users), failed)
	if revalidated {
		note += "; its validation had expired and it was validated again"
	}
	status := wave.ObjCreated
	if j.Status == statusFailed || j.Status == statusCancelled {
		status = wave.ObjFailed
	}
	ledger.Set(snap.Name, status, j.ID, note)
	n, err := ledger.Finish(ctx, 0)
	return n, false, err
}

// migrate validates a job again when its validation expired, then migrates it and waits a little.
func migrate(ctx context.Context, c *graph.Client, j *job) (*job, bool, error) {
	revalidated := false
	if j.Status == statusValidatePassed || j.Status == statusSubmitted || j.Status == statusValidateFailed || j.Status == statusValidating {
		stale := expired(j, time.Now()) || j.Status != statusValidatePassed
		var err error
		if j, err = validated(ctx, c, j, stale); err != nil {
			return j, false, err
		}
		revalidated = stale
		if j.Status != statusValidatePassed {
			return j, revalidated, nil
		}
		err = act(ctx, c, j.ID, "migrate")
		if info, ok := graph.Inspect(err); ok && info.Code == "ValidationExpired" {
			if j, err = validated(ctx, c, j, true); err == nil && j.Status == statusValidatePassed {
				revalidated, err = true, act(ctx, c, j.ID, "migrate")
			}
		}
		if err != nil {
			return j, revalidated, err
		}
		j.Status = statusMigrating
	}
	if j.Status == statusMigrating {
		var err error
		if j, err = poll(ctx, c, j); err != nil {
			return j, revalidated, err
		}
	}
	return j, revalidated, nil
}

// recordTasks ledgers each user whose task failed, with the reason, and returns how many.
func recordTasks(ctx context.Context, env *phase.Env, chunk int, j *job, snap *Snapshot) (int, error) {
	ts, err := tasks(ctx, env.Target, j.ID)
	if err != nil {
		return 0, err
	}
	upn := map[string]string{}
	for _, u := range snap.Users {
		upn[strings.ToLower(u.TargetID)] = u.UPN
	}
	var entries []state.LedgerEntry
	for _, t := range ts {
		if why := t.failure(); why != "" {
			entries = append(entries, state.LedgerEntry{Wave: env.Wave, Version: env.Version, Phase: Type, Chunk: chunk,
				Key: "user " + t.ID, Name: upn[strings.ToLower(t.ID)], TargetID: t.ID, Status: wave.ObjFailed, Attempts: 1,
				LastError: "job " + j.DisplayName + ": " + why})
		}
	}
	return len(entries), env.Store.PutLedgers(ctx, entries)
}

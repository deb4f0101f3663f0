package powerplatform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"t2t/shared/phase"
	"t2t/shared/wave"
)

// maxSteps bounds the transitions one delivery drives a request through; maxPolls the reads it
// waits on a long-running state before it leaves the rest to a later delivery.
const (
	maxSteps = 8
	maxPolls = 10
)

// Import implements phase.Phase: each environment's request is driven as far as it goes now. A
// step that must wait (approval, preparing, migrating) is left Creating and the step retried
// later; a request prepared before the wave's cutover is Pending until the cutover is due.
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, err := phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys(snap))
	if err != nil {
		return wave.Counts{}, err
	}
	if why := enabled(env); why != "" {
		for _, e := range snap.Environments {
			ledger.Set(e, wave.ObjSkipped, "", why)
		}
		return ledger.Finish(ctx, 0)
	}
	a := newAPI(env.Source, env.Target, env.SettingOf(SettingURL))
	retry := 0
	for _, e := range snap.Environments {
		if ledger.Done(e) && ledger.Entry(e).Status != wave.ObjPending {
			continue
		}
		fresh := ledger.Entry(e).Attempts == 0
		ledger.Intend(e)
		o := drive(ctx, env, a, e, fresh)
		switch {
		case o.err != nil:
			if ledger.Fail(e, o.err) {
				retry++
			}
		case o.wait:
			ledger.Entry(e).TargetID, ledger.Entry(e).LastError = o.id, o.note
			retry++
		default:
			ledger.Set(e, o.status, o.id, o.note)
		}
	}
	return ledger.Finish(ctx, retry)
}

type outcome struct {
	id, status, note string
	wait             bool // a later delivery goes on
	err              error
}

// drive takes one environment's request as far as it goes now.
func drive(ctx context.Context, env *phase.Env, a *api, envID string, fresh bool) outcome {
	m, err := env.Manifest(ctx)
	if err != nil {
		return outcome{err: err}
	}
	r, err := a.find(ctx, envID, m.TargetTenantID)
	if err != nil {
		return outcome{err: err}
	}
	resubmitted := false
	for range maxSteps {
		switch {
		case r == nil, r.Status == statusExpired && !resubmitted, r.Status == statusFailed && fresh && !resubmitted:
			if r, err = a.submit(ctx, envID, m.TargetTenantID); err != nil {
				return outcome{err: err}
			}
			resubmitted = true
			continue
		case r.Status == statusPending:
			err = a.act(ctx, r.ID, "approve")
		case r.Status == statusApproved:
			err = prepare(ctx, env, a, r)
		case r.Status == statusPrepared && !env.Options.CutoverDue(time.Now()) && env.Options.CutoverUtc != nil:
			return outcome{id: r.ID, status: wave.ObjPending, note: fmt.Sprintf("prepared; t2t migrates it at the wave's cutover (%s): run the wave again then", env.Options.CutoverUtc.Format(time.RFC3339))}
		case r.Status == statusPrepared:
			err = a.act(ctx, r.ID, "migrate")
		case r.Status == statusPreparing || r.Status == statusMigrating:
			if r, err = poll(ctx, a, r); err == nil && (r.Status == statusPreparing || r.Status == statusMigrating) {
				return outcome{id: r.ID, wait: true, note: "request " + r.ID + " is " + r.Status + "; a later delivery goes on"}
			}
			if err != nil {
				return outcome{err: err}
			}
			continue
		case r.Status == statusCompleted:
			note := "moved to the target tenant (request " + r.ID + ")"
			if resubmitted {
				note += "; the earlier request had expired or failed and was submitted again"
			}
			return outcome{id: r.ID, status: wave.ObjCreated, note: note}
		default:
			return outcome{id: r.ID, err: phase.Permanent{Reason: failure(r)}}
		}
		if err != nil {
			return outcome{id: r.ID, err: err}
		}
		if r, err = a.get(ctx, r.ID); err != nil {
			return outcome{err: err}
		}
	}
	return outcome{id: r.ID, wait: true, note: "request " + r.ID + " is " + r.Status}
}

// failure says why a request cannot go on.
func failure(r *request) string {
	msg := fmt.Sprintf("request %s is %s", r.ID, r.Status)
	if r.Error != nil {
		msg += ": " + r.Error.Code + ": " + r.Error.Message
	}
	switch r.Status {
	case statusExpired:
		msg += " again right after it was submitted"
	case statusFailed:
		msg += "; fix the users named, then run the wave again (a new run submits a new request)"
	case statusRejected:
		msg += " by the target tenant's administrator"
	}
	return msg
}

// prepare uploads the wave's usermapping.csv unless the request has it, then prepares the move.
func prepare(ctx context.Context, env *phase.Env, a *api, r *request) error {
	if !r.Uploaded {
		csv, _, err := MappingFile(ctx, env)
		if err != nil {
			return err
		}
		if err := a.upload(ctx, r.ID, csv); err != nil {
			return err
		}
	}
	return a.act(ctx, r.ID, "prepare")
}

// poll re-reads a request in a long-running state a few times.
func poll(ctx context.Context, a *api, r *request) (*request, error) {
	return phase.PollWhile(ctx, pollEvery, maxPolls, r, func(r *request) string { return r.Status },
		func(ctx context.Context) (*request, error) { return a.get(ctx, r.ID) })
}

// Plan implements phase.Phase: what the move would do; the admin API is not called.
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, err := phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys(snap))
	if err != nil {
		return wave.Counts{}, err
	}
	why := enabled(env)
	_, users, err := MappingFile(ctx, env)
	var p phase.Permanent
	if err != nil && !errors.As(err, &p) {
		return wave.Counts{}, err
	}
	for _, e := range snap.Environments {
		switch {
		case why != "":
			ledger.Set(e, wave.ObjSkipped, "", why)
		case err != nil:
			ledger.Set(e, wave.ObjFailed, "", p.Reason)
		default:
			ledger.Set(e, wave.ObjWouldCreate, "", fmt.Sprintf("would submit the move to the target tenant, approve it there, upload a mapping of %d users, prepare it and migrate it at the wave's cutover", users))
		}
	}
	return ledger.Finish(ctx, 0)
}

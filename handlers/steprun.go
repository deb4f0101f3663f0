package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"

	"t2t/shared/logfields"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// maxObjectAttempts matches host.json's maxDequeueCount: an object still failing for passing reasons
// on the last delivery is marked Failed (retryable with `t2t retry`) before the message would be
// poisoned.
const maxObjectAttempts = 5

// StepRun executes one step from the steps queue through the phase registry. Each step is a
// reconcile: it re-reads what it needs, converges, and is safe to run twice or concurrently. A step
// that can never succeed (malformed, unknown phase) is logged once and dropped, not redelivered.
func (a *App) StepRun(ctx context.Context, inv *invocation) error {
	step, err := a.decodeStep(inv)
	if err != nil {
		inv.logf("dropping step: %v", err)
		return nil
	}
	inv.with(stepAttrs(step)...)
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	if step.Op == wave.OpRollback {
		return a.rollback(ctx, inv, store, step)
	}
	if step.Op == wave.OpCutover {
		return a.cutoverStep(ctx, inv, store, step)
	}
	if step.Op == wave.OpDomain {
		return a.domainStep(ctx, inv, store, step)
	}
	if current, err := isCurrent(ctx, store, step.Wave, step.Version); err != nil {
		return err
	} else if !current {
		inv.logf("wave %s: dropping a %s %s step of replaced file version %s", step.Wave, step.Op, step.Phase, step.Version)
		return nil
	}
	env, err := a.env(ctx, inv, store, step)
	if err != nil {
		return err
	}
	if step.Op == wave.OpFinalize {
		return a.finalize(ctx, inv, env)
	}
	p, _ := a.Phases.Lookup(step.Phase)
	emit := inv.emit
	switch step.Op {
	case wave.OpStart:
		err = a.Phases.Start(ctx, env, p, emit)
	case wave.OpExport:
		err = a.Phases.Export(ctx, env, p, step, emit)
	case wave.OpImport:
		err = a.Phases.Import(ctx, env, p, step, emit)
	}
	if errors.Is(err, phase.ErrTerminal) {
		inv.logf("wave %s: %s %s step cannot succeed, dropped: %v", step.Wave, step.Op, step.Phase, err)
		return nil
	}
	return err
}

// decodeStep reads and validates a step message; any error is terminal.
func (a *App) decodeStep(inv *invocation) (wave.Step, error) {
	var step wave.Step
	if err := inv.req.JSON("item", &step); err != nil {
		return step, fmt.Errorf("malformed step message: %w", err)
	}
	if err := step.Validate(); err != nil {
		return step, fmt.Errorf("invalid step message: %w", err)
	}
	if step.Phase != "" {
		if _, ok := a.Phases.Lookup(step.Phase); !ok {
			return step, fmt.Errorf("step of wave %s names unknown phase %q", step.Wave, step.Phase)
		}
	}
	return step, nil
}

// env builds what a phase step works with. Export gets only the source, import only the target.
func (a *App) env(ctx context.Context, inv *invocation, store *state.Store, step wave.Step) (*phase.Env, error) {
	dequeued, _ := inv.req.MetaInt("DequeueCount")
	env := &phase.Env{Store: store, Redelivered: dequeued > 1, Owner: deliveryID(), Migration: a.Settings.MigrationID, ClientID: a.Settings.Graph.ClientID, Wave: step.Wave, Version: step.Version,
		DryRun: step.DryRun, MaxAttempts: maxObjectAttempts, Logf: inv.logf, Log: inv.plain, Setting: os.Getenv}
	var once sync.Once
	var m *wave.Manifest
	var merr error
	env.Manifest = func(ctx context.Context) (*wave.Manifest, error) {
		once.Do(func() {
			if step.Op == wave.OpFinalize {
				m = &wave.Manifest{} // finalize reads the wave's status: always fresh
				_, merr = store.GetJSON(ctx, wave.ManifestPath(step.Wave), m)
				return
			}
			m, merr = a.manifests.get(ctx, store, step.Wave, step.Version)
		})
		return m, merr
	}
	man, err := env.Manifest(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of wave %s: %w", step.Wave, err)
	}
	env.Options = man.Options
	switch step.Op {
	case wave.OpExport, wave.OpStart:
		if env.Source, err = a.sourceGraph(); err != nil {
			return nil, err
		}
	case wave.OpImport, wave.OpCutover:
		if env.Target, err = a.targetGraph(); err != nil {
			return nil, err
		}
		p, _ := a.Phases.Lookup(step.Phase)
		_, both := p.(phase.BothTenants)
		if step.Op == wave.OpCutover || both { // the cutover's reach-back links source accounts
			if env.Source, err = a.sourceGraph(); err != nil {
				return nil, err
			}
		}
		if !step.DryRun {
			vault, err := a.secretStore()
			if err != nil {
				return nil, err
			}
			if vault != nil {
				env.Vault = vault
			}
		}
	case wave.OpFinalize:
		if vault, err := a.secretStore(); err == nil && vault != nil {
			env.Vault = vault // ManualSteps says where passwords are; finalize never reads one
		}
	}
	return env, nil
}

// stepAttrs are the log attributes of a step's records: its wave, and its phase and chunk if any.
func stepAttrs(step wave.Step) []any {
	attrs := []any{logfields.Wave, step.Wave}
	if step.Phase != "" {
		attrs = append(attrs, logfields.Phase, step.Phase)
	}
	if step.Op == wave.OpImport || step.Op == wave.OpRollback && step.Phase != "" {
		attrs = append(attrs, logfields.Chunk, step.Chunk)
	}
	return attrs
}

// deliveryID is a random id of one delivery of a step, for claiming it.
func deliveryID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

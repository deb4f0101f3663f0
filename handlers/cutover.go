package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Cutover answers POST /api/cutover/{wave} (body {"dryRun": true} or ?dryRun=true): it checks that
// the wave can be cut over and queues the cutover's first step, answering 202 with the run's name and
// where its report will be. The work runs as steps (cutoverStep); the CLI does the same through
// ops.Cutover.
func (a *App) Cutover(ctx context.Context, inv *invocation) error {
	req, err := inv.req.HTTP("req")
	if err != nil {
		return err
	}
	id := req.Params["wave"]
	if err := wave.CheckID(id); err != nil {
		return respond(inv, http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
	var body struct {
		DryRun bool `json:"dryRun"`
	}
	if len(req.Body) > 0 {
		raw := req.Body
		var text string
		if json.Unmarshal(raw, &text) == nil {
			raw = json.RawMessage(text) // a body the host passed as a string
		}
		if strings.TrimSpace(string(raw)) != "" && json.Unmarshal(raw, &body) != nil {
			return respond(inv, http.StatusBadRequest, map[string]string{"error": `the body must be JSON: {"dryRun": true|false}`})
		}
	}
	if q := req.Query["dryRun"]; q != "" {
		if body.DryRun, err = strconv.ParseBool(q); err != nil {
			return respond(inv, http.StatusBadRequest, map[string]string{"error": "dryRun must be true or false"})
		}
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	var m wave.Manifest
	if _, err := store.GetJSON(ctx, wave.ManifestPath(id), &m); isNotFound(err) {
		return respond(inv, http.StatusNotFound, map[string]string{"error": "no wave " + id})
	} else if err != nil {
		return err
	}
	if err := wave.CheckCutover(&m); err != nil {
		return respond(inv, http.StatusConflict, map[string]string{"error": err.Error()})
	}
	run := wave.NewCutoverRun(time.Now())
	inv.output("steps", wave.Step{Wave: id, Version: run, DryRun: body.DryRun, Op: wave.OpCutover})
	out := map[string]any{"wave": id, "run": run, "dryRun": body.DryRun, "report": wave.CutoverReportPath(id)}
	if body.DryRun {
		out["whatIf"] = wave.CutoverWhatIfPath(id)
	}
	return respond(inv, http.StatusAccepted, out)
}

// cutoverStep runs one step of a cutover run. The first (no phase) fixes what the run works on
// (wave.CutoverRun: the wave's current version and its users chunks) and queues one step per chunk of
// every phase with a cutover; each chunk step converges its users (phase.Cutover) and records a fact;
// the step that finds every chunk settled writes the report. Duplicates and redeliveries are safe:
// a settled chunk is done, a claimed one is left to its claimer, and each user's steps re-read the
// tenants before writing.
func (a *App) cutoverStep(ctx context.Context, inv *invocation, store *state.Store, step wave.Step) error {
	var m wave.Manifest
	if _, err := store.GetJSON(ctx, wave.ManifestPath(step.Wave), &m); err != nil {
		return fmt.Errorf("reading the manifest of wave %s: %w", step.Wave, err)
	}
	if step.Phase == "" {
		return a.startCutover(ctx, inv, store, &m, step)
	}
	var run wave.CutoverRun
	if _, err := store.GetJSON(ctx, wave.CutoverRunPath(step.Wave, step.Version), &run); err != nil {
		return fmt.Errorf("reading cutover run %s of wave %s: %w", step.Version, step.Wave, err)
	}
	p, _ := a.Phases.Lookup(step.Phase)
	c, ok := p.(phase.Cutover)
	if !ok {
		inv.logf("wave %s: phase %s has no cutover; step dropped", step.Wave, step.Phase)
		return nil
	}
	env, err := a.env(ctx, inv, store, step) // both tenants, and Key Vault unless a dry run
	if err != nil {
		return err
	}
	if done, err := store.HasFact(ctx, step.Wave, step.Version, step.Phase, wave.FactChunk, step.Chunk); err != nil || done {
		return err
	}
	if dup, err := phase.Duplicate(ctx, env, fmt.Sprintf("%s.cutover.%05d", step.Phase, step.Chunk)); err != nil || dup {
		return err
	}
	counts, err := c.Cutover(ctx, env, run.Of, step.Chunk)
	if err != nil {
		return err // ErrRetryLater included: the queue redelivers
	}
	inv.logf("wave %s cutover %s chunk %d: %d converted and linked, %d already done, %d skipped, %d failed",
		step.Wave, step.Version, step.Chunk, counts.Created, counts.Matched, counts.Skipped, counts.Failed)
	if err := store.PutFact(ctx, step.Wave, step.Version, wave.Fact{Phase: step.Phase, Kind: wave.FactChunk, Index: step.Chunk, Counts: counts}); err != nil {
		return err
	}
	return a.finishCutover(ctx, inv, store, run)
}

// startCutover records the run and queues its chunk steps.
func (a *App) startCutover(ctx context.Context, inv *invocation, store *state.Store, m *wave.Manifest, step wave.Step) error {
	if err := wave.CheckCutover(m); err != nil {
		inv.logf("wave %s: cutover refused: %v", step.Wave, err)
		return nil
	}
	run := wave.CutoverRun{Run: step.Version, Wave: step.Wave, Of: wave.VersionOf(m), Chunks: m.Chunks, DryRun: step.DryRun, StartedUtc: time.Now().UTC()}
	for _, p := range a.Phases {
		if _, ok := p.(phase.Cutover); ok && m.Options.Runs(p.Name()) {
			run.Phases = append(run.Phases, p.Name())
		}
	}
	// The first delivery fixes the run; a redelivery keeps what it fixed.
	if _, err := store.PutJSON(ctx, wave.CutoverRunPath(step.Wave, step.Version), run, state.Cond{IfNoneExists: true}); err != nil && !errors.Is(err, state.ErrConflict) {
		return err
	}
	if _, err := store.GetJSON(ctx, wave.CutoverRunPath(step.Wave, step.Version), &run); err != nil {
		return err
	}
	inv.logf("wave %s: cutover %s of version %s started (dry run: %t, %d chunks of %v)", step.Wave, run.Run, run.Of, run.DryRun, run.Chunks, run.Phases)
	for _, name := range run.Phases {
		if err := store.PutFact(ctx, step.Wave, run.Run, wave.Fact{Phase: name, Kind: wave.FactPlan, Parts: 1}); err != nil {
			return err
		}
		if err := store.PutFact(ctx, step.Wave, run.Run, wave.Fact{Phase: name, Kind: wave.FactPart, Chunks: run.Chunks}); err != nil {
			return err
		}
		for chunk := range run.Chunks {
			inv.output("steps", wave.Step{Wave: step.Wave, Version: run.Run, DryRun: run.DryRun, Op: wave.OpCutover, Phase: name, Chunk: chunk})
		}
	}
	if run.Chunks == 0 || len(run.Phases) == 0 {
		return a.finishCutover(ctx, inv, store, run)
	}
	return nil
}

package phase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"t2t/shared/graph"
	"t2t/shared/logfields"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Registry is the ordered list of phases (dependency order: a phase comes after those it runs after).
type Registry []Phase

// Lookup finds a phase by name.
func (r Registry) Lookup(name string) (Phase, bool) {
	for _, p := range r {
		if p.Name() == name {
			return p, true
		}
	}
	return nil, false
}

// Names lists the phases in registry order.
func (r Registry) Names() []string {
	out := make([]string, len(r))
	for i, p := range r {
		out[i] = p.Name()
	}
	return out
}

// Check verifies that every After names a registered phase listed earlier (no cycles, no typos).
func (r Registry) Check() error {
	seen := map[string]bool{}
	for _, p := range r {
		for _, a := range p.After() {
			if !seen[a] {
				return fmt.Errorf("phase %s runs after %q, which is not registered before it", p.Name(), a)
			}
		}
		if seen[p.Name()] {
			return fmt.Errorf("phase %s registered twice", p.Name())
		}
		seen[p.Name()] = true
	}
	return nil
}

// Emit queues a message on an output binding ("steps" or "progress"); messages are sent only when
// the invocation succeeds.
type Emit func(queue string, v any)

// Ready lists the phases that should start now: selected, not started, and every phase they run after
// settled (or not selected).
func (r Registry) Ready(opts wave.Options, sum map[string]*wave.PhaseProgress) []string {
	done := func(n string) bool { return !opts.Runs(n) || sum[n] != nil && sum[n].Complete() }
	var out []string
	for _, p := range r {
		if !opts.Runs(p.Name()) || sum[p.Name()] != nil && sum[p.Name()].Started {
			continue
		}
		if !slices.ContainsFunc(p.After(), func(a string) bool { return !done(a) }) {
			out = append(out, p.Name())
		}
	}
	return out
}

// AllSettled reports whether every selected phase has settled.
func (r Registry) AllSettled(opts wave.Options, sum map[string]*wave.PhaseProgress) bool {
	for _, p := range r {
		if opts.Runs(p.Name()) && (sum[p.Name()] == nil || !sum[p.Name()].Complete()) {
			return false
		}
	}
	return true
}

func (env *Env) step(op, phase string) wave.Step {
	return wave.Step{Wave: env.Wave, Version: env.Version, DryRun: env.DryRun, Op: op, Phase: phase}
}

func (env *Env) event(kind, phase string) wave.Event {
	return wave.Event{Kind: kind, Wave: env.Wave, Version: env.Version, Phase: phase, Utc: time.Now().UTC()}
}

// duplicate reports whether this delivery of a step is a duplicate that must do nothing: another
// delivery of the same step claimed it first (several settling chunks may queue the same start at the
// same moment, and a duplicated start queues its parts twice). The first delivery to claim a step
// does it; a redelivered message (DequeueCount above 1) always does it again, since its first run may
// have died before its outputs were sent.
func duplicate(ctx context.Context, env *Env, step string) (bool, error) {
	if env.Redelivered || env.Owner == "" {
		return false, nil
	}
	mine, fresh, err := env.Store.ClaimKey(ctx, "steps_"+env.Wave+"_"+env.Version, step, env.Owner)
	if err != nil {
		return false, err
	}
	if !mine {
		env.logf("wave %s: step %s is claimed by another delivery; this duplicate does nothing", env.Wave, step)
	}
	env.FirstRun = fresh
	return !mine, nil
}

// Duplicate is the claim every registry step makes (see duplicate), for steps run outside the
// registry (a cutover chunk): true means another delivery has the step and this one must do nothing.
func Duplicate(ctx context.Context, env *Env, step string) (bool, error) {
	return duplicate(ctx, env, step)
}

// Start finds a phase's scope and queues its export parts; a phase with nothing to do settles at once.
func (r Registry) Start(ctx context.Context, env *Env, p Phase, emit Emit) error {
	if dup, err := duplicate(ctx, env, p.Name()+".start"); err != nil || dup {
		return err
	}
	parts, err := p.Parts(ctx, env)
	if err != nil {
		return fmt.Errorf("finding the scope of %s: %w", p.Name(), err)
	}
	if err := env.Store.PutFact(ctx, env.Wave, env.Version, wave.Fact{Phase: p.Name(), Kind: wave.FactPlan, Parts: parts}); err != nil {
		return err
	}
	emit("progress", env.event(wave.EventPhaseStarted, p.Name()))
	for i := range min(parts, wave.ExportWindow) {
		env.emitExport(p.Name(), i, parts, emit)
	}
	env.logf("wave %s: phase %s started with %d export parts", env.Wave, p.Name(), parts)
	if parts == 0 {
		return r.Settle(ctx, env, p.Name(), emit)
	}
	return nil
}

// emitExport queues export part part of a phase of parts parts, if there is such a part.
func (env *Env) emitExport(phase string, part, parts int, emit Emit) {
	if part < parts {
		s := env.step(wave.OpExport, phase)
		s.Part, s.Parts = part, parts
		emit("steps", s)
	}
}

// Export runs one export part and queues the import of each chunk it wrote.
func (r Registry) Export(ctx context.Context, env *Env, p Phase, step wave.Step, emit Emit) error {
	if dup, err := duplicate(ctx, env, fmt.Sprintf("%s.export.%05d", p.Name(), step.Part)); err != nil || dup {
		return err
	}
	chunks, err := p.Export(ctx, env, step.Part)
	if err != nil {
		return fmt.Errorf("exporting part %d of %s: %w", step.Part, p.Name(), err)
	}
	return r.partDone(ctx, env, p.Name(), step, chunks, emit)
}

// partDone queues the imports of an export part's chunks and records the part; a part without
// chunks moves the export window on itself.
func (r Registry) partDone(ctx context.Context, env *Env, phase string, step wave.Step, chunks []int, emit Emit) error {
	for _, c := range chunks {
		s := env.step(wave.OpImport, phase)
		s.Chunk, s.Part, s.Parts = c, step.Part, step.Parts
		emit("steps", s)
	}
	if err := env.Store.PutFact(ctx, env.Wave, env.Version, wave.Fact{Phase: phase, Kind: wave.FactPart, Index: step.Part, Chunks: len(chunks)}); err != nil {
		return err
	}
	if len(chunks) == 0 {
		env.emitExport(phase, step.Part+wave.ExportWindow, step.Parts, emit)
		return r.Settle(ctx, env, phase, emit)
	}
	return nil
}

// Import converges one chunk (or plans it, in a dry run) and records it as settled. Each settled
// import of an export part queues the part ExportWindow further on: the first to arrive runs it, and
// the claim turns the others away.
func (r Registry) Import(ctx context.Context, env *Env, p Phase, step wave.Step, emit Emit) error {
	chunk := step.Chunk
	// A settled chunk is done whatever the delivery: its fact (tallies, writes) stays as first written.
	// Settling again is cheap and idempotent, and brings the phase on when the delivery that wrote the
	// fact died before its outputs were sent.
	if done, err := env.Store.HasFact(ctx, env.Wave, env.Version, p.Name(), wave.FactChunk, chunk); err != nil || done {
		if err != nil {
			return err
		}
		env.emitExport(p.Name(), step.Part+wave.ExportWindow, step.Parts, emit)
		return r.Settle(ctx, env, p.Name(), emit, chunk)
	}
	if dup, err := duplicate(ctx, env, fmt.Sprintf("%s.import.%05d", p.Name(), chunk)); err != nil || dup {
		return err
	}
	run := p.Import
	if env.DryRun {
		run = p.Plan
	}
	var cost graph.Counters
	counts, err := run(graph.WithCounters(ctx, &cost), env, chunk)
	if err != nil {
		return err // ErrRetryLater included: the queue redelivers after its visibility timeout
	}
	env.logf("wave %s %s chunk %d: %d created, %d matched, %d skipped, %d pending, %d failed", env.Wave, p.Name(), chunk,
		counts.Created, counts.Matched, counts.Skipped, counts.Pending, counts.Failed)
	if env.Log != nil {
		env.Log.Info(logfields.MsgStep, logfields.Wave, env.Wave, logfields.Phase, p.Name(), logfields.Chunk, chunk,
			logfields.Created, counts.Created, logfields.Matched, counts.Matched, logfields.Skipped, counts.Skipped,
			logfields.Pending, counts.Pending, logfields.Failed, counts.Failed, logfields.Writes, cost.Writes.Load(),
			logfields.Throttled, cost.Throttled.Load(), logfields.DryRun, env.DryRun)
	}
	if counts.Failed > 0 {
		logFailed(ctx, env, p.Name(), chunk)
	}
	env.emitExport(p.Name(), step.Part+wave.ExportWindow, step.Parts, emit)
	return r.chunkSettled(ctx, env, p.Name(), chunk, counts, &cost, emit)
}

// logFailed writes one record per failed object of a settled chunk (logfields.MsgObjectFailed with
// its key and reason), whatever way the phase keeps its ledger: one query, and only for chunks with
// failures. Best effort: the ledger, not the log, is the record of a failure.
func logFailed(ctx context.Context, env *Env, phase string, chunk int) {
	if env.Log == nil {
		return
	}
	for e, err := range env.Store.ChunkLedger(ctx, env.Scope(phase, chunk)) {
		if err != nil {
			return
		}
		if e.Status == wave.ObjFailed {
			env.Log.Warn(logfields.MsgObjectFailed, logfields.Wave, env.Wave, logfields.Phase, phase,
				logfields.Chunk, chunk, logfields.Key, e.Key, logfields.Err, e.LastError)
		}
	}
}

func (r Registry) chunkSettled(ctx context.Context, env *Env, phase string, chunk int, counts wave.Counts, cost *graph.Counters, emit Emit) error {
	// Writes of earlier, failed deliveries of this chunk are not counted: they were not recorded.
	f := wave.Fact{Phase: phase, Kind: wave.FactChunk, Index: chunk, Counts: counts}
	if cost != nil {
		f.Writes, f.Throttled, f.Retried = int(cost.Writes.Load()), int(cost.Throttled.Load()), int(cost.Retried.Load())
	}
	if err := env.Store.PutFact(ctx, env.Wave, env.Version, f); err != nil {
		return err
	}
	ev := env.event(wave.EventChunkSettled, phase)
	ev.Chunk, ev.Counts = chunk, &counts
	emit("progress", ev)
	return r.Settle(ctx, env, phase, emit, chunk)
}

// Settle recounts the buckets of the chunks just settled, then checks whether phase has settled and,
// if so, starts the phases that were waiting for it, or queues the wave's finalize when every phase
// has. Our own facts are written before we count, so of two chunks settling together at least one
// sees both; both may, and what follows is idempotent. It reads at most a bucket of chunk facts and
// the phase's summary, so settling stays cheap however many chunks a wave has.
func (r Registry) Settle(ctx context.Context, env *Env, phase string, emit Emit, chunks ...int) error {
	buckets := map[int]bool{}
	for _, c := range chunks {
		if b := wave.BucketOf(c); !buckets[b] {
			buckets[b] = true
			if err := env.Store.SettleBucket(ctx, env.Wave, env.Version, phase, b); err != nil {
				return err
			}
		}
	}
	facts, err := env.Store.PhaseSummary(ctx, env.Wave, env.Version, phase)
	if err != nil {
		return err
	}
	if p := wave.Summarize(facts)[phase]; p == nil || !p.Complete() {
		return nil
	}
	emit("progress", env.event(wave.EventPhaseSettled, phase))
	all, err := env.Store.Summary(ctx, env.Wave, env.Version)
	if err != nil {
		return err
	}
	sum := wave.Summarize(all)
	for _, name := range r.Ready(env.Options, sum) {
		emit("steps", env.step(wave.OpStart, name))
	}
	if r.AllSettled(env.Options, sum) {
		emit("steps", env.step(wave.OpFinalize, ""))
	}
	return nil
}

// poisonChunkBase numbers the chunk that records a poisoned export part of a phase whose objects are
// not known before export, clear of the chunks export parts write.
const poisonChunkBase = 900_000

// Poison settles a step that failed on every delivery: its unfinished objects are marked Failed
// (keeping their last error), so that the wave finishes and nothing is silently lost.
func (r Registry) Poison(ctx context.Context, env *Env, p Phase, step wave.Step, reason string, emit Emit) error {
	switch step.Op {
	case wave.OpImport:
		var keys []Key
		if k, ok := p.(ChunkKeyed); ok {
			var err error
			if keys, err = k.ChunkKeys(ctx, env, step.Chunk); err != nil && !errors.Is(err, state.ErrNotFound) {
				return err
			}
		}
		counts, err := failUnfinished(ctx, env, env.Scope(p.Name(), step.Chunk), keys, reason)
		if err != nil {
			return err
		}
		env.emitExport(p.Name(), step.Part+wave.ExportWindow, step.Parts, emit)
		return r.chunkSettled(ctx, env, p.Name(), step.Chunk, counts, nil, emit)
	case wave.OpExport:
		env.emitExport(p.Name(), step.Part+wave.ExportWindow, step.Parts, emit)
		return r.poisonPart(ctx, env, p, step.Part, reason, emit)
	case wave.OpStart:
		if err := env.Store.PutFact(ctx, env.Wave, env.Version, wave.Fact{Phase: p.Name(), Kind: wave.FactPlan, Parts: 1}); err != nil {
			return err
		}
		return r.poisonPart(ctx, env, p, 0, reason, emit)
	}
	return nil
}

func (r Registry) poisonPart(ctx context.Context, env *Env, p Phase, part int, reason string, emit Emit) error {
	chunks := map[int][]Key{poisonChunkBase + part: {{Key: fmt.Sprintf("(export part %d)", part), Name: p.Name() + " export"}}}
	if k, ok := p.(Keyed); ok {
		var err error
		if chunks, err = k.PartKeys(ctx, env, part); err != nil {
			return err
		}
	}
	var written []int
	for chunk, keys := range chunks {
		counts, err := failUnfinished(ctx, env, env.Scope(p.Name(), chunk), keys, reason)
		if err != nil {
			return err
		}
		if err := env.Store.PutFact(ctx, env.Wave, env.Version, wave.Fact{Phase: p.Name(), Kind: wave.FactChunk, Index: chunk, Counts: counts}); err != nil {
			return err
		}
		written = append(written, chunk)
	}
	if err := env.Store.PutFact(ctx, env.Wave, env.Version, wave.Fact{Phase: p.Name(), Kind: wave.FactPart, Index: part, Chunks: len(written)}); err != nil {
		return err
	}
	return r.Settle(ctx, env, p.Name(), emit, written...)
}

// failUnfinished marks every object of a chunk that has no settled status Failed and returns the
// chunk's tallies. keys adds objects the ledger may not hold yet.
func failUnfinished(ctx context.Context, env *Env, sc state.Scope, keys []Key, reason string) (wave.Counts, error) {
	entries := map[string]state.LedgerEntry{}
	for e, err := range env.Store.ChunkLedger(ctx, sc) {
		if err != nil {
			return wave.Counts{}, err
		}
		entries[e.Key] = e
	}
	for _, k := range keys {
		if _, ok := entries[k.Key]; !ok {
			entries[k.Key] = state.LedgerEntry{Key: k.Key, Name: k.Name, Line: k.Line, SourceID: k.SourceID, TargetKey: k.TargetKey}
		}
	}
	var counts wave.Counts
	var writes []state.LedgerEntry
	for _, e := range entries {
		if !wave.Settled(e.Status) {
			e.Wave, e.Version, e.Phase, e.Chunk = sc.Wave, sc.Version, sc.Phase, sc.Chunk
			e.Status = wave.ObjFailed
			if e.LastError == "" {
				e.LastError = reason
			} else {
				e.LastError += " (" + reason + ")"
			}
			writes = append(writes, e)
		}
		counts = counts.With(e.Status)
	}
	return counts, env.Store.PutLedgers(ctx, writes)
}

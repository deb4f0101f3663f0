// Package phase is the seam every migration phase plugs into. A phase (users, groups, conditional
// access, ...) is one package implementing Phase and one line in the registry (package phases); step
// dispatch, completion, progress, reports, MigrationState and poison handling go through a Registry
// and never name a phase.
//
// A phase runs per wave version as: start (Parts: how many export parts its scope needs), export
// (one part: reads the source, never the target, and writes snapshot chunks), import (one chunk: reads
// the snapshot and the target, never the source, and converges, ledgered per chunk), or plan instead
// of import in a dry run (a verdict per object, no target write). A phase starts when every phase it
// runs after has settled, which is derived from facts written once per part and chunk (see
// wave.Fact), so duplicate, late and concurrent deliveries change nothing.
package phase

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"t2t/shared/graph"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Phase is one kind of object a wave migrates. Every method is a reconcile: safe to run twice,
// concurrently with itself, or after a crash half-way.
type Phase interface {
	// Name is the phase's name in steps, the ledger, the id map, reports and options.
	Name() string
	// After names the phases whose objects must all be settled before this one starts.
	After() []string
	// Parts says how many export parts the phase's scope needs in this wave; 0 means nothing to do.
	Parts(ctx context.Context, env *Env) (int, error)
	// Export runs one export part: it reads the source tenant (and earlier phases' snapshots), writes
	// snapshot chunks with env.PutSnapshot, and returns the chunk numbers it wrote. The same part must
	// always yield the same chunks.
	Export(ctx context.Context, env *Env, part int) ([]int, error)
	// Import converges one chunk in the target from its snapshot and returns its tallies. It returns an
	// error wrapping ErrRetryLater when some objects should be tried again on a later delivery.
	Import(ctx context.Context, env *Env, chunk int) (wave.Counts, error)
	// Plan is Import's dry run: a verdict per object in the ledger, nothing written to the target.
	Plan(ctx context.Context, env *Env, chunk int) (wave.Counts, error)
	// Rollback deletes one object t2t created (m.Created is true), unless it changed since; it
	// returns ErrChanged for an object it left alone, and treats an object already gone as deleted.
	Rollback(ctx context.Context, env *Env, m state.IDMapping) error
}

// Keyed is implemented by phases that know their objects before export (users know their rows), so
// that a poisoned export part can still record each object as failed.
type Keyed interface {
	PartKeys(ctx context.Context, env *Env, part int) (map[int][]Key, error)
}

// ChunkKeyed is implemented by phases that can list a chunk's objects from its snapshot, so that a
// poisoned import chunk records every unfinished object as failed.
type ChunkKeyed interface {
	ChunkKeys(ctx context.Context, env *Env, chunk int) ([]Key, error)
}

// ManualSteps is implemented by phases that know what an administrator must do by hand after them.
type ManualSteps interface {
	ManualSteps(env *Env, counts wave.Counts) []string
}

// BothTenants is implemented by phases whose import acts in both tenants: a Power Platform move is
// submitted and prepared in the source and approved in the target. Their import steps get env.Source
// too; every other import reads the source never.
type BothTenants interface {
	ImportsInBothTenants()
}

// Outputs is implemented by phases that write a file of their own for administrators (guests.csv)
// when a wave version finalizes, from what their imports recorded. It runs before the report, once
// per finalize, and must be safe to run again.
type Outputs interface {
	WriteOutputs(ctx context.Context, env *Env) error
}

// Cutover is implemented by phases whose objects change identity at a wave's cutover (users). It
// converges one chunk of the wave version of (its snapshot and id map): env.Version is the cutover
// run, under which it ledgers each object's steps (wave.CutoverConvert, wave.CutoverLink), and
// env has both tenants. In a dry run it records what it would do and writes to neither tenant. Like
// Import it is a reconcile, and returns an error wrapping ErrRetryLater for passing failures.
type Cutover interface {
	Cutover(ctx context.Context, env *Env, of string, chunk int) (wave.Counts, error)
}

// Key names one object of a chunk, for ledger entries made without its snapshot.
type Key struct {
	Key       string
	Name      string
	Line      int
	SourceID  string
	TargetKey string
}

// Errors a phase returns to steer the step.
var (
	// ErrRetryLater: some objects hit a passing failure; redeliver the step later.
	ErrRetryLater = errors.New("some objects hit a passing failure; retry the step later")
	// ErrTerminal: the step can never succeed (malformed, unknown phase); record it once, do not
	// redeliver.
	ErrTerminal = errors.New("terminal step error")
	// ErrChanged: rollback left an object alone because it changed since t2t created it.
	ErrChanged = errors.New("changed since t2t created it")
)

// Terminal wraps err as a terminal step error.
func Terminal(err error) error { return fmt.Errorf("%w: %w", ErrTerminal, err) }

// Env is what a phase step works with. Source is nil during import and Target nil during export:
// export never writes the target and import never reads the source.
type Env struct {
	Store     *state.Store
	Source    *graph.Client
	Target    *graph.Client
	Vault     SecretStore // nil: temporary passwords are not kept
	Migration string      // the source→target pair; id map partitions are per migration
	ClientID  string      // the migration app itself (its own service principal is never migrated)
	Wave      string
	Version   string
	DryRun    bool
	// Redelivered is true when the step's message is delivered again after a failed or lost run
	// (DequeueCount above 1), as opposed to a duplicate another step queued.
	Redelivered bool
	// Owner identifies this delivery when it claims its step (see duplicate in run.go).
	Owner string
	// FirstRun is true when this delivery has just claimed its step for the first time: no delivery
	// ran the step before, so its chunk has no ledger entries yet and need not be read. Redeliveries
	// and steps run without a claim leave it false.
	FirstRun bool
	Options  wave.Options
	// Setting reads an app setting (os.Getenv in the function app); nil reads every setting as "".
	Setting func(name string) string
	// Manifest returns the wave's manifest (read once per step, on first use).
	Manifest func(ctx context.Context) (*wave.Manifest, error)
	// MaxAttempts bounds tries of one object against passing failures before it is marked Failed.
	MaxAttempts int
	Logf        func(format string, args ...any)
	// Log receives the structured per-step record (logfields.MsgStep) the portal's workbook charts.
	Log *slog.Logger
}

// SecretStore keeps secrets (Key Vault). Put adds a version; Get returns the latest or an error
// wrapping keyvault.ErrNotFound.
type SecretStore interface {
	Put(ctx context.Context, name, value string) error
	Get(ctx context.Context, name string) (string, error)
}

// Scope is the ledger partition of one chunk of the phase.
func (e *Env) Scope(phase string, chunk int) state.Scope {
	return state.Scope{Wave: e.Wave, Version: e.Version, Phase: phase, Chunk: chunk}
}

// SettingOf reads an app setting through env.Setting.
func (e *Env) SettingOf(name string) string {
	if e.Setting == nil {
		return ""
	}
	return e.Setting(name)
}

// PutSnapshot writes one chunk of a phase's export.
func (e *Env) PutSnapshot(ctx context.Context, phase string, chunk int, v any) error {
	_, err := e.Store.PutJSON(ctx, wave.ExportPath(e.Wave, e.Version, phase, chunk), v, state.Cond{})
	return err
}

// GetSnapshot reads one chunk of a phase's export.
func (e *Env) GetSnapshot(ctx context.Context, phase string, chunk int, v any) error {
	if _, err := e.Store.GetJSON(ctx, wave.ExportPath(e.Wave, e.Version, phase, chunk), v); err != nil {
		return fmt.Errorf("reading the %s snapshot of chunk %d: %w", phase, chunk, err)
	}
	return nil
}

func (e *Env) logf(format string, args ...any) {
	if e.Logf != nil {
		e.Logf(format, args...)
	}
}

// Parallel runs fn for 0..n-1 with at most width in flight and returns the first error. The
// transport's pacer, not width, sets the pace of writes; a few calls in flight hide Graph's latency.
func Parallel(n, width int, fn func(i int) error) error {
	sem := make(chan struct{}, max(width, 1))
	errs := make(chan error, n)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- fn(i)
		}()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ReadSnapshot reads one chunk of a phase's export into a new T.
func ReadSnapshot[T any](ctx context.Context, env *Env, phase string, chunk int) (*T, error) {
	v := new(T)
	if err := env.GetSnapshot(ctx, phase, chunk, v); err != nil {
		return nil, err
	}
	return v, nil
}

// DeleteUnlessChanged is the rollback of an object t2t created: read reports the object's current
// name (an error for which IsGone holds means it is gone already: done); when m has a fingerprint
// and the name no longer matches it, the object is left alone (ErrChanged); otherwise del deletes it.
func DeleteUnlessChanged(ctx context.Context, m state.IDMapping, what string, read func(context.Context) (string, error), del func(context.Context) error) error {
	name, err := read(ctx)
	if IsGone(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s %s: %w", what, m.TargetKey, err)
	}
	if m.Fingerprint != "" && name != m.Fingerprint {
		return fmt.Errorf("%s %q is now %q: %w", what, m.Fingerprint, name, ErrChanged)
	}
	if err := del(ctx); err != nil && !IsGone(err) {
		return fmt.Errorf("deleting %s %s: %w", what, m.TargetKey, err)
	}
	return nil
}

// Str dereferences an optional Graph string ("" for nil).
func Str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// FirstNonEmpty returns a unless it is empty, then b.
func FirstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

package phase

import (
	"context"
	"errors"
	"fmt"
	"time"

	"t2t/shared/graph"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Chunk is one import chunk's ledger, read in one query and written in one transaction per flush:
// the per-chunk prepare, intent and settle that every phase shares.
type Chunk struct {
	env     *Env
	scope   state.Scope
	entries map[string]*state.LedgerEntry
	order   []string
	dirty   map[string]bool
}

// OpenChunk reads the ledger of a chunk for keys; keys not recorded yet get fresh entries.
func OpenChunk(ctx context.Context, env *Env, phase string, chunk int, keys []Key) (*Chunk, error) {
	c := &Chunk{env: env, scope: env.Scope(phase, chunk), entries: map[string]*state.LedgerEntry{}, dirty: map[string]bool{}}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.Key
	}
	got := map[string]state.LedgerEntry{}
	if !env.FirstRun { // a first run has no earlier entries to find
		var err error
		if got, err = env.Store.GetLedgers(ctx, c.scope, ids); err != nil {
			return nil, err
		}
	}
	for _, k := range keys {
		e, ok := got[k.Key]
		if !ok {
			e = state.LedgerEntry{Wave: c.scope.Wave, Version: c.scope.Version, Phase: c.scope.Phase, Chunk: c.scope.Chunk, Key: k.Key}
		}
		e.Name, e.Line, e.SourceID, e.TargetKey = k.Name, k.Line, k.SourceID, k.TargetKey
		c.entries[k.Key] = &e
		c.order = append(c.order, k.Key)
	}
	return c, nil
}

// Entry returns the entry of key (nil for a key the chunk was not opened with).
func (c *Chunk) Entry(key string) *state.LedgerEntry { return c.entries[key] }

// Keys returns the chunk's keys in the order it was opened with.
func (c *Chunk) Keys() []string { return c.order }

// Done reports whether key's object is settled already (by an earlier delivery of this step).
func (c *Chunk) Done(key string) bool {
	e := c.entries[key]
	return e != nil && e.Status != wave.ObjFailed && wave.Settled(e.Status)
}

// Intend records that the object is about to be written: status Creating, one more attempt, and the
// intent time a later delivery uses to recognise the object as ours after a lost answer.
func (c *Chunk) Intend(key string) *state.LedgerEntry {
	e := c.entries[key]
	e.Attempts++
	if e.IntentUtc.IsZero() || e.Status != wave.ObjCreating {
		e.IntentUtc = time.Now().UTC()
	}
	e.Status = wave.ObjCreating
	c.dirty[key] = true
	return e
}

// Set settles the object with a status, target id and reason.
func (c *Chunk) Set(key, status, targetID, reason string) {
	e := c.entries[key]
	e.Status, e.TargetID, e.LastError = status, targetID, reason
	if e.Attempts == 0 {
		e.Attempts = 1
	}
	c.dirty[key] = true
}

// Fail records a failed write: a passing failure with attempts left keeps the object Creating and
// reports true (retry the step later); throttling does not use up an attempt; anything else, or the
// last attempt, marks it Failed with the reason.
func (c *Chunk) Fail(key string, err error) (retry bool) {
	e := c.entries[key]
	c.dirty[key] = true
	e.LastError = Describe(err)
	switch {
	case graph.IsThrottled(err):
		e.Attempts = max(e.Attempts-1, 0)
		e.Status = wave.ObjCreating
		return true
	case Retryable(err) && e.Attempts < max(c.env.MaxAttempts, 1):
		e.Status = wave.ObjCreating
		return true
	}
	e.Status = wave.ObjFailed
	return false
}

// Flush writes the changed entries (one transaction per 100).
func (c *Chunk) Flush(ctx context.Context) error {
	var writes []state.LedgerEntry
	for _, k := range c.order {
		if c.dirty[k] {
			writes = append(writes, *c.entries[k])
		}
	}
	if err := c.env.Store.PutLedgers(ctx, writes); err != nil {
		return err
	}
	c.dirty = map[string]bool{}
	return nil
}

// Counts tallies the chunk's settled outcomes (unsettled ones count as failed).
func (c *Chunk) Counts() wave.Counts {
	var n wave.Counts
	for _, k := range c.order {
		n = n.With(c.entries[k].Status)
	}
	return n
}

// Finish flushes the chunk and returns its tallies, wrapping ErrRetryLater when retry objects are
// still unsettled.
func (c *Chunk) Finish(ctx context.Context, retry int) (wave.Counts, error) {
	if err := c.Flush(ctx); err != nil {
		return wave.Counts{}, err
	}
	counts := c.Counts()
	if retry > 0 {
		return counts, fmt.Errorf("%d of %d %s: %w", retry, len(c.order), c.scope.Phase, ErrRetryLater)
	}
	return counts, nil
}

// Permanent is a failure no retry will fix (a reason stored as is).
type Permanent struct{ Reason string }

func (p Permanent) Error() string { return p.Reason }

// errLag marks a failure that replication lag explains.
var errLag = errors.New("the directory has not replicated the object yet")

// Lagging wraps err as a replication-lag failure, retried later.
func Lagging(what string) error { return fmt.Errorf("%s: %w", what, errLag) }

// Retryable reports failures worth trying again on a later delivery.
func Retryable(err error) bool {
	var p Permanent
	if errors.As(err, &p) {
		return false
	}
	return errors.Is(err, errLag) || graph.IsRetryable(err)
}

// Describe renders an error for a ledger row: Graph's code and message, or the permanent reason.
func Describe(err error) string {
	var p Permanent
	if errors.As(err, &p) {
		return p.Reason
	}
	return graph.Describe(err)
}

func graphNotFound(err error) bool { return graph.IsNotFound(err) }

// IsGone reports a Graph 404: the object does not exist (rollback treats it as already deleted).
func IsGone(err error) bool { return err != nil && graph.IsNotFound(err) }

// SettleMapped settles the chunk's objects the id map knows already (keyed by source id = ledger
// key): Created when this wave created them (a redelivered or rerun step), Matched otherwise (an
// earlier wave did). Nothing is written to the target for them.
func (c *Chunk) SettleMapped(mapped map[string]state.IDMapping) {
	for key, m := range mapped {
		if c.entries[key] == nil || c.Done(key) {
			continue
		}
		status := wave.ObjMatched
		if m.Created && m.Wave == c.env.Wave {
			status = wave.ObjCreated
		}
		c.Set(key, status, m.TargetID, "")
	}
}

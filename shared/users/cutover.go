package users

import (
	"context"
	"fmt"
	"sync/atomic"

	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

var _ phase.Cutover = Phase{}

// cutoverWidth is how many users of a chunk are cut over at once (the transport paces the writes).
const cutoverWidth = 4

// Cutover implements phase.Cutover. For each migrated user of the chunk, in order, stopping at the
// first failure: convert the target account to an internal member (wave.CutoverConvert), then
// B2B-link the source account to it (wave.CutoverLink). Each step is read first and written only
// when needed, so a repeated cutover writes nothing; each is ledgered, so a redelivered chunk
// resumes where the last one stopped. Users the id map does not know (never migrated) are skipped.
func (Phase) Cutover(ctx context.Context, env *phase.Env, of string, chunk int) (wave.Counts, error) {
	var snap Snapshot
	if _, err := env.Store.GetJSON(ctx, wave.ExportPath(env.Wave, of, Type, chunk), &snap); err != nil {
		return wave.Counts{}, fmt.Errorf("reading the users snapshot of chunk %d: %w", chunk, err)
	}
	keys := make([]phase.Key, len(snap.Users))
	ids := make([]string, len(snap.Users))
	for i, ex := range snap.Users {
		keys[i] = phase.Key{Key: ex.Row.Source, Name: ex.User.DisplayName, Line: ex.Row.Line, SourceID: ex.User.ID, TargetKey: ex.Row.Destination}
		ids[i] = ex.User.ID
	}
	mapped, err := env.Mapped(ctx, Type, ids)
	if err != nil {
		return wave.Counts{}, err
	}
	c := &cutover{env: env}
	if c.convert, err = phase.OpenChunk(ctx, env, wave.CutoverConvert, chunk, keys); err != nil {
		return wave.Counts{}, err
	}
	if c.link, err = phase.OpenChunk(ctx, env, wave.CutoverLink, chunk, keys); err != nil {
		return wave.Counts{}, err
	}
	_ = phase.Parallel(len(snap.Users), cutoverWidth, func(i int) error {
		c.user(ctx, snap.Users[i], mapped)
		return nil
	})
	if err := c.convert.Flush(ctx); err != nil {
		return wave.Counts{}, err
	}
	// The link step ends each user's sequence: its tallies are the chunk's.
	return c.link.Finish(ctx, int(c.retry.Load()))
}

// cutover is one chunk's cutover: its two ledgers and how many users to try again.
type cutover struct {
	env           *phase.Env
	convert, link *phase.Chunk
	retry         atomic.Int32
	mu            chunkLock
}

// user runs one user's sequence. Ledger entries are distinct per user, but a Chunk is not safe for
// concurrent use, so its calls go through the lock; Graph calls do not.
func (c *cutover) user(ctx context.Context, ex Exported, mapped map[string]state.IDMapping) {
	key := ex.Row.Source
	m, ok := mapped[ex.User.ID]
	if !ok {
		c.mu.do(func() {
			c.convert.Set(key, wave.ObjSkipped, "", msgNotMigrated)
			c.link.Set(key, wave.ObjSkipped, "", msgNotMigrated)
		})
		return
	}
	var convDone, linkDone bool
	c.mu.do(func() { convDone, linkDone = c.convert.Done(key) && !c.env.DryRun, c.link.Done(key) && !c.env.DryRun })
	if !convDone {
		status, reason, err := c.convertUser(ctx, ex, m)
		if !c.settle(c.convert, key, m.TargetID, status, reason, err) {
			if err != nil && !phase.Retryable(err) {
				c.mu.do(func() { c.link.Set(key, wave.ObjSkipped, "", msgConvertFirst) })
			}
			return // the sequence stops at its first failure
		}
	}
	if !linkDone {
		status, reason, err := c.linkUser(ctx, ex, m)
		c.settle(c.link, key, ex.User.ID, status, reason, err)
	}
}

// settle records one step's outcome and reports whether the user's sequence may go on.
func (c *cutover) settle(ch *phase.Chunk, key, id, status, reason string, err error) bool {
	var ok bool
	c.mu.do(func() {
		if err != nil {
			if ch.Fail(key, err) {
				c.retry.Add(1)
			}
			return
		}
		ch.Set(key, status, id, reason)
		ok = status != wave.ObjFailed
	})
	return ok
}

// intend records the intent of a write before it is sent (under the lock).
func (c *cutover) intend(ch *phase.Chunk, key string) {
	c.mu.do(func() { ch.Intend(key) })
}

// intended reports whether an earlier delivery recorded the intent of this write: then the state it
// finds done is its own work (Created), not something that was so before (Matched).
func (c *cutover) intended(ch *phase.Chunk, key string) bool {
	var yes bool
	c.mu.do(func() { yes = ch.Entry(key).Status == wave.ObjCreating })
	return yes
}

// Reasons a cutover records.
const (
	msgNotMigrated  = "not migrated: the id map has no target account for this user"
	msgConvertFirst = "not attempted: the conversion in the target failed first"
	msgNoVault      = "no Key Vault is configured: converting a cloud user needs one to keep its temporary password"
)

// errNoVault refuses to convert a cloud user whose temporary password could not be kept.
var errNoVault = phase.Permanent{Reason: msgNoVault}

// Package deltasync keeps the target in step with the source between a wave and its cutover. A run
// (the DeltaSync timer function) asks the source tenant what changed since the last run with
// users/delta and groups/delta (members@delta), following nextLinks to the round's deltaLink, and
// applies to the target what concerns objects t2t has mapped:
//
//   - profile attributes of users and groups (through the domain rewrite of the wave that migrated
//     them), account enable and disable;
//   - memberships between mapped objects: adds, and removals of memberships t2t added (in a group it
//     created, or recorded in the id map when it added them to a group it matched);
//   - a new member of a migrated group whose user is not migrated yet is recorded Pending in the
//     ledger; a later run adds it once a wave has migrated the user (that wave's membership phase
//     adds it too: the group is in its scope);
//   - an object deleted in the source is reported, or its target account disabled (Deletions);
//     nothing is ever deleted in the target.
//
// Changes to objects no wave has migrated are counted, never applied. The delta links are kept per
// migration as JSON in the delta container, written under the ETag they were read with; a blob lease
// keeps two runs of one migration from overlapping. An expired token (400 syncStateNotFound, or 410)
// starts a full round, which converges idempotently: it compares and writes only what differs, so it
// creates nothing twice. Each run writes a report and is paced by the Graph transport under the same
// write budget as waves.
package deltasync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"t2t/shared/graph"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Deletion policies (T2T_DELTA_DELETIONS).
const (
	DeletionsReport  = "report"  // list the deletion in the run report; change nothing (the default)
	DeletionsDisable = "disable" // disable the target account (users); groups are reported
)

// ParseDeletions reads the deletion policy setting; empty means report.
func ParseDeletions(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", DeletionsReport:
		return DeletionsReport, nil
	case DeletionsDisable:
		return DeletionsDisable, nil
	}
	return "", fmt.Errorf("T2T_DELTA_DELETIONS %q: want %s or %s (t2t never deletes in the target)", v, DeletionsReport, DeletionsDisable)
}

// leaseDuration is the run lease's term; it is renewed while the run lasts and lapses 60 s after a
// crashed run.
const leaseDuration = 60 * time.Second

// Sync is one migration's delta sync.
type Sync struct {
	Store     *state.Store
	Source    *graph.Client // read only: the delta queries
	Target    *graph.Client // where changes are applied
	Migration string
	Deletions string
	// DefaultDomains is the domain map for objects whose wave names none (T2T_DOMAIN_MAP).
	DefaultDomains map[string]string
	Logf           func(format string, args ...any)
}

// links is delta/<migration>/links.json: the deltaLink of each round type.
type links struct {
	Users      string    `json:"users,omitempty"`
	Groups     string    `json:"groups,omitempty"`
	UpdatedUtc time.Time `json:"updatedUtc"`
	Run        string    `json:"run,omitempty"`
}

// ErrLeaseLost means the run's lease lapsed while it worked: another run may have taken over, so
// this one's delta links were not saved.
var ErrLeaseLost = errors.New("the delta run lost its lease")

// Run performs one run: trigger says why (scheduled, pastDue, manual) for the report. A run that
// finds the lease held by another returns a skipped report and no error. The report is written in
// every case where storage is reachable.
func (s *Sync) Run(ctx context.Context, trigger string) (*Report, error) {
	docs := s.Store.Delta()
	rep := newReport(s.Migration, runID(), trigger, s.Deletions, time.Now().UTC())
	if w, err := s.activeWave(ctx); err != nil {
		return nil, err
	} else if w != "" {
		rep.Status, rep.Reason = StatusSkipped, "wave "+w+" is running; the delta links stay, so the next run after it picks up every change"
		return rep, s.save(ctx, rep, false)
	}
	lease, err := docs.AcquireLease(ctx, lockPath(s.Migration), leaseDuration)
	if errors.Is(err, state.ErrConflict) {
		rep.Status, rep.Reason = StatusSkipped, "another delta run of this migration holds the lease"
		return rep, s.save(ctx, rep, false)
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = lease.Release(context.WithoutCancel(ctx)) }()
	counters := &graph.Counters{}
	ctx = graph.WithCounters(ctx, counters)
	err = s.run(ctx, docs, lease, rep)
	rep.Writes = counters.Writes.Load()
	if err != nil {
		rep.Status, rep.Reason = StatusRetry, err.Error()
		_ = s.save(ctx, rep, true)
		return rep, err
	}
	return rep, s.save(ctx, rep, true)
}

func (s *Sync) run(ctx context.Context, docs *state.Store, lease *state.Lease, rep *Report) error {
	var cur links
	etag, err := docs.GetJSON(ctx, linksPath(s.Migration), &cur)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	a := &applier{Sync: s, rep: rep, domains: map[string]map[string]string{}}
	users, err := s.round(ctx, rep, "users", cur.Users, userSelect)
	if err != nil {
		return err
	}
	groupsRound, err := s.round(ctx, rep, "groups", cur.Groups, groupSelect)
	if err != nil {
		return err
	}
	if err := a.applyUsers(ctx, users); err != nil {
		return err
	}
	if err := a.applyGroups(ctx, groupsRound); err != nil {
		return err
	}
	if err := a.resolvePending(ctx); err != nil {
		return err
	}
	if err := lease.Lost(); err != nil {
		return fmt.Errorf("%w: %w", ErrLeaseLost, err)
	}
	rep.Status = StatusCompleted
	if rep.retry > 0 {
		rep.Status, rep.Reason = StatusRetry, fmt.Sprintf("%d changes hit passing failures; the delta links stay, so the next run applies them again", rep.retry)
		return nil
	}
	next := links{Users: users.deltaLink, Groups: groupsRound.deltaLink, UpdatedUtc: time.Now().UTC(), Run: rep.Run}
	cond := state.Cond{IfMatch: etag}
	if etag == "" {
		cond = state.Cond{IfNoneExists: true}
	}
	if _, err := docs.PutJSON(ctx, linksPath(s.Migration), next, cond); err != nil {
		return fmt.Errorf("saving the delta links (another run moved them?): %w", err)
	}
	return nil
}

// activeWaveWindow bounds how long a running wave holds delta sync back: a wave that has not
// finished long after it started is taken for stuck, not running.
const activeWaveWindow = 6 * time.Hour

// activeWave returns a wave of this migration that is running and writes to the target (not a dry
// run), or "". Delta sync waits for it: the wave exports the source as it is, and a delta run meanwhile
// would do the membership phase's work beside it.
func (s *Sync) activeWave(ctx context.Context) (string, error) {
	ids, err := s.Store.Waves(ctx)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		var m wave.Manifest
		if _, err := s.Store.GetJSON(ctx, wave.ManifestPath(id), &m); errors.Is(err, state.ErrNotFound) {
			continue
		} else if err != nil {
			return "", err
		}
		last := m.CreatedUtc
		if m.UpdatedUtc.After(last) {
			last = m.UpdatedUtc
		}
		if m.Status == wave.StatusRunning && !m.DryRun && (m.MigrationID == "" || m.MigrationID == s.Migration) &&
			time.Since(last) < activeWaveWindow {
			return id, nil
		}
	}
	return "", nil
}

// roundResult is one type's delta round.
type roundResult struct {
	mode      string
	items     []object
	deltaLink string
}

// round runs the delta round of kind (users or groups) from the stored link, or a full round when
// there is none or the service no longer knows it.
func (s *Sync) round(ctx context.Context, rep *Report, kind, link string, sel []string) (*roundResult, error) {
	first := "/" + kind + "/delta?$select=" + strings.Join(sel, ",")
	r := &roundResult{mode: ModeIncremental}
	reason := ""
	var err error
	if link != "" {
		// Prefer: return=minimal makes a later round carry only the properties that changed (a cleared
		// one as null), so only real source changes are written.
		r.items, r.deltaLink, err = deltaRound(ctx, s.Source, link, "return=minimal")
		if graph.IsResyncRequired(err) {
			reason = "the delta token expired or is unknown (" + graph.Describe(err) + "): full resync"
			s.logf("delta %s: %s", kind, reason)
			link = ""
		} else if err != nil {
			return nil, fmt.Errorf("%s delta round: %w", kind, err)
		}
	} else {
		reason = "first run: full round"
	}
	if link == "" {
		r.mode = ModeFull
		if r.items, r.deltaLink, err = deltaRound(ctx, s.Source, first, ""); err != nil {
			return nil, fmt.Errorf("%s full delta round: %w", kind, err)
		}
	}
	rep.Rounds[kind] = Round{Mode: r.mode, Reason: reason, Items: len(r.items)}
	return r, nil
}

// save writes the run report; latest also replaces latest.json (not for a skipped run, which would
// hide the report of the run that did the work).
func (s *Sync) save(ctx context.Context, rep *Report, latest bool) error {
	ctx = context.WithoutCancel(ctx)
	rep.CompletedUtc = time.Now().UTC()
	rep.sortLists()
	docs := s.Store.Delta()
	if _, err := docs.PutJSON(ctx, runPath(s.Migration, rep.StartedUtc, rep.Run), rep, state.Cond{}); err != nil {
		return err
	}
	if !latest {
		return nil
	}
	_, err := docs.PutJSON(ctx, LatestPath(s.Migration), rep, state.Cond{})
	return err
}

// Summary is the run as wave tallies for the progress event: changes applied count as created,
// changes to unmapped objects as skipped.
func (rep *Report) Summary() wave.Counts {
	var c wave.Counts
	for _, outcomes := range rep.Counts {
		for k, n := range outcomes {
			switch k {
			case "failed":
				c.Failed += n
			case "pending":
				c.Pending += n
			case "notMapped":
				c.Skipped += n
			case "updated", "enabled", "disabled", "added", "removed", "pendingAdded":
				c.Created += n
			}
		}
	}
	return c
}

func (s *Sync) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func runID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

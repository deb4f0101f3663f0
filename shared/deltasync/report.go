package deltasync

import (
	"sort"
	"sync"
	"time"
)

// Run statuses.
const (
	StatusCompleted = "completed" // every change was applied, counted or recorded; the delta links moved on
	StatusRetry     = "retry"     // some changes hit passing failures: the links stay, the next run redoes the round
	StatusSkipped   = "skipped"   // another run holds the migration's lease
)

// Round modes.
const (
	ModeIncremental = "incremental" // from the stored deltaLink: the changes since the last run
	ModeFull        = "full"        // every object: the first run, or a resync after an expired token
)

// Report is one run's record: delta/<migration>/runs/<time>-<run>.json and, for a run that did its
// work, delta/<migration>/latest.json in the delta container. Counts are per object type (users,
// groups, memberships) and outcome; Changes lists what was written (the first maxListed).
type Report struct {
	Migration    string                    `json:"migration"`
	Run          string                    `json:"run"`
	Trigger      string                    `json:"trigger"`
	Status       string                    `json:"status"`
	Reason       string                    `json:"reason,omitempty"`
	Deletions    string                    `json:"deletions"`
	StartedUtc   time.Time                 `json:"startedUtc"`
	CompletedUtc time.Time                 `json:"completedUtc"`
	Rounds       map[string]Round          `json:"rounds,omitempty"`
	Counts       map[string]map[string]int `json:"counts"`
	Writes       int64                     `json:"writes"`
	Changes      []Change                  `json:"changes"`
	Failures     []Change                  `json:"failures"`

	mu    *sync.Mutex // a pointer, so that a decoded Report copies freely
	retry int
}

// Round says how one object type's delta round ran.
type Round struct {
	Mode   string `json:"mode"`
	Reason string `json:"reason,omitempty"`
	Items  int    `json:"items"`
}

// Change is one thing the run did (or failed to do) to one object.
type Change struct {
	Type     string `json:"type"`
	SourceID string `json:"sourceId"`
	TargetID string `json:"targetId,omitempty"`
	Action   string `json:"action"`
	Detail   string `json:"detail,omitempty"`
}

// maxListed bounds Changes and Failures; the counts are always complete.
const maxListed = 500

func newReport(migration, run, trigger, deletions string, now time.Time) *Report {
	return &Report{mu: &sync.Mutex{}, Migration: migration, Run: run, Trigger: trigger, Deletions: deletions, StartedUtc: now,
		Rounds: map[string]Round{}, Counts: map[string]map[string]int{}, Changes: []Change{}, Failures: []Change{}}
}

// count adds n to one outcome of one type.
func (r *Report) count(typ, outcome string, n int) {
	if n == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Counts[typ] == nil {
		r.Counts[typ] = map[string]int{}
	}
	r.Counts[typ][outcome] += n
}

// changed records a write that was made, and counts it under its action.
func (r *Report) changed(c Change) {
	r.count(c.Type, c.Action, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.Changes) < maxListed {
		r.Changes = append(r.Changes, c)
	}
}

// failed records a failure; retry says the next run should try it again (the links stay).
func (r *Report) failed(c Change, retry bool) {
	r.count(c.Type, "failed", 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if retry {
		r.retry++
	}
	if len(r.Failures) < maxListed {
		r.Failures = append(r.Failures, c)
	}
}

// sortLists orders changes and failures for a stable document.
func (r *Report) sortLists() {
	for _, list := range [][]Change{r.Changes, r.Failures} {
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].Type != list[j].Type {
				return list[i].Type < list[j].Type
			}
			return list[i].SourceID < list[j].SourceID
		})
	}
}

// Paths of a migration's documents in the delta container.
func linksPath(migration string) string  { return migration + "/links.json" }
func lockPath(migration string) string   { return migration + "/lock" }
func LatestPath(migration string) string { return migration + "/latest.json" }
func runPath(migration string, started time.Time, run string) string {
	return migration + "/runs/" + started.UTC().Format("20060102T150405Z") + "-" + run + ".json"
}

// RunsPrefix is the folder of a migration's run reports in the delta container.
func RunsPrefix(migration string) string { return migration + "/runs/" }

// Package report renders a finished wave for people and tools: report.json (counts, every failure with
// its row and reason, the manual steps t2t cannot do) and MigrationState.json (the seed's materialized
// view). Pure functions over the manifest and ledger, built once at a phase boundary, never per object.
package report

import (
	"sort"
	"time"

	"t2t/shared/state"
	"t2t/shared/wave"
)

// Report is waves/<wave>/report.json.
type Report struct {
	Wave         string      `json:"wave"`
	Version      string      `json:"version"` // of the mapping file the report is about
	Status       string      `json:"status"`
	StartedUtc   time.Time   `json:"startedUtc"`
	CompletedUtc time.Time   `json:"completedUtc"`
	Rows         RowCounts   `json:"rows"`
	Users        wave.Counts `json:"users"`
	Failures     []Failure   `json:"failures"`
	ManualSteps  []string    `json:"manualSteps"`
	Files        Files       `json:"files"`
}

// RowCounts says how much of the mapping file entered the pipeline.
type RowCounts struct {
	Total   int `json:"total"`
	Invalid int `json:"invalid"`
	Valid   int `json:"valid"`
}

// Failure is one object that did not migrate.
type Failure struct {
	Row         int    `json:"row"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Reason      string `json:"reason"`
	Attempts    int    `json:"attempts"`
}

// Files names the wave's documents in the waves container.
type Files struct {
	Manifest       string `json:"manifest"`
	Errors         string `json:"errors"`
	MigrationState string `json:"migrationState"`
}

// Build makes the report from the manifest and the wave's user ledger entries.
func Build(m *wave.Manifest, entries []state.LedgerEntry, passwordsKept bool, now time.Time) *Report {
	r := &Report{
		Wave: m.Wave, StartedUtc: m.CreatedUtc, CompletedUtc: now,
		Rows:  RowCounts{Total: m.TotalRows, Invalid: m.InvalidRows, Valid: len(m.Rows)},
		Files: Files{Manifest: wave.ManifestPath(m.Wave), Errors: wave.ErrorsPath(m.Wave), MigrationState: wave.StatePath(m.Wave)},
	}
	for _, e := range entries {
		switch e.Status {
		case wave.ObjCreated:
			r.Users.Created++
		case wave.ObjMatched:
			r.Users.Matched++
		default:
			r.Users.Failed++
			reason := e.LastError
			if reason == "" {
				reason = "not finished (status " + e.Status + ")"
			}
			r.Failures = append(r.Failures, Failure{Row: e.Line, Source: e.Key, Destination: e.TargetKey, Reason: reason, Attempts: e.Attempts})
		}
	}
	sort.Slice(r.Failures, func(i, j int) bool { return r.Failures[i].Row < r.Failures[j].Row })
	r.Status = wave.StatusCompleted
	if r.Users.Failed > 0 || r.Rows.Invalid > 0 {
		r.Status = wave.StatusCompletedWithErrors
	}
	r.ManualSteps = manualSteps(m.Wave, r.Users.Created, passwordsKept)
	return r
}

func manualSteps(waveID string, created int, passwordsKept bool) []string {
	steps := []string{
		"Licences were not assigned: assign them after mailbox migration starts (assigning them early provisions an empty mailbox that blocks the move).",
		"Mailbox, OneDrive and Teams data are not moved by t2t: run the cross-tenant mailbox and content migration for these users.",
	}
	if created == 0 {
		return steps
	}
	if passwordsKept {
		steps = append(steps, "Created users sign in with a temporary password kept in Key Vault as secret t2t-"+waveID+
			"-<source object id>; hand it over securely (they must change it at first sign-in).")
	} else {
		steps = append(steps, "Created users have a random temporary password that was not kept (no Key Vault configured): reset their passwords before handing the accounts over.")
	}
	return steps
}

// Package report renders a finished wave for people and tools: report.json (counts, every failure with
// its row and reason, the manual steps t2t cannot do) and MigrationState.json (the seed's materialized
// view). Pure functions over the manifest and ledger, built once at a phase boundary, never per object.
package report

import (
	"bytes"
	"encoding/csv"
	"sort"
	"strconv"
	"time"

	"t2t/shared/mapping"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Report is waves/<wave>/report.json.
type Report struct {
	Wave string `json:"wave"`
	// DryRun reports say what would happen: Users.Created and Users.Matched count the users the
	// import would create and match; whatif.csv has the verdict of every row.
	DryRun       bool        `json:"dryRun"`
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
	WhatIf         string `json:"whatIf,omitempty"`
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
	r.DryRun = m.DryRun
	for _, e := range entries {
		r.Users = r.Users.With(e.Status)
		switch e.Status {
		case wave.ObjCreated, wave.ObjMatched, wave.ObjWouldCreate, wave.ObjWouldMatch:
		default:
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
	if m.DryRun {
		r.Files.WhatIf = wave.WhatIfPath(m.Wave)
		r.ManualSteps = []string{"Dry run: nothing was written to the target tenant. Review waves/" + r.Files.WhatIf +
			", then upload the file without the dry-run flag to migrate."}
	}
	return r
}

// WhatIfCSV renders a dry run's verdicts (row, source, destination, action, reason), in row order.
func WhatIfCSV(entries []state.LedgerEntry) []byte {
	sorted := append([]state.LedgerEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Line < sorted[j].Line })
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"row", "source", "destination", "action", "reason"})
	for _, e := range sorted {
		action := map[string]string{wave.ObjWouldCreate: "create", wave.ObjWouldMatch: "match"}[e.Status]
		if action == "" {
			action = "refuse"
		}
		_ = w.Write([]string{strconv.Itoa(e.Line), mapping.Defuse(e.Key), mapping.Defuse(e.TargetKey), action, e.LastError})
	}
	w.Flush()
	return buf.Bytes()
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

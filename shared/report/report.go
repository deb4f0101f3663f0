// Package report renders a finished wave for people and tools: report.json (counts per phase, every
// failure with its phase, row and reason, the manual steps t2t cannot do), whatif.csv for a dry run,
// and MigrationState.json (the seed's materialized view). Pure functions over the manifest and the
// ledger, built once at the wave's end, never per object. Nothing here names a phase.
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
	// DryRun reports say what would happen: Created and Matched count the objects the import would
	// create and match; whatif.csv has the verdict of every object.
	DryRun       bool                   `json:"dryRun"`
	Version      string                 `json:"version"` // of the mapping file the report is about
	Status       string                 `json:"status"`
	StartedUtc   time.Time              `json:"startedUtc"`
	CompletedUtc time.Time              `json:"completedUtc"`
	Rows         RowCounts              `json:"rows"`
	Options      wave.Options           `json:"options"`
	Phases       map[string]wave.Counts `json:"phases"`
	PhaseOrder   []string               `json:"phaseOrder"` // the phases that ran, in the order they run
	// Writes counts the Graph writes each phase issued (every attempt counts against the quota).
	Writes      map[string]int `json:"writes,omitempty"`
	Totals      wave.Counts    `json:"totals"`
	Failures    []Failure      `json:"failures"`
	Pending     []Failure      `json:"pending,omitempty"`
	ManualSteps []string       `json:"manualSteps"`
	Files       Files          `json:"files"`
}

// RowCounts says how much of the mapping file entered the pipeline.
type RowCounts struct {
	Total   int `json:"total"`
	Invalid int `json:"invalid"`
	Valid   int `json:"valid"`
}

// Failure is one object that did not migrate (or, in Pending, waits for a later wave).
type Failure struct {
	Phase       string `json:"phase"`
	Row         int    `json:"row,omitempty"`
	Source      string `json:"source"`
	Name        string `json:"name,omitempty"`
	Destination string `json:"destination,omitempty"`
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

// PhaseLedger is one phase's ledger entries and what it says must be done by hand.
type PhaseLedger struct {
	Name        string
	Entries     []state.LedgerEntry
	ManualSteps []string
}

// Build makes the report from the manifest and every phase's ledger entries.
func Build(m *wave.Manifest, phases []PhaseLedger, now time.Time) *Report {
	r := &Report{
		Wave: m.Wave, DryRun: m.DryRun, Version: wave.VersionOf(m), StartedUtc: m.CreatedUtc, CompletedUtc: now,
		Rows:    RowCounts{Total: m.TotalRows, Invalid: m.InvalidRows, Valid: m.ValidRows},
		Options: m.Options, Phases: map[string]wave.Counts{}, Failures: []Failure{}, ManualSteps: []string{},
		Files: Files{Manifest: wave.ManifestPath(m.Wave), Errors: wave.ErrorsPath(m.Wave), MigrationState: wave.StatePath(m.Wave)},
	}
	for _, ph := range phases {
		var c wave.Counts
		for _, e := range ph.Entries {
			c = c.With(e.Status)
			switch {
			case e.Status == wave.ObjPending:
				r.Pending = append(r.Pending, failure(ph.Name, e, ""))
			case e.Status != wave.ObjFailed && wave.Settled(e.Status):
			default:
				r.Failures = append(r.Failures, failure(ph.Name, e, "not finished (status "+e.Status+")"))
			}
		}
		r.Phases[ph.Name] = c
		r.PhaseOrder = append(r.PhaseOrder, ph.Name)
		r.Totals = r.Totals.Add(c)
		r.ManualSteps = append(r.ManualSteps, ph.ManualSteps...)
	}
	sort.SliceStable(r.Failures, func(i, j int) bool { return r.Failures[i].Row < r.Failures[j].Row })
	r.Status = wave.StatusCompleted
	if r.Totals.Failed > 0 || r.Rows.Invalid > 0 {
		r.Status = wave.StatusCompletedWithErrors
	}
	if m.DryRun {
		r.Files.WhatIf = wave.WhatIfPath(m.Wave)
		r.ManualSteps = []string{"Dry run: nothing was written to the target tenant. Review waves/" + r.Files.WhatIf +
			", then upload the file without the dry-run flag to migrate."}
	}
	return r
}

func failure(phase string, e state.LedgerEntry, unfinished string) Failure {
	reason := e.LastError
	if reason == "" {
		reason = unfinished
	}
	return Failure{Phase: phase, Row: e.Line, Source: e.Key, Name: e.Name, Destination: e.TargetKey, Reason: reason, Attempts: e.Attempts}
}

// WhatIfCSV renders a dry run's verdicts, one line per object of every phase (phase, row, source,
// destination, action, reason), phases in order and rows in row order within a phase.
func WhatIfCSV(phases []PhaseLedger) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"phase", "row", "source", "destination", "action", "reason"})
	for _, ph := range phases {
		sorted := append([]state.LedgerEntry(nil), ph.Entries...)
		sort.SliceStable(sorted, func(i, j int) bool {
			if sorted[i].Line != sorted[j].Line {
				return sorted[i].Line < sorted[j].Line
			}
			return sorted[i].Key < sorted[j].Key
		})
		for _, e := range sorted {
			row := ""
			if e.Line > 0 {
				row = strconv.Itoa(e.Line)
			}
			source := e.Key
			if e.Name != "" {
				source = e.Name + " (" + e.Key + ")"
			}
			_ = w.Write([]string{ph.Name, row, mapping.Defuse(source), mapping.Defuse(e.TargetKey), action(e.Status), mapping.Defuse(e.LastError)})
		}
	}
	w.Flush()
	return buf.Bytes()
}

func action(status string) string {
	switch status {
	case wave.ObjWouldCreate:
		return "create"
	case wave.ObjWouldMatch:
		return "match"
	case wave.ObjPending:
		return "pending"
	case wave.ObjSkipped:
		return "skip"
	}
	return "refuse"
}

// Package report renders a finished wave for people and tools: report.json (counts per phase, every
// failure with its phase, row and reason, the manual steps t2t cannot do), whatif.csv for a dry run,
// and MigrationState.json (the seed's materialized view). Pure functions over the manifest and the
// ledger, built once at the wave's end, never per object. Nothing here names a phase.
package report

import (
	"bytes"
	"io"
	"strings"
	"time"

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
	Writes map[string]int `json:"writes,omitempty"`
	// Times says when each phase started and settled (from its facts), where known.
	Times  map[string]Span `json:"times,omitempty"`
	Totals wave.Counts     `json:"totals"`
	// Failures lists the first MaxListed failures; FailuresTotal counts them all (failures.csv has every
	// one). Pending likewise for objects waiting for a later wave.
	Failures      []Failure `json:"failures"`
	FailuresTotal int       `json:"failuresTotal"`
	Pending       []Failure `json:"pending,omitempty"`
	PendingTotal  int       `json:"pendingTotal"`
	ManualSteps   []string  `json:"manualSteps"`
	Files         Files     `json:"files"`
}

// Span is when a phase started and when it settled.
type Span struct {
	StartedUtc time.Time `json:"startedUtc"`
	SettledUtc time.Time `json:"settledUtc"`
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
	Failures       string `json:"failures"` // failures.csv: every failed and pending object
}

// PhaseLedger is one phase's ledger entries and what it says must be done by hand.
type PhaseLedger struct {
	Name        string
	Entries     []state.LedgerEntry
	ManualSteps []string
}

// Build makes the report from the manifest and every phase's ledger entries held in memory (tests,
// small waves); finalize streams through a Builder instead.
func Build(m *wave.Manifest, phases []PhaseLedger, now time.Time) *Report {
	r, _ := build(m, phases, now, io.Discard, nil)
	return r
}

func build(m *wave.Manifest, phases []PhaseLedger, now time.Time, failures, whatif io.Writer) (*Report, error) {
	b := NewBuilder(m, now, failures, whatif)
	for _, ph := range phases {
		b.StartPhase(ph.Name)
		for _, e := range ph.Entries {
			b.Add(e)
		}
		b.EndPhase(ph.ManualSteps)
	}
	return b.Finish()
}

func failure(phase string, e state.LedgerEntry, unfinished string) Failure {
	reason := e.LastError
	if reason == "" {
		reason = unfinished
	}
	return Failure{Phase: phase, Row: e.Line, Source: e.Key, Name: e.Name, Destination: e.TargetKey, Reason: reason, Attempts: e.Attempts}
}

// WhatIfCSV renders a dry run's verdicts, one line per object of every phase (phase, row, source,
// destination, action, reason), phases in order and rows in row order within a chunk.
func WhatIfCSV(phases []PhaseLedger) []byte {
	var buf bytes.Buffer
	_, _ = build(&wave.Manifest{DryRun: true}, phases, time.Time{}, io.Discard, &buf)
	return buf.Bytes()
}

func action(status, note string) string {
	switch status {
	case wave.ObjWouldMatch:
		if strings.HasPrefix(note, wave.NoteConverted) {
			return "convert"
		}
		return "match"
	case wave.ObjWouldCreate:
		return "create"
	case wave.ObjPending:
		return "pending"
	case wave.ObjSkipped:
		return "skip"
	}
	return "refuse"
}

package wave

import (
	"encoding/json"
	"sort"
	"time"
)

// Fact kinds: what a step records, once, when it has happened. Facts are written idempotently (the
// same fact twice is one record) and never updated, so a wave's progress, phase completion and
// summary are derived from them in any order they arrive.
const (
	FactPlan  = "plan"  // a phase's start: how many export parts it has
	FactPart  = "part"  // an export part done: how many import chunks it queued
	FactChunk = "chunk" // an import chunk settled: its tallies
	// FactBucket sums the settled chunks of one bucket of BucketSize chunk numbers. It is the only fact
	// ever replaced, and only by one that counts more chunks, so it only grows; readers that must not
	// list every chunk (settling a phase, live progress) read buckets instead.
	FactBucket = "bucket"
)

// BucketSize is how many consecutive chunk numbers one bucket fact sums: settling a chunk reads at
// most this many chunk facts and one bucket per BucketSize chunks, whatever the wave's size.
const BucketSize = 64

// BucketOf is the bucket a chunk number belongs to.
func BucketOf(chunk int) int { return chunk / BucketSize }

// Fact is one record of the chunks table.
type Fact struct {
	Phase  string `json:"Phase"`
	Kind   string `json:"Kind"`
	Index  int    `json:"Index"`  // part or chunk number (0 for plan)
	Parts  int    `json:"Parts"`  // plan: export parts of the phase
	Chunks int    `json:"Chunks"` // part: import chunks it queued; bucket: chunks settled in it
	Writes int    `json:"Writes"` // chunk: Graph writes it issued (every attempt)
	// Throttled and Retried (chunk): Graph answers 429 it met, and attempts the transport retried.
	Throttled int `json:"Throttled,omitempty"`
	Retried   int `json:"Retried,omitempty"`
	// Utc is when the fact was recorded (set by the store); zero in facts written before it existed.
	Utc time.Time `json:"Utc,omitzero"`
	Counts
}

// PhaseProgress is how far one phase got, derived from its facts.
type PhaseProgress struct {
	Started    bool   `json:"started"`
	Parts      int    `json:"parts"`
	PartsDone  int    `json:"partsDone"`
	Chunks     int    `json:"chunks"` // declared by the parts done so far
	ChunksDone int    `json:"chunksDone"`
	Counts     Counts `json:"counts"`
	Writes     int    `json:"writes"`
	Throttled  int    `json:"throttled"`
	Retried    int    `json:"retried"`
	// FirstUtc and LastUtc are the times of the phase's first and latest facts: when it started and,
	// once Complete, when it settled. Zero (absent) for facts without times. Values, not pointers, so
	// that summaries compare with ==.
	FirstUtc time.Time `json:"firstUtc,omitzero"`
	LastUtc  time.Time `json:"lastUtc,omitzero"`
}

// Complete reports whether every export part is done and every chunk they queued has settled.
func (p PhaseProgress) Complete() bool {
	return p.Started && p.PartsDone >= p.Parts && p.ChunksDone >= p.Chunks
}

// stamp widens the phase's time span to include t.
func (p *PhaseProgress) stamp(t time.Time) {
	if t.IsZero() {
		return
	}
	if p.FirstUtc.IsZero() || t.Before(p.FirstUtc) {
		p.FirstUtc = t
	}
	if t.After(p.LastUtc) {
		p.LastUtc = t
	}
}

// Summarize derives each phase's progress from facts. Duplicates count once; order does not matter.
// A phase's chunk facts, when given, are the truth; its bucket facts stand in for them otherwise.
func Summarize(facts []Fact) map[string]*PhaseProgress {
	out := map[string]*PhaseProgress{}
	buckets := map[string]*PhaseProgress{}
	seen := map[[3]any]bool{}
	for _, f := range facts {
		key := [3]any{f.Phase, f.Kind, f.Index}
		if seen[key] {
			continue
		}
		seen[key] = true
		p := out[f.Phase]
		if p == nil {
			p = &PhaseProgress{}
			out[f.Phase] = p
		}
		p.stamp(f.Utc)
		switch f.Kind {
		case FactPlan:
			p.Started, p.Parts = true, f.Parts
		case FactPart:
			p.PartsDone++
			p.Chunks += f.Chunks
		case FactChunk:
			p.ChunksDone++
			p.Counts = p.Counts.Add(f.Counts)
			p.Writes += f.Writes
			p.Throttled += f.Throttled
			p.Retried += f.Retried
		case FactBucket:
			b := buckets[f.Phase]
			if b == nil {
				b = &PhaseProgress{}
				buckets[f.Phase] = b
			}
			b.ChunksDone += f.Chunks
			b.Counts = b.Counts.Add(f.Counts)
			b.Writes += f.Writes
			b.Throttled += f.Throttled
			b.Retried += f.Retried
		}
	}
	for name, b := range buckets {
		if p := out[name]; p.ChunksDone == 0 {
			p.ChunksDone, p.Counts, p.Writes, p.Throttled, p.Retried = b.ChunksDone, b.Counts, b.Writes, b.Throttled, b.Retried
		}
	}
	return out
}

// Event kinds on the progress queue. Each event states a fact (chunk 17 of phase X in version V
// settled with these counts), never an amount to add, so that a lost, late or repeated event is
// harmless: the summary is re-derived from the facts table.
const (
	EventWaveStarted   = "wave.started"
	EventPhaseStarted  = "phase.started"
	EventChunkSettled  = "chunk.settled"
	EventPhaseSettled  = "phase.settled"
	EventWaveCompleted = "wave.completed"
	// EventDeltaCompleted: a DeltaSync run of a migration ended (Migration, Status, Counts); it names
	// no wave, and its report is delta/<migration>/latest.json in the delta container.
	EventDeltaCompleted = "delta.completed"
)

// EventSchema names the version of the progress queue's message schema, carried in every event's
// "schema" field (docs/progress-events.md, docs/progress-events.schema.json). Within v1 changes are
// additive only; a breaking change makes it t2t.progress/v2.
const EventSchema = "t2t.progress/v1"

// Event is a message on the progress queue. Chunk is left out when it is 0 (absent means chunk 0).
type Event struct {
	// Schema is EventSchema in every event written (MarshalJSON sets it).
	Schema  string `json:"schema"`
	Kind    string `json:"kind"`
	Wave    string `json:"wave"`
	Version string `json:"version"`
	// Migration names the source→target pair of a delta.completed event.
	Migration string    `json:"migration,omitempty"`
	Phase     string    `json:"phase,omitempty"`
	Chunk     int       `json:"chunk,omitempty"`
	Counts    *Counts   `json:"counts,omitempty"`
	Status    string    `json:"status,omitempty"`
	Utc       time.Time `json:"utc"`
}

// MarshalJSON writes the event with its schema version, whoever built it.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	if e.Schema == "" {
		e.Schema = EventSchema
	}
	return json.Marshal(plain(e))
}

// Progress is waves/<wave>/progress.json and what `t2t watch` and WaveStatus show: the live summary
// of one version, derived from the facts table (never incremented per event).
type Progress struct {
	Wave       string                    `json:"wave"`
	Version    string                    `json:"version"`
	Status     string                    `json:"status"`
	Completed  bool                      `json:"completed"`
	Phases     map[string]*PhaseProgress `json:"phases"`
	Totals     Counts                    `json:"totals"`
	UpdatedUtc time.Time                 `json:"updatedUtc"`
}

// NewProgress builds the summary of a version from its facts and the manifest's status.
func NewProgress(m *Manifest, facts []Fact, now time.Time) *Progress {
	p := &Progress{Wave: m.Wave, Version: VersionOf(m), Status: m.Status, Phases: Summarize(facts), UpdatedUtc: now}
	p.Completed = m.Status != StatusRunning
	for _, ph := range p.Phases {
		p.Totals = p.Totals.Add(ph.Counts)
	}
	return p
}

// PhaseNames returns the summary's phases in the given order, then any others alphabetically.
func (p *Progress) PhaseNames(order []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range order {
		if _, ok := p.Phases[n]; ok {
			out = append(out, n)
			seen[n] = true
		}
	}
	var rest []string
	for n := range p.Phases {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

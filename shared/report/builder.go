package report

import (
	"io"
	"slices"
	"strconv"
	"time"

	"t2t/shared/csvout"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// MaxListed is how many failures (and pending objects) report.json lists; every one of them is in
// failures.csv, whatever the wave's size.
const MaxListed = 100

// Builder folds a wave's ledger into its report as the ledger is read, phase by phase and chunk by
// chunk, holding only the tallies, the first failures and one chunk's entries: a report of 100,000
// objects costs no more memory than one of 100. Failures (and pending objects) stream to failures.csv
// and, in a dry run, every verdict to whatif.csv.
type Builder struct {
	r        *Report
	failures *csvout.Writer
	whatif   *csvout.Writer
	phase    string
	counts   wave.Counts
	chunk    []state.LedgerEntry // the current ledger partition, written sorted by row
	shown    []Listed            // the first MaxShown failures and pending objects, for report.html
	err      error
}

// NewBuilder starts the report of m. failures receives failures.csv; whatif receives whatif.csv for a
// dry run (nil otherwise).
func NewBuilder(m *wave.Manifest, now time.Time, failures, whatif io.Writer) *Builder {
	b := &Builder{r: &Report{
		Wave: m.Wave, DryRun: m.DryRun, Version: wave.VersionOf(m), StartedUtc: m.CreatedUtc, CompletedUtc: now,
		Rows:    RowCounts{Total: m.TotalRows, Invalid: m.InvalidRows, Valid: m.ValidRows},
		Options: m.Options, Phases: map[string]wave.Counts{}, Failures: []Failure{}, ManualSteps: []string{},
		Files: Files{Manifest: wave.ManifestPath(m.Wave), Errors: wave.ErrorsPath(m.Wave), MigrationState: wave.StatePath(m.Wave),
			Failures: wave.FailuresPath(m.Wave)},
	}}
	b.failures = csvout.NewWriter(failures)
	b.write(b.failures, []string{"phase", "row", "source", "name", "destination", "status", "reason", "attempts"})
	if whatif != nil && m.DryRun {
		b.whatif = csvout.NewWriter(whatif)
		b.write(b.whatif, []string{"phase", "row", "source", "destination", "action", "reason"})
	}
	return b
}

func (b *Builder) write(w *csvout.Writer, rec []string) {
	if b.err == nil {
		b.err = w.Write(rec)
	}
}

// StartPhase begins the entries of one phase.
func (b *Builder) StartPhase(name string) {
	b.phase, b.counts, b.chunk = name, wave.Counts{}, b.chunk[:0]
}

// Add folds one ledger entry in. Entries come chunk by chunk (the ledger's partition order).
func (b *Builder) Add(e state.LedgerEntry) {
	if len(b.chunk) > 0 && b.chunk[0].Chunk != e.Chunk {
		b.flush()
	}
	b.chunk = append(b.chunk, e)
}

// flush writes the buffered chunk in row order.
func (b *Builder) flush() {
	slices.SortStableFunc(b.chunk, func(x, y state.LedgerEntry) int {
		if x.Line != y.Line {
			return x.Line - y.Line
		}
		if x.Key < y.Key {
			return -1
		}
		if x.Key > y.Key {
			return 1
		}
		return 0
	})
	for _, e := range b.chunk {
		b.counts = b.counts.With(e.Status)
		if b.whatif != nil {
			b.write(b.whatif, []string{b.phase, row(e.Line), source(e), e.TargetKey, action(e.Status, e.LastError), e.LastError})
		}
		var list *[]Failure
		switch {
		case e.Status == wave.ObjPending:
			list = &b.r.Pending
			b.r.PendingTotal++
		case e.Status != wave.ObjFailed && wave.Settled(e.Status):
			continue
		default:
			list = &b.r.Failures
			b.r.FailuresTotal++
		}
		f := failure(b.phase, e, "not finished (status "+e.Status+")")
		if len(*list) < MaxListed {
			*list = append(*list, f)
		}
		if len(b.shown) < MaxShown {
			b.shown = append(b.shown, Listed{Failure: f, Status: e.Status})
		}
		b.write(b.failures, []string{f.Phase, row(f.Row), f.Source, f.Name, f.Destination,
			e.Status, f.Reason, strconv.Itoa(f.Attempts)})
	}
	b.chunk = b.chunk[:0]
}

// Shown returns the first MaxShown failed and pending objects, in the order failures.csv lists them.
func (b *Builder) Shown() []Listed { return b.shown }

// Current returns the tallies of the phase so far (all of it, once its entries are added).
func (b *Builder) Current() wave.Counts {
	b.flush()
	return b.counts
}

// EndPhase closes the phase with the manual steps it asks for.
func (b *Builder) EndPhase(manual []string) wave.Counts {
	b.flush()
	b.r.Phases[b.phase] = b.counts
	b.r.PhaseOrder = append(b.r.PhaseOrder, b.phase)
	b.r.Totals = b.r.Totals.Add(b.counts)
	b.r.ManualSteps = append(b.r.ManualSteps, manual...)
	return b.counts
}

// Finish returns the report (and the first write error of the CSV streams, if any).
func (b *Builder) Finish() (*Report, error) {
	b.failures.Flush()
	if b.err == nil {
		b.err = b.failures.Error()
	}
	if b.whatif != nil {
		b.whatif.Flush()
		if b.err == nil {
			b.err = b.whatif.Error()
		}
	}
	r := b.r
	r.Status = wave.StatusCompleted
	if r.Totals.Failed > 0 || r.Rows.Invalid > 0 {
		r.Status = wave.StatusCompletedWithErrors
	}
	if r.DryRun {
		r.Files.WhatIf = wave.WhatIfPath(r.Wave)
		r.ManualSteps = []string{"Dry run: nothing was written to the target tenant. Review waves/" + r.Files.WhatIf +
			", then upload the file without the dry-run flag to migrate."}
	}
	return r, b.err
}

func row(line int) string {
	if line > 0 {
		return strconv.Itoa(line)
	}
	return ""
}

func source(e state.LedgerEntry) string {
	if e.Name != "" {
		return e.Name + " (" + e.Key + ")"
	}
	return e.Key
}

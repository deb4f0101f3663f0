package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"t2t/shared/wave"
)

// graphWriteQuota is Microsoft Graph's identity write quota per app per tenant: 3,000 requests per
// 150 seconds, i.e. 20 writes a second on average
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
const graphWriteQuota = 3000.0 / 150.0

// rateWindow is how far back the write rate looks. Writes are recorded when an import chunk settles,
// so the rate moves in steps; a window of several chunks smooths them.
const rateWindow = 15 * time.Second

// meter turns successive looks at a wave into rates and estimates.
type meter struct {
	quota   float64
	samples []writeSample
	order   []string // phases in the order they appeared
}

type writeSample struct {
	at     time.Time
	writes int
}

// metrics are a wave's totals, rate and estimate at one moment.
type metrics struct {
	Writes    int     `json:"writes"`
	Throttled int     `json:"throttled"`
	Retried   int     `json:"retried"`
	Rate      float64 `json:"writesPerSecond"` // over the last rateWindow; 0 until two looks apart
	Quota     float64 `json:"quotaPerSecond"`
	// WritesLeft estimates the Graph writes still needed by the chunks planned so far: each unsettled
	// chunk counts at its phase's average writes per settled chunk, or at one write per object
	// (ChunkSize) before any chunk of the phase has settled. Phases not started yet and chunks of
	// export parts not done are not known, so it is a lower bound while the wave runs.
	WritesLeft int `json:"writesLeftEstimate"`
	// ETA is WritesLeft at the quota: the planned work cannot finish sooner.
	ETA     time.Duration `json:"-"`
	ETASecs float64       `json:"etaSecondsAtLeast"`
	DryRun  bool          `json:"dryRun"`
}

func newMeter(quota float64) *meter { return &meter{quota: quota} }

// observe records a look at the wave's progress (nil before WaveStart) and returns the metrics. A
// dry run writes nothing to the target: no writes are left to estimate.
func (m *meter) observe(p *wave.Progress, dryRun bool, now time.Time) metrics {
	out := metrics{Quota: m.quota, DryRun: dryRun}
	if p == nil {
		return out
	}
	m.notePhases(p)
	for _, name := range m.order {
		ph := p.Phases[name]
		out.Writes += ph.Writes
		out.Throttled += ph.Throttled
		out.Retried += ph.Retried
		if ph.Complete() || dryRun {
			continue
		}
		perChunk := float64(wave.ChunkSize)
		if ph.ChunksDone > 0 {
			perChunk = float64(ph.Writes) / float64(ph.ChunksDone)
		}
		out.WritesLeft += int(math.Ceil(perChunk * float64(max(ph.Chunks-ph.ChunksDone, 0))))
	}
	m.samples = append(m.samples, writeSample{at: now, writes: out.Writes})
	for len(m.samples) > 2 && now.Sub(m.samples[1].at) >= rateWindow {
		m.samples = m.samples[1:]
	}
	if first := m.samples[0]; now.Sub(first.at) >= time.Second {
		out.Rate = float64(out.Writes-first.writes) / now.Sub(first.at).Seconds()
	}
	if m.quota > 0 {
		out.ETA = time.Duration(float64(out.WritesLeft) / m.quota * float64(time.Second)).Round(time.Second)
		out.ETASecs = out.ETA.Seconds()
	}
	return out
}

// notePhases appends the phases seen for the first time, in the order the wave started them (several
// new at once: by name).
func (m *meter) notePhases(p *wave.Progress) {
	var fresh []string
	for name := range p.Phases {
		if !slices.Contains(m.order, name) {
			fresh = append(fresh, name)
		}
	}
	sort.Strings(fresh)
	m.order = append(m.order, fresh...)
}

// line renders the metrics for a person.
func (x metrics) line() string {
	rate := "-"
	if x.Rate > 0 {
		rate = fmt.Sprintf("%.1f/s", x.Rate)
	}
	eta := fmt.Sprintf("ETA ≥ %s for ~%d writes planned so far", x.ETA, x.WritesLeft)
	if x.DryRun {
		eta = "dry run: nothing is written to the target"
	}
	return fmt.Sprintf("Graph writes %d at %s (quota %.0f/s) · throttled %d · retried %d · %s",
		x.Writes, rate, x.Quota, x.Throttled, x.Retried, eta)
}

package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"t2t/shared/ops"
)

// barRenderer draws the wave on a terminal with mpb: a headline (status, rows), a metrics line
// (writes against the quota, throttled, retried, ETA) and one bar per phase (chunks settled, counts
// by status, writes).
type barRenderer struct {
	p     *mpb.Progress
	lines []*mpb.Bar // the headline and the metrics line
	bars  map[string]*mpb.Bar

	mu     sync.Mutex // guards the texts the decorators read while mpb renders
	head   [2]string
	counts map[string]string
}

// newBarRenderer starts the bars on out; force draws them even when out is not a terminal (tests).
func newBarRenderer(ctx context.Context, out io.Writer, force bool) *barRenderer {
	opts := []mpb.ContainerOption{mpb.WithOutput(out), mpb.WithRefreshRate(150 * time.Millisecond), mpb.WithWidth(160)}
	if force {
		opts = append(opts, mpb.WithAutoRefresh()) // ForceTTY would ask a non-terminal for its size, and draw nothing
	}
	r := &barRenderer{p: mpb.NewWithContext(context.WithoutCancel(ctx), opts...), bars: map[string]*mpb.Bar{},
		counts: map[string]string{}, head: [2]string{"waiting for the function app to start the wave", ""}}
	for i := range r.head {
		r.lines = append(r.lines, r.p.New(0, mpb.NopStyle(), mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			r.mu.Lock()
			defer r.mu.Unlock()
			return r.head[i]
		}))))
	}
	return r
}

func (r *barRenderer) update(st ops.Status, x metrics, order []string) {
	r.mu.Lock()
	if m := st.Manifest; m != nil {
		r.head = [2]string{fmt.Sprintf("wave %s: %s, %d rows (%d rejected)", m.Wave, m.Status, m.TotalRows, m.InvalidRows), x.line()}
	}
	r.mu.Unlock()
	if st.Progress == nil {
		return
	}
	for _, name := range order {
		p := st.Progress.Phases[name]
		r.mu.Lock()
		text := fmt.Sprintf("%s · %d writes", ops.CountsText(p.Counts), p.Writes)
		if p.Throttled+p.Retried > 0 {
			text += fmt.Sprintf(" · %d throttled · %d retried", p.Throttled, p.Retried)
		}
		r.counts[name] = text
		r.mu.Unlock()
		b := r.bars[name]
		if b == nil {
			b = r.addBar(name)
		}
		if b.Completed() {
			continue
		}
		b.SetTotal(int64(p.Chunks), false) // chunks declared so far: grows as export parts finish
		b.SetCurrent(int64(p.ChunksDone))
		if p.Complete() {
			b.SetTotal(int64(p.ChunksDone), true)
		}
	}
}

func (r *barRenderer) addBar(name string) *mpb.Bar {
	// Created with no total, a bar completes only when told (SetTotal with forceComplete): the chunks
	// settled may catch up with those declared before every export part has declared its own.
	b := r.p.New(0, mpb.BarStyle().Lbound("[").Filler("=").Tip(">").Padding(" ").Rbound("]"),
		mpb.PrependDecorators(
			decor.Name(name, decor.WC{W: 18, C: decor.DindentRight}),
			decor.CountersNoUnit("%d/%d chunks", decor.WC{W: 16, C: decor.DindentRight}),
		),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			r.mu.Lock()
			defer r.mu.Unlock()
			return " " + r.counts[name]
		})),
		mpb.BarWidth(30),
	)
	r.bars[name] = b
	return b
}

func (r *barRenderer) finish(aborted bool) {
	for _, b := range r.bars {
		if !b.Completed() {
			if aborted {
				b.Abort(false)
			} else {
				b.SetTotal(-1, true)
			}
		}
	}
	for _, l := range r.lines {
		if aborted {
			l.Abort(false)
		} else {
			l.SetTotal(-1, true)
		}
	}
	r.p.Wait()
}

var _ renderer = (*barRenderer)(nil)

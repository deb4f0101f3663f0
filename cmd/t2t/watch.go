package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"t2t/shared/ops"
	"t2t/shared/wave"
)

type watchOptions struct {
	timeout, interval, startWait time.Duration
	progress                     string // auto, bars or plain
	quota                        float64
}

func (c *cli) watchCommand() *cobra.Command {
	o := watchOptions{}
	cmd := &cobra.Command{
		Use:   "watch WAVE",
		Short: "Follow a wave until it finishes: live progress, then its summary",
		Long: `watch follows a wave until every phase has settled and its report is written, then prints the
summary. On a terminal it draws one bar per phase (import chunks settled, objects created, matched,
skipped, pending and failed) under a line with the Graph writes, their rate against the write
quota (20 writes/s per app per tenant), throttled answers, retried attempts, and an ETA: the writes
the planned chunks still need at the quota (estimated from the writes per settled chunk; phases not
started yet are not counted, so it is a lower bound). Off a terminal (pipes, CI) it prints a plain
line per change instead; with -o json, one JSON object per change.

Exit code 0 when the wave completed without failures, 3 when it finished with failures or was
rejected, 6 when --timeout ran out, 4 when no wave of that name appears within --start-wait.`,
		Example:           "  t2t watch pilot\n  t2t watch pilot --timeout 30m --progress plain",
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: c.waveArg,
		RunE: c.runE(func(cmd *cobra.Command, a []string) error {
			switch o.progress {
			case "auto", "bars", "plain":
			default:
				return usageErrorf("--progress %q: want auto, bars or plain", o.progress)
			}
			if err := wave.CheckID(a[0]); err != nil {
				return withCode(exitUsage, err)
			}
			return c.watch(cmd.Context(), a[0], o)
		}),
	}
	f := cmd.Flags()
	f.DurationVar(&o.timeout, "timeout", 0, "give up after this long (exit code 6; 0: never)")
	f.DurationVar(&o.interval, "interval", time.Second, "how often to look at the wave")
	f.DurationVar(&o.startWait, "start-wait", 2*time.Minute, "how long to wait for the function app to start a wave just uploaded")
	f.StringVar(&o.progress, "progress", "auto", "auto (bars on a terminal, plain lines otherwise), bars or plain")
	f.Float64Var(&o.quota, "write-quota", graphWriteQuota, "Graph writes per second the ETA assumes (per app per tenant)")
	_ = cmd.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions([]string{"auto", "bars", "plain"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// renderer shows successive looks at a wave.
type renderer interface {
	update(st ops.Status, x metrics, order []string)
	// finish ends the display; aborted means the wave did not finish.
	finish(aborted bool)
}

func (c *cli) watch(ctx context.Context, id string, o watchOptions) error {
	acct, err := c.store.open(ctx, c.lookupEnv)
	if err != nil {
		return err
	}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	var r renderer
	switch {
	case c.json():
		r = &jsonRenderer{c: c}
	case o.progress == "bars" || (o.progress == "auto" && isTerminal(c.out)):
		r = newBarRenderer(ctx, c.out, o.progress == "bars" && !isTerminal(c.out))
	default:
		r = &plainRenderer{out: c.out}
	}
	m := newMeter(o.quota)
	began := time.Now()
	var st ops.Status
	for s, err := range ops.Watch(ctx, acct.store, id, o.interval) {
		if err != nil {
			r.finish(true)
			return watchError(id, err, acct)
		}
		st = s
		if st.Manifest == nil && time.Since(began) > o.startWait {
			r.finish(true)
			return withCode(exitNotFound, fmt.Errorf("no wave %s appeared within %s (was its file uploaded? t2t status lists the waves)", id, o.startWait))
		}
		r.update(st, m.observe(st.Progress, st.Manifest != nil && st.Manifest.DryRun, time.Now()), m.order)
	}
	r.finish(false)
	if c.json() {
		data, err := json.Marshal(map[string]any{"kind": "done", "wave": newWaveView(st, phaseOrder(st)), "report": st.Report})
		if err != nil {
			return err
		}
		if _, err := c.out.Write(append(data, '\n')); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(c.out)
		printSummary(c.out, st)
	}
	switch st.Manifest.Status {
	case wave.StatusRejected:
		return withCode(exitFailures, fmt.Errorf("wave %s was rejected: %s", id, st.Manifest.Reason))
	case wave.StatusCompletedWithErrors:
		return withCode(exitFailures, fmt.Errorf("wave %s finished with failures (%d objects failed, %d rows rejected)",
			id, st.Report.Totals.Failed, st.Report.Rows.Invalid))
	}
	return nil
}

func watchError(id string, err error, acct *account) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return withCode(exitTimeout, fmt.Errorf("wave %s has not finished: %w", id, err))
	case errors.Is(err, context.Canceled):
		return withCode(exitInterrupted, fmt.Errorf("stopped watching wave %s (it keeps running)", id))
	}
	return describeStorageError(acct.conn, err)
}

// phaseLine renders one phase's progress as text.
func phaseLine(name string, p *wave.PhaseProgress) string {
	return fmt.Sprintf("%s %s, chunks %d/%d: %s; writes %d, throttled %d, retried %d", name, phaseState(p),
		p.ChunksDone, p.Chunks, ops.CountsText(p.Counts), p.Writes, p.Throttled, p.Retried)
}

// plainRenderer prints a timestamped line for each change: fit for pipes and CI logs.
type plainRenderer struct {
	out     interface{ Write([]byte) (int, error) }
	status  string
	phases  map[string]string
	waiting bool
}

func (r *plainRenderer) update(st ops.Status, x metrics, order []string) {
	now := time.Now().Format("15:04:05")
	if st.Manifest == nil {
		if !r.waiting {
			fmt.Fprintf(r.out, "%s  waiting for the function app to start the wave\n", now)
			r.waiting = true
		}
		return
	}
	m := st.Manifest
	if line := fmt.Sprintf("wave %s: %s, %d rows (%d rejected)", m.Wave, m.Status, m.TotalRows, m.InvalidRows); line != r.status {
		fmt.Fprintf(r.out, "%s  %s\n", now, line)
		r.status = line
	}
	if st.Progress == nil {
		return
	}
	if r.phases == nil {
		r.phases = map[string]string{}
	}
	changed := false
	for _, name := range order {
		if line := phaseLine(name, st.Progress.Phases[name]); line != r.phases[name] {
			fmt.Fprintf(r.out, "%s  %s\n", now, line)
			r.phases[name], changed = line, true
		}
	}
	if changed {
		fmt.Fprintf(r.out, "%s  %s\n", now, x.line())
	}
}

func (r *plainRenderer) finish(bool) {}

// jsonRenderer prints one JSON object per change (newline-delimited JSON).
type jsonRenderer struct {
	c    *cli
	last string
}

func (r *jsonRenderer) update(st ops.Status, x metrics, order []string) {
	ev := map[string]any{"kind": "progress"}
	if st.Manifest != nil {
		v := newWaveView(st, order)
		v.UpdatedUtc = time.Time{} // not a change worth a line
		ev["wave"], ev["writes"] = v, x.Writes
	}
	key, _ := json.Marshal(ev)
	if string(key) == r.last {
		return
	}
	r.last = string(key)
	if st.Manifest != nil {
		ev["metrics"] = x
	}
	ev["utc"] = time.Now().UTC().Format(time.RFC3339)
	data, _ := json.Marshal(ev)
	_, _ = r.c.out.Write(append(data, '\n'))
}

func (r *jsonRenderer) finish(bool) {}

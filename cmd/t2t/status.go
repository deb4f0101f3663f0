package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

func (c *cli) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status [WAVE]",
		Short: "List the waves, or show one wave's phases and counts",
		Long: `status without an argument lists the waves of the storage account with their status and rows.
With a wave, it shows the wave's live progress, derived from the facts its steps recorded: per
phase the export parts and import chunks done, the objects created, matched, skipped, pending and
failed, and the Graph writes, throttled answers and retried attempts.`,
		Example:           "  t2t status\n  t2t status pilot -o json",
		Args:              args(cobra.MaximumNArgs(1)),
		ValidArgsFunction: c.waveArg,
		RunE: c.runE(func(cmd *cobra.Command, a []string) error {
			if len(a) == 0 {
				return c.listWaves(cmd.Context())
			}
			return c.waveStatus(cmd.Context(), a[0])
		}),
	}
}

// waveRow is one line of the wave list.
type waveRow struct {
	Wave       string    `json:"wave"`
	Status     string    `json:"status"`
	DryRun     bool      `json:"dryRun"`
	Rows       rowCounts `json:"rows"`
	Version    string    `json:"version"`
	UpdatedUtc time.Time `json:"updatedUtc"`
}

func (c *cli) listWaves(ctx context.Context) error {
	acct, err := c.store.open(ctx, c.lookupEnv)
	if err != nil {
		return err
	}
	ids, err := acct.store.Waves(ctx)
	if err != nil {
		return describeStorageError(acct.conn, err)
	}
	rows := []waveRow{}
	for _, id := range ids {
		var m wave.Manifest
		if _, err := acct.store.GetJSON(ctx, wave.ManifestPath(id), &m); errors.Is(err, state.ErrNotFound) {
			continue // a folder without a manifest is no wave
		} else if err != nil {
			return err
		}
		rows = append(rows, waveRow{Wave: m.Wave, Status: m.Status, DryRun: m.DryRun, Version: wave.VersionOf(&m),
			Rows: rowCounts{Total: m.TotalRows, Valid: m.ValidRows, Invalid: m.InvalidRows}, UpdatedUtc: m.UpdatedUtc})
	}
	if c.json() {
		return c.printJSON(map[string]any{"waves": rows})
	}
	if len(rows) == 0 {
		c.printf("no waves yet (t2t start FILE starts one)\n")
		return nil
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WAVE\tSTATUS\tROWS\tVALID\tREJECTED\tDRY RUN\tUPDATED (UTC)")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%t\t%s\n", r.Wave, r.Status, r.Rows.Total, r.Rows.Valid, r.Rows.Invalid,
			r.DryRun, r.UpdatedUtc.Format("2006-01-02 15:04:05"))
	}
	return tw.Flush()
}

// waveView is `t2t status WAVE -o json`: the manifest's facts and the live progress.
type waveView struct {
	Wave        string                         `json:"wave"`
	Version     string                         `json:"version"`
	Status      string                         `json:"status"`
	Reason      string                         `json:"reason,omitempty"`
	DryRun      bool                           `json:"dryRun"`
	Options     wave.Options                   `json:"options"`
	Rows        rowCounts                      `json:"rows"`
	Phases      map[string]*wave.PhaseProgress `json:"phases"`
	PhaseOrder  []string                       `json:"phaseOrder"`
	Totals      wave.Counts                    `json:"totals"`
	ReportReady bool                           `json:"reportReady"`
	CreatedUtc  time.Time                      `json:"createdUtc"`
	UpdatedUtc  time.Time                      `json:"updatedUtc,omitzero"`
}

func newWaveView(st ops.Status, order []string) waveView {
	m := st.Manifest
	v := waveView{Wave: m.Wave, Version: wave.VersionOf(m), Status: m.Status, Reason: m.Reason, DryRun: m.DryRun,
		Options: m.Options, Rows: rowCounts{Total: m.TotalRows, Valid: m.ValidRows, Invalid: m.InvalidRows},
		Phases: map[string]*wave.PhaseProgress{}, PhaseOrder: []string{}, ReportReady: st.Done() && st.Report != nil,
		CreatedUtc: m.CreatedUtc, UpdatedUtc: m.UpdatedUtc}
	if st.Progress != nil {
		v.Phases, v.Totals = st.Progress.Phases, st.Progress.Totals
		v.PhaseOrder = st.Progress.PhaseNames(order)
	}
	return v
}

// phaseOrder is the order phases are shown in: the report's (the registry's) once there is one,
// otherwise by name; watch keeps the order phases appeared in.
func phaseOrder(st ops.Status) []string {
	if st.Report != nil && st.Manifest != nil && st.Report.Version == wave.VersionOf(st.Manifest) {
		return st.Report.PhaseOrder
	}
	return nil
}

func (c *cli) waveStatus(ctx context.Context, id string) error {
	acct, _, err := c.needWave(ctx, id)
	if err != nil {
		return err
	}
	st, err := ops.Look(ctx, acct.store, id)
	if err != nil {
		return describeStorageError(acct.conn, err)
	}
	v := newWaveView(st, phaseOrder(st))
	if c.json() {
		return c.printJSON(v)
	}
	c.printf("wave %s (version %s): %s", v.Wave, v.Version, v.Status)
	if v.DryRun {
		c.printf(" (dry run)")
	}
	c.printf("\n  rows: %d total, %d valid, %d rejected (waves/%s)\n", v.Rows.Total, v.Rows.Valid, v.Rows.Invalid, wave.ErrorsPath(id))
	if v.Reason != "" {
		c.printf("  the file was refused: %s\n", v.Reason)
	}
	if len(v.PhaseOrder) == 0 {
		c.printf("  no phase has started yet\n")
		return nil
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  PHASE\tSTATE\tPARTS\tCHUNKS\tCREATED\tMATCHED\tSKIPPED\tPENDING\tFAILED\tWRITES\tTHROTTLED\tRETRIED")
	for _, name := range v.PhaseOrder {
		p := v.Phases[name]
		fmt.Fprintf(tw, "  %s\t%s\t%d/%d\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", name, phaseState(p), p.PartsDone, p.Parts,
			p.ChunksDone, p.Chunks, p.Counts.Created, p.Counts.Matched, p.Counts.Skipped, p.Counts.Pending, p.Counts.Failed,
			p.Writes, p.Throttled, p.Retried)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if v.ReportReady {
		c.printf("  report: t2t report %s\n", id)
	}
	return nil
}

func phaseState(p *wave.PhaseProgress) string {
	switch {
	case p.Complete():
		return "settled"
	case p.Started:
		return "running"
	}
	return "waiting"
}

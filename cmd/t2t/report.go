package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

func (c *cli) reportCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "report WAVE",
		Short: "Print a finished wave's report (table, json, csv or html)",
		Long: `report prints the report finalize wrote when every phase of the wave settled: per phase the objects
created, matched, skipped, pending and failed and the Graph writes, every failure with its reason,
and the manual steps. --format table (default) and json read waves/WAVE/report.json; csv and html
print the waves/WAVE/report.csv and report.html documents as they are stored.
A wave still running has no report yet (exit code 5); a rejected wave has none at all (its status
and reason are printed instead).`,
		Example:           "  t2t report pilot\n  t2t report pilot --format html > pilot.html",
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: c.waveArg,
		RunE: c.runE(func(cmd *cobra.Command, a []string) error {
			if format == "" {
				format = c.output
			}
			switch format {
			case tableFormat, jsonFormat, "csv", "html":
			default:
				return usageErrorf("--format %q: want table, json, csv or html", format)
			}
			return c.report(cmd.Context(), a[0], format)
		}),
	}
	cmd.Flags().StringVar(&format, "format", "", "table, json, csv or html (default: --output)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"table", "json", "csv", "html"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (c *cli) report(ctx context.Context, id, format string) error {
	acct, _, err := c.needWave(ctx, id)
	if err != nil {
		return err
	}
	if format == "csv" || format == "html" {
		path := wave.ReportCSVPath(id)
		if format == "html" {
			path = wave.ReportHTMLPath(id)
		}
		data, _, err := acct.store.GetBytes(ctx, path)
		if errors.Is(err, state.ErrNotFound) {
			return withCode(exitNotFound, fmt.Errorf("waves/%s does not exist: the wave has not finished, was rejected, "+
				"or the function app that finalized it does not write %s reports", path, format))
		}
		if err != nil {
			return describeStorageError(acct.conn, err)
		}
		_, err = c.out.Write(data)
		return err
	}
	st, err := ops.Look(ctx, acct.store, id)
	if err != nil {
		return describeStorageError(acct.conn, err)
	}
	current := st.Report != nil && st.Report.Version == wave.VersionOf(st.Manifest)
	if !current && st.Manifest.Status != wave.StatusRejected {
		return withCode(exitNotAvailable, fmt.Errorf("wave %s is %s: its report is %w; it is written once every phase "+
			"has settled (t2t watch %s)", id, st.Manifest.Status, errNotAvailable, id))
	}
	if format == jsonFormat {
		if !current {
			return c.printJSON(newWaveView(st, nil)) // a rejected wave: its status and reason
		}
		return c.printJSON(st.Report)
	}
	printSummary(c.out, st)
	return nil
}

// printSummary renders a wave's outcome for a person: rows, per-phase counts and writes, failures
// with reasons, pending objects, where the documents are, and the manual steps.
func printSummary(out io.Writer, st ops.Status) {
	m := st.Manifest
	fmt.Fprintf(out, "wave %s: %s\n", m.Wave, m.Status)
	if m.Reason != "" {
		fmt.Fprintf(out, "  the file was refused: %s\n", m.Reason)
	}
	fmt.Fprintf(out, "  rows: %d total, %d valid, %d rejected (waves/%s)\n", m.TotalRows, m.ValidRows, m.InvalidRows, wave.ErrorsPath(m.Wave))
	r := st.Report
	if r == nil || r.Version != wave.VersionOf(m) {
		return
	}
	if r.DryRun {
		fmt.Fprintf(out, "  dry run (what would happen; verdicts in waves/%s):\n", r.Files.WhatIf)
	}
	for _, name := range r.PhaseOrder {
		fmt.Fprintf(out, "  %-18s %s (%d Graph writes)\n", name+":", ops.CountsText(r.Phases[name]), r.Writes[name])
	}
	for _, f := range r.Failures {
		where := f.Source
		if f.Name != "" {
			where = f.Name + " (" + f.Source + ")"
		}
		if f.Row > 0 {
			where = fmt.Sprintf("row %d %s", f.Row, where)
		}
		fmt.Fprintf(out, "    %s %s -> %s: %s\n", f.Phase, where, f.Destination, f.Reason)
	}
	if r.FailuresTotal > len(r.Failures) {
		fmt.Fprintf(out, "    ... %d failures in all (waves/%s)\n", r.FailuresTotal, r.Files.Failures)
	}
	if len(r.Pending) > 0 {
		fmt.Fprintf(out, "  pending (completed when a later wave migrates what they wait for): %d\n", r.PendingTotal)
	}
	fmt.Fprintf(out, "  report: waves/%s\n  state:  waves/%s\n", wave.ReportPath(m.Wave), wave.StatePath(m.Wave))
	if len(r.ManualSteps) > 0 {
		fmt.Fprintln(out, "  manual steps:")
		for _, s := range r.ManualSteps {
			fmt.Fprintf(out, "    - %s\n", s)
		}
	}
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

func (c *cli) cutoverCommand() *cobra.Command {
	var o struct {
		dryRun, yes, noWait bool
		timeout             time.Duration
	}
	var cmd *cobra.Command
	cmd = &cobra.Command{
		Use:   "cutover WAVE",
		Short: "Flip a finished wave's users to their target identity (asks first)",
		Long: `cutover queues the cutover of a finished wave for the function app (the CLI never talks to Graph).
Per user, in order and stopping at a user's first failure: the target account is converted to an
internal member (destination UPN, temporary password in Key Vault for cloud users), then the source
account is invited as a B2B user pointing at the target identity (no mail). Each step reads first
and writes only what is missing, so running it again changes nothing.

It asks for confirmation unless --yes is given; without a terminal to ask on, it refuses. --dry-run
lists what it would do in waves/WAVE/cutover-whatif.csv and writes nothing to either tenant. It then
waits for the run's report (waves/WAVE/cutover.json) unless --no-wait; exit code 3 means some users
failed (the report says why), 6 that --timeout ran out.`,
		Example:           "  t2t cutover pilot --dry-run\n  t2t cutover pilot\n  t2t cutover pilot --yes --no-wait",
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: c.waveArg,
		RunE: c.onWave(func(ctx context.Context, acct *account, id string) error {
			if !o.dryRun && !o.yes {
				if err := confirm(cmd, fmt.Sprintf("Cut over wave %s: convert its target users to internal members and link their source accounts to them? Type yes: ", id)); err != nil {
					return err
				}
			}
			run, err := ops.CutoverOn(ctx, acct.clients, acct.store, id, o.dryRun)
			if err != nil {
				if errors.Is(err, state.ErrNotFound) {
					return withCode(exitNotFound, err)
				}
				return describeStorageError(acct.conn, err)
			}
			if o.noWait {
				if c.json() {
					return c.printJSON(map[string]any{"wave": id, "run": run, "dryRun": o.dryRun, "report": "waves/" + wave.CutoverReportPath(id)})
				}
				c.printf("cutover of wave %s queued as run %s (dry run: %t); its report will be waves/%s\n", id, run, o.dryRun, wave.CutoverReportPath(id))
				return nil
			}
			r, err := waitCutover(ctx, acct.store, id, run, o.timeout)
			if err != nil {
				return err
			}
			return c.printCutover(r)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&o.dryRun, "dry-run", false, "list what the cutover would do (waves/WAVE/cutover-whatif.csv); write nothing")
	f.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	f.BoolVar(&o.noWait, "no-wait", false, "queue the cutover and return without waiting for its report")
	f.DurationVar(&o.timeout, "timeout", 30*time.Minute, "how long to wait for the report")
	return cmd
}

// confirm asks on the command's input and accepts only "yes"; no input (not a terminal, or closed)
// is a refusal, so that a script never cuts over by accident.
func confirm(cmd *cobra.Command, question string) error {
	fmt.Fprint(cmd.ErrOrStderr(), question)
	answer, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if strings.TrimSpace(strings.ToLower(answer)) != "yes" {
		return withCode(exitUsage, errors.New("not confirmed: nothing was done (answer yes, or pass --yes)"))
	}
	return nil
}

// waitCutover polls the wave's cutover report until it is the one of run.
func waitCutover(ctx context.Context, store *state.Store, id, run string, timeout time.Duration) (*wave.CutoverReport, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		r, err := ops.CutoverReport(ctx, store, id)
		switch {
		case err == nil && r.Run == run:
			return r, nil
		case err != nil && !errors.Is(err, state.ErrNotFound):
			return nil, err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, withCode(exitTimeout, fmt.Errorf("cutover run %s of wave %s has no report after %s", run, id, timeout))
			}
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

func (c *cli) printCutover(r *wave.CutoverReport) error {
	failed := len(r.Failed) + r.MoreFailed
	if c.json() {
		if err := c.printJSON(r); err != nil {
			return err
		}
	} else {
		c.printf("cutover of wave %s (run %s, dry run: %t)\n", r.Wave, r.Run, r.DryRun)
		for _, step := range []string{"convertToInternal", "inviteToB2B"} {
			if n, ok := r.Steps[step]; ok {
				c.printf("  %-18s %s\n", step, ops.CountsText(n))
			}
		}
		for _, f := range r.Failed {
			c.printf("  failed %s: %s -> %s: %s\n", f.Step, f.Source, f.Destination, f.Reason)
		}
		if r.MoreFailed > 0 {
			c.printf("  ... and %d more failures in waves/%s\n", r.MoreFailed, wave.CutoverReportPath(r.Wave))
		}
		for _, n := range r.Notes {
			c.printf("  note: %s\n", n)
		}
	}
	if failed > 0 {
		return withCode(exitFailures, fmt.Errorf("cutover of wave %s: %d users failed", r.Wave, failed))
	}
	return nil
}

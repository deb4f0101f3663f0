package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// domainReport is the part of a domain move step's report the CLI prints.
type domainReport struct {
	Action   string   `json:"action"`
	Domain   string   `json:"domain"`
	DryRun   bool     `json:"dryRun"`
	Run      string   `json:"run"`
	Refused  string   `json:"refused,omitempty"`
	Blocking int      `json:"blocking"`
	Notes    []string `json:"notes,omitempty"`
	Items    []struct {
		Kind       string `json:"kind"`
		Name       string `json:"name"`
		Field      string `json:"field"`
		Original   string `json:"original"`
		Manual     string `json:"manual,omitempty"`
		Freed      string `json:"freed,omitempty"`
		FreeStatus string `json:"freeStatus,omitempty"`
		MoveStatus string `json:"moveStatus,omitempty"`
		Reason     string `json:"reason,omitempty"`
	} `json:"items"`
}

func (c *cli) domainCommand() *cobra.Command {
	var o struct {
		dryRun, yes bool
		timeout     time.Duration
	}
	var cmd *cobra.Command
	cmd = &cobra.Command{
		Use:   "domain ACTION DOMAIN",
		Short: "Move a vanity domain from the source tenant to the target, one explicit step at a time",
		Long: `domain runs one step of a vanity-domain move in the function app (the CLI never talks to Graph),
waits for its report (waves/_domainmoves/DOMAIN/ACTION.json) and prints it. The steps, in order:

  plan    list every source object still using the domain
  free    move those objects to the source's initial domain (manual steps for what Graph cannot change)
  remove  delete the domain from the source; refused while anything uses it
  add     add the domain to the target and print the DNS records to publish
  verify  verify it in the target; refused while the source still holds it
  move    put the migrated target objects on the domain; refused until it is verified

No step runs another. Every step reads before it writes, so running it again changes nothing; use
--dry-run first. Steps that write ask for confirmation unless --yes is given. Exit code 3 means the
step was refused (the report says why).`,
		Example:   "  t2t domain plan contoso.com\n  t2t domain free contoso.com --dry-run\n  t2t domain free contoso.com --yes",
		Args:      args(cobra.ExactArgs(2)),
		ValidArgs: wave.DomainActions,
		RunE: c.runE(func(cmd *cobra.Command, a []string) error {
			action, domain := a[0], strings.ToLower(a[1])
			if !slices.Contains(wave.DomainActions, action) {
				return withCode(exitUsage, fmt.Errorf("unknown step %q: want one of %s", action, strings.Join(wave.DomainActions, ", ")))
			}
			if action != "plan" && !o.dryRun && !o.yes {
				if err := confirm(cmd, fmt.Sprintf("Run '%s' of the move of %s for real? Type yes: ", action, domain)); err != nil {
					return err
				}
			}
			acct, err := c.store.open(cmd.Context(), c.lookupEnv)
			if err != nil {
				return err
			}
			run, err := ops.DomainOn(cmd.Context(), acct.clients, domain, action, o.dryRun || action == "plan")
			if err != nil {
				return withCode(exitUsage, err)
			}
			r, err := waitDomain(cmd.Context(), acct.store, domain, action, run, o.timeout)
			if err != nil {
				return err
			}
			return c.printDomain(r)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&o.dryRun, "dry-run", false, "say what the step would change; change nothing")
	f.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "how long to wait for the report")
	return cmd
}

// waitDomain polls a domain step's report until it is the one of run.
func waitDomain(ctx context.Context, store *state.Store, domain, action, run string, timeout time.Duration) (*domainReport, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var r domainReport
		_, err := store.GetJSON(ctx, wave.DomainReportPath(domain, action), &r)
		switch {
		case err == nil && r.Run == run:
			return &r, nil
		case err != nil && !errors.Is(err, state.ErrNotFound):
			return nil, err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, withCode(exitTimeout, fmt.Errorf("domain %s step %s (run %s) has no report after %s", domain, action, run, timeout))
			}
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

func (c *cli) printDomain(r *domainReport) error {
	if c.json() {
		if err := c.printJSON(r); err != nil {
			return err
		}
	} else {
		c.printf("domain %s: %s (dry run: %t); %d source objects still use it\n", r.Domain, r.Action, r.DryRun, r.Blocking)
		for _, it := range r.Items {
			status := it.FreeStatus
			if r.Action == "move" {
				status = it.MoveStatus
			}
			c.printf("  %-11s %-28s %-17s %s %s %s\n", it.Kind, it.Name, it.Field, it.Original, status, it.Reason)
			if it.Manual != "" {
				c.printf("      manual: %s\n", it.Manual)
			}
		}
		for _, n := range r.Notes {
			c.printf("  note: %s\n", n)
		}
	}
	if r.Refused != "" {
		return withCode(exitFailures, fmt.Errorf("domain %s: %s refused: %s", r.Domain, r.Action, r.Refused))
	}
	return nil
}

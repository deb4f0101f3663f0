package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

func (c *cli) startCommand() *cobra.Command {
	var o struct {
		name, caState string
		dryRun        bool
		phases        []string
		rewrite       []string
		partner       bool
		mode          string
		cutoverAt     string
		licenses      []string
		ppEnvs        []string
		devicePlan    bool
		workloads     []string
	}
	cmd := &cobra.Command{
		Use:   "start FILE",
		Short: "Start a wave: upload its mapping file to the mappings container",
		Long: `start uploads a mapping file to the mappings container of the storage account, which starts the
wave named after the file (or --wave) when the function app picks it up. The options ride on the
upload as blob metadata. Uploading the identical file again changes nothing; a changed file runs
the wave again as a new version. Follow it with 't2t watch WAVE'.`,
		Example: `  t2t start usermapping.csv --wave pilot
  t2t start usermapping.csv --dry-run
  t2t start usermapping.csv --phases users,groups --rewrite contoso.com=fabrikam.com --ca-state reportOnly`,
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: csvFiles,
		RunE: c.runE(func(cmd *cobra.Command, a []string) error {
			var phases []string
			for _, p := range o.phases {
				for _, name := range strings.Split(p, ",") {
					if name = strings.TrimSpace(name); name != "" {
						phases = append(phases, name)
					}
				}
			}
			// The same parser WaveStart reads the metadata with, so a bad option fails here and not
			// in the function app. Phase names are WaveStart's to check (the registry links Graph).
			meta := map[string]string{wave.PhasesMetadataKey: strings.Join(phases, ","),
				wave.DomainsMetadataKey: strings.Join(o.rewrite, ","), wave.CAStateMetadataKey: o.caState,
				wave.LicensesMetadataKey: strings.Join(o.licenses, ","), wave.PowerPlatformMetadataKey: strings.Join(o.ppEnvs, ","),
				wave.WorkloadsMetadataKey: strings.Join(o.workloads, ",")}
			opts, err := wave.ParseOptions(func(k string) string { return meta[k] }, "", phases)
			if err != nil {
				return withCode(exitUsage, err)
			}
			ca := ""
			if opts.CAState == wave.CAReportOnly {
				ca = "reportOnly"
			}
			up := &ops.UploadOptions{DryRun: o.dryRun, Phases: opts.Phases, DomainMap: opts.DomainMap, CAState: ca, Partner: o.partner,
				LicenseMap: opts.LicenseMap, PowerPlatformEnvironments: opts.PowerPlatformEnvironments, DevicePlan: o.devicePlan, Workloads: opts.Workloads}
			switch o.mode {
			case "", "internal":
			case wave.ModeCoexistence:
				up.Mode = wave.ModeCoexistence
			default:
				return withCode(exitUsage, fmt.Errorf("--mode %q: want internal or coexistence", o.mode))
			}
			if o.cutoverAt != "" {
				at, err := time.Parse(time.RFC3339, o.cutoverAt)
				if err != nil {
					return withCode(exitUsage, fmt.Errorf("--cutover-at %q: want an RFC 3339 time such as 2026-12-05T22:00:00Z", o.cutoverAt))
				}
				up.CutoverAt = at
			}
			return c.start(cmd.Context(), a[0], o.name, up)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.name, "wave", "", "wave name (default: the file's name, e.g. 'Wave 1.csv' -> wave-1)")
	f.BoolVar(&o.dryRun, "dry-run", false, "validate and plan only: whatif.csv says what would happen; nothing is written to the target")
	f.StringSliceVar(&o.phases, "phases", nil, "phases to run, comma-separated or repeated (default: all)")
	f.StringArrayVar(&o.rewrite, "rewrite", nil, "domain rewrite old=new, repeatable (default: the app's T2T_DOMAIN_MAP)")
	f.StringVar(&o.caState, "ca-state", "", "conditional access policies are created disabled (default) or reportOnly; t2t never enables one")
	f.BoolVar(&o.partner, "partner", false, "ensure a cross-tenant access partner entry for the source tenant in the target")
	f.StringVar(&o.mode, "mode", "", "internal (default): create member accounts; coexistence: invite external members until 't2t cutover'")
	f.StringSliceVar(&o.workloads, "workloads", nil, "content to move with cross-tenant migration jobs at cutover: Exchange, ODSP (OneDrive and SharePoint), Teams (the contentJobs phase; default: none)")
	f.BoolVar(&o.devicePlan, "device-plan", false, "write devices.csv: the wave users' devices with their source and target UPNs and SIDs, and a suggested action")
	f.StringSliceVar(&o.ppEnvs, "power-platform-env", nil, "Power Platform environment id to move to the target, repeatable (the powerPlatform phase; needs the app setting T2T_POWER_PLATFORM=enabled)")
	f.StringArrayVar(&o.licenses, "license", nil, "licence map SOURCE_SKU=TARGET_SKU by skuPartNumber, repeatable (the licenses phase; default: none)")
	f.StringVar(&o.cutoverAt, "cutover-at", "", "RFC 3339 time the wave's cutover is planned for (default: on request only)")
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"internal", "coexistence"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("ca-state", cobra.FixedCompletions([]string{"disabled", "reportOnly"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

type startResult struct {
	Wave   string `json:"wave"`
	Blob   string `json:"blob"`
	DryRun bool   `json:"dryRun"`
}

func (c *cli) start(ctx context.Context, file, name string, o *ops.UploadOptions) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return withCode(exitNotFound, fmt.Errorf("reading the mapping file: %w", err))
	}
	blobName := filepath.Base(file)
	if name != "" {
		blobName = name + ".csv"
	}
	id, err := wave.IDFromBlob(blobName)
	if err != nil {
		return withCode(exitUsage, err)
	}
	acct, err := c.store.open(ctx, c.lookupEnv)
	if err != nil {
		return err
	}
	var prev wave.Manifest
	if _, err := acct.store.GetJSON(ctx, wave.ManifestPath(id), &prev); err == nil {
		// The wave exists: until WaveStart takes this file (an identical file it ignores), the wave's
		// status, watch and report are about that version.
		c.note("wave %s already exists (version %s, %s); it shows that version until the function app starts this file",
			id, wave.VersionOf(&prev), prev.Status)
	}
	if err := ops.UploadTo(ctx, acct.clients, blobName, data, o); err != nil {
		return describeStorageError(acct.conn, err)
	}
	res := startResult{Wave: id, Blob: state.MappingsContainer + "/" + blobName, DryRun: o.DryRun}
	if c.json() {
		return c.printJSON(res)
	}
	kind := "wave"
	if o.DryRun {
		kind = "dry run of wave"
	}
	c.printf("uploaded %s: %s %s starts when the function app picks it up (t2t watch %s)\n", res.Blob, kind, id, id)
	return nil
}

// needWave opens storage and checks that the wave exists.
func (c *cli) needWave(ctx context.Context, id string) (*account, *wave.Manifest, error) {
	if err := wave.CheckID(id); err != nil {
		return nil, nil, withCode(exitUsage, err)
	}
	acct, err := c.store.open(ctx, c.lookupEnv)
	if err != nil {
		return nil, nil, err
	}
	var m wave.Manifest
	if _, err := acct.store.GetJSON(ctx, wave.ManifestPath(id), &m); errors.Is(err, state.ErrNotFound) {
		return nil, nil, errNoWave(id)
	} else if err != nil {
		return nil, nil, describeStorageError(acct.conn, err)
	}
	return acct, &m, nil
}

// onWave is the RunE of a command on an existing wave (its one argument): fn gets the opened account.
func (c *cli) onWave(fn func(ctx context.Context, acct *account, id string) error) func(*cobra.Command, []string) error {
	return c.runE(func(cmd *cobra.Command, a []string) error {
		acct, _, err := c.needWave(cmd.Context(), a[0])
		if err != nil {
			return err
		}
		return fn(cmd.Context(), acct, a[0])
	})
}

func (c *cli) retryCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "retry WAVE",
		Short: "Run a wave's mapping file again: failed rows are retried, migrated ones kept",
		Long: `retry uploads the wave's current mapping file again with a new retry token, which WaveStart runs
as a new version of the wave with the same options: users already migrated are settled from the id
map without a Graph write, failed and pending objects are tried again.`,
		Example:           "  t2t retry pilot",
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: c.waveArg,
		RunE: c.onWave(func(ctx context.Context, acct *account, id string) error {
			prev, err := ops.RetryOn(ctx, acct.clients, acct.store, id)
			if err != nil {
				return describeStorageError(acct.conn, err)
			}
			if c.json() {
				return c.printJSON(map[string]string{"wave": id, "previousVersion": prev})
			}
			c.printf("wave %s: its mapping file runs again (was version %s); failed rows are retried, migrated ones are kept\n", id, prev)
			return nil
		}),
	}
}

func (c *cli) rollbackCommand() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "rollback WAVE",
		Short: "Delete what t2t created in a wave (queued for the function app)",
		Long: `rollback queues a rollback step (the CLI never talks to Graph). In reverse phase order the function
app deletes what t2t created in the wave according to the id map, removes memberships and app role
assignments it added to objects it did not create, skips objects changed since, and never touches
matched objects. The result is in waves/WAVE/rollback.json. --dry-run only lists what it would delete.`,
		Example:           "  t2t rollback pilot --dry-run\n  t2t rollback pilot",
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: c.waveArg,
		RunE: c.onWave(func(ctx context.Context, acct *account, id string) error {
			if err := ops.RollbackOn(ctx, acct.clients, id, dryRun); err != nil {
				return describeStorageError(acct.conn, err)
			}
			if c.json() {
				return c.printJSON(map[string]any{"wave": id, "dryRun": dryRun, "result": "waves/" + wave.RollbackPath(id)})
			}
			c.printf("rollback of wave %s queued (dry run: %t); the result will be in waves/%s\n", id, dryRun, wave.RollbackPath(id))
			return nil
		}),
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be deleted (waves/WAVE/rollback.json) and delete nothing")
	return cmd
}

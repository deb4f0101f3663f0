package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

func storageFlag(fs *flag.FlagSet) *string {
	return fs.String("storage", os.Getenv("AzureWebJobsStorage"), "storage connection string")
}

func startCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("start", flag.ExitOnError)
	conn := storageFlag(fs)
	file := fs.String("file", "", "usermapping CSV to upload")
	name := fs.String("wave", "", "wave name (default: the file's name)")
	dryRun := fs.Bool("dry-run", false, "validate and plan only (whatif.csv); write nothing to the target")
	phasesFlag := fs.String("phases", "", "comma-separated phases to run (default: all)")
	rewrite := fs.String("rewrite", "", "domain rewrite map, source.example=target.example[,...] (default: the app's T2T_DOMAIN_MAP)")
	caState := fs.String("ca-state", "", "conditional access policies are created disabled (default) or reportOnly")
	partner := fs.Bool("partner", false, "ensure a cross-tenant access partner entry for the source tenant in the target")
	_ = fs.Parse(args)
	domains, err := wave.ParseDomainMap(*rewrite)
	if err != nil {
		return err
	}
	var phaseList []string
	for _, p := range strings.Split(*phasesFlag, ",") {
		if p = strings.TrimSpace(p); p != "" {
			phaseList = append(phaseList, p)
		}
	}
	if *file == "" || *conn == "" {
		return errors.New("start needs -file and a storage connection")
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	blobName := filepath.Base(*file)
	if *name != "" {
		blobName = *name + ".csv"
	}
	id, err := wave.IDFromBlob(blobName)
	if err != nil {
		return err
	}
	o := &ops.UploadOptions{DryRun: *dryRun, Phases: phaseList, DomainMap: domains, CAState: *caState, Partner: *partner}
	if err := ops.UploadWith(ctx, *conn, blobName, data, o); err != nil {
		return err
	}
	kind := "wave"
	if *dryRun {
		kind = "dry run of wave"
	}
	fmt.Printf("uploaded mappings/%s: %s %s starts when the function app picks it up\n", blobName, kind, id)
	return nil
}

func watchCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("watch", flag.ExitOnError)
	conn := storageFlag(fs)
	id := fs.String("wave", "", "wave name")
	timeout := fs.Duration("timeout", 0, "give up after this long (0: never)")
	_ = fs.Parse(args)
	store, err := openStore(ctx, *conn, *id)
	if err != nil {
		return err
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	st, err := follow(ctx, store, *id, os.Stdout)
	if err != nil {
		return err
	}
	printSummary(os.Stdout, st)
	return nil
}

func retryCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("retry", flag.ExitOnError)
	conn := storageFlag(fs)
	id := fs.String("wave", "", "wave name")
	_ = fs.Parse(args)
	store, err := openStore(ctx, *conn, *id)
	if err != nil {
		return err
	}
	prev, err := ops.Retry(ctx, *conn, store, *id)
	if err != nil {
		return err
	}
	fmt.Printf("wave %s: its mapping file runs again (was version %s); failed rows are retried, migrated ones are kept\n", *id, prev)
	return nil
}

func reportCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	conn := storageFlag(fs)
	id := fs.String("wave", "", "wave name")
	asJSON := fs.Bool("json", false, "print report.json as is")
	_ = fs.Parse(args)
	store, err := openStore(ctx, *conn, *id)
	if err != nil {
		return err
	}
	st, err := ops.Look(ctx, store, *id)
	if err != nil {
		return err
	}
	if st.Manifest == nil {
		return fmt.Errorf("no wave %s", *id)
	}
	if *asJSON {
		// Always JSON: the report once the wave has one, otherwise the wave's status and progress
		// (a rejected file has no report; its reason is in the manifest).
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if st.Report != nil && st.Report.Version == wave.VersionOf(st.Manifest) {
			return enc.Encode(st.Report)
		}
		return enc.Encode(map[string]any{"wave": st.Manifest.Wave, "status": st.Manifest.Status, "reason": st.Manifest.Reason,
			"rows":     map[string]int{"total": st.Manifest.TotalRows, "invalid": st.Manifest.InvalidRows, "valid": st.Manifest.ValidRows},
			"progress": st.Progress, "errors": wave.ErrorsPath(st.Manifest.Wave)})
	}
	printSummary(os.Stdout, st)
	return nil
}

func openStore(ctx context.Context, conn, id string) (*state.Store, error) {
	if conn == "" {
		return nil, errors.New("no storage connection: pass -storage or set AzureWebJobsStorage")
	}
	if err := wave.CheckID(id); err != nil {
		return nil, err
	}
	return state.Open(ctx, conn)
}

// follow prints a line whenever the wave's status changes, until it is done.
func follow(ctx context.Context, store *state.Store, id string, out *os.File) (ops.Status, error) {
	var last string
	var st ops.Status
	for s, err := range ops.Watch(ctx, store, id, 500*time.Millisecond) {
		if err != nil {
			return s, err
		}
		st = s
		if line := s.Line(); line != last {
			fmt.Fprintf(out, "%s  %s\n", time.Now().Format("15:04:05"), line)
			last = line
		}
	}
	return st, nil
}

func printSummary(out *os.File, st ops.Status) {
	m := st.Manifest
	fmt.Fprintf(out, "\nwave %s: %s\n", m.Wave, m.Status)
	if m.Reason != "" {
		fmt.Fprintf(out, "  the file was refused: %s\n", m.Reason)
	}
	fmt.Fprintf(out, "  rows: %d total, %d valid, %d rejected (waves/%s)\n", m.TotalRows, m.ValidRows, m.InvalidRows, wave.ErrorsPath(m.Wave))
	r := st.Report
	if r == nil {
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
	if len(r.Pending) > 0 {
		fmt.Fprintf(out, "  pending (completed when a later wave migrates what they wait for): %d\n", len(r.Pending))
	}
	fmt.Fprintf(out, "  report: waves/%s\n  state:  waves/%s\n", wave.ReportPath(m.Wave), wave.StatePath(m.Wave))
	if len(r.ManualSteps) > 0 {
		fmt.Fprintln(out, "  manual steps:")
		for _, s := range r.ManualSteps {
			fmt.Fprintf(out, "    - %s\n", s)
		}
	}
}

func rollbackCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rollback", flag.ExitOnError)
	conn := storageFlag(fs)
	id := fs.String("wave", "", "wave to roll back")
	dryRun := fs.Bool("dry-run", false, "list what would be deleted (waves/<wave>/rollback.json) and delete nothing")
	_ = fs.Parse(args)
	if *id == "" || *conn == "" {
		return errors.New("rollback needs -wave and a storage connection")
	}
	if err := ops.Rollback(ctx, *conn, *id, *dryRun); err != nil {
		return err
	}
	fmt.Printf("rollback of wave %s queued (dry run: %t); the result will be in waves/%s\n", *id, *dryRun, wave.RollbackPath(*id))
	return nil
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"t2t/shared/localstack"
	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

type stackFlags struct {
	bin, tenants, source, target, logFile, simState *string
}

func addStackFlags(fs *flag.FlagSet) stackFlags {
	return stackFlags{
		bin:      fs.String("bin", "bin", "folder with handler, funchost and tenantsim"),
		tenants:  fs.String("tenants", "demo/tenants.json", "simulator tenants file"),
		source:   fs.String("source", "contoso", "source tenant name in the tenants file"),
		target:   fs.String("target", "fabrikam", "target tenant name in the tenants file"),
		logFile:  fs.String("log", ".local/stack.log", "where the stack's processes log"),
		simState: fs.String("sim-state", "", "simulator state folder: simulated tenants survive a restart"),
	}
}

func (f stackFlags) start(ctx context.Context) (*localstack.Stack, io.Closer, error) {
	if err := os.MkdirAll(filepath.Dir(*f.logFile), 0o755); err != nil {
		return nil, nil, err
	}
	logs, err := os.Create(*f.logFile)
	if err != nil {
		return nil, nil, err
	}
	bin, _ := filepath.Abs(*f.bin)
	tenants, _ := filepath.Abs(*f.tenants)
	s, err := localstack.StartStack(ctx, localstack.StackOptions{BinDir: bin, Tenants: tenants,
		Source: *f.source, Target: *f.target, Logs: logs, SimState: *f.simState})
	if err != nil {
		logs.Close()
		return nil, nil, fmt.Errorf("%w (see %s)", err, *f.logFile)
	}
	return s, logs, nil
}

func demoCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	sf := addStackFlags(fs)
	csv := fs.String("csv", "demo/usermapping.csv", "mapping file to migrate")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	_ = fs.Parse(args)
	data, err := os.ReadFile(*csv)
	if err != nil {
		return err
	}
	fmt.Println("starting the local stack: Azurite, simulated tenants (contoso -> fabrikam), local Functions host ...")
	s, logs, err := sf.start(ctx)
	if err != nil {
		return err
	}
	defer logs.Close()
	defer s.Stop()
	fmt.Printf("  storage   %s\n  graph     %s\n  functions %s\n  logs      %s\n\n", "http://127.0.0.1:"+fmt.Sprint(s.Azurite.BlobPort), s.GraphURL, s.FunctionsURL, *sf.logFile)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	name := filepath.Base(*csv)
	id, err := wave.IDFromBlob(name)
	if err != nil {
		return err
	}
	if err := ops.Upload(ctx, s.Azurite.ConnectionString(), name, data); err != nil {
		return err
	}
	fmt.Printf("uploaded mappings/%s (%d bytes): wave %s\n", name, len(data), id)
	store, err := state.Open(ctx, s.Azurite.ConnectionString())
	if err != nil {
		return err
	}
	st, err := follow(ctx, store, id, os.Stdout)
	if err != nil {
		return fmt.Errorf("watching wave %s: %w", id, err)
	}
	printSummary(os.Stdout, st)
	fmt.Printf("\nstatus over HTTP was at %s/waves/%s; everything started is now stopped.\n", s.FunctionsURL, id)
	return nil
}

func stackCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stack", flag.ExitOnError)
	sf := addStackFlags(fs)
	_ = fs.Parse(args)
	s, logs, err := sf.start(ctx)
	if err != nil {
		return err
	}
	defer logs.Close()
	defer s.Stop()
	fmt.Printf("local stack is up (Ctrl-C stops it)\n  export AzureWebJobsStorage=%q\n  graph     %s\n  vault     %s\n  functions %s\n  logs      %s\n",
		s.Azurite.ConnectionString(), s.GraphURL, s.VaultURL, s.FunctionsURL, *sf.logFile)
	<-ctx.Done()
	return nil
}

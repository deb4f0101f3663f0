package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"t2t/shared/localstack"
	"t2t/shared/wave"
)

type stackFlags struct {
	bin, tenants, source, target, logFile, simState string
}

func (f *stackFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.bin, "bin", "bin", "folder with handler, funchost, tenantsim and t2t")
	fs.StringVar(&f.tenants, "tenants", "demo/tenants.json", "simulator tenants file")
	fs.StringVar(&f.source, "source", "contoso", "source tenant name in the tenants file")
	fs.StringVar(&f.target, "target", "fabrikam", "target tenant name in the tenants file")
	fs.StringVar(&f.logFile, "log", ".local/stack.log", "where the stack's processes log")
	fs.StringVar(&f.simState, "sim-state", "", "simulator state folder: simulated tenants survive a restart")
}

func (f *stackFlags) start(ctx context.Context) (*localstack.Stack, io.Closer, error) {
	if err := os.MkdirAll(filepath.Dir(f.logFile), 0o755); err != nil {
		return nil, nil, err
	}
	logs, err := os.Create(f.logFile)
	if err != nil {
		return nil, nil, err
	}
	bin, _ := filepath.Abs(f.bin)
	tenants, _ := filepath.Abs(f.tenants)
	s, err := localstack.StartStack(ctx, localstack.StackOptions{BinDir: bin, Tenants: tenants,
		Source: f.source, Target: f.target, Logs: logs, SimState: f.simState})
	if err != nil {
		logs.Close()
		return nil, nil, fmt.Errorf("%w (see %s)", err, f.logFile)
	}
	return s, logs, nil
}

func demoCommand() *cobra.Command {
	var sf stackFlags
	var csv string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a wave end to end on the embedded local stack, followed with 't2t watch'",
		Long: `demo starts the local stack (Azurite, simulated tenants, local Functions host), starts a wave with
't2t start', follows it with 't2t watch' (live bars on a terminal, plain lines otherwise) and
stops everything it started. The demo file has deliberately invalid rows, so the wave finishes
with failures (t2t watch exit code 3); that is the demo succeeding.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return demo(cmd.Context(), &sf, csv, timeout)
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVar(&csv, "csv", "demo/usermapping.csv", "mapping file to migrate")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long")
	return cmd
}

func demo(ctx context.Context, sf *stackFlags, csv string, timeout time.Duration) error {
	if _, err := os.Stat(csv); err != nil {
		return err
	}
	t2t, _ := filepath.Abs(filepath.Join(sf.bin, "t2t"))
	fmt.Println("starting the local stack: Azurite, simulated tenants (contoso -> fabrikam), local Functions host ...")
	s, logs, err := sf.start(ctx)
	if err != nil {
		return err
	}
	defer logs.Close()
	defer s.Stop()
	fmt.Printf("  storage   http://127.0.0.1:%d\n  graph     %s\n  functions %s\n  logs      %s\n\n", s.Azurite.BlobPort, s.GraphURL, s.FunctionsURL, sf.logFile)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id, err := wave.IDFromBlob(filepath.Base(csv))
	if err != nil {
		return err
	}
	env := append(os.Environ(), "AzureWebJobsStorage="+s.Azurite.ConnectionString())
	for _, argv := range [][]string{{"start", csv}, {"watch", id}} {
		fmt.Printf("$ t2t %s %s\n", argv[0], argv[1])
		c := exec.CommandContext(ctx, t2t, argv...)
		c.Env, c.Stdout, c.Stderr = env, os.Stdout, os.Stderr
		err := c.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) && argv[0] == "watch" && exit.ExitCode() == 3 {
			err = nil // finished with the demo file's deliberate failures
		}
		if err != nil {
			return fmt.Errorf("t2t %s: %w", argv[0], err)
		}
	}
	fmt.Printf("\nstatus over HTTP was at %s/waves/%s; everything started is now stopped.\n", s.FunctionsURL, id)
	return nil
}

func stackCommand() *cobra.Command {
	var sf stackFlags
	cmd := &cobra.Command{
		Use:   "stack",
		Short: "Run the embedded local stack until Ctrl-C, for rehearsals with the t2t CLI",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, logs, err := sf.start(cmd.Context())
			if err != nil {
				return err
			}
			defer logs.Close()
			defer s.Stop()
			fmt.Printf("local stack is up (Ctrl-C stops it)\n  export AzureWebJobsStorage=%q\n  graph     %s\n  vault     %s\n  functions %s\n  logs      %s\n",
				s.Azurite.ConnectionString(), s.GraphURL, s.VaultURL, s.FunctionsURL, sf.logFile)
			<-cmd.Context().Done()
			return nil
		},
	}
	sf.register(cmd.Flags())
	return cmd
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// cli is one run of the command line: where it writes, what it reads from the environment, and the
// persistent flags every command shares.
type cli struct {
	out, errOut io.Writer
	lookupEnv   func(string) (string, bool)

	output string // table or json
	store  storageFlags

	// ran is set once a command's RunE starts: an error before that is the command line's.
	ran bool
}

const (
	tableFormat = "table"
	jsonFormat  = "json"
)

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, out, errOut io.Writer, lookupEnv func(string) (string, bool)) int {
	c := &cli{out: out, errOut: errOut, lookupEnv: lookupEnv}
	root := c.rootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := codeOf(err)
	if !c.ran && code == exitFailed {
		code = exitUsage // cobra's own errors: unknown command or flag, wrong number of arguments
	}
	fmt.Fprintf(errOut, "t2t: %v\n", err)
	if code == exitUsage {
		fmt.Fprintln(errOut, "Run 't2t --help' or 't2t <command> --help' for usage.")
	}
	return code
}

func (c *cli) getenv(name string) string {
	v, _ := c.lookupEnv(name)
	return v
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "t2t",
		Short: "Operate t2t tenant-to-tenant migration waves",
		Long: `t2t operates migration waves of the t2t function app. It talks to the app's storage account,
never to Microsoft Graph: it validates mapping files offline, starts a wave by uploading its file,
watches waves, prints their status and reports, and queues retries and rollbacks.

Storage: --storage or AzureWebJobsStorage (a connection string; locally Azurite's, printed by
'make stack'), or --account-url (or AzureWebJobsStorage__accountName, __blobServiceUri,
__queueServiceUri, __tableServiceUri) with DefaultAzureCredential: az login, environment
credentials, workload or managed identity. A deployed account allows no shared key, so the URL
form is what a real deployment needs; the identity needs the Storage Blob, Queue and Table Data
Contributor roles on the account.

` + exitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if c.output != tableFormat && c.output != jsonFormat {
				return usageErrorf("--output %q: want table or json", c.output)
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return withCode(exitUsage, err) })
	pf := root.PersistentFlags()
	pf.StringVarP(&c.output, "output", "o", tableFormat, "output format: table or json")
	c.store.register(pf)
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{tableFormat, jsonFormat}, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(c.validateCommand(), c.startCommand(), c.watchCommand(), c.statusCommand(), c.reportCommand(),
		c.retryCommand(), c.rollbackCommand(), c.cutoverCommand(), c.domainCommand())
	root.SetOut(c.out)
	root.SetErr(c.errOut)
	root.InitDefaultCompletionCmd() // now, so that its scripts go to c.out
	for _, cmd := range root.Commands() {
		if cmd.Name() == "completion" {
			// cobra's completion command answers an unknown shell with its help and exit code 0.
			cmd.Args = cobra.ArbitraryArgs
			cmd.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return cmd.Help()
				}
				return usageErrorf("completion %s: want bash, zsh, fish or powershell", args[0])
			}
		}
	}
	return root
}

// runE wraps a command's work: it marks that the command line parsed, so that later errors keep
// their own exit codes.
func (c *cli) runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c.ran = true
		return fn(cmd, args)
	}
}

// args checks the positional arguments with a cobra validator, as a usage error.
func args(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := v(cmd, a); err != nil {
			return withCode(exitUsage, err)
		}
		return nil
	}
}

// json reports whether the output is JSON.
func (c *cli) json() bool { return c.output == jsonFormat }

// printJSON writes v as indented JSON.
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printf writes human output (table mode).
func (c *cli) printf(format string, a ...any) {
	fmt.Fprintf(c.out, format, a...)
}

// note writes a remark that is not the command's result to stderr, so that JSON on stdout stays
// parseable.
func (c *cli) note(format string, a ...any) {
	fmt.Fprintf(c.errOut, "note: "+format+"\n", a...)
}

// isTerminal reports whether w is a terminal (a character device), not a pipe, file or CI log.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// waveArg is the completion of a WAVE argument: the waves in storage, when it can be reached.
func (c *cli) waveArg(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	acct, err := c.store.open(cmd.Context(), c.lookupEnv)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ids, err := acct.store.Waves(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, id := range ids {
		if strings.HasPrefix(id, toComplete) {
			out = append(out, id)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// errNoWave is the not-found error of a wave id.
func errNoWave(id string) error {
	return withCode(exitNotFound, fmt.Errorf("no wave %s in this storage account (t2t status lists the waves)", id))
}

var errNotAvailable = errors.New("not available yet")

// Command t2t is the operator's CLI. It talks to storage, never to Graph: it starts waves by uploading
// mapping files, watches them and prints their reports. `t2t demo` and `t2t stack` also run the
// embedded local stack (Azurite, simulated tenants, local Functions host).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: t2t <command> [flags]

commands:
  start  -file F [-wave NAME] [-dry-run] [-phases P,..] [-rewrite old=new,..] [-ca-state reportOnly] [-partner]
                                upload a usermapping CSV to the mappings container (starts a wave;
                                a dry run writes whatif.csv and nothing to the target)
  watch  -wave NAME             follow a wave until it finishes, then print its summary
  report -wave NAME             print a wave's report
  retry  -wave NAME             run a wave's file again: failed rows are retried, migrated ones kept
  rollback -wave NAME [-dry-run] delete what t2t created in the wave (users and groups to the recycle bin)
  demo   [-csv F] [-bin DIR]    run a wave end to end on the embedded local stack
  stack  [-bin DIR]             run the embedded local stack until Ctrl-C
  sample [-tenants F] [-rows N] write a demo mapping file for a simulator tenants file to stdout

Storage comes from -storage or the AzureWebJobsStorage environment variable.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "start":
		err = startCmd(ctx, args)
	case "watch":
		err = watchCmd(ctx, args)
	case "report":
		err = reportCmd(ctx, args)
	case "retry":
		err = retryCmd(ctx, args)
	case "rollback":
		err = rollbackCmd(ctx, args)
	case "demo":
		err = demoCmd(ctx, args)
	case "stack":
		err = stackCmd(ctx, args)
	case "sample":
		err = sampleCmd(ctx, args)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "t2t: unknown command %q\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "t2t:", err)
		os.Exit(1)
	}
}

// Command t2t-lab is the rehearsal kit: it runs the embedded local stack (Azurite, simulated tenants,
// the local Functions host running the handler) for a demo wave or for rehearsals with the t2t CLI,
// and writes sample mapping files for a simulator tenants file. It links the tenant simulator and
// the local stack; the operator's t2t binary links neither.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := &cobra.Command{
		Use:           "t2t-lab",
		Short:         "Rehearse t2t on one machine: the local stack, a demo wave, sample mapping files",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.AddCommand(demoCommand(), stackCommand(), sampleCommand())
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "t2t-lab:", err)
		os.Exit(1)
	}
}

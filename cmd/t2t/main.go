// Command t2t is the operator's CLI. It talks to storage, never to Graph: it validates mapping files
// offline, starts waves by uploading them, watches waves, prints their status and reports, and queues
// retries and rollbacks. It links neither the tenant simulator nor the local stack: rehearsals
// (demo, stack, sample) are the separate t2t-lab binary.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

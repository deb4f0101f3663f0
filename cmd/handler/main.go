// Command handler is the Azure Functions custom handler of t2t: the host starts it, sets
// FUNCTIONS_CUSTOMHANDLER_PORT, and POSTs each invocation to /<FunctionName>.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on T2T_PPROF's address, for profiling the handler in benchmarks
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"t2t/handlers"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		os.Exit(1)
	}
}

// softMemoryLimit is the Go heap's soft limit unless GOMEMLIMIT sets one. The handler's live heap is
// a few tens of MiB, but it serves up to two dozen invocations at once and their garbage (Graph and
// storage responses) piles up between collections; with the default GOGC alone a burst of them took
// the process past 250 MiB in one 50,000-row run out of three. Near the limit the collector runs
// sooner instead.
const softMemoryLimit = 160 << 20

func run() error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = "8080"
	}
	settings, err := handlers.SettingsFromEnv()
	if err != nil {
		return err
	}
	app := handlers.NewApp(settings)
	if addr := os.Getenv("T2T_PPROF"); addr != "" {
		// Profiling for benchmarks (make bench-rows): loopback only, never set in Azure.
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
	srv := &http.Server{Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fmt.Errorf("listening on port %s: %w", port, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		// Let in-flight invocations finish: one killed between a create and its record costs a
		// conflict lookup on retry.
		shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	app.Log.Info("t2t handler listening", "port", port)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-drained
	return nil
}

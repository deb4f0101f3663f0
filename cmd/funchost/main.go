// Command funchost is the project's local Azure Functions host: it stands in for Azure Functions Core
// Tools (func start), which cannot be installed here. It reads host.json and the function.json files,
// starts the custom handler and fires queue, blob, timer and HTTP triggers against Azurite.
//
//	funchost -root DIR [-settings local.settings.json] [-port 7071] [-handler PATH]
//
// Settings come from local.settings.json "Values"; process environment variables override them.
// SIGINT or SIGTERM stops polling, waits for in-flight invocations, then stops the handler.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"t2t/shared/funchost"
)

func main() {
	var cfg funchost.Config
	flag.StringVar(&cfg.Root, "root", ".", "function app folder holding host.json and the function folders")
	flag.StringVar(&cfg.SettingsFile, "settings", "", "local.settings.json file (default ROOT/local.settings.json if present)")
	flag.IntVar(&cfg.Port, "port", 0, "HTTP port on 127.0.0.1 (default local.settings.json Host.LocalHttpPort, else 7071)")
	flag.StringVar(&cfg.Handler, "handler", "", "handler executable (default host.json customHandler.description.defaultExecutablePath)")
	flag.DurationVar(&cfg.BlobScanInterval, "blob-scan", time.Second, "how often blob-triggered containers are listed")
	flag.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to wait for in-flight invocations on shutdown")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "funchost: unexpected arguments %v\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := funchost.Run(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "funchost: %v\n", err)
		os.Exit(1)
	}
}

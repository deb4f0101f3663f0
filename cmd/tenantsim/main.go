// Command tenantsim runs the t2t tenant simulator: simulated Entra token endpoints, Microsoft Graph and
// Key Vault for the tenants of a config file, over HTTPS with its own CA.
//
//	tenantsim -config shared/simulator/testdata/tenants.json -ca-out /tmp/sim-ca.pem -ready-file /tmp/sim.json
//
// When both listeners are up it prints the endpoints as one JSON line on stdout and, with -ready-file,
// writes the same JSON to that file, so a parent process can find them. SIGINT or SIGTERM shut it down
// gracefully (saving the state folder when -state is set).
//
// For benchmarks, -throttle enforces Graph's documented throttling, -time-scale 10 runs its windows
// (and Retry-After and replication lag) ten times faster, and -replication-lag 2s hides new objects
// for two (simulated) seconds. Runtime changes go through PUT /_sim/settings.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"t2t/shared/simulator"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tenantsim:", err)
		os.Exit(1)
	}
}

func run() error {
	configPath := flag.String("config", "", "tenants config file (JSON); empty means the built-in example (contoso, fabrikam)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address for Graph, the token endpoint and /_sim/")
	vaultAddr := flag.String("vault-addr", "127.0.0.1:0", "listen address for the Key Vault secrets API")
	caOut := flag.String("ca-out", "", "write the CA certificate (PEM) to this file")
	readyFile := flag.String("ready-file", "", "write {graphURL, vaultURL, caFile} as JSON to this file once listening")
	stateDir := flag.String("state", "", "state folder: CA, signing key and store, loaded at start and saved periodically and on exit")
	verbose := flag.Bool("v", false, "log every request to stderr")
	throttle := flag.Bool("throttle", false, "enforce Graph's documented throttling limits (overrides the config's throttling.enabled)")
	timeScale := flag.Float64("time-scale", 0, "compress throttling windows, Retry-After and replication lag by this factor (0: the config's)")
	lag := flag.Duration("replication-lag", -1, "replication lag of every tenant, e.g. 2s (negative: the config's)")
	deltaLifetime := flag.Duration("delta-token-lifetime", 0, "validity of users/delta and groups/delta tokens (0: Graph's 7 days)")
	flag.Parse()
	cfg := simulator.ExampleConfig()
	if *configPath != "" {
		var err error
		if cfg, err = simulator.LoadConfig(*configPath); err != nil {
			return err
		}
	}
	if err := applyControlFlags(cfg, *throttle, *timeScale, *lag); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	srv, err := simulator.New(cfg, &simulator.Options{GraphAddr: *addr, VaultAddr: *vaultAddr, StateDir: *stateDir, Logger: logger,
		DeltaTokenLifetime: *deltaLifetime})
	if err != nil {
		return err
	}
	if *caOut != "" {
		if err := srv.WriteCA(*caOut); err != nil {
			return err
		}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := srv.Start(context.Background()); err != nil {
		return err
	}
	if err := announce(srv.URLs(), *readyFile); err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	<-ctx.Done()
	logger.Info("shutting down")
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	return srv.Shutdown(shutdownCtx)
}

// applyControlFlags lays the command-line controls over the configuration. Settings saved in a -state
// folder through the admin API still win at startup (PUT /_sim/settings to change them).
func applyControlFlags(cfg *simulator.Config, throttle bool, timeScale float64, lag time.Duration) error {
	if throttle || timeScale > 0 {
		if cfg.Throttling == nil {
			cfg.Throttling = &simulator.ThrottlingConfig{}
		}
		cfg.Throttling.Enabled = cfg.Throttling.Enabled || throttle
		if timeScale > 0 {
			cfg.Throttling.TimeScale = timeScale
		}
	}
	if lag >= 0 {
		for i := range cfg.Tenants {
			cfg.Tenants[i].ReplicationLag = simulator.Duration(lag)
		}
	}
	return cfg.Validate()
}

// announce prints the endpoints on stdout and writes them to readyFile (through a rename, so a parent
// polling for the file never reads half of it).
func announce(urls simulator.URLs, readyFile string) error {
	data, err := json.Marshal(urls)
	if err != nil {
		return fmt.Errorf("encoding endpoints: %w", err)
	}
	fmt.Println(string(data))
	if readyFile == "" {
		return nil
	}
	tmp := filepath.Join(filepath.Dir(readyFile), "."+filepath.Base(readyFile)+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing ready file: %w", err)
	}
	if err := os.Rename(tmp, readyFile); err != nil {
		return fmt.Errorf("writing ready file: %w", err)
	}
	return nil
}

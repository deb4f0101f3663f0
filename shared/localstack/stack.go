package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"t2t/shared/simulator"
)

// StackOptions says where the binaries and the tenants file are.
type StackOptions struct {
	// BinDir holds handler, funchost and tenantsim (make build puts them in bin/).
	BinDir string
	// Tenants is the simulator's tenants file; Source and Target name two of its tenants.
	Tenants        string
	Source, Target string
	// Root holds host.json and functions/; empty means the module root.
	Root string
	// Logs receives the children's output; nil discards it.
	Logs io.Writer
	// Env adds app settings for the handler (e.g. tighter Graph pacing in tests).
	Env map[string]string
	// SimState, when set, is the simulator's state folder: tenants, settings and CA survive a restart.
	SimState string
	// DeltaTokenLifetime, when set, is how long the simulator's delta tokens stay valid (Graph: about
	// seven days), so that a test can see one expire.
	DeltaTokenLifetime time.Duration
	// MeterStorage counts every storage request of the stack (Stack.Meter), for benchmarks.
	MeterStorage bool
}

// Stack is the embedded local stack: Azurite, the tenant simulator and the local Functions host
// running the handler, each a real child process.
type Stack struct {
	Azurite        *Azurite
	GraphURL       string // https://127.0.0.1:port (token endpoint and Graph)
	VaultURL       string
	CAFile         string
	FunctionsURL   string // http://127.0.0.1:port/api
	SourceTenantID string
	TargetTenantID string
	ClientID       string
	// Meter counts storage requests when StackOptions.MeterStorage is set.
	Meter        *StorageMeter
	clientSecret string
	dir          string
	procs        []*exec.Cmd
}

// StartStack starts everything and returns once each part answers.
func StartStack(ctx context.Context, o StackOptions) (s *Stack, err error) {
	cfg, err := simulator.LoadConfig(o.Tenants)
	if err != nil {
		return nil, err
	}
	s = &Stack{}
	if err := s.pickTenants(cfg, o.Source, o.Target); err != nil {
		return nil, err
	}
	if s.dir, err = os.MkdirTemp("", "t2t-stack-"); err != nil {
		return nil, fmt.Errorf("creating stack folder: %w", err)
	}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if s.Azurite, err = StartAzurite(ctx, &AzuriteOptions{Dir: filepath.Join(s.dir, "azurite")}); err != nil {
		return nil, err
	}
	if o.MeterStorage {
		if s.Meter, err = MeterAzurite(s.Azurite); err != nil {
			return nil, err
		}
	}
	if err := s.startSimulator(ctx, o); err != nil {
		return nil, err
	}
	if err := s.startFunctions(ctx, o); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stack) pickTenants(cfg *simulator.Config, source, target string) error {
	byName := map[string]simulator.TenantConfig{}
	for _, t := range cfg.Tenants {
		byName[t.Name] = t
	}
	src, ok1 := byName[source]
	tgt, ok2 := byName[target]
	if !ok1 || !ok2 {
		return fmt.Errorf("tenants file has no tenant named %q or %q", source, target)
	}
	for _, c := range src.Clients {
		for _, d := range tgt.Clients {
			if strings.EqualFold(c.ClientID, d.ClientID) {
				s.SourceTenantID, s.TargetTenantID, s.ClientID, s.clientSecret = src.ID, tgt.ID, c.ClientID, c.Secret
				return nil
			}
		}
	}
	return fmt.Errorf("no client is registered in both %s and %s", source, target)
}

func (s *Stack) startSimulator(ctx context.Context, o StackOptions) error {
	ready := filepath.Join(s.dir, "sim-ready.json")
	s.CAFile = filepath.Join(s.dir, "sim-ca.pem")
	args := []string{"-config", o.Tenants, "-addr", "127.0.0.1:0", "-vault-addr", "127.0.0.1:0",
		"-ca-out", s.CAFile, "-ready-file", ready}
	if o.SimState != "" {
		args = append(args, "-state", o.SimState)
	}
	if o.DeltaTokenLifetime > 0 {
		args = append(args, "-delta-token-lifetime", o.DeltaTokenLifetime.String())
	}
	cmd := exec.Command(filepath.Join(o.BinDir, "tenantsim"), args...)
	if err := s.start(cmd, o.Logs); err != nil {
		return fmt.Errorf("starting tenantsim: %w", err)
	}
	var urls struct {
		GraphURL string `json:"graphURL"`
		VaultURL string `json:"vaultURL"`
	}
	if err := waitFile(ctx, ready, 30*time.Second, &urls); err != nil {
		return fmt.Errorf("waiting for tenantsim: %w", err)
	}
	s.GraphURL, s.VaultURL = strings.TrimRight(urls.GraphURL, "/"), urls.VaultURL
	return nil
}

// DefaultDeltaSchedule is the DeltaSync timer's schedule (T2T_DELTA_SCHEDULE): every 15 minutes.
const DefaultDeltaSchedule = "0 */15 * * * *"

// Settings are the handler's app settings on this stack (what local.settings.json holds).
func (s *Stack) Settings() map[string]string {
	return map[string]string{
		"AzureWebJobsStorage":      s.Azurite.ConnectionString(),
		"FUNCTIONS_WORKER_RUNTIME": "custom",
		"T2T_SOURCE_TENANT_ID":     s.SourceTenantID,
		"T2T_TARGET_TENANT_ID":     s.TargetTenantID,
		"T2T_CLIENT_ID":            s.ClientID,
		"T2T_CLIENT_SECRET":        s.clientSecret,
		"T2T_AUTHORITY_HOST":       s.GraphURL + "/",
		"T2T_GRAPH_BASE_URL":       s.GraphURL + "/v1.0",
		"T2T_CA_FILE":              s.CAFile,
		"T2T_KEYVAULT_URL":         s.VaultURL,
		"T2T_DELTA_SCHEDULE":       DefaultDeltaSchedule,
	}
}

func (s *Stack) startFunctions(ctx context.Context, o StackOptions) error {
	values := s.Settings()
	for k, v := range o.Env {
		values[k] = v
	}
	settings := filepath.Join(s.dir, "local.settings.json")
	data, _ := json.MarshalIndent(map[string]any{"IsEncrypted": false, "Values": values}, "", "  ")
	if err := os.WriteFile(settings, data, 0o600); err != nil {
		return fmt.Errorf("writing local.settings.json: %w", err)
	}
	root := o.Root
	if root == "" {
		var err error
		if root, err = ModuleRoot(); err != nil {
			return err
		}
	}
	port, err := FreePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(o.BinDir, "funchost"), "-root", root, "-settings", settings,
		"-port", strconv.Itoa(port), "-handler", filepath.Join(o.BinDir, "handler"))
	// The host's own storage settings come from local.settings.json; drop any inherited ones.
	cmd.Env = filterEnv(os.Environ(), "AzureWebJobsStorage", "T2T_")
	if err := s.start(cmd, o.Logs); err != nil {
		return fmt.Errorf("starting funchost: %w", err)
	}
	s.FunctionsURL = fmt.Sprintf("http://127.0.0.1:%d/api", port)
	if err := WaitPort(ctx, port, 60*time.Second); err != nil {
		return fmt.Errorf("waiting for funchost: %w", err)
	}
	return nil
}

func (s *Stack) start(cmd *exec.Cmd, logs io.Writer) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if logs != nil {
		cmd.Stdout, cmd.Stderr = logs, logs
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.procs = append(s.procs, cmd)
	return nil
}

// PIDs returns the process ids of the stack's children by name (azurite, tenantsim, funchost), for
// measurements such as peak memory.
func (s *Stack) PIDs() map[string]int {
	out := map[string]int{}
	if s.Azurite != nil && s.Azurite.cmd != nil && s.Azurite.cmd.Process != nil {
		out["azurite"] = s.Azurite.cmd.Process.Pid
	}
	for _, c := range s.procs {
		if c.Process != nil {
			out[filepath.Base(c.Path)] = c.Process.Pid
		}
	}
	return out
}

// Stop ends every process the stack started (last started first) and removes its folder.
func (s *Stack) Stop() {
	if s == nil {
		return
	}
	for i := len(s.procs) - 1; i >= 0; i-- {
		stopProcess(s.procs[i])
	}
	s.procs = nil
	if s.Meter != nil {
		s.Meter.Close()
	}
	if s.Azurite != nil {
		s.Azurite.Stop()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

func stopProcess(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func waitFile(ctx context.Context, path string, timeout time.Duration, v any) error {
	deadline := time.Now().Add(timeout)
	for {
		data, err := os.ReadFile(path)
		if err == nil && json.Unmarshal(data, v) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("timed out waiting for " + path)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func filterEnv(env []string, prefixes ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// Package localstack starts the pieces of the embedded local stack (Azurite today) as child processes on
// free loopback ports. It is used by make demo, the integration tests and the local tools; nothing in
// the deployed function app imports it.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"t2t/shared/portwait"
)

// DevAccountName and DevAccountKey are Azurite's well-known development account. They are public
// constants published by Microsoft, not secrets.
const (
	DevAccountName = "devstoreaccount1"
	DevAccountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azurite is a running Azurite process serving blob, queue and table on loopback.
type Azurite struct {
	BlobPort, QueuePort, TablePort int
	// Dir holds Azurite's data and debug log; it is removed by Stop when the stack created it.
	Dir     string
	cmd     *exec.Cmd
	ownsDir bool
	exited  chan struct{} // closed when the process has exited
}

// AzuriteOptions tunes StartAzurite. The zero value picks free ports and a temporary data folder.
type AzuriteOptions struct {
	// Ports to listen on; 0 picks a free one.
	BlobPort, QueuePort, TablePort int
	// Dir is Azurite's data folder; empty means a fresh temporary folder removed on Stop.
	Dir string
	// Binary is the azurite executable; empty means AzuriteBinary().
	Binary string
	// LogFile receives Azurite's own output; empty discards it.
	LogFile string
}

// ConnectionString is the storage connection string the Azure SDKs and the Functions host accept.
func (a *Azurite) ConnectionString() string {
	return ConnectionString(a.BlobPort, a.QueuePort, a.TablePort)
}

// ConnectionString builds an explicit connection string for Azurite on the given loopback ports.
func ConnectionString(blob, queue, table int) string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;"+
		"BlobEndpoint=http://127.0.0.1:%d/%s;QueueEndpoint=http://127.0.0.1:%d/%s;TableEndpoint=http://127.0.0.1:%d/%s;",
		DevAccountName, DevAccountKey, blob, DevAccountName, queue, DevAccountName, table, DevAccountName)
}

// AzuriteBinary finds the project-local Azurite installed by the Makefile (tools/azurite), or the one
// named by T2T_AZURITE.
func AzuriteBinary() (string, error) {
	if p := os.Getenv("T2T_AZURITE"); p != "" {
		return p, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "tools", "azurite", "node_modules", ".bin", "azurite")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("azurite is not installed at %s (run make tools): %w", p, err)
	}
	return p, nil
}

// ModuleRoot walks up from the working directory to the folder holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// StartAzurite starts Azurite with --skipApiVersionCheck (the SDKs send newer API versions than it
// knows) and --disableTelemetry, and returns once all three services accept connections.
func StartAzurite(ctx context.Context, opts *AzuriteOptions) (*Azurite, error) {
	if opts == nil {
		opts = &AzuriteOptions{}
	}
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = AzuriteBinary(); err != nil {
			return nil, err
		}
	}
	a := &Azurite{Dir: opts.Dir, exited: make(chan struct{})}
	if a.Dir == "" {
		dir, err := os.MkdirTemp("", "t2t-azurite-")
		if err != nil {
			return nil, fmt.Errorf("creating azurite folder: %w", err)
		}
		a.Dir, a.ownsDir = dir, true
	}
	ports, err := pickPorts(opts.BlobPort, opts.QueuePort, opts.TablePort)
	if err != nil {
		return nil, err
	}
	a.BlobPort, a.QueuePort, a.TablePort = ports[0], ports[1], ports[2]
	args := []string{
		"--silent", "--skipApiVersionCheck", "--disableTelemetry", "--loose",
		"--location", a.Dir,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(a.BlobPort),
		"--queueHost", "127.0.0.1", "--queuePort", strconv.Itoa(a.QueuePort),
		"--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(a.TablePort),
	}
	a.cmd = exec.Command(bin, args...)
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if opts.LogFile != "" {
		f, err := os.OpenFile(opts.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("opening azurite log: %w", err)
		}
		defer f.Close()
		a.cmd.Stdout, a.cmd.Stderr = f, f
	}
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting azurite: %w", err)
	}
	go func() { _ = a.cmd.Wait(); close(a.exited) }()
	for _, p := range ports {
		if err := waitPort(ctx, p, a.exited, 60*time.Second); err != nil {
			a.Stop()
			return nil, fmt.Errorf("waiting for azurite on port %d: %w", p, err)
		}
	}
	return a, nil
}

// PID is the Azurite process's id (0 when it is not running), for memory measurements.
func (a *Azurite) PID() int {
	if a == nil || a.cmd == nil || a.cmd.Process == nil {
		return 0
	}
	return a.cmd.Process.Pid
}

// Stop ends Azurite and its child processes and removes a data folder it created.
func (a *Azurite) Stop() {
	if a == nil || a.cmd == nil || a.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		<-a.exited
	}
	if a.ownsDir {
		_ = os.RemoveAll(a.Dir)
	}
	a.cmd = nil
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func pickPorts(want ...int) ([]int, error) {
	out := make([]int, len(want))
	for i, p := range want {
		if p == 0 {
			var err error
			if p, err = FreePort(); err != nil {
				return nil, err
			}
		}
		out[i] = p
	}
	return out, nil
}

// waitPort waits up to timeout for the port, stopping early if the process exits.
func waitPort(ctx context.Context, port int, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return portwait.Wait(ctx, port, exited)
}

// WaitPort waits until a TCP port on loopback accepts connections.
func WaitPort(ctx context.Context, port int, timeout time.Duration) error {
	return waitPort(ctx, port, nil, timeout)
}

// MainWithAzurite is a TestMain body for packages whose tests need storage: it starts Azurite, hands
// its connection string to setConn, runs the tests, stops Azurite and exits with the tests' code.
func MainWithAzurite(m interface{ Run() int }, setConn func(string)) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	az, err := StartAzurite(ctx, nil)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting azurite:", err)
		os.Exit(1)
	}
	setConn(az.ConnectionString())
	code := m.Run()
	az.Stop()
	os.Exit(code)
}

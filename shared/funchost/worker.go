package funchost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"t2t/shared/portwait"
)

// Restart backoff for the handler process: the real host also restarts a worker that exits, after a
// short pause, and gives up on nothing.
const (
	restartMinBackoff = 250 * time.Millisecond
	restartMaxBackoff = 10 * time.Second
	stableRun         = 30 * time.Second // a run this long resets the backoff
	stopGrace         = 5 * time.Second  // SIGTERM to SIGKILL
)

// worker runs and supervises the custom handler process.
type worker struct {
	exe  string
	args []string
	dir  string
	env  []string // without FUNCTIONS_CUSTOMHANDLER_PORT
	log  *logger

	mu      sync.Mutex
	base    string        // http://127.0.0.1:<port> while the handler accepts connections
	readyCh chan struct{} // closed when base is set; replaced when the handler exits
	done    chan struct{} // closed when supervision ends
}

// newWorker prepares the handler command from host.json and the settings.
func newWorker(a *app, handlerOverride string, log *logger) (*worker, error) {
	exe := handlerOverride
	if exe == "" {
		if a.host.executable == "" {
			return nil, errors.New("host.json: customHandler.description.defaultExecutablePath is empty")
		}
		exe = a.host.executable
		if !filepath.IsAbs(exe) {
			exe = filepath.Join(a.root, exe)
		}
	}
	exe, err := filepath.Abs(exe)
	if err != nil {
		return nil, fmt.Errorf("resolving handler path: %w", err)
	}
	if st, err := os.Stat(exe); err != nil || st.IsDir() {
		return nil, fmt.Errorf("handler executable %s not found (build it, or pass -handler)", exe)
	}
	dir := a.root
	if wd := a.host.workingDir; wd != "" {
		dir = wd
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(a.root, dir)
		}
	}
	return &worker{
		exe: exe, args: a.host.arguments, dir: dir, env: handlerEnv(a), log: log,
		readyCh: make(chan struct{}), done: make(chan struct{}),
	}, nil
}

// handlerEnv is the handler's environment: every effective app setting (local.settings.json Values,
// overridden by the process environment and Config.Settings), plus what the real host sets.
func handlerEnv(a *app) []string {
	keys := make([]string, 0, len(a.settings))
	for k := range a.settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env := make([]string, 0, len(keys)+3)
	for _, k := range keys {
		env = append(env, k+"="+a.settings[k])
	}
	return append(env, "FUNCTIONS_WORKER_RUNTIME=custom", "AzureWebJobsScriptRoot="+a.root)
}

// supervise starts the handler and restarts it whenever it exits, until ctx ends.
func (w *worker) supervise(ctx context.Context) {
	defer close(w.done)
	backoff := restartMinBackoff
	for {
		started := time.Now()
		err := w.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > stableRun {
			backoff = restartMinBackoff
		}
		w.log.hostf("handler stopped (%v); restarting in %s", err, backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, restartMaxBackoff)
	}
}

// runOnce starts the handler on a fresh port, marks it ready once the port accepts connections, and
// returns when the process exits (or after stopping it when ctx ends).
func (w *worker) runOnce(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(w.exe, w.args...)
	cmd.Dir = w.dir
	cmd.Env = append(append([]string{}, w.env...), "FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port))
	cmd.Stdout = w.log.lineWriter("handler")
	cmd.Stderr = w.log.lineWriter("handler")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so stop reaches the handler's children too
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", w.exe, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan bool, 1)
	go func() { ready <- portwait.Wait(waitCtx, port, nil) == nil }()
	// Readiness is set and cleared on this goroutine only, so a late "port open" cannot mark an exited
	// handler ready.
	for err == nil {
		select {
		case ok := <-ready:
			if ok {
				w.setReady(fmt.Sprintf("http://127.0.0.1:%d", port))
			}
			ready = nil
		case err = <-exited:
			if err == nil {
				err = errors.New("exit status 0")
			}
		case <-ctx.Done():
			if err = terminate(cmd, exited); err == nil {
				err = ctx.Err()
			}
		}
	}
	w.setNotReady()
	return err
}

// terminate sends SIGTERM to the handler's process group, then SIGKILL after a grace period.
func terminate(cmd *exec.Cmd, exited <-chan error) error {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case err := <-exited:
		return err
	case <-time.After(stopGrace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return <-exited
	}
}

func (w *worker) setReady(base string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.base = base
	close(w.readyCh)
	w.log.hostf("handler listening on %s", base)
}

func (w *worker) setNotReady() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.base != "" {
		w.base = ""
		w.readyCh = make(chan struct{})
	}
}

// endpoint returns the handler's base URL, waiting while it starts or restarts (the real host queues
// invocations while its worker restarts). It fails when ctx ends or supervision stopped.
func (w *worker) endpoint(ctx context.Context) (string, error) {
	for {
		w.mu.Lock()
		base, ch := w.base, w.readyCh
		w.mu.Unlock()
		if base != "" {
			return base, nil
		}
		select {
		case <-ch:
		case <-w.done:
			return "", errors.New("the handler is stopped")
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for the handler: %w", ctx.Err())
		}
	}
}

// freePort asks the kernel for a free loopback port for the handler.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port for the handler: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

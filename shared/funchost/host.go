package funchost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Host is a running local Functions host: the handler process, the trigger listeners and the HTTP
// server. Create it with Start and end it with Shutdown.
type Host struct {
	cfg    Config
	app    *app
	log    *logger
	worker *worker
	client *http.Client
	routes []*function
	timers map[string]*timerListener // by lower-case function name, for the admin endpoint (admin.go)
	server *http.Server
	url    string

	stopListening context.CancelFunc // ends trigger polling
	listenCtx     context.Context
	workCtx       context.Context // in-flight invocations; cancelled when the shutdown grace is over
	stopWork      context.CancelFunc
	stopWorker    context.CancelFunc
	listeners     sync.WaitGroup
	inflight      sync.WaitGroup
	failed        chan error // the HTTP server stopped on its own
	shutdownOnce  sync.Once
}

// Start loads the app, starts the handler and waits until it accepts connections, then starts every
// trigger and the HTTP server and prints a startup summary. ctx bounds the start only; the host runs
// until Shutdown.
func Start(ctx context.Context, cfg Config) (*Host, error) {
	cfg = cfg.withDefaults()
	h := &Host{cfg: cfg, log: &logger{w: cfg.Log}, client: &http.Client{}, failed: make(chan error, 1)}
	var err error
	if h.app, err = loadApp(cfg); err != nil {
		return nil, err
	}
	h.reportLoad()
	if len(h.app.functions) == 0 {
		return nil, fmt.Errorf("%w: %s", errNoFunctions, h.app.describeProblems())
	}
	h.routes = httpRoutes(h.app.functions)
	if h.worker, err = newWorker(h.app, cfg.Handler, h.log); err != nil {
		return nil, err
	}
	if err := checkPortFree(h.app.port); err != nil { // fail before starting anything
		return nil, err
	}
	workerCtx, stopWorker := context.WithCancel(context.Background())
	h.stopWorker = stopWorker
	go h.worker.supervise(workerCtx)
	h.listenCtx, h.stopListening = context.WithCancel(context.Background())
	h.workCtx, h.stopWork = context.WithCancel(context.Background())
	// The HTTP port opens last, so that "port open" means the host is ready (the local stack waits on it).
	ln, err := h.startUp(ctx)
	if err != nil {
		h.stopListening()
		h.stopWork()
		h.listeners.Wait()
		h.inflight.Wait()
		stopWorker()
		<-h.worker.done
		return nil, err
	}
	h.url = "http://" + ln.Addr().String()
	h.server = &http.Server{Handler: http.HandlerFunc(h.serveHTTP), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := h.server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			h.failed <- fmt.Errorf("HTTP server: %w", err)
		}
	}()
	h.printSummary()
	return h, nil
}

// startUp waits for the handler, starts the trigger listeners and opens the HTTP port.
func (h *Host) startUp(ctx context.Context) (net.Listener, error) {
	readyCtx, cancel := context.WithTimeout(ctx, h.cfg.StartTimeout)
	defer cancel()
	if _, err := h.worker.endpoint(readyCtx); err != nil {
		return nil, fmt.Errorf("the handler did not start listening on FUNCTIONS_CUSTOMHANDLER_PORT: %w", err)
	}
	if err := h.startListeners(ctx); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(h.app.port)))
	if err != nil {
		return nil, fmt.Errorf("listening for HTTP triggers: %w", err)
	}
	return ln, nil
}

// checkPortFree fails early when the HTTP port is taken.
func checkPortFree(port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listening for HTTP triggers: %w", err)
	}
	return ln.Close()
}

// startListeners starts one polling loop per queue, blob and timer function.
func (h *Host) startListeners(ctx context.Context) error {
	var receipts *receiptStore
	for _, fn := range h.app.functions {
		var run func(context.Context)
		switch t := fn.trigger; {
		case t.isType("queueTrigger"):
			run = newQueueListener(h, fn).run
		case t.isType("blobTrigger"):
			if receipts == nil {
				acct, err := h.app.hostAccount()
				if err != nil {
					return err
				}
				cc, err := acct.containerClient(ctx, hostsContainer)
				if err != nil {
					return fmt.Errorf("preparing blob receipts: %w", err)
				}
				receipts = &receiptStore{cc: cc}
			}
			run = newBlobListener(h, fn, receipts).run
		case t.isType("timerTrigger"):
			l, err := newTimerListener(ctx, h, fn)
			if err != nil {
				return fmt.Errorf("%s: %w", fn.name, err)
			}
			if h.timers == nil {
				h.timers = map[string]*timerListener{}
			}
			h.timers[strings.ToLower(fn.name)] = l
			run = l.run
		default:
			continue // HTTP triggers are served by the HTTP server
		}
		h.listeners.Add(1)
		go func() { defer h.listeners.Done(); run(h.listenCtx) }()
	}
	return nil
}

// goWork runs one invocation's work under the host's in-flight accounting; work is cancelled only when
// the shutdown grace period is over.
func (h *Host) goWork(f func(work context.Context)) {
	h.inflight.Add(1)
	go func() {
		defer h.inflight.Done()
		f(h.workCtx)
	}()
}

// URL is the HTTP base address, e.g. http://127.0.0.1:7071; HTTP functions are under URL()+"/api".
func (h *Host) URL() string { return h.url }

// Failed delivers an error if the host stopped serving on its own (the HTTP listener failed).
func (h *Host) Failed() <-chan error { return h.failed }

// Shutdown stops polling and the HTTP server, waits for in-flight invocations (up to
// Config.ShutdownTimeout or ctx's end, whichever is first), cancels what is left, and stops the handler.
// It is safe to call more than once.
func (h *Host) Shutdown(ctx context.Context) error {
	var err error
	h.shutdownOnce.Do(func() {
		h.log.hostf("shutting down: waiting up to %s for in-flight invocations", h.cfg.ShutdownTimeout)
		graceCtx, cancel := context.WithTimeout(ctx, h.cfg.ShutdownTimeout)
		defer cancel()
		h.stopListening()
		if serr := h.server.Shutdown(graceCtx); serr != nil {
			err = fmt.Errorf("stopping the HTTP server: %w", serr)
		}
		idle := make(chan struct{})
		go func() { h.listeners.Wait(); h.inflight.Wait(); close(idle) }()
		select {
		case <-idle:
		case <-graceCtx.Done():
			h.log.hostf("grace period over: cancelling the remaining invocations")
			h.stopWork()
			select {
			case <-idle:
			case <-time.After(5 * time.Second):
			}
		}
		h.stopWork()
		h.stopWorker()
		<-h.worker.done
		h.log.hostf("stopped")
	})
	return err
}

// Run starts the host, runs it until ctx ends or the host fails, then shuts it down gracefully.
func Run(ctx context.Context, cfg Config) error {
	h, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-h.failed:
	}
	if err := h.Shutdown(context.Background()); runErr == nil {
		runErr = err
	}
	return runErr
}

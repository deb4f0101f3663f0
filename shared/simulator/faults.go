package simulator

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
)

// faultKind is the fate the injector picks for one request.
type faultKind int

const (
	faultNone faultKind = iota
	fault503
	fault504
	faultDrop
)

// faultInjector draws faults from one seeded generator: the n-th Graph request that a non-zero rate
// applies to always gets the same fate for a given seed and configuration, whatever its timing (with
// concurrent clients, which request is the n-th is up to them).
type faultInjector struct {
	mu     sync.Mutex
	global FaultRates
	routes []compiledFaultRoute
	rng    *rand.Rand
}

type compiledFaultRoute struct {
	method string
	segs   []string
	rates  FaultRates
}

func newFaultInjector() *faultInjector { return &faultInjector{rng: rand.New(rand.NewPCG(0, 0))} }

// configure replaces the rates and restarts the sequence from the seed.
func (f *faultInjector) configure(fc FaultConfig) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.global = fc.FaultRates
	f.routes = f.routes[:0:0]
	for _, rf := range fc.Routes {
		f.routes = append(f.routes, compiledFaultRoute{
			method: strings.ToUpper(rf.Method), segs: splitPath(rf.Pattern), rates: rf.FaultRates,
		})
	}
	f.rng = rand.New(rand.NewPCG(uint64(fc.Seed), 0x7432_7461_756c_7473)) // "t2tfaults"
}

// decide picks the fate of a request to segs (relative to the version root).
func (f *faultInjector) decide(method string, segs []string) faultKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	rates := f.global
	for _, r := range f.routes {
		if (r.method == "" || r.method == method) && matchFaultPattern(r.segs, segs) {
			rates = r.rates
			break
		}
	}
	if rates.ServiceUnavailable+rates.GatewayTimeout+rates.Drop <= 0 {
		return faultNone
	}
	u := f.rng.Float64()
	switch {
	case u < rates.ServiceUnavailable:
		return fault503
	case u < rates.ServiceUnavailable+rates.GatewayTimeout:
		return fault504
	case u < rates.ServiceUnavailable+rates.GatewayTimeout+rates.Drop:
		return faultDrop
	}
	return faultNone
}

// matchFaultPattern matches literal segments case-insensitively, {name} to any one segment and a final
// "*" to any rest (including none).
func matchFaultPattern(pat, segs []string) bool {
	for i, p := range pat {
		if p == "*" && i == len(pat)-1 {
			return true
		}
		if i >= len(segs) {
			return false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			continue
		}
		if !strings.EqualFold(p, segs[i]) {
			return false
		}
	}
	return len(pat) == len(segs)
}

type batchContextKey struct{}

// inBatch reports whether r is an inner request of a $batch.
func inBatch(r *http.Request) bool { return r.Context().Value(batchContextKey{}) != nil }

func withinBatch(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchContextKey{}, true)
}

// Graph's answers to injected faults. The errors page documents the statuses
// (https://learn.microsoft.com/graph/errors) and serviceNotAvailable for 503; it is silent on a 504
// body, for which the directory's generic code is used. Neither carries Retry-After: the documentation
// says a 503 "may", and its absence is the stricter case (the client must back off on its own).
func errServiceUnavailable() *graphError {
	return newGraphError(http.StatusServiceUnavailable, "serviceNotAvailable",
		"The service is temporarily unavailable. Try the request again after a delay.")
}

func errGatewayTimeout() *graphError {
	return newGraphError(http.StatusGatewayTimeout, codeUnknownError, "The operation timed out.")
}

// controlledDispatch is the authenticated part of every Graph request: fault injection, throttling,
// then the route. 503 answers before anything runs; 504 and dropped connections run the request and
// lose its answer, so a client may see a failure for a write that happened.
func (s *Server) controlledDispatch(c *call, segs []string) *graphError {
	fault := s.controls.faults.decide(c.r.Method, segs)
	if fault == faultDrop && inBatch(c.r) {
		fault = faultNone // an inner request has no connection of its own to drop
	}
	tid, app := c.tenant.ID, c.token.AppID
	if fault == fault503 {
		s.counters.recordFault(tid, app, fault)
		return errServiceUnavailable()
	}
	if gerr := s.admit(c, segs); gerr != nil {
		return gerr
	}
	if fault == faultNone {
		return s.routeGraph(c, segs)
	}
	real := c.w
	c.w = newRecorder()
	_ = s.routeGraph(c, segs) // the answer, error or not, is lost
	c.w = real
	s.counters.recordFault(tid, app, fault)
	if fault == fault504 {
		return errGatewayTimeout()
	}
	s.counters.record(tid, app, c.r.Method, 0)
	s.log.Debug("graph connection dropped", "method", c.r.Method, "path", c.r.URL.Path, "request-id", c.requestID)
	// ErrAbortHandler makes net/http close an HTTP/1.1 connection or reset an HTTP/2 stream without
	// an answer and without logging a stack trace.
	panic(http.ErrAbortHandler)
}

// recorder is an in-memory ResponseWriter: inner $batch answers, and answers lost to a fault.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

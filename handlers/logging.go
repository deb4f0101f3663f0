package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"t2t/shared/logfields"
)

// invocationIDHeader is the header in which the Functions host names the invocation it sends to a
// custom handler (azure-functions-host HttpWorkerConstants.InvocationIdHeaderName); it is the id the
// portal and Application Insights show for the run.
const invocationIDHeader = "X-Azure-Functions-InvocationId"

// newLogger logs JSON records (one per line) to w, serialized so concurrent invocations never
// interleave: the process's log, which the Functions host captures from stderr.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(&lockedWriter{w: w}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// invocationLogger returns the logger of one invocation: every record goes to the process's log
// (out) and, as the same JSON text, into the invocation response's Logs, which the Functions host
// logs under the invocation (the portal's invocation log, Application Insights traces with its
// InvocationId). Each record carries the function and the invocation id.
func invocationLogger(out *slog.Logger, inv *invocation, function, id string) *slog.Logger {
	if out == nil {
		out = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	logs := slog.NewJSONHandler(&logsWriter{inv: inv}, &slog.HandlerOptions{Level: slog.LevelInfo})
	return slog.New(&teeHandler{a: out.Handler(), b: logs}).With(logfields.Function, function, logfields.InvocationID, id)
}

// invocationID is the host's id of the invocation, or a fresh one when the caller sent none.
func invocationID(r *http.Request) string {
	if id := r.Header.Get(invocationIDHeader); id != "" {
		return id
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// logsWriter appends each record the JSON handler writes (one Write per record) to the invocation's
// Logs, without its newline.
type logsWriter struct{ inv *invocation }

func (w *logsWriter) Write(p []byte) (int, error) {
	w.inv.mu.Lock()
	defer w.inv.mu.Unlock()
	w.inv.logs = append(w.inv.logs, string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// teeHandler sends every record to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (t *teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t *teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errA, errB error
	if t.a.Enabled(ctx, r.Level) {
		errA = t.a.Handle(ctx, r.Clone())
	}
	if t.b.Enabled(ctx, r.Level) {
		errB = t.b.Handle(ctx, r)
	}
	if errA != nil {
		return errA
	}
	return errB
}

func (t *teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &teeHandler{a: t.a.WithAttrs(attrs), b: t.b.WithAttrs(attrs)}
}

func (t *teeHandler) WithGroup(name string) slog.Handler {
	return &teeHandler{a: t.a.WithGroup(name), b: t.b.WithGroup(name)}
}

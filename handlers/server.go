// Package handlers implements the Azure Functions custom handler: one HTTP endpoint per function
// (POST /<FunctionName>), speaking the invocation protocol of shared/funcproto. Each function lives in
// a file named after it.
package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"t2t/shared/funcproto"
	"t2t/shared/logfields"
)

// invocation collects what one function run returns to the host.
type invocation struct {
	req     *funcproto.InvokeRequest
	outputs map[string]any
	ret     any
	// log writes the run's records to the process's log and into logs (the response's Logs); plain is
	// log without the attributes added by with, for records that name wave, phase and chunk themselves.
	log   *slog.Logger
	plain *slog.Logger
	mu    sync.Mutex
	logs  []string
}

// logf logs a free-text record of the run (see invocationLogger).
func (inv *invocation) logf(format string, args ...any) {
	inv.log.Info(fmt.Sprintf(format, args...))
}

// with adds attributes (wave, phase, chunk...) to every later record of the run.
func (inv *invocation) with(args ...any) { inv.log = inv.log.With(args...) }

// output appends values to a queue output binding (one message each).
func (inv *invocation) output(binding string, values ...any) {
	if len(values) == 0 {
		return
	}
	list, _ := inv.outputs[binding].([]any)
	inv.outputs[binding] = append(list, values...)
}

type function func(ctx context.Context, inv *invocation) error

// Handler returns the HTTP handler serving every function of the app.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	for name, fn := range map[string]function{
		"WaveStart":    a.WaveStart,
		"StepRun":      a.StepRun,
		"ProgressSink": a.ProgressSink,
		"WaveStatus":   a.WaveStatus,
		"StepPoison":   a.StepPoison,
		"DeltaSync":    a.DeltaSync,
		"Cutover":      a.Cutover,
	} {
		mux.Handle("POST /"+name, a.invoke(name, fn))
	}
	return mux
}

// invoke decodes the host's request, runs fn and encodes the answer. A failed run answers 500 so that
// the host retries it (queue redelivery, blob trigger retry) and eventually poisons it.
func (a *App) invoke(name string, fn function) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		body, err := io.ReadAll(io.LimitReader(r.Body, 256<<20))
		inv := &invocation{req: &funcproto.InvokeRequest{}, outputs: map[string]any{}, logs: []string{}}
		inv.log = invocationLogger(a.Log, inv, name, invocationID(r))
		inv.plain = inv.log
		if err == nil {
			err = json.Unmarshal(body, inv.req)
		}
		if err == nil {
			err = fn(r.Context(), inv)
		}
		status := http.StatusOK
		if err != nil {
			status = http.StatusInternalServerError
			// The host drops the Logs of a failed run (it reads them only from a 2xx answer), so this
			// record reaches the portal through the process's log; it is in Logs too for local tools.
			inv.log.Error(logfields.MsgInvocationFailed, logfields.Err, err.Error())
		}
		inv.log.Info(logfields.MsgInvocation, logfields.Status, status, logfields.DurationMs, time.Since(started).Milliseconds())
		inv.mu.Lock()
		resp := funcproto.InvokeResponse{Outputs: inv.outputs, Logs: inv.logs, ReturnValue: inv.ret}
		inv.mu.Unlock()
		if err != nil {
			resp.Outputs = nil // outputs of a failed run are never applied
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// blobMetadata reads one key of the trigger blob's metadata (the Metadata object in the invocation
// metadata), in either shape; keys compare case-insensitively, as in Azure Storage.
func blobMetadata(req *funcproto.InvokeRequest, key string) string {
	for k, v := range metaObject(req, "Metadata") {
		if strings.EqualFold(k, key) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// metaObject decodes an object-valued metadata entry, sent as an object or as JSON text.
func metaObject(req *funcproto.InvokeRequest, name string) map[string]any {
	raw, ok := req.Metadata[name]
	if !ok {
		return nil
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		raw = json.RawMessage(text)
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	return obj
}

// blobETag reads the trigger blob's ETag from the metadata's Properties object, in either shape.
func blobETag(req *funcproto.InvokeRequest) string {
	for k, v := range metaObject(req, "Properties") {
		if strings.EqualFold(k, "ETag") {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// emit queues one message on an output binding (phase.Emit).
func (inv *invocation) emit(queue string, v any) { inv.output(queue, v) }

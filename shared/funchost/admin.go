package funchost

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// adminPrefix is the real host's path for running a function that is not HTTP-triggered
// (https://learn.microsoft.com/azure/azure-functions/functions-manually-run-non-http): POST
// /admin/functions/<Name> with {"input": "..."} answers 202 Accepted and runs the function in the
// background. Azure requires the master key (x-functions-key); locally, as with Core Tools, no key is
// checked.
const adminPrefix = "/admin/functions/"

// adminFunction returns the function name of an admin invocation path.
func adminFunction(path string) (string, bool) {
	if !strings.HasPrefix(strings.ToLower(path), adminPrefix) {
		return "", false
	}
	name := path[len(adminPrefix):]
	return name, name != "" && !strings.Contains(name, "/")
}

// serveAdminInvoke runs a timer-triggered function on request, as the real host does: the timer
// binding carries the schedule monitor's current status (null without one) and IsPastDue false, and
// the monitor's record is left alone. The invocation is not serialized with the schedule: the real
// host's timer singleton covers its scheduled firings only, so a manual run may overlap one.
func (h *Host) serveAdminInvoke(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var fn *function
	for _, f := range h.app.functions {
		if strings.EqualFold(f.name, name) {
			fn = f
		}
	}
	if fn == nil {
		http.NotFound(w, r)
		return
	}
	var body struct {
		Input json.RawMessage `json:"input"`
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
	if err != nil || json.Unmarshal(raw, &body) != nil {
		http.Error(w, `the body must be a JSON object such as {"input": ""}`, http.StatusBadRequest)
		return
	}
	l := h.timers[strings.ToLower(fn.name)]
	if l == nil {
		// Queue and blob triggers could be run the same way (input as the message or blob path); the
		// local host has needed only timers so far, and says so rather than inventing a payload.
		http.Error(w, "the local host runs only timer-triggered functions through the admin API; "+fn.name+" has a "+fn.trigger.Type, http.StatusNotImplemented)
		return
	}
	var status *timerStatus
	if l.monitor {
		status = l.readStatus(r.Context())
	}
	inv := l.invocation(status, false)
	inv.reason = "This function was programmatically called via the host APIs."
	h.goWork(func(work context.Context) { _, _ = h.invoke(work, inv) })
	w.WriteHeader(http.StatusAccepted)
}

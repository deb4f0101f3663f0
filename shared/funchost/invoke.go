package funchost

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"t2t/shared/funcproto"
)

// InvocationIDHeader names the invocation in every request to the handler, as the real host does.
const InvocationIDHeader = "X-Azure-Functions-InvocationId"

// HostVersion is the Functions host version the local host reports in its request headers.
const HostVersion = "4.1037.0"

// maxResponseBytes bounds what is read from the handler for one invocation.
const maxResponseBytes = 100 << 20

// invocation is one trigger firing, about to be sent to the handler.
type invocation struct {
	fn     *function
	reason string // for the "Executing" log line, as the real host words it
	data   map[string]json.RawMessage
	meta   map[string]json.RawMessage
	// bindingData feeds {name} expressions in output queue names and blob paths.
	bindingData map[string]string
}

// invokeResult is the handler's answer with values kept raw, so outputs are read exactly as sent.
type invokeResult struct {
	Outputs     map[string]json.RawMessage `json:"Outputs"`
	Logs        []string                   `json:"Logs"`
	ReturnValue json.RawMessage            `json:"ReturnValue"`
}

// output returns the value for an output binding: Outputs[name] (case-insensitively, as binding names
// are), or ReturnValue for "$return". Absent and null values return nil.
func (r *invokeResult) output(name string) json.RawMessage {
	var v json.RawMessage
	if name == "$return" {
		v = r.ReturnValue
	} else if got, ok := r.Outputs[name]; ok {
		v = got
	} else {
		for k, got := range r.Outputs {
			if strings.EqualFold(k, name) {
				v = got
			}
		}
	}
	if len(bytes.TrimSpace(v)) == 0 || string(bytes.TrimSpace(v)) == "null" {
		return nil
	}
	return v
}

// invoke sends one invocation to the handler and, on success, applies its outputs. It fails on a
// transport error, a non-2xx answer, a timeout (host.json functionTimeout) or a failed output.
func (h *Host) invoke(ctx context.Context, inv *invocation) (*invokeResult, error) {
	id, start := newGUID(), time.Now()
	h.log.fnf(inv.fn.name, "Executing 'Functions.%s' (Reason='%s', Id=%s)", inv.fn.name, inv.reason, id)
	res, err := h.call(ctx, inv, id)
	if err == nil {
		err = h.applyOutputs(ctx, inv, res)
	}
	ms := time.Since(start).Milliseconds()
	if err != nil {
		h.log.fnf(inv.fn.name, "Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms): %v", inv.fn.name, id, ms, err)
		return nil, err
	}
	h.log.fnf(inv.fn.name, "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)", inv.fn.name, id, ms)
	return res, nil
}

// call POSTs {"Data","Metadata"} to http://127.0.0.1:<port>/<FunctionName> and reads the answer.
// The request carries the real host's headers: the invocation id (the Id of the Executing line),
// the host version and its User-Agent (azure-functions-host DefaultHttpWorkerService.AddHeaders).
func (h *Host) call(ctx context.Context, inv *invocation, id string) (*invokeResult, error) {
	timeout := h.app.host.functionTimeout
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	meta := make(map[string]json.RawMessage, len(inv.meta)+1)
	for k, v := range inv.meta {
		meta[k] = v
	}
	meta["sys"] = sysMetadata(inv.fn.name)
	body, err := json.Marshal(funcproto.InvokeRequest{Data: inv.data, Metadata: meta})
	if err != nil {
		return nil, fmt.Errorf("encoding the invocation: %w", err)
	}
	base, err := h.worker.endpoint(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/"+inv.fn.name, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the invocation request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(InvocationIDHeader, id)
	req.Header.Set("X-Azure-Functions-HostVersion", HostVersion)
	req.Header.Set("User-Agent", "Azure-Functions-Host/"+HostVersion)
	resp, err := h.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("timeout value of %s (host.json functionTimeout) was exceeded: %w", timeout, err)
		}
		return nil, fmt.Errorf("calling the handler: %w", err)
	}
	defer resp.Body.Close()
	return h.readAnswer(inv.fn.name, resp)
}

// readAnswer reads the handler's response. A non-2xx status fails the invocation and, as in the real
// host, its Logs are not logged: the host checks the status before it reads the body
// (DefaultHttpWorkerService.ProcessDefaultInvocationRequest calls EnsureSuccessStatusCode first), so
// a failed run is seen through the handler's own stderr. Each entry of a successful run's Logs is
// logged under the function, one line per entry (the real host: one Information trace per entry,
// scoped to the invocation).
func (h *Host) readAnswer(fn string, resp *http.Response) (*invokeResult, error) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the handler's answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("the handler answered %s: %s", resp.Status, snippet(raw))
	}
	var res invokeResult
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &res); err != nil {
			return nil, fmt.Errorf("the handler's answer is not an invocation response: %w", err)
		}
	}
	for _, l := range res.Logs {
		h.log.fnf(fn, "%s", l)
	}
	return &res, nil
}

func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// sysMetadata is the "sys" metadata object the real host adds to every invocation.
func sysMetadata(fn string) json.RawMessage {
	return rawJSON(map[string]string{
		"MethodName": fn,
		"UtcNow":     time.Now().UTC().Format(time.RFC3339Nano),
		"RandGuid":   newGUID(),
	})
}

// metaString renders a string metadata value as the real host does: JSON-encoded twice.
func metaString(s string) json.RawMessage { return funcproto.EncodeTwice(s) }

// metaScalar renders a number or boolean metadata value as the real host does: its JSON text, as a
// JSON string ("DequeueCount":"1").
func metaScalar(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return rawJSON(string(b))
}

// metaTime renders a time metadata value: a .NET DateTimeOffset string, encoded twice.
func metaTime(t time.Time) json.RawMessage {
	return metaString(t.UTC().Format("2006-01-02T15:04:05-07:00"))
}

// rawJSON marshals a value that cannot fail to marshal (maps of strings, numbers, known structs).
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("funchost: marshaling %T: %v", v, err))
	}
	return b
}

// newGUID returns a random (version 4) GUID in its canonical text form.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

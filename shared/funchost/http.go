package funchost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"t2t/shared/funcproto"
)

const maxRequestBytes = 100 << 20 // the real host's default request size limit

// httpRoutes are the HTTP-triggered functions, most specific route first.
func httpRoutes(fns []*function) []*function {
	var out []*function
	for _, fn := range fns {
		if fn.trigger.isType("httpTrigger") {
			out = append(out, fn)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].route, out[j].route
		if a.catchAll != b.catchAll {
			return !a.catchAll
		}
		if a.literals != b.literals {
			return a.literals > b.literals
		}
		return len(a.params) > len(b.params)
	})
	return out
}

// serveHTTP routes /<routePrefix>/<route> to HTTP-triggered functions. A path that matches a route
// with another method gets 405; authLevel keys are not checked locally, as with Core Tools.
func (h *Host) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := adminFunction(r.URL.Path); ok {
		h.serveAdminInvoke(w, r, name)
		return
	}
	rel, ok := h.relativePath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	var allowed []string
	for _, fn := range h.routes {
		params, ok := fn.route.match(rel)
		if !ok {
			continue
		}
		if methodAllowed(fn.methods, r.Method) {
			h.serveFunction(w, r, fn, params)
			return
		}
		allowed = append(allowed, fn.methods...)
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	http.NotFound(w, r)
}

// relativePath strips the route prefix: "/api/waves/w1" gives "/waves/w1".
func (h *Host) relativePath(p string) (string, bool) {
	prefix := h.app.host.routePrefix
	if prefix == "" {
		return p, true
	}
	lp, lprefix := strings.ToLower(p), "/"+strings.ToLower(prefix)
	if lp == lprefix || strings.HasPrefix(lp, lprefix+"/") {
		return p[len(lprefix):], true
	}
	return "", false
}

func methodAllowed(methods []string, m string) bool {
	if len(methods) == 0 {
		return true
	}
	for _, x := range methods {
		if x == m {
			return true
		}
	}
	return false
}

// serveFunction invokes an HTTP-triggered function, or forwards the raw request when host.json
// enableForwardingHttpRequest is on and the function has only an http trigger and http output.
func (h *Host) serveFunction(w http.ResponseWriter, r *http.Request, fn *function, params map[string]string) {
	h.inflight.Add(1)
	defer h.inflight.Done()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(h.workCtx, cancel) // shutdown grace over: give up on the request
	defer stop()
	if h.app.host.forwardHTTP && onlyHTTPOutputs(fn) {
		h.forward(w, r.WithContext(ctx), fn)
		return
	}
	inv, err := httpInvocation(r, fn, params)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, err := h.invoke(ctx, inv)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError) // the real host answers a failed invocation with an empty 500
		return
	}
	for _, b := range fn.outputs {
		if b.isType("http") {
			writeHTTPOutput(w, res.output(b.Name))
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func onlyHTTPOutputs(fn *function) bool {
	for _, b := range fn.outputs {
		if !b.isType("http") {
			return false
		}
	}
	return len(fn.outputs) <= 1
}

// httpInvocation builds the real host's request for an HTTP trigger: the binding value is
// {"Url","Method","Query","Headers","Params","Body"}; metadata carry Query, Headers and route parameters.
func httpInvocation(r *http.Request, fn *function, params map[string]string) (*invocation, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil || len(body) > maxRequestBytes {
		return nil, fmt.Errorf("reading the request body: too large or unreadable")
	}
	query, headers := map[string]string{}, map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = strings.Join(v, ",")
	}
	for k, v := range r.Header {
		headers[k] = strings.Join(v, ", ")
	}
	req := funcproto.HTTPRequest{
		URL: "http://" + r.Host + r.URL.RequestURI(), Method: r.Method,
		Query: query, Headers: r.Header, Params: params, Body: requestBody(body, r.Header.Get("Content-Type")),
	}
	if req.Params == nil {
		req.Params = map[string]string{}
	}
	meta := map[string]json.RawMessage{"Query": rawJSON(query), "Headers": rawJSON(headers)}
	bd := map[string]string{}
	for k, v := range query {
		bd[k] = v
	}
	for k, v := range params {
		meta[k], bd[k] = metaString(v), v
	}
	return &invocation{
		fn: fn, reason: fmt.Sprintf("This function was programmatically called via the host APIs (%s %s).", r.Method, r.URL.Path),
		data: map[string]json.RawMessage{fn.trigger.Name: rawJSON(req)}, meta: meta, bindingData: bd,
	}, nil
}

// requestBody is the body as JSON when it is declared and valid JSON, else as a string.
func requestBody(body []byte, contentType string) json.RawMessage {
	if len(body) == 0 {
		return nil
	}
	if strings.Contains(strings.ToLower(contentType), "json") && json.Valid(body) {
		return body
	}
	return rawJSON(string(body))
}

// httpOutput is the http output binding value the handler returns.
type httpOutput struct {
	StatusCode json.RawMessage            `json:"statusCode"`
	Body       json.RawMessage            `json:"body"`
	Headers    map[string]json.RawMessage `json:"headers"`
}

// writeHTTPOutput writes an http output: statusCode as a number or a string, body as a string or any
// JSON value, headers as a map. A value that is not an object is the body of a 200.
func writeHTTPOutput(w http.ResponseWriter, v json.RawMessage) {
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var out httpOutput
	if t := bytes.TrimSpace(v); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &out) != nil {
		out = httpOutput{Body: v}
	}
	status := http.StatusOK
	if s, err := valueText(out.StatusCode); err == nil && s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 100 && n <= 999 {
			status = n
		}
	}
	for k, hv := range out.Headers {
		if s, err := valueText(hv); err == nil {
			w.Header().Set(k, s)
		}
	}
	body := bytes.TrimSpace(out.Body)
	var payload []byte
	switch {
	case len(body) == 0 || string(body) == "null":
	case body[0] == '"':
		s, _ := valueText(body)
		payload = []byte(s)
		setDefault(w.Header(), "Content-Type", "text/plain; charset=utf-8")
	default:
		payload = body
		setDefault(w.Header(), "Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(payload)
}

func setDefault(h http.Header, k, v string) {
	if h.Get(k) == "" {
		h.Set(k, v)
	}
}

// forward relays the raw request to the handler at the same path and its raw response back.
func (h *Host) forward(w http.ResponseWriter, r *http.Request, fn *function) {
	ctx := r.Context()
	if t := h.app.host.functionTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	base, err := h.worker.endpoint(ctx)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	target, _ := url.Parse(base)
	h.log.fnf(fn.name, "Forwarding %s %s to the handler", r.Method, r.URL.Path)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.Out.Host = pr.In.Host },
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			h.log.fnf(fn.name, "forwarding failed: %v", err)
			w.WriteHeader(http.StatusInternalServerError)
		},
	}
	proxy.ServeHTTP(w, r.WithContext(ctx))
}

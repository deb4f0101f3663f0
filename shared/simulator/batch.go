package simulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// JSON batching (https://learn.microsoft.com/graph/json-batching): POST /{version}/$batch with up to 20
// requests. The envelope is validated as a whole (400 for a malformed batch, nothing runs); then each
// inner request goes through the same front door as a top-level one (serveGraph): the outer bearer
// token, fault injection, throttling (an inner 429 with Retry-After in its own headers, inside a 200
// batch answer), routing, counters. The $batch request itself is not costed or throttled; only its
// inner requests are.
//
// Execution is sequential, in request order, except that a request runs after the requests it
// dependsOn; a request whose dependency failed (status >= 400, including 424) is not run and answers
// 424. The real service may run independent requests in parallel and answers in any order; the
// simulator answers in reverse request order, so a client that matches answers by position rather
// than by id fails here first.

const (
	maxBatchRequests = 20
	// msgBatchTooLarge is the service's wording for more than 20 requests, as reported in
	// https://github.com/microsoftgraph/microsoftgraph-postman-collections/issues/9.
	msgBatchTooLarge = "Number of requests inside batch exceeds the limit."
	// msgBatchDuplicateID is the service's wording for a repeated id (ids compare case-insensitively),
	// as reported in https://github.com/microsoftgraph/msgraph-sdk-javascript/issues/433.
	msgBatchDuplicateID  = "Request Id %s has to be unique in a batch."
	codeFailedDependency = "FailedDependency"
)

// batchItem is one request of a batch envelope.
type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// batchAnswer is one inner answer.
type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
}

func (s *Server) addBatchRoutes(rt *router) {
	// Any valid token may post a batch; each inner request is authorized on its own.
	rt.add(http.MethodPost, "/$batch", nil, s.serveBatch)
}

func errBatch(format string, args ...any) *graphError {
	return newGraphError(http.StatusBadRequest, codeGenericBadRequest, format, args...)
}

func (s *Server) serveBatch(c *call) *graphError {
	if inBatch(c.r) {
		return errBatch("A batch request cannot contain another batch request.")
	}
	raw, gerr := c.readBody()
	if gerr != nil {
		return gerr
	}
	var env struct {
		Requests []batchItem `json:"requests"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return errBatch("Invalid batch payload format.")
	}
	order, gerr := planBatch(env.Requests)
	if gerr != nil {
		return gerr
	}
	s.counters.recordBatch(c.tenant.ID, c.token.AppID)
	answers := make(map[string]*batchAnswer, len(order))
	for _, i := range order {
		it := &env.Requests[i]
		failed := ""
		for _, dep := range it.DependsOn {
			if a := answers[strings.ToLower(dep)]; a.Status >= 400 {
				failed = dep
				break
			}
		}
		if failed != "" {
			answers[strings.ToLower(it.ID)] = s.failedDependency(c, it, failed)
			continue
		}
		answers[strings.ToLower(it.ID)] = s.runBatchItem(c, it)
	}
	out := make([]*batchAnswer, 0, len(env.Requests))
	for i := len(env.Requests) - 1; i >= 0; i-- {
		out = append(out, answers[strings.ToLower(env.Requests[i].ID)])
	}
	c.writeJSON(http.StatusOK, map[string]any{"responses": out})
	return nil
}

// planBatch validates the envelope and returns the execution order (indexes into items): request
// order, each request after its dependencies. Every defect fails the whole batch with 400.
func planBatch(items []batchItem) ([]int, *graphError) {
	switch {
	case len(items) == 0:
		return nil, errBatch("Invalid batch payload format.")
	case len(items) > maxBatchRequests:
		return nil, errBatch(msgBatchTooLarge)
	}
	index := make(map[string]int, len(items))
	for i := range items {
		it := &items[i]
		key := strings.ToLower(it.ID)
		if it.ID == "" {
			return nil, errBatch("Invalid batch payload format. Request id is required.")
		}
		if _, dup := index[key]; dup {
			return nil, errBatch(msgBatchDuplicateID, it.ID)
		}
		index[key] = i
		if gerr := checkBatchItem(it); gerr != nil {
			return nil, gerr
		}
	}
	for i := range items {
		for _, dep := range items[i].DependsOn {
			if _, ok := index[strings.ToLower(dep)]; !ok {
				return nil, errBatch("Depends on request Id %s was not found in the batch.", dep)
			}
		}
	}
	// Depth-first in request order; a cycle is a malformed batch.
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(items))
	order := make([]int, 0, len(items))
	var visit func(i int) *graphError
	visit = func(i int) *graphError {
		switch state[i] {
		case done:
			return nil
		case visiting:
			return errBatch("Circular dependency detected for request Id %s.", items[i].ID)
		}
		state[i] = visiting
		for _, dep := range items[i].DependsOn {
			if gerr := visit(index[strings.ToLower(dep)]); gerr != nil {
				return gerr
			}
		}
		state[i] = done
		order = append(order, i)
		return nil
	}
	for i := range items {
		if gerr := visit(i); gerr != nil {
			return nil, gerr
		}
	}
	return order, nil
}

// checkBatchItem validates one request: method, a relative URL that is not itself a batch, and a
// Content-Type header when there is a body (required by the documentation).
func checkBatchItem(it *batchItem) *graphError {
	switch strings.ToUpper(it.Method) {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		it.Method = strings.ToUpper(it.Method)
	default:
		return errBatch("Invalid method '%s' for request Id %s.", it.Method, it.ID)
	}
	u, err := url.Parse(it.URL)
	if it.URL == "" || err != nil || u.IsAbs() || u.Host != "" {
		// The url is "the relative resource URL"; an absolute one is refused (the stricter reading).
		return errBatch("Invalid request URL '%s' for request Id %s: it must be relative to the version root.", it.URL, it.ID)
	}
	if segs := splitPath(u.EscapedPath()); len(segs) > 0 && segs[0] == "$batch" {
		return errBatch("A batch request cannot contain another batch request.")
	}
	if hasBody(it.Body) && headerValue(it.Headers, "Content-Type") == "" {
		return errBatch("Content-Type header must be specified for request Id %s because it has a body.", it.ID)
	}
	return nil
}

func hasBody(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// runBatchItem serves one inner request through serveGraph and captures its answer.
func (s *Server) runBatchItem(outer *call, it *batchItem) *batchAnswer {
	var body []byte
	if hasBody(it.Body) {
		body = it.Body
		var str string
		if json.Unmarshal(it.Body, &str) == nil && !strings.Contains(strings.ToLower(headerValue(it.Headers, "Content-Type")), "json") {
			// A non-JSON body travels base64-encoded in the JSON envelope.
			if decoded, err := base64.StdEncoding.DecodeString(str); err == nil {
				body = decoded
			}
		}
	}
	target := "/" + outer.version + "/" + strings.TrimLeft(it.URL, "/")
	req, err := http.NewRequestWithContext(withinBatch(outer.r.Context()), it.Method, target, bytes.NewReader(body))
	if err != nil {
		return &batchAnswer{ID: it.ID, Status: http.StatusBadRequest, Body: map[string]any{"error": map[string]any{
			"code": codeGenericBadRequest, "message": "Invalid request URL.",
		}}}
	}
	for k, v := range it.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", outer.r.Header.Get("Authorization"))
	req.RemoteAddr, req.Host, req.TLS = outer.r.RemoteAddr, outer.r.Host, outer.r.TLS
	rec := newRecorder()
	s.serveGraph(rec, req)
	return recordedAnswer(it.ID, rec)
}

// recordedAnswer turns a recorded inner answer into its batch form: JSON bodies inline, others base64.
func recordedAnswer(id string, rec *recorder) *batchAnswer {
	a := &batchAnswer{ID: id, Status: rec.status, Headers: map[string]string{}}
	if a.Status == 0 {
		a.Status = http.StatusOK
	}
	for k, v := range rec.header {
		a.Headers[k] = strings.Join(v, ", ")
	}
	if rec.body.Len() > 0 {
		if strings.Contains(strings.ToLower(rec.header.Get("Content-Type")), "json") && json.Valid(rec.body.Bytes()) {
			a.Body = json.RawMessage(rec.body.Bytes())
		} else {
			a.Body = base64.StdEncoding.EncodeToString(rec.body.Bytes())
		}
	}
	return a
}

// failedDependency is the 424 answer of a request whose dependency failed. The documentation gives
// the status only; the body follows Graph's error shape. The request never ran, so it is not counted.
func (s *Server) failedDependency(outer *call, it *batchItem, dep string) *batchAnswer {
	rec := newRecorder()
	c := &call{w: rec, r: outer.r, srv: s, version: outer.version, requestID: newGUID(), clientRequestID: outer.clientRequestID}
	rec.header.Set("request-id", c.requestID)
	rec.header.Set("client-request-id", c.clientRequestID)
	c.writeError(newGraphError(http.StatusFailedDependency, codeFailedDependency,
		"The request was not run because request Id %s, which it depends on, failed.", dep))
	return recordedAnswer(it.ID, rec)
}

package simulator

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Graph's resource identifiers: the App ID URI and the application id a token's aud may carry.
const (
	graphResource = "https://graph.microsoft.com"
	graphAppID    = "00000003-0000-0000-c000-000000000000"
	// graphContentType is the Content-Type Graph answers JSON with.
	graphContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
	// maxBodyBytes bounds request bodies; Graph's limit for a JSON body is 4 MB.
	maxBodyBytes = 4 << 20
)

// call is one Graph request being served: the request, its route parameters, and who is calling.
type call struct {
	w               http.ResponseWriter
	r               *http.Request
	srv             *Server
	version         string // "v1.0" or "beta"
	params          map[string]string
	requestID       string
	clientRequestID string
	tenant          *Tenant
	token           *tokenClaims
}

func (c *call) param(name string) string { return c.params[name] }

// root is the absolute URL of the version root, e.g. https://127.0.0.1:1234/v1.0.
func (c *call) root() string { return c.srv.graphURL + "/" + c.version }

// writeJSON writes a Graph JSON answer.
func (c *call) writeJSON(status int, body any) {
	data, err := marshalJSON(body)
	if err != nil {
		c.writeError(newGraphError(http.StatusInternalServerError, codeUnknownError, "%s", err.Error()))
		return
	}
	c.w.Header().Set("Content-Type", graphContentType)
	c.w.WriteHeader(status)
	_, _ = c.w.Write(data)
}

// writeError writes e in Graph's error shape, with the request's ids in innerError.
func (c *call) writeError(e *graphError) {
	inner := map[string]string{
		"date":              c.srv.now().UTC().Format("2006-01-02T15:04:05"),
		"request-id":        c.requestID,
		"client-request-id": c.clientRequestID,
	}
	body := map[string]any{"code": e.code, "message": e.message, "innerError": inner}
	if len(e.details) > 0 {
		body["details"] = e.details
	}
	data, _ := marshalJSON(map[string]any{"error": body})
	c.w.Header().Set("Content-Type", graphContentType)
	c.w.WriteHeader(e.status)
	_, _ = c.w.Write(data)
}

// readBody reads the request body, bounded by maxBodyBytes. Kiota's compression handler gzips request
// bodies (Content-Encoding: gzip), which Graph accepts.
func (c *call) readBody() ([]byte, *graphError) {
	if !strings.Contains(strings.ToLower(c.r.Header.Get("Content-Type")), "application/json") {
		return nil, errUnreadableJSON() // Graph parses only JSON bodies, and says so in this message
	}
	var body io.Reader = c.r.Body
	switch enc := strings.ToLower(c.r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(c.r.Body)
		if err != nil {
			return nil, errUnreadableJSON()
		}
		defer zr.Close()
		body = zr
	default:
		return nil, newGraphError(http.StatusUnsupportedMediaType, codeGenericBadRequest, "Content-Encoding '%s' is not supported.", enc)
	}
	data, err := io.ReadAll(io.LimitReader(body, maxBodyBytes+1))
	if err != nil || len(data) > maxBodyBytes {
		return nil, errUnreadableJSON()
	}
	return data, nil
}

// serveGraph is the front door of /v1.0/ and /beta/: request ids, token, route, permission, handler,
// then the per-tenant, per-client counters.
func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	c := &call{w: sw, r: r, srv: s, requestID: newGUID()}
	c.clientRequestID = r.Header.Get("client-request-id")
	if c.clientRequestID == "" {
		c.clientRequestID = c.requestID
	}
	h := sw.Header()
	h.Set("request-id", c.requestID)
	h.Set("client-request-id", c.clientRequestID)
	h.Set("OData-Version", "4.0")
	h.Set("Cache-Control", "no-cache")

	segs := splitPath(r.URL.EscapedPath())
	c.version = segs[0]
	if gerr := s.dispatchGraph(c, segs[1:]); gerr != nil {
		c.writeError(gerr)
	}
	tid, appID := "", ""
	if c.token != nil {
		tid, appID = c.token.Tid, c.token.AppID
	}
	method := r.Method
	if isBatchPath(segs[1:]) {
		method = "" // the envelope is not a write; its inner requests are counted on their own
	}
	s.counters.record(tid, appID, method, sw.status)
	s.log.Debug("graph", "method", r.Method, "path", r.URL.Path, "status", sw.status, "tenant", tid,
		"client", appID, "request-id", c.requestID, "ms", time.Since(start).Milliseconds())
}

func (s *Server) dispatchGraph(c *call, segs []string) *graphError {
	if gerr := s.authenticateGraph(c); gerr != nil {
		return gerr
	}
	// Faults, throttling and then routeGraph, for every route (faults.go).
	return s.controlledDispatch(c, segs)
}

// routeGraph finds the route, checks its permissions and runs its handler.
func (s *Server) routeGraph(c *call, segs []string) *graphError {
	rt, params, gerr := s.graphRoutes.match(c.r.Method, segs)
	if gerr != nil {
		return gerr
	}
	if !rt.allowed(c.token.Roles) {
		return errDenied()
	}
	c.params = params
	return rt.handle(c)
}

// authenticateGraph validates the bearer token as a Graph resource does: signature, lifetime, audience,
// and a tenant the simulator serves. The tenant of the request is the token's tid.
func (s *Server) authenticateGraph(c *call) *graphError {
	fail := func(msg string) *graphError {
		c.w.Header().Set("WWW-Authenticate", fmt.Sprintf(
			`Bearer realm="", authorization_uri="%s/common/oauth2/authorize", client_id="%s"`, s.graphURL, graphAppID))
		return newGraphError(http.StatusUnauthorized, codeInvalidToken, "%s", msg)
	}
	raw, ok := bearer(c.r)
	if !ok {
		return fail("Access token is empty.")
	}
	claims, err := s.signer.verify(raw, s.now())
	switch {
	case errors.Is(err, errTokenExpired):
		return fail("Lifetime validation failed, the token is expired.")
	case errors.Is(err, errTokenMalformed):
		return fail("IDX14100: JWT is not well formed.")
	case err != nil:
		return fail("Access token validation failure.")
	case claims.Aud != graphResource && claims.Aud != graphAppID:
		return fail("Access token validation failure. Invalid audience.")
	}
	c.token = claims
	if c.tenant = s.store.tenant(claims.Tid); c.tenant == nil || c.tenant.ID != claims.Tid {
		return fail("Access token validation failure. Invalid tenant.")
	}
	return nil
}

// bearer extracts a bearer token from the Authorization header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// statusWriter remembers the status code written, for counters and logs.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

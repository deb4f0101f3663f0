package simulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// env is a started simulator and a raw HTTP client trusting its CA: the tests in this package check the
// wire format the SDKs hide (status codes, headers, error bodies).
type env struct {
	t      *testing.T
	srv    *simulator.Server
	graph  string
	vault  string
	client *http.Client
}

func newEnv(t *testing.T, opts *simulator.Options) *env {
	t.Helper()
	srv := simtest.Start(t, nil, opts)
	u := srv.URLs()
	return &env{t: t, srv: srv, graph: u.GraphURL, vault: u.VaultURL, client: srv.HTTPClient()}
}

// tokenResponse posts a client-credentials request and returns the status and decoded body.
func (e *env) tokenResponse(tenant, clientID, secret, scope string) (int, map[string]any) {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
	resp, err := e.client.PostForm(e.graph+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		e.t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decode(e.t, resp.Body)
}

// token returns an access token or fails the test.
func (e *env) token(tenant, clientID, secret, scope string) string {
	e.t.Helper()
	status, body := e.tokenResponse(tenant, clientID, secret, scope)
	tok, _ := body["access_token"].(string)
	if status != http.StatusOK || tok == "" {
		e.t.Fatalf("token: status %d, body %v", status, body)
	}
	return tok
}

func (e *env) migratorToken(tenant string) string {
	return e.token(tenant, simtest.MigratorID, simtest.MigratorSecret, simtest.GraphScope)
}

// do sends a request to base+path with an optional bearer token, JSON body and header pairs, and
// returns the response (body already read) and the decoded JSON body (nil when empty).
func (e *env) do(method, target, token string, body any, headers ...string) (*http.Response, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	return resp, decode(e.t, resp.Body)
}

func decode(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, data)
	}
	return m
}

// graphError extracts error.code, error.message and the details' targets/codes of a Graph error body.
func graphError(t *testing.T, body map[string]any) (code, message string, details []map[string]any, inner map[string]any) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("not a Graph error body: %v", body)
	}
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	inner, _ = e["innerError"].(map[string]any)
	if ds, ok := e["details"].([]any); ok {
		for _, d := range ds {
			details = append(details, d.(map[string]any))
		}
	}
	return code, message, details, inner
}

// expectGraphError checks status, code and (when not empty) the exact message.
func expectGraphError(t *testing.T, resp *http.Response, body map[string]any, status int, code, message string) []map[string]any {
	t.Helper()
	gotCode, gotMsg, details, inner := graphError(t, body)
	if resp.StatusCode != status || gotCode != code || (message != "" && gotMsg != message) {
		t.Fatalf("got %d %s %q, want %d %s %q", resp.StatusCode, gotCode, gotMsg, status, code, message)
	}
	if inner["request-id"] != resp.Header.Get("request-id") || inner["date"] == "" || inner["client-request-id"] == "" {
		t.Errorf("innerError %v does not match request-id header %q", inner, resp.Header.Get("request-id"))
	}
	return details
}

func newUserBody(upn string) map[string]any {
	local, _, _ := strings.Cut(upn, "@")
	return map[string]any{
		"accountEnabled": true, "displayName": "Test " + local, "mailNickname": local, "userPrincipalName": upn,
		"passwordProfile": map[string]any{"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"},
	}
}

// getJSON decodes a GET of target into v.
func (e *env) getJSON(target string, v any) {
	e.t.Helper()
	resp, err := e.client.Get(target)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		e.t.Fatalf("decoding %s: %v", target, err)
	}
}

// counter returns the admin API's counter for a tenant and client, or nil.
func (e *env) counter(tenant, client string) map[string]any {
	e.t.Helper()
	var all []map[string]any
	e.getJSON(e.graph+"/_sim/counters", &all)
	for _, c := range all {
		if c["tenant"] == tenant && c["client"] == client {
			return c
		}
	}
	return nil
}

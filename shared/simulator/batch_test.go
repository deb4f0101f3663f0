package simulator_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// batchAnswers posts a batch and returns the outer response and the inner answers by id.
func (e *env) batch(tok string, requests []map[string]any) (*http.Response, map[string]any, map[string]map[string]any, []string) {
	e.t.Helper()
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0/$batch", tok, map[string]any{"requests": requests})
	byID := map[string]map[string]any{}
	var order []string
	if list, ok := body["responses"].([]any); ok {
		for _, a := range list {
			m := a.(map[string]any)
			byID[m["id"].(string)] = m
			order = append(order, m["id"].(string))
		}
	}
	return resp, body, byID, order
}

func status(a map[string]any) int {
	f, _ := a["status"].(float64)
	return int(f)
}

func innerHeader(a map[string]any, name string) string {
	h, _ := a["headers"].(map[string]any)
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

func TestBatchRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	resp, body, got, order := e.batch(tok, []map[string]any{
		{"id": "create", "method": "POST", "url": "/users", "headers": map[string]string{"Content-Type": "application/json"},
			"body": newUserBody("batched@fabrikam.example")},
		{"id": "read", "method": "GET", "url": "users/batched@fabrikam.example?$select=id,userPrincipalName", "dependsOn": []string{"create"}},
		{"id": "missing", "method": "GET", "url": "/users/nobody@fabrikam.example"},
		{"id": "filtered", "method": "GET", "url": "/users?$filter=userPrincipalName eq 'batched@fabrikam.example'&$count=true",
			"headers": map[string]string{"ConsistencyLevel": "eventual"}},
	})
	if resp.StatusCode != http.StatusOK || len(got) != 4 {
		t.Fatalf("batch: %d %v", resp.StatusCode, body)
	}
	if strings.Join(order, ",") != "filtered,missing,read,create" {
		t.Errorf("answer order %v, want the reverse of the requests", order)
	}
	created := got["create"]
	if status(created) != http.StatusCreated || innerHeader(created, "Location") == "" || innerHeader(created, "x-ms-resource-unit") != "1" {
		t.Errorf("create: %v", created)
	}
	read := got["read"]
	if status(read) != http.StatusOK || read["body"].(map[string]any)["userPrincipalName"] != "batched@fabrikam.example" {
		t.Errorf("read: %v", read)
	}
	missing := got["missing"]
	if status(missing) != http.StatusNotFound || missing["body"].(map[string]any)["error"].(map[string]any)["code"] != "Request_ResourceNotFound" {
		t.Errorf("missing: %v", missing)
	}
	if f := got["filtered"]; status(f) != http.StatusOK || num(f["body"].(map[string]any), "@odata.count") != 1 {
		t.Errorf("filtered: %v", f)
	}
	// Every inner request is counted like a top-level one; the envelope is a request but not a write.
	c := e.counter(simtest.FabrikamID, simtest.MigratorID)
	if num(c, "requests") != 5 || num(c, "writes") != 1 || num(c, "batches") != 1 || num(c, "4xx") != 1 {
		t.Errorf("counter %v", c)
	}
}

func TestBatchRejectsMalformedEnvelopes(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	get := func(id string) map[string]any { return map[string]any{"id": id, "method": "GET", "url": "/domains"} }
	var tooMany []map[string]any
	for i := range 21 {
		tooMany = append(tooMany, get(fmt.Sprint(i+1)))
	}
	tests := []struct {
		name     string
		requests []map[string]any
		message  string
	}{
		{"21 requests", tooMany, "Number of requests inside batch exceeds the limit."},
		{"duplicate id", []map[string]any{get("a"), get("A")}, "Request Id A has to be unique in a batch."},
		{"nested batch", []map[string]any{{"id": "1", "method": "POST", "url": "/$batch", "headers": map[string]string{"Content-Type": "application/json"},
			"body": map[string]any{"requests": []any{}}}}, ""},
		{"body without Content-Type", []map[string]any{{"id": "1", "method": "POST", "url": "/users", "body": newUserBody("x@fabrikam.example")}}, ""},
		{"absolute url", []map[string]any{{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users"}}, ""},
		{"unknown dependency", []map[string]any{{"id": "1", "method": "GET", "url": "/domains", "dependsOn": []string{"9"}}}, ""},
		{"cycle", []map[string]any{
			{"id": "1", "method": "GET", "url": "/domains", "dependsOn": []string{"2"}},
			{"id": "2", "method": "GET", "url": "/domains", "dependsOn": []string{"1"}}}, ""},
		{"bad method", []map[string]any{{"id": "1", "method": "TRACE", "url": "/domains"}}, ""},
		{"no requests", []map[string]any{}, ""},
	}
	for _, tt := range tests {
		resp, body, _, _ := e.batch(tok, tt.requests)
		code, msg, _, _ := graphError(t, body)
		if resp.StatusCode != http.StatusBadRequest || code != "BadRequest" || (tt.message != "" && msg != tt.message) {
			t.Errorf("%s: %d %s %q", tt.name, resp.StatusCode, code, msg)
		}
	}
	// A rejected batch runs nothing.
	if c := e.counter(simtest.FabrikamID, simtest.MigratorID); num(c, "requests") != float64(len(tests)) || num(c, "batches") != 0 {
		t.Errorf("counter %v", c)
	}
}

func TestBatchDependsOnFailureYields424(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	resp, _, got, _ := e.batch(tok, []map[string]any{
		{"id": "1", "method": "GET", "url": "/users/nobody@fabrikam.example"},
		{"id": "2", "method": "PATCH", "url": "/users/nobody@fabrikam.example", "dependsOn": []string{"1"},
			"headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"jobTitle": "x"}},
		{"id": "3", "method": "GET", "url": "/domains", "dependsOn": []string{"2"}},
		{"id": "4", "method": "GET", "url": "/domains"},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("batch: %d", resp.StatusCode)
	}
	want := map[string]int{"1": 404, "2": 424, "3": 424, "4": 200}
	for id, st := range want {
		if status(got[id]) != st {
			t.Errorf("request %s: %d, want %d (%v)", id, status(got[id]), st, got[id])
		}
	}
	e424 := got["2"]["body"].(map[string]any)["error"].(map[string]any)
	if inner, _ := e424["innerError"].(map[string]any); e424["code"] == "" || inner["request-id"] == nil || inner["date"] == nil {
		t.Errorf("424 body %v", e424)
	}
	// The 424s never ran: only 1 and 4 (and the envelope) are counted.
	if c := e.counter(simtest.FabrikamID, simtest.MigratorID); num(c, "requests") != 3 || num(c, "writes") != 0 {
		t.Errorf("counter %v", c)
	}
}

func TestBatchInnerRequestsThrottledOnTheirOwn(t *testing.T) {
	e := newEnvWith(t, throttledConfig(simulator.ThrottlingConfig{ResourceUnits: 2}), newFakeClock())
	tok := e.migratorToken(simtest.FabrikamID)
	var reqs []map[string]any
	for i := 1; i <= 3; i++ {
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/domains"})
	}
	resp, _, got, _ := e.batch(tok, reqs)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("batch: %d", resp.StatusCode)
	}
	if status(got["1"]) != 200 || status(got["2"]) != 200 || status(got["3"]) != 429 {
		t.Fatalf("statuses %d %d %d, want 200 200 429", status(got["1"]), status(got["2"]), status(got["3"]))
	}
	if innerHeader(got["3"], "Retry-After") == "" {
		t.Errorf("inner 429 without Retry-After: %v", got["3"])
	}
	if code := got["3"]["body"].(map[string]any)["error"].(map[string]any)["code"]; code != "TooManyRequests" {
		t.Errorf("inner 429 code %v", code)
	}
}

func TestBatchInnerRequestsAuthorizedOnTheirOwn(t *testing.T) {
	e := newEnv(t, nil)
	reader := e.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
	_, _, got, _ := e.batch(reader, []map[string]any{
		{"id": "1", "method": "GET", "url": "/users?$top=1"},
		{"id": "2", "method": "GET", "url": "/domains"},
	})
	if status(got["1"]) != http.StatusOK || status(got["2"]) != http.StatusForbidden {
		t.Errorf("statuses %d %d, want 200 403", status(got["1"]), status(got["2"]))
	}
	resp, _ := e.do(http.MethodPost, e.graph+"/v1.0/$batch", "", map[string]any{"requests": []any{}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("batch without a token: %d", resp.StatusCode)
	}
}

package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"t2t/shared/funcproto"
	"t2t/shared/logfields"
)

// TestLogRecordsUseDeclaredFields: the records the handler writes for an invocation are JSON, one per
// line, carry only field names declared in shared/logfields (the names the Azure Monitor workbook may
// query), and every field declared as emitted is really written. The same records, as the same JSON
// text, are in the invocation response's Logs, with the host's invocation id. A failing run shows
// both records.
func TestLogRecordsUseDeclaredFields(t *testing.T) {
	var buf bytes.Buffer
	a := &App{Log: newLogger(&buf)}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/WaveStatus", strings.NewReader(`{"Data": {}, "Metadata": {}}`))
	req.Header.Set(invocationIDHeader, "6f3c2a1e-0000-4000-8000-00000000abcd")
	a.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d: the probe invocation should fail without a request binding", rec.Code)
	}
	var resp funcproto.InvokeResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	a.Log.Info("t2t handler listening", logfields.Port, 1234) // as cmd/handler logs at start

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d records, want 3 (invocation failed, invocation, listening):\n%s", len(lines), buf.String())
	}
	if !slices.Equal(resp.Logs, lines[:2]) {
		t.Errorf("response Logs %q, want the invocation's records as written to the log %q", resp.Logs, lines[:2])
	}
	declared := map[string]bool{}
	for _, f := range logfields.Fields {
		declared[f.Name] = true
	}
	seen, messages := map[string]bool{}, map[string]bool{}
	for i, line := range lines {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("record is not JSON: %s", line)
		}
		for k := range r {
			seen[k] = true
			if !declared[k] {
				t.Errorf("log field %q is not declared in shared/logfields: %s", k, line)
			}
		}
		messages[r[logfields.Msg].(string)] = true
		if i < 2 && (r[logfields.InvocationID] != "6f3c2a1e-0000-4000-8000-00000000abcd" || r[logfields.Function] != "WaveStatus") {
			t.Errorf("record lacks the invocation id or function: %s", line)
		}
	}
	// Written when an import chunk settles or an object fails: checked against a real wave in the
	// e2e tests (assertStepRecords).
	later := map[string]bool{logfields.MsgStep: true, logfields.MsgObjectFailed: true, logfields.Key: true}
	for _, f := range logfields.StepFields {
		later[f] = true
	}
	for _, f := range logfields.Fields {
		if f.Emitted && !seen[f.Name] && !later[f.Name] {
			t.Errorf("field %q is declared as emitted but the handler did not write it (records: %s)", f.Name, buf.String())
		}
	}
	for msg, emitted := range logfields.Messages {
		if emitted && !messages[msg] && !later[msg] {
			t.Errorf("message %q is declared as emitted but was not written (records: %s)", msg, buf.String())
		}
	}
}

package handlers

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"t2t/shared/logfields"
)

// TestLogRecordsUseDeclaredFields: the records the handler writes for an invocation carry only field
// names declared in shared/logfields (the names the Azure Monitor workbook may query), and every field
// declared as emitted is really written. A failing run shows both records.
func TestLogRecordsUseDeclaredFields(t *testing.T) {
	var buf bytes.Buffer
	a := &App{Log: newLogger(&buf)}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/WaveStatus", strings.NewReader(`{"Data": {}, "Metadata": {}}`)))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d: the probe invocation should fail without a request binding", rec.Code)
	}
	a.Log.Info("t2t handler listening", logfields.Port, 1234) // as cmd/handler logs at start

	declared := map[string]bool{}
	for _, f := range logfields.Fields {
		declared[f.Name] = true
	}
	seen, messages := map[string]bool{}, map[string]bool{}
	key := regexp.MustCompile(`(?:^| )([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|\S*)`)
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		for _, m := range key.FindAllStringSubmatch(line, -1) {
			seen[m[1]] = true
			if !declared[m[1]] {
				t.Errorf("log field %q is not declared in shared/logfields: %s", m[1], line)
			}
			if m[1] == logfields.Msg {
				messages[strings.Trim(m[2], `"`)] = true
			}
		}
	}
	step := map[string]bool{logfields.MsgStep: true}
	for _, f := range logfields.StepFields {
		step[f] = true // written by a settled import chunk: checked against a real wave in the e2e tests
	}
	for _, f := range logfields.Fields {
		if f.Emitted && !seen[f.Name] && !step[f.Name] {
			t.Errorf("field %q is declared as emitted but the handler did not write it (records: %s)", f.Name, buf.String())
		}
	}
	for msg, emitted := range logfields.Messages {
		if emitted && !messages[msg] && !step[msg] {
			t.Errorf("message %q is declared as emitted but was not written (records: %s)", msg, buf.String())
		}
	}
}

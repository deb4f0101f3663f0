package funchost

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestLogsOfSuccessfulRunsOnly: the Logs of a 2xx answer are logged under the function, one line per
// entry; those of a failed answer are not (the real host checks the status before reading the body).
func TestLogsOfSuccessfulRunsOnly(t *testing.T) {
	var buf bytes.Buffer
	h := &Host{log: &logger{w: &buf}}
	answer := func(status int) *http.Response {
		return &http.Response{StatusCode: status, Status: http.StatusText(status),
			Body: io.NopCloser(strings.NewReader(`{"Outputs":{},"Logs":["{\"msg\":\"one\"}","{\"msg\":\"two\"}"],"ReturnValue":null}`))}
	}
	if _, err := h.readAnswer("StepRun", answer(http.StatusOK)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], `[StepRun] {"msg":"one"}`) || !strings.HasSuffix(lines[1], `[StepRun] {"msg":"two"}`) {
		t.Errorf("logged %q, want the two entries under StepRun", lines)
	}
	buf.Reset()
	if _, err := h.readAnswer("StepRun", answer(http.StatusInternalServerError)); err == nil {
		t.Fatal("a 500 answer did not fail the invocation")
	}
	if buf.Len() != 0 {
		t.Errorf("the Logs of a failed run were logged: %s", buf.String())
	}
}

package funchost

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func httpDo(t *testing.T, method, url, contentType, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestHTTPTrigger checks routing (optional parameter, int constraint, default route, 404, 405), the
// request shape the handler receives, and the http output ("res" and $return) written back.
func TestHTTPTrigger(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "HttpEcho", "HttpDefault")
	api := f.start().URL() + "/api"

	status, hdr, body := httpDo(t, "GET", api+"/items/5", "", "")
	if status != 200 || hdr.Get("X-Echo") != "1" || !strings.Contains(body, `"params":{"id":"5"}`) {
		t.Errorf("GET /items/5: %d %v %s", status, hdr, body)
	}
	status, _, body = httpDo(t, "GET", api+"/items/5/blue?x=1", "", "")
	if status != 200 || !strings.Contains(body, `"tag":"blue"`) || !strings.Contains(body, `"query":{"x":"1"}`) {
		t.Errorf("GET /items/5/blue: %d %s", status, body)
	}
	status, _, _ = httpDo(t, "POST", api+"/items/6", "application/json", `{"a":1}`)
	if status != 200 {
		t.Errorf("POST /items/6: %d", status)
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{{"GET", "/items/abc", 404}, {"DELETE", "/items/5", 405}, {"GET", "/nothing", 404}} {
		if status, _, _ := httpDo(t, c.method, api+c.path, "", ""); status != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, status, c.want)
		}
	}
	status, _, body = httpDo(t, "GET", api+"/HttpDefault", "", "")
	if status != 200 || body != "default route" {
		t.Errorf("GET /HttpDefault ($return): %d %q", status, body)
	}

	recs := f.waitRecords("HttpEcho", 3, 5*time.Second)
	req := decodeRequest(t, recs[1])
	h, err := req.HTTP("req")
	if err != nil || h.Method != "GET" || h.Params["tag"] != "blue" || h.Query["x"] != "1" || !strings.HasSuffix(h.URL, "/api/items/5/blue?x=1") {
		t.Errorf("req binding %+v (%v)", h, err)
	}
	if got, want := string(req.Metadata["tag"]), `"\"blue\""`; got != want { // JSON-encoded twice
		t.Errorf("Metadata.tag = %s, want %s", got, want)
	}
	var post struct {
		Data map[string]struct{ Body json.RawMessage }
	}
	_ = json.Unmarshal(recs[2], &post)
	if got := string(post.Data["req"].Body); got != `{"a":1}` {
		t.Errorf("JSON body sent as %s, want the object", got)
	}
	if !strings.Contains(f.logs.String(), `output binding type "table" is not supported`) {
		t.Error("no warning for the unsupported table output")
	}
}

// TestHTTPForwarding checks enableForwardingHttpRequest: the raw request goes to the handler at the
// same path and its raw response comes back.
func TestHTTPForwarding(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.root = "testdata/forwardapp"
	api := f.start().URL() + "/api"
	status, hdr, body := httpDo(t, "GET", api+"/raw/42?q=1", "", "")
	if status != 202 || hdr.Get("X-Forwarded-By") != "echohandler" || !strings.Contains(body, `"path":"/api/raw/42"`) {
		t.Errorf("forwarded GET: %d %v %s", status, hdr, body)
	}
	if status, _, _ := httpDo(t, "POST", api+"/raw/42", "", ""); status != 405 {
		t.Errorf("POST on a GET route: %d", status)
	}
}

// TestStartErrors checks that a taken HTTP port and a missing handler fail Start cleanly.
func TestStartErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := Config{Root: "testdata/forwardapp", Handler: echoHandler, Port: ln.Addr().(*net.TCPAddr).Port, Log: io.Discard}
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "listening") {
		t.Errorf("Start on a taken port: %v", err)
	}
	cfg.Port, cfg.Handler = 0, filepath.Join(t.TempDir(), "nothing")
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Start without a handler: %v", err)
	}
}

// Command echohandler is the funchost tests' custom handler. It records every invocation request body
// under $ECHO_DIR/<FunctionName>/, and acts on the trigger's content: text containing "crash" exits the
// process, "fail" answers 500, and a JSON object with an "outputs" member returns those outputs. HTTP
// triggers answer through the "res" (or $return) http output with what they received.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"t2t/shared/funcproto"
)

var seq atomic.Int64

func main() {
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" || os.Getenv("FUNCTIONS_WORKER_RUNTIME") != "custom" {
		fmt.Fprintln(os.Stderr, "echohandler: not started by a Functions host")
		os.Exit(2)
	}
	fmt.Println("echohandler listening on", port)
	http.HandleFunc("/api/", forwarded)
	http.HandleFunc("/", invoke)
	if err := http.ListenAndServe("127.0.0.1:"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// forwarded answers raw HTTP requests relayed with enableForwardingHttpRequest.
func forwarded(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Forwarded-By", "echohandler")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "query": r.URL.RawQuery, "method": r.Method})
}

func invoke(w http.ResponseWriter, r *http.Request) {
	fn := strings.Trim(r.URL.Path, "/")
	body, _ := io.ReadAll(r.Body)
	record(fn, body)
	var req funcproto.InvokeRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	text := triggerText(&req)
	switch {
	case strings.Contains(text, "crash"):
		fmt.Println("echohandler: crashing on purpose")
		os.Exit(3)
	case strings.Contains(text, "fail"):
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{"Logs": []string{"failing on purpose"}})
		return
	}
	resp := map[string]any{"Logs": []string{"echo " + fn}, "Outputs": outputs(&req, text)}
	if fn == "HttpDefault" {
		resp["ReturnValue"] = map[string]any{"statusCode": 200, "body": "default route"}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// record writes the raw request body atomically to $ECHO_DIR/<fn>/<time>-<seq>.json.
func record(fn string, body []byte) {
	dir := filepath.Join(os.Getenv("ECHO_DIR"), fn)
	_ = os.MkdirAll(dir, 0o755)
	name := fmt.Sprintf("%020d-%06d.json", time.Now().UnixNano(), seq.Add(1))
	tmp := filepath.Join(dir, "."+name)
	if os.WriteFile(tmp, body, 0o644) == nil {
		_ = os.Rename(tmp, filepath.Join(dir, name))
	}
}

// triggerText is every Data value as text, and as decoded bytes, joined.
func triggerText(req *funcproto.InvokeRequest) string {
	var parts []string
	for k := range req.Data {
		if t, err := req.Text(k); err == nil {
			parts = append(parts, t)
		}
		if b, err := req.Bytes(k); err == nil {
			parts = append(parts, string(b))
		}
	}
	return strings.Join(parts, "\n")
}

// outputs returns the "outputs" member of a JSON trigger value, or an http "res" output echoing an
// HTTP trigger.
func outputs(req *funcproto.InvokeRequest, text string) map[string]any {
	if h, err := req.HTTP("req"); err == nil && h.Method != "" {
		return map[string]any{"res": map[string]any{
			"statusCode": "200",
			"body":       map[string]any{"method": h.Method, "params": h.Params, "query": h.Query},
			"headers":    map[string]string{"X-Echo": "1"},
		}}
	}
	for _, line := range strings.Split(text, "\n") {
		var v struct {
			Outputs map[string]any `json:"outputs"`
		}
		if json.Unmarshal([]byte(line), &v) == nil && v.Outputs != nil {
			return v.Outputs
		}
	}
	return nil
}

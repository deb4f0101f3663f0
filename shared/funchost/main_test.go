package funchost

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"t2t/shared/funcproto"
	"t2t/shared/localstack"
)

// Shared by the integration tests: one Azurite and one build of the echo handler. Each test isolates
// itself with its own queue and container names, given to the fixture app through %Setting% references.
var (
	azurite     *localstack.Azurite
	echoHandler string
	setupErr    error
)

func TestMain(m *testing.M) {
	code := func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		dir, err := os.MkdirTemp("", "funchost-test-")
		if err != nil {
			setupErr = err
			return m.Run()
		}
		defer os.RemoveAll(dir)
		echoHandler = filepath.Join(dir, "echohandler")
		out, err := exec.Command("go", "build", "-o", echoHandler, "./testdata/echohandler").CombinedOutput()
		if err != nil {
			setupErr = fmt.Errorf("building the echo handler: %v\n%s", err, out)
			return m.Run()
		}
		if azurite, err = localstack.StartAzurite(ctx, nil); err != nil {
			setupErr = fmt.Errorf("starting azurite: %w", err)
			return m.Run()
		}
		defer azurite.Stop()
		return m.Run()
	}()
	os.Exit(code)
}

// allFunctions are the fixture app's functions; a test enables the ones it exercises.
var allFunctions = []string{"QueueEcho", "BlobEcho", "HttpEcho", "HttpDefault", "TimerEcho", "TimerMonitor"}

// fixture is one test's local host over testdata/app, with its own names and echo folder.
type fixture struct {
	t        *testing.T
	settings map[string]string
	echoDir  string
	root     string
	logs     *syncBuffer
	host     *Host
}

func newFixture(t *testing.T, enabled ...string) *fixture {
	t.Helper()
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	sfx := randomSuffix()
	f := &fixture{t: t, echoDir: t.TempDir(), root: "testdata/app", logs: &syncBuffer{}}
	f.settings = map[string]string{
		"AzureWebJobsStorage":           azurite.ConnectionString(),
		"AzureFunctionsWebHost__hostid": "test-" + sfx,
		"InQueue":                       "in-" + sfx,
		"OutQueue":                      "out-" + sfx,
		"BlobContainer":                 "blobs-" + sfx,
		"OutContainer":                  "outb-" + sfx,
		"ECHO_DIR":                      f.echoDir,
	}
	for _, fn := range allFunctions {
		if !contains(enabled, fn) {
			f.settings["AzureWebJobs."+fn+".Disabled"] = "true"
		}
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("FUNCHOST_TEST_LOG") != "" {
			t.Logf("host log:\n%s", f.logs.String())
		}
	})
	return f
}

// start runs a host over the fixture; it is shut down when the test ends.
func (f *fixture) start() *Host {
	f.t.Helper()
	port, err := localstack.FreePort()
	if err != nil {
		f.t.Fatal(err)
	}
	h, err := Start(context.Background(), Config{
		Root: f.root, Settings: f.settings, Port: port, Handler: echoHandler, Log: f.logs,
		BlobScanInterval: 100 * time.Millisecond, ShutdownTimeout: 5 * time.Second,
	})
	if err != nil {
		f.t.Fatalf("starting the host: %v\n%s", err, f.logs.String())
	}
	f.host = h
	f.t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	return h
}

// records returns the invocation requests the echo handler received for a function, oldest first.
func (f *fixture) records(fn string) []json.RawMessage {
	f.t.Helper()
	entries, _ := os.ReadDir(filepath.Join(f.echoDir, fn))
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	out := make([]json.RawMessage, 0, len(names))
	for _, n := range names {
		raw, err := os.ReadFile(filepath.Join(f.echoDir, fn, n))
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// waitRecords waits until a function received at least n invocations.
func (f *fixture) waitRecords(fn string, n int, timeout time.Duration) []json.RawMessage {
	f.t.Helper()
	var recs []json.RawMessage
	eventually(f.t, timeout, fmt.Sprintf("%d invocations of %s", n, fn), func() bool {
		recs = f.records(fn)
		return len(recs) >= n
	})
	return recs
}

func (f *fixture) queue(name string) *azqueue.QueueClient {
	qc, err := azqueue.NewQueueClientFromConnectionString(azurite.ConnectionString(), name, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return qc
}

// enqueue puts a raw (already encoded) message on a queue, creating it.
func (f *fixture) enqueue(name, raw string) {
	f.t.Helper()
	qc := f.queue(name)
	_, _ = qc.Create(context.Background(), nil)
	if _, err := qc.EnqueueMessage(context.Background(), raw, nil); err != nil {
		f.t.Fatal(err)
	}
}

// peek returns up to 32 visible messages' raw text without dequeueing them.
func (f *fixture) peek(name string) []string {
	f.t.Helper()
	n := int32(32)
	resp, err := f.queue(name).PeekMessages(context.Background(), &azqueue.PeekMessagesOptions{NumberOfMessages: &n})
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range resp.Messages {
		out = append(out, deref(m.MessageText))
	}
	return out
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unb64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("message %q is not base64: %v", s, err)
	}
	return string(b)
}

// decodeRequest parses a recorded request body.
func decodeRequest(t *testing.T, raw json.RawMessage) funcproto.InvokeRequest {
	t.Helper()
	var req funcproto.InvokeRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatalf("recorded request is not JSON: %v\n%s", err, raw)
	}
	return req
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// syncBuffer is a bytes.Buffer safe for the host's concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

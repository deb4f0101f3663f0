package graph

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// scripted answers each request with the next status of a script and records the bodies it saw.
func scripted(t *testing.T, statuses []int, header http.Header) (*httptest.Server, *[]string) {
	var n atomic.Int32
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		i := int(n.Add(1)) - 1
		if i >= len(statuses) {
			i = len(statuses) - 1
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(statuses[i])
		_, _ = io.WriteString(w, `{"error":{"code":"x","message":"y"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &bodies
}

func TestTransportRetriesThrottlingAndUnavailability(t *testing.T) {
	cases := []struct {
		name     string
		statuses []int
		header   http.Header
		want     int
		tries    int
	}{
		{"429 with Retry-After then success", []int{429, 200}, http.Header{"Retry-After": {"0"}}, 200, 2},
		{"429 without Retry-After (conditional access)", []int{429, 201}, nil, 201, 2},
		{"503 twice then success", []int{503, 503, 204}, nil, 204, 3},
		{"504 then success", []int{504, 200}, nil, 200, 2},
		{"400 is not retried", []int{400, 200}, nil, 400, 1},
		{"403 is not retried", []int{403, 200}, nil, 403, 1},
		{"gives up after max attempts", []int{503}, nil, 503, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, bodies := scripted(t, c.statuses, c.header)
			tr := NewTransport(http.DefaultTransport, 4, 0)
			tr.sleep = func(context.Context, time.Duration) error { return nil }
			// A body without GetBody, as the SDK sends it: the transport must still replay it.
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1.0/users", io.NopCloser(strings.NewReader(`{"a":1}`)))
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want || len(*bodies) != c.tries {
				t.Errorf("status %d after %d tries, want %d after %d", resp.StatusCode, len(*bodies), c.want, c.tries)
			}
			for i, b := range *bodies {
				if b != `{"a":1}` {
					t.Errorf("try %d sent body %q: the body was not replayed", i+1, b)
				}
			}
		})
	}
}

func TestTransportHonoursRetryAfterAndStopsOnCancel(t *testing.T) {
	srv, _ := scripted(t, []int{429, 200}, http.Header{"Retry-After": {"7"}})
	var waited []time.Duration
	tr := NewTransport(http.DefaultTransport, 3, 0)
	tr.sleep = func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("RoundTrip = %v, %v", resp, err)
	}
	resp.Body.Close()
	if len(waited) != 1 || waited[0] != 7*time.Second {
		t.Errorf("waited %v, want [7s] from Retry-After", waited)
	}

	srv2, _ := scripted(t, []int{503}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	tr2 := NewTransport(http.DefaultTransport, 5, 0)
	tr2.sleep = func(ctx context.Context, d time.Duration) error { cancel(); return sleepCtx(ctx, d) }
	req2, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv2.URL, nil)
	if _, err := tr2.RoundTrip(req2); err == nil {
		t.Error("a cancelled context should end the retries with an error")
	}
}

func TestTransportLongRetryAfterIsLeftToTheQueue(t *testing.T) {
	srv, bodies := scripted(t, []int{429, 200}, http.Header{"Retry-After": {"600"}})
	tr := NewTransport(http.DefaultTransport, 3, 0)
	tr.sleep = func(context.Context, time.Duration) error { t.Error("should not sleep 10 minutes"); return nil }
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || len(*bodies) != 1 {
		t.Errorf("got %d after %d tries; a Retry-After beyond MaxWait should come back as the 429", resp.StatusCode, len(*bodies))
	}
}

func TestWritePacingSpacesWritesButNotReads(t *testing.T) {
	srv, _ := scripted(t, []int{200}, nil)
	tr := NewTransport(http.DefaultTransport, 1, 10) // 10 writes/s, burst 10
	start := time.Now()
	for i := 0; i < 20; i++ {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if elapsed := time.Since(start); elapsed < 900*time.Millisecond {
		t.Errorf("20 writes at 10/s (burst 10) took %v; pacing should hold them to about 1 s", elapsed)
	}
	start = time.Now()
	for i := 0; i < 50; i++ {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("reads were paced like writes: 50 took %v", elapsed)
	}
}

// TestWriteBurstSpendsTheBucketThenHoldsTheRate: with a burst, the first writes do not wait; the
// next one waits for the steady rate.
func TestWriteBurstSpendsTheBucketThenHoldsTheRate(t *testing.T) {
	var slept []time.Duration
	tr := NewTransport(http.DefaultTransport, 1, 2).WithWriteBurst(5)
	tr.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	for range 5 {
		if err := tr.writes.take(context.Background(), tr.sleep); err != nil {
			t.Fatal(err)
		}
	}
	if len(slept) != 0 {
		t.Fatalf("the burst's writes waited: %v", slept)
	}
	_ = tr.writes.take(context.Background(), tr.sleep)
	if len(slept) != 1 || slept[0] < 300*time.Millisecond {
		t.Errorf("the write after the burst waited %v, want about 1/rate", slept)
	}
}

func TestPolicyPacingSpacesConditionalAccessRequestsOnly(t *testing.T) {
	srv, _ := scripted(t, []int{200}, nil)
	tr := NewTransport(http.DefaultTransport, 1, 0).WithPolicyPacing(10) // 10/s, no burst
	send := func(method, path string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	start := time.Now()
	for i := 0; i < 6; i++ {
		// Reads count too: the limit is on every request, and paths are case-insensitive.
		send([]string{http.MethodGet, http.MethodPost}[i%2], []string{
			"/v1.0/identity/conditionalAccess/policies", "/v1.0/Identity/ConditionalAccess/namedLocations/x"}[i%2])
	}
	if elapsed := time.Since(start); elapsed < 450*time.Millisecond {
		t.Errorf("6 conditional access requests at 10/s took %v; pacing should hold them to about 0.5 s", elapsed)
	}
	start = time.Now()
	for i := 0; i < 30; i++ {
		send(http.MethodPost, "/v1.0/users")
		send(http.MethodGet, "/v1.0/identity/conditionalAccessX")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("other requests were paced like conditional access: 60 took %v", elapsed)
	}
}

func TestPolicyPacingWaitsWithoutARetryAfter(t *testing.T) {
	// Conditional access answers 429 without Retry-After: the paced retry still goes through, and the
	// retry takes a token of its own.
	srv, bodies := scripted(t, []int{429, 201}, nil)
	tr := NewTransport(http.DefaultTransport, 3, 0).WithPolicyPacing(1)
	var waited []time.Duration
	tr.sleep = func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1.0/identity/conditionalAccess/policies", strings.NewReader("{}"))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || len(*bodies) != 2 {
		t.Fatalf("status %d after %d tries", resp.StatusCode, len(*bodies))
	}
	// The backoff (at least 1 s) and the second token's wait (about 1 s at 1/s, burst 1).
	if len(waited) != 2 || waited[0] < time.Second || waited[1] < 900*time.Millisecond {
		t.Errorf("waited %v, want a backoff of 1 s or more and a pacing wait of about 1 s", waited)
	}
}

func TestTransportCountsWritesThrottlesAndRetries(t *testing.T) {
	srv, _ := scripted(t, []int{429, 503, 201}, http.Header{"Retry-After": {"0"}})
	tr := NewTransport(http.DefaultTransport, 4, 0)
	tr.sleep = func(context.Context, time.Duration) error { return nil }
	var c Counters
	req, _ := http.NewRequestWithContext(WithCounters(context.Background(), &c), http.MethodPost, srv.URL+"/v1.0/users",
		strings.NewReader(`{"a":1}`))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c.Writes.Load() != 3 || c.Throttled.Load() != 1 || c.Retried.Load() != 2 {
		t.Errorf("writes %d, throttled %d, retried %d; want 3, 1, 2", c.Writes.Load(), c.Throttled.Load(), c.Retried.Load())
	}
}

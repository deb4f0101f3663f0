package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Transport is the single retry layer for Graph calls (STYLE principle 4): it retries throttled (429),
// unavailable (502/503/504) and network-failed requests with Retry-After or exponential backoff with
// jitter, and paces writes with a token bucket so that a wave stays just under the write quota instead
// of bouncing off it. A second bucket paces every request to conditional access and named locations,
// which Graph limits to 1 request per second per tenant and throttles without Retry-After. Longer
// waits are the queue's job (redelivery), not this layer's.
type Transport struct {
	Base        http.RoundTripper
	MaxAttempts int
	// MaxWait caps one backoff wait; a Retry-After longer than this is returned to the caller as is.
	MaxWait  time.Duration
	writes   *bucket
	policies *bucket
	sleep    func(context.Context, time.Duration) error
}

// NewTransport wraps base with retries and a write pacer of writesPerSecond (0 disables pacing).
func NewTransport(base http.RoundTripper, maxAttempts int, writesPerSecond float64) *Transport {
	if maxAttempts < 1 {
		maxAttempts = 1
	}
	t := &Transport{Base: base, MaxAttempts: maxAttempts, MaxWait: 30 * time.Second, sleep: sleepCtx}
	if writesPerSecond > 0 {
		t.writes = newBucket(writesPerSecond, writesPerSecond)
	}
	return t
}

// WithWriteBurst lets the pacer spend up to burst writes at once before it holds the steady rate,
// as Graph's write quota is a bucket (3,000 per app per tenant, refilled at 20/s): a wave's first
// writes need not wait. burst at or below the rate changes nothing.
func (t *Transport) WithWriteBurst(burst float64) *Transport {
	if t.writes != nil && burst > t.writes.rate {
		t.writes = newBucket(t.writes.rate, burst)
	}
	return t
}

// WithPolicyPacing paces every request (reads and writes) under /identity/conditionalAccess/ to
// perSecond, with no burst beyond one request (0 disables it), and returns t. Graph allows 1 request
// per second per tenant there and its 429 carries no Retry-After (DESIGN section 7), so a retry would
// only guess; spacing the requests avoids the 429 in the first place.
func (t *Transport) WithPolicyPacing(perSecond float64) *Transport {
	t.policies = nil
	if perSecond > 0 {
		t.policies = newBucket(perSecond, 1)
	}
	return t
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	req, err := replayable(req)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		if isWrite(req.Method) {
			if t.writes != nil {
				if err := t.writes.take(ctx, t.sleep); err != nil {
					return nil, err
				}
			}
			if c := counters(ctx); c != nil {
				c.Writes.Add(1)
			}
		}
		if t.policies != nil && isPolicyPath(req.URL.Path) {
			if err := t.policies.take(ctx, t.sleep); err != nil {
				return nil, err
			}
		}
		try, err := rewind(req, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := t.Base.RoundTrip(try)
		if c := counters(ctx); c != nil && resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			c.Throttled.Add(1)
		}
		wait, retry := t.decide(resp, err, attempt)
		if !retry {
			return resp, err
		}
		if c := counters(ctx); c != nil {
			c.Retried.Add(1)
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := t.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("waiting to retry %s %s: %w", req.Method, req.URL.Path, err)
		}
	}
}

// decide says whether to retry and how long to wait first.
func (t *Transport) decide(resp *http.Response, err error, attempt int) (time.Duration, bool) {
	if attempt >= t.MaxAttempts {
		return 0, false
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0, false
		}
		return backoff(attempt, t.MaxWait), true
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if d, ok := retryAfter(resp); ok {
			if d > t.MaxWait {
				return 0, false
			}
			return d, true
		}
		// Conditional access and named locations answer 429 without Retry-After (1 request/s per
		// tenant): back off from one second.
		return backoff(attempt, t.MaxWait) + time.Second, true
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return backoff(attempt, t.MaxWait), true
	}
	return 0, false
}

// backoff is exponential from 250 ms with full jitter, capped.
func backoff(attempt int, limit time.Duration) time.Duration {
	d := 250 * time.Millisecond << min(attempt-1, 8)
	if d > limit {
		d = limit
	}
	return d/2 + rand.N(d/2+1)
}

func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

// replayable makes sure a request body can be sent again: the SDK hands over bodies without GetBody,
// and a write whose answer was lost (504, dropped connection) or throttled must be retried here, in
// seconds, not by redelivering the whole step minutes later. Graph request bodies are small.
func replayable(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return req, nil
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the body of %s %s: %w", req.Method, req.URL.Path, err)
	}
	clone := req.Clone(req.Context())
	clone.Body = io.NopCloser(bytes.NewReader(data))
	clone.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	clone.ContentLength = int64(len(data))
	return clone, nil
}

// rewind returns the request to send for this attempt, with a fresh body on retries.
func rewind(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 1 || req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, fmt.Errorf("retrying %s %s: request body cannot be replayed", req.Method, req.URL.Path)
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("retrying %s %s: %w", req.Method, req.URL.Path, err)
	}
	clone := req.Clone(req.Context())
	clone.Body = body
	return clone, nil
}

// policyPath is the path segment of the resources under the conditional access limit: policies and
// named locations (https://learn.microsoft.com/graph/throttling-limits#identity-protection-and-conditional-access-service-limits).
const policyPath = "/identity/conditionalaccess/"

func isPolicyPath(path string) bool {
	return strings.Contains(strings.ToLower(path), policyPath)
}

func isWrite(method string) bool {
	return method == http.MethodPost || method == http.MethodPatch || method == http.MethodPut || method == http.MethodDelete
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// bucket is a token bucket: rate tokens per second, at most burst banked.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate, burst float64) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: time.Now()}
}

// take blocks until a token is available or ctx ends.
func (b *bucket) take(ctx context.Context, sleep func(context.Context, time.Duration) error) error {
	b.mu.Lock()
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens--
	deficit := -b.tokens
	b.mu.Unlock()
	if deficit <= 0 {
		return nil
	}
	return sleep(ctx, time.Duration(deficit/b.rate*float64(time.Second)))
}

type countersKey struct{}

// Counters are what one step's Graph calls cost: writes (every attempt counts against the write
// quota), throttled answers (429s) and the attempts the transport retried (after a 429, a 5xx or a
// network error).
type Counters struct {
	Writes    atomic.Int64
	Throttled atomic.Int64
	Retried   atomic.Int64
}

// WithCounters returns a context whose Graph calls are counted in c, so that a step can say what it
// cost.
func WithCounters(ctx context.Context, c *Counters) context.Context {
	return context.WithValue(ctx, countersKey{}, c)
}

func counters(ctx context.Context) *Counters {
	c, _ := ctx.Value(countersKey{}).(*Counters)
	return c
}

package simulator

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Throttling follows "Identity and access service limits" and "Identity protection and conditional
// access service limits" (https://learn.microsoft.com/graph/throttling-limits). The page says the
// directory meters with a token bucket ("adding individual costs of requests ... compared against
// pre-determined limits"), so each limit is a bucket holding its quota, refilled continuously at
// quota/window: a client may burst a whole quota, then proceeds at the sustained rate. That is neither
// a fixed window (which would allow two quotas back to back across a boundary) nor a sliding log.
//
// Every request is evaluated against every limit that applies; the first one short of tokens throttles
// it ("The first limit to be reached triggers throttling behavior"). A throttled request is still
// charged (the throttling guidance: "all requests accrue against your usage limits"), with the debt of
// a bucket capped at one quota so a runaway client is not locked out for ever. A client that waits
// Retry-After before retrying is therefore never throttled twice in a row by the same limit.

// limitKind names one documented limit.
type limitKind int

const (
	limitAppTenantRU limitKind = iota
	limitAppTenantWrites
	limitTenantWrites
	limitAppRU
	limitAppWrites
	limitConditionalAccess
)

// limitSpec describes a limit: its window and how a throttled answer names it.
type limitSpec struct {
	scope  string // x-ms-throttle-scope: Tenant_Application, Tenant or Application
	kind   string // x-ms-throttle-scope limit: ReadWrite (every request) or Write
	info   string // x-ms-throttle-information
	window time.Duration
}

var limits = [...]limitSpec{
	limitAppTenantRU:       {"Tenant_Application", "ReadWrite", "ResourceUnitLimitExceeded", 10 * time.Second},
	limitAppTenantWrites:   {"Tenant_Application", "Write", "WriteLimitExceeded", 150 * time.Second},
	limitTenantWrites:      {"Tenant", "Write", "WriteLimitExceeded", 300 * time.Second},
	limitAppRU:             {"Application", "ReadWrite", "ResourceUnitLimitExceeded", 20 * time.Second},
	limitAppWrites:         {"Application", "Write", "WriteLimitExceeded", 300 * time.Second},
	limitConditionalAccess: {"Tenant", "ReadWrite", "", time.Second},
}

// quota is the capacity of a limit's bucket under tc, for a tenant of tenantUsers users.
func (tc *ThrottlingConfig) quota(k limitKind, tenantUsers int) float64 {
	pick := func(override, documented int) float64 {
		if override > 0 {
			return float64(override)
		}
		return float64(documented)
	}
	switch k {
	case limitAppTenantRU:
		// Tenant sizes: S under 50 users, M 50 to 500, L above 500.
		size := 3500
		if tenantUsers > 500 {
			size = 8000
		} else if tenantUsers >= 50 {
			size = 5000
		}
		return pick(tc.ResourceUnits, size)
	case limitAppTenantWrites:
		return pick(tc.AppTenantWrites, 3000)
	case limitTenantWrites:
		return pick(tc.TenantWrites, 18000)
	case limitAppRU:
		return pick(tc.AppResourceUnits, 150000)
	case limitAppWrites:
		return pick(tc.AppWrites, 70000)
	default:
		return pick(tc.ConditionalAccessPerSecond, 1)
	}
}

type bucketKey struct {
	kind   limitKind
	tenant string
	app    string
}

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter holds the buckets of every limit, app and tenant seen since the last reset.
type limiter struct {
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

func newLimiter() *limiter { return &limiter{buckets: map[bucketKey]*bucket{}} }

func (l *limiter) reset() {
	l.mu.Lock()
	l.buckets = map[bucketKey]*bucket{}
	l.mu.Unlock()
}

// demand is what one request asks of one bucket.
type demand struct {
	key      bucketKey
	capacity float64
	cost     float64
}

// verdict is the outcome of take: the limit that throttled the request (or -1), the wall-clock wait
// before a retry would pass, and how full the first bucket is after the charge (0..2).
type verdict struct {
	throttledBy limitKind
	wait        time.Duration
	usage       float64
}

// take refills the demanded buckets to now, decides, and charges every demand (see the package note on
// accrual). scale speeds up the refill (the time scale).
func (l *limiter) take(now time.Time, scale float64, ds []demand) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := verdict{throttledBy: -1}
	bs := make([]*bucket, len(ds))
	for i, d := range ds {
		b := l.buckets[d.key]
		if b == nil {
			b = &bucket{tokens: d.capacity, last: now}
			l.buckets[d.key] = b
		}
		window := limits[d.key.kind].window.Seconds()
		if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
			b.tokens += elapsed * scale * d.capacity / window
			b.last = now
		}
		b.tokens = math.Min(b.tokens, d.capacity)
		if v.throttledBy < 0 && b.tokens < d.cost {
			v.throttledBy = d.key.kind
		}
		bs[i] = b
	}
	for i, d := range ds {
		b := bs[i]
		b.tokens = math.Max(b.tokens-d.cost, -d.capacity)
		if i == 0 {
			v.usage = (d.capacity - b.tokens) / d.capacity
		}
		if v.throttledBy >= 0 && b.tokens < d.cost {
			perSecond := scale * d.capacity / limits[d.key.kind].window.Seconds()
			v.wait = max(v.wait, time.Duration((d.cost-b.tokens)/perSecond*float64(time.Second)))
		}
	}
	return v
}

const (
	headerResourceUnit   = "x-ms-resource-unit"
	headerLimitPercent   = "x-ms-throttle-limit-percentage"
	headerThrottleScope  = "x-ms-throttle-scope"
	headerThrottleInfo   = "x-ms-throttle-information"
	headerSimRetryAfter  = "x-ms-sim-retry-after-ms" // simulator extension: the unrounded wait
	codeTooManyRequests  = "TooManyRequests"
	msgTooManyRequests   = "Please retry again later."
	throttleUsageWarning = 0.8
)

// setRawHeader sets a header keeping the key's case, as Graph writes its x-ms-* headers (HTTP/1.1
// clients see the exact name; $batch answers list it as is).
func setRawHeader(h http.Header, key, value string) { h[key] = []string{value} }

// errTooManyRequests is Graph's throttled answer, as in the throttling guidance's sample response
// (https://learn.microsoft.com/graph/throttling#sample-response).
func errTooManyRequests() *graphError {
	return newGraphError(http.StatusTooManyRequests, codeTooManyRequests, msgTooManyRequests)
}

// admit costs one Graph request and, when throttling is enabled, charges it against the limits that
// apply. It runs after authentication and before routing, for every Graph route (so new routes are
// throttled without opting in), and for each inner request of a $batch but not for the $batch itself.
// Directory answers carry x-ms-resource-unit; a throttled one carries Retry-After and the
// x-ms-throttle-* headers. Conditional access and identity protection answer 429 with no Retry-After.
func (s *Server) admit(c *call, segs []string) *graphError {
	if isBatchPath(segs) {
		return nil
	}
	ctl := s.controls
	tc := ctl.throttling.Load()
	tid, app := c.tenant.ID, strings.ToLower(c.token.AppID)
	if isConditionalAccessPath(segs) {
		if !tc.Enabled {
			return nil
		}
		key := bucketKey{kind: limitConditionalAccess, tenant: tid}
		v := ctl.limiter.take(ctl.now(), tc.scale(), []demand{{key, tc.quota(limitConditionalAccess, 0), 1}})
		if v.throttledBy < 0 {
			return nil
		}
		s.counters.recordThrottle(tid, app, limitConditionalAccess)
		return errTooManyRequests() // documented: these resources return no Retry-After
	}
	ru, writes := requestCost(c.r.Method, segs, c.r.URL.Query())
	s.counters.recordUnits(tid, app, ru)
	h := c.w.Header()
	if !tc.Enabled {
		setRawHeader(h, headerResourceUnit, strconv.Itoa(ru))
		return nil
	}
	users := c.tenant.userCount()
	ds := []demand{
		{bucketKey{limitAppTenantRU, tid, app}, tc.quota(limitAppTenantRU, users), float64(ru)},
		{bucketKey{limitAppRU, "", app}, tc.quota(limitAppRU, users), float64(ru)},
	}
	if writes > 0 {
		ds = append(ds,
			demand{bucketKey{limitAppTenantWrites, tid, app}, tc.quota(limitAppTenantWrites, users), float64(writes)},
			demand{bucketKey{limitTenantWrites, tid, ""}, tc.quota(limitTenantWrites, users), float64(writes)},
			demand{bucketKey{limitAppWrites, "", app}, tc.quota(limitAppWrites, users), float64(writes)})
	}
	v := ctl.limiter.take(ctl.now(), tc.scale(), ds)
	if v.throttledBy < 0 {
		setRawHeader(h, headerResourceUnit, strconv.Itoa(ru))
		if v.usage > throttleUsageWarning {
			// Documented range 0.8 to 1.8: the share of the app+tenant quota in use.
			setRawHeader(h, headerLimitPercent, strconv.FormatFloat(math.Min(v.usage, 1.8), 'f', 2, 64))
		}
		return nil
	}
	spec := limits[v.throttledBy]
	h.Set("Retry-After", retryAfterSeconds(v.wait))
	setRawHeader(h, headerSimRetryAfter, strconv.FormatInt(max(1, v.wait.Milliseconds()), 10))
	setRawHeader(h, headerThrottleScope, fmt.Sprintf("%s/%s/%s/%s", spec.scope, spec.kind, app, tid))
	setRawHeader(h, headerThrottleInfo, spec.info)
	s.counters.recordThrottle(tid, app, v.throttledBy)
	return errTooManyRequests()
}

// userCount is the number of live users, which decides the tenant's size class.
func (t *Tenant) userCount() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.users.len()
}

// isConditionalAccessPath reports whether the path is one of the resources under the identity
// protection and conditional access limit: conditional access policies, named locations (all of
// identity/conditionalAccess, the stricter reading), risk detections and risky users.
func isConditionalAccessPath(segs []string) bool {
	if len(segs) == 0 {
		return false
	}
	first := strings.ToLower(segs[0])
	switch first {
	case "identityprotection", "riskdetections", "riskyusers":
		return true
	case "identity":
		return len(segs) > 1 && strings.EqualFold(segs[1], "conditionalAccess")
	}
	return false
}

func isBatchPath(segs []string) bool { return len(segs) == 1 && segs[0] == "$batch" }

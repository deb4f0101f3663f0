package simulator

import (
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestRequestCostTable(t *testing.T) {
	tests := []struct {
		method, path, query string
		ru, writes          int
	}{
		{"GET", "users", "", 2, 0},
		{"GET", "users", "$select=id&$expand=manager", 2, 0},
		{"GET", "users", "$select=id&$top=5", 1, 0},
		{"GET", "users/abc", "", 1, 0},
		{"GET", "groups/abc/members", "", 3, 0},
		{"GET", "groups/abc/members", "$select=id", 2, 0},
		{"GET", "groups/abc/transitiveMembers", "$expand=x", 6, 0},
		{"GET", "users/abc/memberOf", "", 2, 0}, // me/memberOf applies to users/{id}/memberOf
		{"GET", "applications", "", 2, 0},
		{"POST", "directoryObjects/getByIds", "", 3, 0},
		{"POST", "users", "", 1, 1},
		{"PATCH", "users/abc", "", 1, 1},
		{"DELETE", "groups/abc/members/def/$ref", "", 1, 1},
		{"POST", "groups/abc/members/$ref", "", 1, 1},
		{"GET", "Users", "", 2, 0}, // paths compare case-insensitively
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		ru, writes := requestCost(tt.method, splitPath(tt.path), q)
		if ru != tt.ru || writes != tt.writes {
			t.Errorf("%s %s?%s: %d RU %d writes, want %d, %d", tt.method, tt.path, tt.query, ru, writes, tt.ru, tt.writes)
		}
	}
}

func TestQuotaByTenantSize(t *testing.T) {
	tc := &ThrottlingConfig{}
	for users, want := range map[int]float64{0: 3500, 49: 3500, 50: 5000, 500: 5000, 501: 8000} {
		if got := tc.quota(limitAppTenantRU, users); got != want {
			t.Errorf("%d users: %v RU, want %v", users, got, want)
		}
	}
	defaults := map[limitKind]float64{limitAppTenantWrites: 3000, limitTenantWrites: 18000, limitAppRU: 150000,
		limitAppWrites: 70000, limitConditionalAccess: 1}
	for k, want := range defaults {
		if got := tc.quota(k, 10); got != want {
			t.Errorf("limit %d: %v, want %v", k, got, want)
		}
	}
}

func TestLimiterSustainedRateMatchesWriteQuota(t *testing.T) {
	// A client that sends as fast as it can and waits Retry-After (whole seconds) when throttled
	// sustains the documented rate, 3,000 writes per 150 s = 20/s after the initial burst, less the
	// one throttled request per second that is charged too.
	l := newLimiter()
	now := time.Unix(0, 0)
	key := bucketKey{kind: limitAppTenantWrites, tenant: "t", app: "a"}
	admitted, throttled := 0, 0
	for now.Before(time.Unix(300, 0)) {
		v := l.take(now, 1, []demand{{key, 3000, 1}})
		if v.throttledBy < 0 {
			admitted++
			continue
		}
		throttled++
		secs, _ := strconv.Atoi(retryAfterSeconds(v.wait))
		now = now.Add(time.Duration(secs) * time.Second)
	}
	if min, max := 3000+299*19, 3000+300*20; admitted < min || admitted > max || throttled > 301 {
		t.Errorf("admitted %d writes in 300 s (%d throttled), want %d..%d", admitted, throttled, min, max)
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	for wait, want := range map[time.Duration]string{0: "1", 200 * time.Millisecond: "1", time.Second: "1",
		1001 * time.Millisecond: "2", 100 * time.Second: "100"} {
		if got := retryAfterSeconds(wait); got != want {
			t.Errorf("retryAfterSeconds(%v) = %s, want %s", wait, got, want)
		}
	}
}

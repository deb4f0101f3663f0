package simulator

import (
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Counter is the traffic of one client in one tenant since the last reset.
type Counter struct {
	Tenant        string `json:"tenant"`
	Client        string `json:"client"` // application id; empty for requests without a valid token
	Requests      int64  `json:"requests"`
	Writes        int64  `json:"writes"`
	Status4xx     int64  `json:"4xx"`
	Status5xx     int64  `json:"5xx"`
	Throttled     int64  `json:"429"`
	TokenRequests int64  `json:"tokenRequests"`
	// ResourceUnits are the throttling resource units charged (counters_controls.go).
	ResourceUnits int64          `json:"resourceUnits"`
	ThrottledBy   ThrottleCounts `json:"throttledBy"`
	Faults        FaultCounts    `json:"faults"`
	Batches       int64          `json:"batches"`
}

// counters aggregates per tenant and client. One mutex is enough: the critical section is a map
// lookup and a few additions.
type counters struct {
	mu sync.Mutex
	m  map[[2]string]*Counter
}

func newCounters() *counters { return &counters{m: map[[2]string]*Counter{}} }

func (c *counters) get(tenant, client string) *Counter {
	k := [2]string{strings.ToLower(tenant), strings.ToLower(client)}
	ct := c.m[k]
	if ct == nil {
		ct = &Counter{Tenant: k[0], Client: k[1]}
		c.m[k] = ct
	}
	return ct
}

// record counts one Graph or vault request.
func (c *counters) record(tenant, client, method string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct := c.get(tenant, client)
	ct.Requests++
	if isWrite(method) {
		ct.Writes++
	}
	switch {
	case status == http.StatusTooManyRequests:
		ct.Throttled++
		ct.Status4xx++
	case status >= 500:
		ct.Status5xx++
	case status >= 400:
		ct.Status4xx++
	}
}

// recordToken counts one token request.
func (c *counters) recordToken(tenant, client string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.get(tenant, client).TokenRequests++
}

// snapshot returns a copy of every counter, sorted by tenant then client.
func (c *counters) snapshot() []Counter {
	c.mu.Lock()
	out := make([]Counter, 0, len(c.m))
	for _, ct := range c.m {
		out = append(out, *ct)
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Tenant != out[j].Tenant {
			return out[i].Tenant < out[j].Tenant
		}
		return out[i].Client < out[j].Client
	})
	return out
}

func (c *counters) reset() {
	c.mu.Lock()
	c.m = map[[2]string]*Counter{}
	c.mu.Unlock()
}

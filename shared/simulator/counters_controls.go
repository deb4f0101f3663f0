package simulator

// ThrottleCounts counts the 429s served, by the limit that caused them
// (https://learn.microsoft.com/graph/throttling-limits).
type ThrottleCounts struct {
	AppTenantResourceUnits int64 `json:"appTenantResourceUnits"`
	AppTenantWrites        int64 `json:"appTenantWrites"`
	TenantWrites           int64 `json:"tenantWrites"`
	AppResourceUnits       int64 `json:"appResourceUnits"`
	AppWrites              int64 `json:"appWrites"`
	ConditionalAccess      int64 `json:"conditionalAccess"`
}

// FaultCounts counts injected faults.
type FaultCounts struct {
	ServiceUnavailable int64 `json:"503"`
	GatewayTimeout     int64 `json:"504"`
	Dropped            int64 `json:"dropped"`
}

func (tc *ThrottleCounts) add(k limitKind) {
	switch k {
	case limitAppTenantRU:
		tc.AppTenantResourceUnits++
	case limitAppTenantWrites:
		tc.AppTenantWrites++
	case limitTenantWrites:
		tc.TenantWrites++
	case limitAppRU:
		tc.AppResourceUnits++
	case limitAppWrites:
		tc.AppWrites++
	case limitConditionalAccess:
		tc.ConditionalAccess++
	}
}

// recordUnits adds the resource units charged for one directory request (throttled or not: a throttled
// request is charged too).
func (c *counters) recordUnits(tenant, client string, ru int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.get(tenant, client).ResourceUnits += int64(ru)
}

// recordThrottle names the limit behind a 429 (the 429 itself is counted by record).
func (c *counters) recordThrottle(tenant, client string, k limitKind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.get(tenant, client).ThrottledBy.add(k)
}

// recordFault counts an injected fault.
func (c *counters) recordFault(tenant, client string, f faultKind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fc := &c.get(tenant, client).Faults
	switch f {
	case fault503:
		fc.ServiceUnavailable++
	case fault504:
		fc.GatewayTimeout++
	case faultDrop:
		fc.Dropped++
	}
}

// recordBatch counts one $batch envelope (its inner requests are counted as requests of their own).
func (c *counters) recordBatch(tenant, client string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.get(tenant, client).Batches++
}

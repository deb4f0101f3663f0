package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ThrottlingConfig enables Microsoft Graph's identity and access throttling
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits) and the
// conditional access limit. Zero quotas mean the documented value; windows are always the documented
// ones, divided by TimeScale.
type ThrottlingConfig struct {
	// Enabled turns enforcement on. Off (the default), requests are still costed (x-ms-resource-unit,
	// counters) but never throttled.
	Enabled bool `json:"enabled"`
	// TimeScale compresses every simulated duration: throttling windows, Retry-After, replication lag.
	// 10 makes the 10 s resource-unit window last 1 s with the same quota, so a benchmark keeps the
	// real ratios and runs 10 times faster. 0 means 1.
	TimeScale float64 `json:"timeScale,omitempty"`
	// ResourceUnits is the resource-unit quota per app per tenant per 10 s; 0 means by tenant size:
	// 3,500 (under 50 users), 5,000 (50 to 500), 8,000 (over 500).
	ResourceUnits int `json:"resourceUnits,omitempty"`
	// AppTenantWrites is the write quota per app per tenant per 2 min 30 s; 0 means 3,000.
	AppTenantWrites int `json:"appTenantWrites,omitempty"`
	// TenantWrites is the write quota per tenant, all apps, per 5 min; 0 means 18,000.
	TenantWrites int `json:"tenantWrites,omitempty"`
	// AppResourceUnits is the resource-unit quota per app across tenants per 20 s; 0 means 150,000.
	AppResourceUnits int `json:"appResourceUnits,omitempty"`
	// AppWrites is the write quota per app across tenants per 5 min; 0 means 70,000.
	AppWrites int `json:"appWrites,omitempty"`
	// ConditionalAccessPerSecond is the request quota per tenant, all apps, per second on conditional
	// access, named locations and identity protection; 0 means 1.
	ConditionalAccessPerSecond int `json:"conditionalAccessPerSecond,omitempty"`
}

// FaultConfig injects transport faults into Graph requests, deterministically for a given Seed: the
// n-th faultable request always meets the same fate. Rates are probabilities in [0, 1] whose sum is at
// most 1. A request matching a route rule uses that rule's rates instead of the global ones. Setting
// the faults (at start or through the admin API, even to the same values) restarts the sequence.
type FaultConfig struct {
	Seed int64 `json:"seed"`
	FaultRates
	Routes []RouteFaults `json:"routes,omitempty"`
}

// FaultRates are the probabilities of each injected fault.
//
//   - ServiceUnavailable: 503 before the request runs (nothing happened).
//   - GatewayTimeout: the request runs, then the client gets 504 instead of the answer (a write may
//     have happened: the strictest reading of a gateway timeout).
//   - Drop: the request runs, then the connection is closed (HTTP/1.1) or the stream reset (HTTP/2)
//     without an answer. Inner requests of a $batch are never dropped (they have no connection).
type FaultRates struct {
	ServiceUnavailable float64 `json:"rate503,omitempty"`
	GatewayTimeout     float64 `json:"rate504,omitempty"`
	Drop               float64 `json:"rateDrop,omitempty"`
}

// RouteFaults are fault rates for the Graph requests matching Method (empty: any) and Pattern, a path
// relative to the version root whose {name} segments match any one segment and whose final "*" matches
// any rest, e.g. "/users/{id}" or "/groups/*".
type RouteFaults struct {
	Method  string `json:"method,omitempty"`
	Pattern string `json:"pattern"`
	FaultRates
}

// Duration is a time.Duration written in JSON as a Go duration string ("1.5s", "250ms"). A bare JSON
// number is read as seconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(data, &secs); err != nil {
		return fmt.Errorf("duration %s is neither a string nor a number of seconds", data)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// Settings are the simulator's runtime controls, read and changed through /_sim/settings and kept in
// the state folder: throttling (with the time scale), faults, and each tenant's replication lag.
type Settings struct {
	Throttling ThrottlingConfig `json:"throttling"`
	Faults     FaultConfig      `json:"faults"`
	// ReplicationLag is each tenant's lag, by tenant name (tenant ids and "*" for every tenant are
	// accepted on input).
	ReplicationLag map[string]Duration `json:"replicationLag"`
}

const (
	maxTimeScale = 10000
	settingsFile = "settings.json"
)

func (tc *ThrottlingConfig) validate() error {
	if tc.TimeScale < 0 || tc.TimeScale > maxTimeScale || math.IsNaN(tc.TimeScale) {
		return fmt.Errorf("throttling.timeScale %v must be between 0 (meaning 1) and %d", tc.TimeScale, maxTimeScale)
	}
	for name, v := range map[string]int{
		"resourceUnits": tc.ResourceUnits, "appTenantWrites": tc.AppTenantWrites, "tenantWrites": tc.TenantWrites,
		"appResourceUnits": tc.AppResourceUnits, "appWrites": tc.AppWrites, "conditionalAccessPerSecond": tc.ConditionalAccessPerSecond,
	} {
		if v < 0 {
			return fmt.Errorf("throttling.%s is negative", name)
		}
	}
	return nil
}

// scale is the effective time scale (0 means 1).
func (tc *ThrottlingConfig) scale() float64 {
	if tc.TimeScale <= 0 {
		return 1
	}
	return tc.TimeScale
}

func (r FaultRates) validate(where string) error {
	for _, v := range []float64{r.ServiceUnavailable, r.GatewayTimeout, r.Drop} {
		if v < 0 || v > 1 || math.IsNaN(v) {
			return fmt.Errorf("%s: fault rates must be between 0 and 1", where)
		}
	}
	if r.ServiceUnavailable+r.GatewayTimeout+r.Drop > 1+1e-9 {
		return fmt.Errorf("%s: fault rates add up to more than 1", where)
	}
	return nil
}

func (fc *FaultConfig) validate() error {
	if err := fc.FaultRates.validate("faults"); err != nil {
		return err
	}
	for i, rf := range fc.Routes {
		where := fmt.Sprintf("faults.routes[%d]", i)
		if !strings.HasPrefix(rf.Pattern, "/") {
			return fmt.Errorf("%s: pattern %q must start with /", where, rf.Pattern)
		}
		switch strings.ToUpper(rf.Method) {
		case "", http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		default:
			return fmt.Errorf("%s: method %q is not a Graph method", where, rf.Method)
		}
		if err := rf.FaultRates.validate(where); err != nil {
			return err
		}
	}
	return nil
}

// validateControls checks the throttling, fault and replication lag settings of a tenants file.
func (c *Config) validateControls() error {
	if c.Throttling != nil {
		if err := c.Throttling.validate(); err != nil {
			return err
		}
	}
	if c.Faults != nil {
		if err := c.Faults.validate(); err != nil {
			return err
		}
	}
	names := map[string]bool{}
	for i := range c.Tenants {
		t := &c.Tenants[i]
		if names[t.Name] {
			// Settings name tenants (replicationLag), so names must be unique like ids.
			return fmt.Errorf("tenant name %s is used twice", t.Name)
		}
		names[t.Name] = true
		if t.ReplicationLag < 0 {
			return fmt.Errorf("tenant %s: replicationLag is negative", t.Name)
		}
		if t.Seed.File != "" && t.Seed.Users > 0 {
			return fmt.Errorf("tenant %s: seed.file and seed.users exclude each other", t.Name)
		}
	}
	return nil
}

// controls holds the runtime settings and the machinery they drive. The hot path reads the throttling
// settings and the time scale through atomics; changes take mu.
type controls struct {
	now        func() time.Time
	throttling atomic.Pointer[ThrottlingConfig]
	limiter    *limiter
	faults     *faultInjector

	update   sync.Mutex // serializes read-merge-apply-save of updateSettings
	mu       sync.Mutex
	settings Settings
}

// scale is the current time scale (1 when unset).
func (ctl *controls) scale() float64 { return ctl.throttling.Load().scale() }

// realDuration converts a simulated duration to wall-clock time under the current time scale.
func (ctl *controls) realDuration(sim time.Duration) time.Duration {
	return time.Duration(float64(sim) / ctl.scale())
}

// initControls builds the controls from the configuration, gives every tenant its replication lag,
// loads the seed files, then the settings saved in the state folder. New calls it before restoring the
// saved store, so saved objects win over seed files as they do over generated users.
func (s *Server) initControls(cfg *Config) error {
	ctl := &controls{now: s.now, limiter: newLimiter(), faults: newFaultInjector()}
	ctl.throttling.Store(&ThrottlingConfig{})
	st := Settings{ReplicationLag: map[string]Duration{}}
	if cfg.Throttling != nil {
		st.Throttling = *cfg.Throttling
	}
	if cfg.Faults != nil {
		st.Faults = *cfg.Faults
	}
	for i, t := range s.store.tenants {
		t.repl = newReplication(ctl)
		st.ReplicationLag[t.Name] = cfg.Tenants[i].ReplicationLag
		if err := s.loadSeedFile(t, cfg.Tenants[i].Seed.File); err != nil {
			return err
		}
	}
	s.controls = ctl
	if saved, err := s.readSettings(s.opts.StateDir); err != nil {
		return err
	} else if saved != nil {
		st = *saved
	}
	if err := s.applySettings(st, true); err != nil {
		return fmt.Errorf("simulator settings: %w", err)
	}
	return nil
}

// currentSettings returns a copy of the settings.
func (s *Server) currentSettings() Settings {
	ctl := s.controls
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	out := ctl.settings
	out.Faults.Routes = append([]RouteFaults(nil), out.Faults.Routes...)
	out.ReplicationLag = make(map[string]Duration, len(ctl.settings.ReplicationLag))
	for k, v := range ctl.settings.ReplicationLag {
		out.ReplicationLag[k] = v
	}
	return out
}

// applySettings validates st and makes it current: tenant keys are resolved ("*" sets every tenant);
// with restartFaults the fault sequence starts again from its seed.
func (s *Server) applySettings(st Settings, restartFaults bool) error {
	if err := st.Throttling.validate(); err != nil {
		return err
	}
	if err := st.Faults.validate(); err != nil {
		return err
	}
	lags := map[*Tenant]Duration{}
	if all, ok := st.ReplicationLag["*"]; ok {
		for _, t := range s.store.tenants {
			lags[t] = all
		}
	}
	for key, lag := range st.ReplicationLag {
		if key == "*" {
			continue
		}
		t := s.store.tenantByIDOrName(key)
		if t == nil {
			return fmt.Errorf("replicationLag: no tenant %q", key)
		}
		lags[t] = lag
	}
	names := map[string]Duration{}
	for t, lag := range lags {
		if lag < 0 {
			return fmt.Errorf("replicationLag of %s is negative", t.Name)
		}
		names[t.Name] = lag
	}
	ctl := s.controls
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	for t, lag := range lags {
		t.repl.setLag(time.Duration(lag))
	}
	for _, t := range s.store.tenants {
		if _, ok := names[t.Name]; !ok {
			names[t.Name] = Duration(t.repl.lagValue())
		}
	}
	st.ReplicationLag = names
	tc := st.Throttling
	ctl.throttling.Store(&tc)
	if restartFaults {
		ctl.faults.configure(st.Faults)
	}
	ctl.settings = st
	return nil
}

// updateSettings merges a JSON document into the current settings (fields present replace, absent
// ones stay), applies the result and saves it to the state folder.
func (s *Server) updateSettings(patch []byte) (Settings, error) {
	s.controls.update.Lock()
	defer s.controls.update.Unlock()
	st := s.currentSettings()
	var parts struct {
		Faults         json.RawMessage            `json:"faults"`
		ReplicationLag map[string]json.RawMessage `json:"replicationLag"`
	}
	_ = json.Unmarshal(patch, &parts) // a malformed patch fails below, with the decoder's message
	if parts.ReplicationLag["*"] != nil {
		// "*" sets every tenant, then the patch's named tenants override it.
		st.ReplicationLag = map[string]Duration{}
	}
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return Settings{}, fmt.Errorf("decoding settings: %w", err)
	}
	// Setting faults, even to the same values, replays the sequence from the seed.
	if err := s.applySettings(st, parts.Faults != nil); err != nil {
		return Settings{}, err
	}
	cur := s.currentSettings()
	if err := s.saveSettings(s.opts.StateDir, cur); err != nil {
		return Settings{}, err
	}
	return cur, nil
}

// readSettings loads dir/settings.json; nil when there is none.
func (s *Server) readSettings(dir string) (*Settings, error) {
	data, err := readStateFile(dir, settingsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st Settings
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", settingsFile, err)
	}
	return &st, nil
}

// saveSettings writes the settings changed at runtime, so that a restart with the same -state folder
// keeps them (they win over the tenants file, as saved objects win over seeded ones).
func (s *Server) saveSettings(dir string, st Settings) error {
	if dir == "" {
		return nil
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding settings: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, settingsFile), data, 0o600)
}

// retryAfterSeconds renders a wall-clock wait as Retry-After. The header's delay-seconds form is a
// whole number (RFC 9110 section 10.2.3), and kiota's retry handler truncates a fractional value to
// whole seconds (so "0.4" would mean retry at once): the wait is rounded up, to at least 1 second.
func retryAfterSeconds(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

package wave

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Blob metadata keys a mapping file may carry, set by `t2t start` and read by WaveStart (like the
// dry-run flag, the options ride on the upload).
const (
	PhasesMetadataKey  = "t2tphases"  // comma-separated phase names; empty: every phase
	DomainsMetadataKey = "t2tdomains" // old=new pairs, comma-separated: the domain rewrite map
	CAStateMetadataKey = "t2tcastate" // disabled (default) or reportOnly
	PartnerMetadataKey = "t2tpartner" // "true": ensure a cross-tenant access partner entry for the source
	ModeMetadataKey    = "t2tmode"    // internal (default) or coexistence
	CutoverMetadataKey = "t2tcutover" // RFC 3339 time the wave's cutover is planned for
)

// User modes a wave may migrate users in.
const (
	// ModeInternal creates internal members in the target (the default).
	ModeInternal = "internal"
	// ModeCoexistence invites each user into the target as an external member (B2B, userType Member)
	// linked to the source identity: people keep signing in with their source account until the
	// wave's cutover converts them to internal members.
	ModeCoexistence = "coexistence"
)

// Conditional access states a wave may create policies in. t2t never enables a policy.
const (
	CADisabled   = "disabled"
	CAReportOnly = "enabledForReportingButNotEnforced"
)

// Options are a wave's choices, fixed when its file is uploaded.
type Options struct {
	// Phases to run; empty means every registered phase.
	Phases []string `json:"phases,omitempty"`
	// DomainMap rewrites source domains to target domains (lower case) in UPNs, mail, mailNickname's
	// domain-bearing values, proxyAddresses, identifierUris, redirect URIs and dynamic rules.
	DomainMap map[string]string `json:"domainMap,omitempty"`
	// CAState is the state conditional access policies are created in.
	CAState string `json:"caState"`
	// Partner asks tenantConfig to ensure a cross-tenant access partner entry for the source tenant.
	Partner bool `json:"partner,omitempty"`
	// Mode is ModeInternal or ModeCoexistence ("" reads as internal).
	Mode string `json:"mode,omitempty"`
	// CutoverUtc is when the wave's cutover is planned, if a time was given; nil: on request only.
	CutoverUtc *time.Time `json:"cutoverUtc,omitempty"`
	// LicenseMap maps source SKUs to target SKUs by skuPartNumber (licenses.go).
	LicenseMap map[string]string `json:"licenseMap,omitempty"`
	// Workloads are the content workloads the wave's migration jobs move (workloads.go).
	Workloads []string `json:"workloads,omitempty"`
	// DevicePlan asks for devices.csv, the wave's device migration plan (workloads.go).
	DevicePlan bool `json:"devicePlan,omitempty"`
	// PowerPlatformEnvironments are the environments the wave moves to the target (workloads.go).
	PowerPlatformEnvironments []string `json:"powerPlatformEnvironments,omitempty"`
}

// Coexistence reports whether the wave migrates users as external members until cutover.
func (o Options) Coexistence() bool { return o.Mode == ModeCoexistence }

// CutoverDue reports whether the wave's planned cutover time has come at now.
func (o Options) CutoverDue(now time.Time) bool {
	return o.CutoverUtc != nil && !now.Before(*o.CutoverUtc)
}

// Runs reports whether the options select phase.
func (o Options) Runs(phase string) bool {
	return len(o.Phases) == 0 || slices.Contains(o.Phases, phase)
}

// ParseOptions reads options from blob metadata values (keys above), with defaultDomains (the
// T2T_DOMAIN_MAP app setting) used when the upload names no map. known lists the registered phases.
func ParseOptions(meta func(key string) string, defaultDomains string, known []string) (Options, error) {
	o := Options{CAState: CADisabled}
	if v := strings.TrimSpace(meta(PhasesMetadataKey)); v != "" {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if !slices.Contains(known, p) {
				return o, fmt.Errorf("option %s: unknown phase %q (known: %s)", PhasesMetadataKey, p, strings.Join(known, ", "))
			}
			if !slices.Contains(o.Phases, p) {
				o.Phases = append(o.Phases, p)
			}
		}
		sort.Strings(o.Phases)
	}
	domains := meta(DomainsMetadataKey)
	if strings.TrimSpace(domains) == "" {
		domains = defaultDomains
	}
	m, err := ParseDomainMap(domains)
	if err != nil {
		return o, err
	}
	o.DomainMap = m
	switch v := strings.TrimSpace(meta(CAStateMetadataKey)); strings.ToLower(v) {
	case "", strings.ToLower(CADisabled):
	case "reportonly", strings.ToLower(CAReportOnly):
		o.CAState = CAReportOnly
	default:
		return o, fmt.Errorf("option %s: %q is not disabled or reportOnly (t2t never enables a policy)", CAStateMetadataKey, v)
	}
	o.Partner = strings.EqualFold(strings.TrimSpace(meta(PartnerMetadataKey)), "true")
	switch v := strings.ToLower(strings.TrimSpace(meta(ModeMetadataKey))); v {
	case "", ModeInternal:
	case ModeCoexistence:
		o.Mode = ModeCoexistence
	default:
		return o, fmt.Errorf("option %s: %q is not internal or coexistence", ModeMetadataKey, v)
	}
	if v := strings.TrimSpace(meta(CutoverMetadataKey)); v != "" {
		at, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return o, fmt.Errorf("option %s: %q is not an RFC 3339 time (2026-12-05T22:00:00Z): %w", CutoverMetadataKey, v, err)
		}
		at = at.UTC()
		o.CutoverUtc = &at
	}
	if o.LicenseMap, err = ParseLicenseMap(meta(LicensesMetadataKey)); err != nil {
		return o, err
	}
	if o.PowerPlatformEnvironments, err = ParseEnvironments(meta(PowerPlatformMetadataKey)); err != nil {
		return o, err
	}
	if o.Workloads, err = ParseWorkloads(meta(WorkloadsMetadataKey)); err != nil {
		return o, err
	}
	switch v := strings.ToLower(strings.TrimSpace(meta(DevicesMetadataKey))); v {
	case "", "none":
	case "plan":
		o.DevicePlan = true
	default:
		return o, fmt.Errorf("option %s: %q is not plan or none", DevicesMetadataKey, v)
	}
	return o, nil
}

// ParseDomainMap reads "old=new,old2=new2" (lower-cased). Empty input is an empty map.
func ParseDomainMap(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		from, to, ok := strings.Cut(pair, "=")
		from, to = strings.ToLower(strings.TrimSpace(from)), strings.ToLower(strings.TrimSpace(to))
		if !ok || from == "" || to == "" || strings.ContainsAny(from+to, " @/") {
			return nil, fmt.Errorf("domain map entry %q: want source.domain=target.domain", pair)
		}
		out[from] = to
	}
	return out, nil
}

// FormatDomainMap renders a map the way ParseDomainMap reads it, sorted.
func FormatDomainMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

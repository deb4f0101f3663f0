package wave

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Blob metadata keys a mapping file may carry, set by `t2t start` and read by WaveStart (like the
// dry-run flag, the options ride on the upload).
const (
	PhasesMetadataKey  = "t2tphases"  // comma-separated phase names; empty: every phase
	DomainsMetadataKey = "t2tdomains" // old=new pairs, comma-separated: the domain rewrite map
	CAStateMetadataKey = "t2tcastate" // disabled (default) or reportOnly
	PartnerMetadataKey = "t2tpartner" // "true": ensure a cross-tenant access partner entry for the source
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

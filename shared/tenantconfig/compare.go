package tenantconfig

import (
	"fmt"
	"sort"
	"strings"

	"t2t/shared/wave"
)

// Ledger key prefixes: one entry per compared setting, source verified domain and partner
// configuration.
const (
	settingPrefix = "setting:"
	domainPrefix  = "domain:"
	partnerPrefix = "partner:"
)

// Verdict is the outcome of comparing one tenant-wide object of the source with the target: Matched
// when they agree, Skipped (a manual step, never changed by t2t) when they do not.
type Verdict struct {
	Key    string
	Name   string
	Status string
	Reason string
}

// Compare compares the source's settings with the target's. It is pure: every difference becomes a
// Skipped verdict whose reason states both values, so that the administrator decides. domainMap is
// the wave's domain rewrite map (source domain → target domain).
func Compare(src, tgt *Settings, domainMap map[string]string) []Verdict {
	var out []Verdict
	names := map[string]bool{}
	for k := range src.Values {
		names[k] = true
	}
	for k := range tgt.Values {
		names[k] = true
	}
	for _, name := range sortedKeys(names) {
		s, t := valueOr(src.Values, name), valueOr(tgt.Values, name)
		v := Verdict{Key: settingPrefix + name, Name: name, Status: wave.ObjMatched, Reason: "same in source and target: " + s}
		if s != t {
			v.Status, v.Reason = wave.ObjSkipped, fmt.Sprintf("source %s, target %s: review and change by hand if wanted", s, t)
		}
		out = append(out, v)
	}
	out = append(out, compareDomains(src, tgt, domainMap)...)
	return append(out, comparePartners(src, tgt)...)
}

// compareDomains: a verified domain of the source that the target has not verified moves at cutover
// (a domain is verified in one tenant at a time). The initial onmicrosoft.com domain never moves.
func compareDomains(src, tgt *Settings, domainMap map[string]string) []Verdict {
	verified := map[string]bool{}
	for _, d := range tgt.VerifiedDomains {
		verified[d.Name] = true
	}
	var out []Verdict
	for _, d := range src.VerifiedDomains {
		if d.IsInitial {
			continue
		}
		v := Verdict{Key: domainPrefix + d.Name, Name: d.Name, Status: wave.ObjMatched, Reason: "verified in source and target"}
		if !verified[d.Name] {
			v.Status = wave.ObjSkipped
			v.Reason = "verified in the source, not in the target: the domain moves at cutover (remove it from the source tenant, then add and verify it in the target: 't2t domain plan|free|remove|add|verify|move')"
			if to := domainMap[d.Name]; to != "" {
				v.Reason += "; until then t2t rewrites it to " + to
			}
		}
		out = append(out, v)
	}
	return out
}

// comparePartners: each partner configuration of the source (except the one for the target itself,
// which is the migration's own business) should exist in the target with the same settings.
func comparePartners(src, tgt *Settings) []Verdict {
	target := map[string]Partner{}
	for _, p := range tgt.Partners {
		target[p.TenantID] = p
	}
	var out []Verdict
	for _, p := range src.Partners {
		if p.TenantID == tgt.TenantID {
			continue
		}
		v := Verdict{Key: partnerPrefix + p.TenantID, Name: "cross-tenant access partner " + p.TenantID, Status: wave.ObjMatched,
			Reason: "same partner configuration in source and target"}
		t, ok := target[p.TenantID]
		switch diffs := diffValues(p.Values, t.Values); {
		case !ok:
			v.Status = wave.ObjSkipped
			v.Reason = fmt.Sprintf("the source has a partner configuration for tenant %s (%s), the target has none: create it by hand if wanted",
				p.TenantID, configured(p.Values))
		case len(diffs) > 0:
			v.Status = wave.ObjSkipped
			v.Reason = strings.Join(diffs, "; ") + ": review and change by hand if wanted"
		}
		out = append(out, v)
	}
	return out
}

// diffValues lists "name: source X, target Y" for every setting that differs.
func diffValues(src, tgt map[string]string) []string {
	names := map[string]bool{}
	for k := range src {
		names[k] = true
	}
	for k := range tgt {
		names[k] = true
	}
	var out []string
	for _, k := range sortedKeys(names) {
		if s, t := valueOr(src, k), valueOr(tgt, k); s != t {
			out = append(out, fmt.Sprintf("%s: source %s, target %s", k, s, t))
		}
	}
	return out
}

// configured summarises a partner's settings that are set (not inherited from the default).
func configured(values map[string]string) string {
	var out []string
	for _, k := range sortedKeys(values) {
		if v := values[k]; v != inherits && v != notSet {
			out = append(out, k+" "+v)
		}
	}
	if len(out) == 0 {
		return "every setting inherited from the default"
	}
	return strings.Join(out, "; ")
}

func valueOr(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return notSet
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

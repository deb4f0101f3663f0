package deltasync

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	abstractions "github.com/microsoft/kiota-abstractions-go"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// userProps are the user properties delta sync keeps in step: the ones the users phase migrates,
// except the UPN, which the mapping file chose (a source rename of the sign-in name is not repeated
// in the target).
var userProps = []string{"displayName", "givenName", "surname", "jobTitle", "department", "companyName",
	"officeLocation", "mobilePhone", "businessPhones", "usageLocation", "preferredLanguage", "city", "state",
	"country", "streetAddress", "postalCode", "employeeId", "accountEnabled"}

var userSelect = append([]string{"id"}, userProps...)

// applyWidth is how many objects are applied at once; the transport's pacer sets the write rate.
const applyWidth = 4

// applier applies one run's rounds to the target.
type applier struct {
	*Sync
	rep *Report

	mu      sync.Mutex
	domains map[string]map[string]string // wave id -> its domain map
}

// domainsOf returns the domain map of the wave that migrated an object (its manifest's options), or
// the default map.
func (a *applier) domainsOf(ctx context.Context, waveID string) map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if m, ok := a.domains[waveID]; ok {
		return m
	}
	m := a.DefaultDomains
	var man wave.Manifest
	if waveID != "" {
		if _, err := a.Store.GetJSON(ctx, wave.ManifestPath(waveID), &man); err == nil && len(man.Options.DomainMap) > 0 {
			m = man.Options.DomainMap
		}
	}
	a.domains[waveID] = m
	return m
}

// rewrite passes a property value through the domain rewrite: strings and lists of strings are
// rewritten, anything else (null, booleans) is kept.
func rewrite(v json.RawMessage, domains map[string]string) json.RawMessage {
	if len(domains) == 0 || string(bytes.TrimSpace(v)) == "null" {
		return v // null clears the property; unmarshalling it into a string would make it ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		out, _ := json.Marshal(phase.RewriteDomains(s, domains))
		return out
	}
	var list []string
	if json.Unmarshal(v, &list) == nil && list != nil {
		for i := range list {
			list[i] = phase.RewriteDomains(list[i], domains)
		}
		out, _ := json.Marshal(list)
		return out
	}
	return v
}

// same compares two property values by meaning (not JSON spelling: "&" may come as "\u0026"),
// taking null, "", [] and absence as the same empty value.
func same(a, b json.RawMessage) bool {
	norm := func(v json.RawMessage) any {
		var x any
		if len(bytes.TrimSpace(v)) == 0 || json.Unmarshal(v, &x) != nil {
			return nil
		}
		switch y := x.(type) {
		case string:
			if y == "" {
				return nil
			}
		case []any:
			if len(y) == 0 {
				return nil
			}
		}
		return x
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// applyUsers applies a users round: property changes and deletions of mapped users. A full round
// also finds the mapped users the source no longer has (deleted since the last round).
func (a *applier) applyUsers(ctx context.Context, r *roundResult) error {
	items := merge(r.items)
	mapped, err := a.mappings(ctx, users.Type, items, r.mode == ModeFull)
	if err != nil {
		return err
	}
	var jobs []func()
	for _, it := range items {
		id := strings.ToLower(it.str("id"))
		m, ok := mapped[id]
		if !ok {
			a.rep.count("users", "notMapped", 1)
			continue
		}
		if it.has("@removed") {
			jobs = append(jobs, func() { a.userRemoved(ctx, m, "deleted in the source ("+removedReason(it)+")") })
			continue
		}
		jobs = append(jobs, func() { a.userChanged(ctx, m, it, r.mode) })
	}
	if r.mode == ModeFull {
		seen := map[string]bool{}
		for _, it := range items {
			seen[strings.ToLower(it.str("id"))] = true
		}
		for id, m := range mapped {
			if !seen[id] {
				jobs = append(jobs, func() { a.userRemoved(ctx, m, "no longer in the source (full round)") })
			}
		}
	}
	_ = phase.Parallel(len(jobs), applyWidth, func(i int) error { jobs[i](); return nil })
	return nil
}

// userChanged writes a mapped user's changed properties and records what it did.
func (a *applier) userChanged(ctx context.Context, m state.IDMapping, it object, mode string) {
	patch := a.applyProps(ctx, "users", userProps, m, it, mode == ModeFull)
	if patch == nil {
		return
	}
	action, detail := "updated", strings.Join(slices.Sorted(maps.Keys(patch)), ",")
	if v, ok := patch["accountEnabled"]; ok && len(patch) == 1 {
		action = map[bool]string{true: "enabled", false: "disabled"}[string(v) == "true"]
	}
	a.rep.changed(Change{Type: "users", SourceID: m.SourceID, TargetID: m.TargetID, Action: action, Detail: detail})
}

// applyProps writes a mapped object's changed properties (typ users or groups) through the domain
// rewrite and returns what it wrote, nil when nothing. An incremental round carries only what
// changed; a full round is compared with the target, for the objects t2t created (a matched one may
// differ from the source on purpose, so only incremental changes reach it).
func (a *applier) applyProps(ctx context.Context, typ string, props []string, m state.IDMapping, it object, full bool) map[string]json.RawMessage {
	domains := a.domainsOf(ctx, m.Wave)
	patch := map[string]json.RawMessage{}
	for _, p := range props {
		if v, ok := it[p]; ok {
			patch[p] = rewrite(v, domains)
		}
	}
	if len(patch) == 0 {
		return nil
	}
	path := "/" + typ + "/" + m.TargetID
	if full {
		if !m.Created {
			a.rep.count(typ, "matchedNotCompared", 1)
			return nil
		}
		var cur object
		if err := getJSON(ctx, a.Target, path+"?$select=id,"+strings.Join(props, ","), "", &cur); err != nil {
			a.fail(typ, m, "reading the target object", err)
			return nil
		}
		for p, v := range patch {
			if same(v, cur[p]) {
				delete(patch, p)
			}
		}
		if len(patch) == 0 {
			a.rep.count(typ, "unchanged", 1)
			return nil
		}
	}
	if err := send(ctx, a.Target, abstractions.PATCH, path, patch); err != nil {
		a.fail(typ, m, "updating the target object", err)
		return nil
	}
	return patch
}

// userRemoved applies the deletion policy to a mapped user deleted in the source: report, or
// disable the target account. Nothing is deleted.
func (a *applier) userRemoved(ctx context.Context, m state.IDMapping, why string) {
	if a.Deletions != DeletionsDisable {
		a.rep.changed(Change{Type: "users", SourceID: m.SourceID, TargetID: m.TargetID, Action: "deletionReported", Detail: why})
		return
	}
	var cur object
	if err := getJSON(ctx, a.Target, "/users/"+m.TargetID+"?$select=id,accountEnabled", "", &cur); err != nil {
		a.fail("users", m, "reading the target user", err)
		return
	}
	if string(cur["accountEnabled"]) == "false" {
		a.rep.count("users", "deletionAlreadyDisabled", 1)
		return
	}
	if err := send(ctx, a.Target, abstractions.PATCH, "/users/"+m.TargetID, map[string]bool{"accountEnabled": false}); err != nil {
		a.fail("users", m, "disabling the target user", err)
		return
	}
	a.rep.changed(Change{Type: "users", SourceID: m.SourceID, TargetID: m.TargetID, Action: "deletionDisabled", Detail: why})
}

// fail records a failed write; passing failures keep the delta links for the next run.
func (a *applier) fail(typ string, m state.IDMapping, what string, err error) {
	retry := graph.IsRetryable(err)
	a.rep.failed(Change{Type: typ, SourceID: m.SourceID, TargetID: m.TargetID, Action: what, Detail: graph.Describe(err)}, retry)
	a.logf("delta %s %s: %s: %v", typ, m.SourceID, what, err)
}

// mappings reads the id mappings of a round's objects; all reads the whole type's mappings (a full
// round needs them to find deletions).
func (a *applier) mappings(ctx context.Context, typ string, items []object, all bool) (map[string]state.IDMapping, error) {
	out := map[string]state.IDMapping{}
	if all {
		for m, err := range a.Store.IDMap(ctx, a.Migration, typ) {
			if err != nil {
				return nil, err
			}
			out[strings.ToLower(m.SourceID)] = m
		}
		return out, nil
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, strings.ToLower(it.str("id")))
	}
	got, err := a.Store.GetIDMaps(ctx, a.Migration, typ, ids)
	if err != nil {
		return nil, err
	}
	for k, m := range got {
		out[strings.ToLower(k)] = m
	}
	return out, nil
}

// merge joins the items of one object that a round split across pages: properties from any, and
// the members@delta lists concatenated.
func merge(items []object) []object {
	byID := map[string]object{}
	var order []string
	for _, it := range items {
		id := strings.ToLower(it.str("id"))
		cur, ok := byID[id]
		if !ok {
			byID[id] = it
			order = append(order, id)
			continue
		}
		for k, v := range it {
			if k == "members@delta" {
				var x, y []json.RawMessage
				_ = json.Unmarshal(cur[k], &x)
				_ = json.Unmarshal(v, &y)
				cur[k], _ = json.Marshal(append(x, y...))
				continue
			}
			cur[k] = v
		}
	}
	out := make([]object, len(order))
	for i, id := range order {
		out[i] = byID[id]
	}
	return out
}

func removedReason(it object) string {
	var r struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(it["@removed"], &r)
	if r.Reason == "" {
		return "removed"
	}
	return r.Reason
}

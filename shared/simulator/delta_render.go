package simulator

import (
	"slices"
	"strings"
)

// deltaItemLocked renders one object of a delta page: the live object with its tracked properties and
// relationship annotations (members@delta, owners@delta, manager@delta), or a removed stub
// {"id", "@removed": {"reason"}} - changed when it sits in deleted items, deleted when it is gone.
// Replication lag (lag.go) does not hide objects from delta: a round that skipped a new object would
// move its deltaLink past the change and lose it, where the service reports it in a later round.
func (t *Tenant) deltaItemLocked(c *call, kind, id string, st *deltaState, agg *deltaAgg, minimal bool) map[string]any {
	props, rels := splitTracked(st.Select)
	if kind == kindUser {
		u := t.users.byID[id]
		if u == nil {
			return removedItem(id, t.deletedUsers[id] != nil)
		}
		out := userSchema.project(u, deltaProps(kind, props, agg, minimal, c.version), c.version)
		out["id"] = u.ID
		if slices.Contains(rels, "manager") {
			t.addRefDelta(out, "manager@delta", nonEmpty(u.ManagerID), agg)
		}
		return out
	}
	g := t.groups.get(id)
	if g == nil {
		return removedItem(id, t.deletedGroups[id] != nil)
	}
	out := groupSchema.project(g, deltaProps(kind, props, agg, minimal, c.version), c.version)
	out["id"] = g.ID
	if len(st.Select) == 0 || slices.Contains(rels, "members") {
		t.addRefDelta(out, "members@delta", g.Members, agg)
	}
	if slices.Contains(rels, "owners") && (agg == nil || agg.props["owners"]) {
		t.addRefDelta(out, "owners@delta", g.Owners, nil)
	}
	return out
}

func nonEmpty(id string) []string {
	if id == "" {
		return nil
	}
	return []string{id}
}

func removedItem(id string, soft bool) map[string]any {
	reason := removedDeleted
	if soft {
		reason = removedChanged
	}
	return map[string]any{"id": id, "@removed": map[string]any{"reason": reason}}
}

// addRefDelta adds a relationship annotation. In a first round (agg nil) it lists every current
// reference; in a later round the references the round's changes touched: present ones plainly,
// dropped ones with "@removed": {"reason": "deleted"} (https://learn.microsoft.com/graph/api/group-delta).
func (t *Tenant) addRefDelta(out map[string]any, name string, current []string, agg *deltaAgg) {
	var refs []map[string]any
	ref := func(id, kind string) map[string]any {
		if kind == "" {
			kind = t.objectKindLocked(id)
		}
		m := map[string]any{"id": id}
		if kind != "" {
			m["@odata.type"] = "#microsoft.graph." + kind
		}
		return m
	}
	if agg == nil {
		for _, id := range current {
			refs = append(refs, ref(id, ""))
		}
	} else {
		touched := make([]string, 0, len(agg.refs))
		for id := range agg.refs {
			touched = append(touched, id)
		}
		slices.Sort(touched)
		for _, id := range touched {
			m := ref(id, agg.refs[id])
			if !slices.Contains(current, id) {
				m["@removed"] = map[string]any{"reason": removedDeleted}
			}
			refs = append(refs, m)
		}
	}
	if len(refs) > 0 {
		out[name] = refs
	}
}

// splitTracked separates schema properties from relationships in a delta $select.
func splitTracked(sel []string) (props, rels []string) {
	for _, n := range sel {
		switch n {
		case "members", "owners", "manager":
			rels = append(rels, n)
		default:
			props = append(props, n)
		}
	}
	return props, rels
}

// deltaProps is the projection of an object in a delta page: the selected properties (nil: the
// defaults) or, with Prefer: return=minimal in a later round, only the tracked ones that changed.
func deltaProps(kind string, props []string, agg *deltaAgg, minimal bool, version string) []string {
	if !minimal || agg == nil || agg.created {
		return props
	}
	out := []string{"id"}
	for p := range agg.props {
		if p != "id" && !strings.HasSuffix(p, "s@delta") && isTracked(kind, props, p, version) &&
			p != "members" && p != "owners" && p != "manager" {
			out = append(out, p)
		}
	}
	slices.Sort(out[1:])
	return out
}

package simulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Delta queries (https://learn.microsoft.com/graph/api/user-delta, group-delta,
// https://learn.microsoft.com/graph/delta-query-overview). A round starts with GET .../delta: the first
// round returns every object, later rounds (from a @odata.deltaLink) the objects changed since, removed
// ones as {"id", "@removed": {"reason"}}; pages chain with @odata.nextLink ($skiptoken) and the last
// page carries @odata.deltaLink ($deltatoken). Tokens are sequence numbers of the tenant's change log,
// with the round's $select and $filter, signed by nothing: they are opaque to clients, not secret.
const (
	deltaPageSize = 100
	// Expired tokens: the documented answer for identity resources
	// (https://devblogs.microsoft.com/microsoft365dev/duration-of-change-tracking-tokens-for-identity-and-education-resources/)
	// is 400 with code syncStateNotFound, which the delta overview lists for expired tokens. The
	// simulator also answers it for a token from before a restart, whose change log is gone.
	codeSyncStateNotFound = "syncStateNotFound"
	msgSyncStateNotFound  = "The sync state generation is not found. The delta token is expired and data must be synchronized again."
	// maxDeltaFilterIDs is the documented limit of ids in a delta $filter.
	maxDeltaFilterIDs = 50
)

// deltaState is the decoded $skiptoken or $deltatoken.
type deltaState struct {
	Tenant  string   `json:"t"`
	Epoch   string   `json:"e"`
	Kind    string   `json:"k"`
	From    uint64   `json:"f"`           // changes after this sequence number...
	To      uint64   `json:"s"`           // ...up to this one (the log's head when the round began)
	Initial bool     `json:"i,omitempty"` // the first round: every live object
	After   string   `json:"a,omitempty"` // last id of the previous page
	Issued  int64    `json:"at"`          // unix seconds the token was issued (expiry)
	Select  []string `json:"sel,omitempty"`
	IDs     []string `json:"ids,omitempty"`
}

func (d *deltaState) encode() string {
	raw, _ := json.Marshal(d)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func (s *Server) addDeltaRoutes(rt *router) {
	for _, name := range []string{"delta", "delta()", "microsoft.graph.delta", "microsoft.graph.delta()"} {
		rt.add(http.MethodGet, "/users/"+name, permUsersRead, deltaHandler(kindUser))
		// group-delta lists GroupMember.Read.All as least privileged.
		rt.add(http.MethodGet, "/groups/"+name, permGroupsRead, deltaHandler(kindGroup))
	}
}

// deltaHandler serves users/delta or groups/delta.
func deltaHandler(kind string) handlerFunc {
	return func(c *call) *graphError {
		// Docs: $top, $orderby and $expand are not supported on users and groups delta.
		q, gerr := queryOptions(c, "$select", "$filter", "$deltatoken", "$skiptoken")
		if gerr != nil {
			return gerr
		}
		t := c.tenant
		now := c.srv.now()
		st, gerr := startDelta(c, kind, q.Get("$deltatoken"), q.Get("$skiptoken"))
		if gerr != nil {
			return gerr
		}
		if raw := q.Get("$select"); raw != "" {
			if q.Get("$skiptoken") != "" {
				// Docs: "Delta queries with both $select and $skipToken will not be supported."
				return errUnsupportedQuery("$select is not supported with $skiptoken; the token carries the round's $select.")
			}
			// $select belongs to the first request of a round; a deltaLink may carry a new one.
			if st.Select, gerr = deltaSelect(kind, raw); gerr != nil {
				return gerr
			}
		}
		if raw := q.Get("$filter"); raw != "" {
			if st.IDs, gerr = deltaFilterIDs(raw); gerr != nil {
				return gerr
			}
		}
		t.mu.RLock()
		if q.Get("$skiptoken") == "" {
			st.To = t.changes.seq // a round reports the changes up to its start; later ones come next round
		}
		page, more := t.deltaPageLocked(c, kind, st)
		t.mu.RUnlock()
		body := map[string]any{"@odata.context": contextURL(c, kind+"s", nil, false), "value": page}
		link := c.srv.graphURL + c.r.URL.EscapedPath() + "?"
		if more != "" {
			st.After, st.Issued = more, now.Unix()
			body["@odata.nextLink"] = link + "$skiptoken=" + st.encode()
		} else {
			next := deltaState{Tenant: st.Tenant, Epoch: st.Epoch, Kind: kind, From: st.To, To: 0,
				Issued: now.Unix(), Select: st.Select, IDs: st.IDs}
			body["@odata.deltaLink"] = link + "$deltatoken=" + next.encode()
		}
		c.writeJSON(http.StatusOK, body)
		return nil
	}
}

// startDelta decodes the request's token, or begins a first round. $deltatoken=latest begins at the
// log's head with no objects (https://learn.microsoft.com/graph/delta-query-overview, "sync from now").
func startDelta(c *call, kind, deltaToken, skipToken string) (*deltaState, *graphError) {
	t := c.tenant
	t.mu.RLock()
	epoch, head, trimmed, lifetime := t.changes.epoch, t.changes.seq, t.changes.trimmed, t.changes.lifetime
	t.mu.RUnlock()
	fresh := &deltaState{Tenant: t.ID, Epoch: epoch, Kind: kind, Initial: true}
	raw := skipToken
	switch {
	case strings.EqualFold(deltaToken, "latest"):
		return &deltaState{Tenant: t.ID, Epoch: epoch, Kind: kind, From: head, To: head}, nil
	case deltaToken != "":
		raw = deltaToken
	case skipToken == "":
		return fresh, nil
	}
	data, err := base64.RawURLEncoding.DecodeString(raw)
	var st deltaState
	if err != nil || json.Unmarshal(data, &st) != nil || st.Kind != kind || st.Tenant != t.ID {
		// Docs are silent on a malformed token; the simulator answers like an unknown sync state.
		return nil, newGraphError(http.StatusBadRequest, codeSyncStateNotFound, msgSyncStateNotFound)
	}
	expired := lifetime > 0 && c.srv.now().Sub(time.Unix(st.Issued, 0)) > lifetime
	if expired || st.Epoch != epoch || st.From < trimmed {
		return nil, newGraphError(http.StatusBadRequest, codeSyncStateNotFound, msgSyncStateNotFound)
	}
	if deltaToken != "" {
		st.To, st.After, st.Initial = 0, "", false
	}
	return &st, nil
}

// deltaSelect resolves $select for a delta round. members (groups) and manager (users) are the
// relationships delta can track as members@delta / manager@delta.
func deltaSelect(kind, raw string) ([]string, *graphError) {
	if raw == "" {
		return nil, nil
	}
	var rels, props []string
	for _, name := range strings.Split(raw, ",") {
		name = strings.TrimSpace(name)
		switch {
		case kind == kindGroup && (strings.EqualFold(name, "members") || strings.EqualFold(name, "owners")):
			rels = append(rels, strings.ToLower(name))
		case kind == kindUser && strings.EqualFold(name, "manager"):
			rels = append(rels, "manager")
		default:
			props = append(props, name)
		}
	}
	var sel []string
	var gerr *graphError
	if kind == kindUser {
		sel, gerr = parseSelect(userSchema, strings.Join(props, ","))
	} else {
		sel, gerr = parseSelect(groupSchema, strings.Join(props, ","))
	}
	if gerr != nil {
		return nil, gerr
	}
	if !slices.Contains(sel, "id") {
		sel = append(sel, "id")
	}
	return append(sel, rels...), nil
}

// deltaFilterIDs accepts the only documented delta filter: id eq '…' joined with or, at most 50.
func deltaFilterIDs(raw string) ([]string, *graphError) {
	n, err := parseFilter(raw)
	if err != nil {
		return nil, errBadRequest("Invalid filter clause: %s", err.Error())
	}
	var ids []string
	var walk func(filterNode) bool
	walk = func(n filterNode) bool {
		switch x := n.(type) {
		case logicNode:
			return x.op == "or" && walk(x.left) && walk(x.right)
		case cmpNode:
			id, ok := x.val.(string)
			if ok && x.op == "eq" && strings.EqualFold(x.prop, "id") {
				ids = append(ids, strings.ToLower(id))
			}
			return ok && x.op == "eq" && strings.EqualFold(x.prop, "id")
		}
		return false
	}
	if !walk(n) || len(ids) > maxDeltaFilterIDs {
		return nil, errUnsupportedQuery("Unsupported query: delta supports only $filter=id eq '…' (or'ed, at most 50).")
	}
	return ids, nil
}

// deltaPageLocked renders one page of the round and returns the last id when more follow.
func (t *Tenant) deltaPageLocked(c *call, kind string, st *deltaState) ([]map[string]any, string) {
	tracked := st.Select
	minimal := !st.Initial && strings.Contains(strings.ToLower(c.r.Header.Get("Prefer")), "return=minimal")
	var changes map[string]*deltaAgg
	var ids []string
	if st.Initial {
		ids = t.liveIDsLocked(kind)
	} else {
		changes = aggregate(t.changes.since(kind, st.From, st.To))
		for id, agg := range changes {
			if agg.relevant(kind, tracked, c.version) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
	}
	if len(st.IDs) > 0 {
		ids = slices.DeleteFunc(ids, func(id string) bool { return !slices.Contains(st.IDs, id) })
	}
	start := 0
	if st.After != "" {
		start, _ = slices.BinarySearch(ids, st.After+"\x00")
	}
	page := []map[string]any{}
	for i := start; i < len(ids); i++ {
		if len(page) == deltaPageSize {
			return page, ids[i-1]
		}
		if item := t.deltaItemLocked(c, kind, ids[i], st, changes[ids[i]], minimal); item != nil {
			page = append(page, item)
		}
	}
	return page, ""
}

func (t *Tenant) liveIDsLocked(kind string) []string {
	if kind == kindUser {
		return slices.Clone(t.users.ids)
	}
	return slices.Clone(t.groups.ids)
}

// deltaAgg is what a round reports about one object: the union of its changes.
type deltaAgg struct {
	created bool
	props   map[string]bool
	refs    map[string]string // touched reference id -> kind
	removed bool
}

func aggregate(changes []change) map[string]*deltaAgg {
	out := map[string]*deltaAgg{}
	for _, ch := range changes {
		a := out[ch.id]
		if a == nil {
			a = &deltaAgg{props: map[string]bool{}, refs: map[string]string{}}
			out[ch.id] = a
		}
		a.created = a.created || ch.created
		a.removed = ch.removed != "" || (a.removed && !ch.created)
		for _, p := range ch.props {
			a.props[p] = true
		}
		for _, r := range ch.refs {
			a.refs[r.ID] = r.Kind
		}
	}
	return out
}

// relevant applies the tracked properties: an object whose changes touch only untracked properties is
// not reported (https://learn.microsoft.com/graph/delta-query-overview, $select).
func (a *deltaAgg) relevant(kind string, tracked []string, version string) bool {
	if a.created || a.removed {
		return true
	}
	for p := range a.props {
		if isTracked(kind, tracked, p, version) {
			return true
		}
	}
	return false
}

// isTracked: with $select, the selected properties and relationships; without, the default
// properties (v1.0 defaults, everything in beta) and, for groups, members.
func isTracked(kind string, tracked []string, p, version string) bool {
	if len(tracked) > 0 {
		return slices.Contains(tracked, p)
	}
	if kind == kindGroup {
		if p == "members" {
			return true
		}
		if pr := groupSchema.lookup(p); pr != nil {
			return pr.v1Default || version == "beta"
		}
		return false
	}
	if pr := userSchema.lookup(p); pr != nil {
		return pr.v1Default || version == "beta"
	}
	return false
}

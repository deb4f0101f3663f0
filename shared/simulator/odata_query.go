package simulator

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Page sizes of directory collections (https://learn.microsoft.com/graph/paging).
const (
	defaultPageSize = 100
	maxPageSize     = 999
)

// listQuery is a collection request's OData options, validated against the entity schema.
type listQuery struct {
	top       int
	sel       []string // canonical property names; empty means the default set
	filter    filterNode
	orderBy   string // canonical property name, or "" for id order
	desc      bool
	count     bool
	advanced  bool // ConsistencyLevel: eventual with $count=true
	skipToken *pageToken
}

// pageToken is the decoded $skiptoken: the sort key and id of the last object of the previous page.
// Resuming after a key, rather than at an offset, keeps paging exact while objects are added or removed.
type pageToken struct {
	Key string `json:"k"`
	ID  string `json:"i"`
}

// queryOptions returns the request's system query options ($-prefixed), rejecting the ones the
// simulator does not implement rather than ignoring them.
func queryOptions(c *call, allowed ...string) (url.Values, *graphError) {
	q := c.r.URL.Query()
	for name := range q {
		if !strings.HasPrefix(name, "$") {
			continue // Graph ignores unknown non-system parameters
		}
		if !slices.Contains(allowed, strings.ToLower(name)) {
			return nil, errUnsupportedQuery("The query parameter '%s' is not supported by the simulator for this request.", name)
		}
	}
	return q, nil
}

// parseSelect resolves $select against the schema.
func parseSelect[T any](s *schema[T], raw string) ([]string, *graphError) {
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, name := range strings.Split(raw, ",") {
		p := s.lookup(strings.TrimSpace(name))
		if p == nil {
			return nil, errBadRequest("Could not find a property named '%s' on type '%s'.", strings.TrimSpace(name), s.qualName)
		}
		if !slices.Contains(out, p.name) {
			out = append(out, p.name)
		}
	}
	return out, nil
}

// parseListQuery reads $top, $select, $filter, $orderby, $count and $skiptoken.
func parseListQuery[T any](c *call, s *schema[T]) (*listQuery, *graphError) {
	q, gerr := queryOptions(c, "$top", "$select", "$filter", "$orderby", "$count", "$skiptoken")
	if gerr != nil {
		return nil, gerr
	}
	lq := &listQuery{top: defaultPageSize}
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			// Docs give the bounds (1..999) but not the error; the directory's own message is used.
			return nil, errUnsupportedQuery("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v)
		}
		lq.top = n
	}
	if lq.sel, gerr = parseSelect(s, q.Get("$select")); gerr != nil {
		return nil, gerr
	}
	switch strings.ToLower(q.Get("$count")) {
	case "":
	case "true":
		lq.count = true
	case "false":
	default:
		return nil, errBadRequest("Invalid $count value '%s'.", q.Get("$count"))
	}
	eventual := strings.EqualFold(c.r.Header.Get("ConsistencyLevel"), "eventual")
	if lq.count && !eventual {
		// $count on directory objects is an advanced query: it needs ConsistencyLevel: eventual.
		return nil, errBadRequest("$count is not currently supported.")
	}
	lq.advanced = lq.count && eventual
	if gerr = parseFilterOption(lq, s, q.Get("$filter")); gerr != nil {
		return nil, gerr
	}
	if gerr = parseOrderByOption(lq, s, q.Get("$orderby")); gerr != nil {
		return nil, gerr
	}
	if v := q.Get("$skiptoken"); v != "" {
		if lq.skipToken = decodePageToken(v); lq.skipToken == nil {
			return nil, errExpiredPageToken()
		}
	}
	return lq, nil
}

func errExpiredPageToken() *graphError {
	return newGraphError(400, codeExpiredPageToken,
		"The specified page token value has expired and can no longer be included in your request.")
}

func parseFilterOption[T any](lq *listQuery, s *schema[T], raw string) *graphError {
	if raw == "" {
		return nil
	}
	n, err := parseFilter(raw)
	if err != nil {
		return errBadRequest("Invalid filter clause: %s", err.Error())
	}
	if gerr := s.checkFilter(n, lq.advanced); gerr != nil {
		return gerr
	}
	lq.filter = n
	return nil
}

func parseOrderByOption[T any](lq *listQuery, s *schema[T], raw string) *graphError {
	if raw == "" {
		return nil
	}
	name, dir, _ := strings.Cut(strings.TrimSpace(raw), " ")
	canonical, ok := s.orderable(name)
	if !ok || (dir != "" && dir != "asc" && dir != "desc") {
		return errUnsupportedQuery("Sorting not supported for current query.")
	}
	if lq.filter != nil && !lq.advanced {
		// Directory objects sort a filtered result only in advanced queries.
		return errUnsupportedQuery("Sorting not supported for current query.")
	}
	lq.orderBy, lq.desc = canonical, dir == "desc"
	return nil
}

func (s *schema[T]) orderable(name string) (string, bool) {
	p := s.lookup(name)
	if p == nil || !p.orderBy {
		return "", false
	}
	return p.name, true
}

func decodePageToken(v string) *pageToken {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	var t pageToken
	if json.Unmarshal(raw, &t) != nil || t.ID == "" {
		return nil
	}
	return &t
}

func (t *pageToken) encode() string {
	raw, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// listPage applies filter, order and skiptoken to items (given in id order) and cuts one page. It
// returns the page, the total number of matches (for $count), and the next page's token or nil.
func listPage[T any](s *schema[T], items []*T, lq *listQuery, idOf func(*T) string) ([]*T, int, *pageToken) {
	matched := items[:0:0]
	for _, it := range items {
		if lq.filter == nil || s.matches(lq.filter, it) {
			matched = append(matched, it)
		}
	}
	key := func(it *T) string { return "" }
	if lq.orderBy != "" {
		p := s.lookup(lq.orderBy)
		key = func(it *T) string { v, _ := jsonValue(p.get(it)).(string); return strings.ToLower(v) }
		sort.SliceStable(matched, func(i, j int) bool {
			ki, kj := key(matched[i]), key(matched[j])
			if ki != kj {
				return (ki < kj) != lq.desc
			}
			return idOf(matched[i]) < idOf(matched[j])
		})
	}
	start := 0
	if t := lq.skipToken; t != nil {
		start = sort.Search(len(matched), func(i int) bool {
			k, id := key(matched[i]), idOf(matched[i])
			if k != t.Key {
				return (k > t.Key) != lq.desc
			}
			return id > t.ID
		})
	}
	end := min(start+lq.top, len(matched))
	page := matched[start:end]
	if end == len(matched) {
		return page, len(matched), nil
	}
	last := page[len(page)-1]
	return page, len(matched), &pageToken{Key: key(last), ID: idOf(last)}
}

// nextLink is the request's URL with $skiptoken replaced, on the simulator's own origin.
func nextLink(c *call, t *pageToken) string {
	q := c.r.URL.Query()
	q.Set("$skiptoken", t.encode())
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k + "=" + strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	return c.srv.graphURL + c.r.URL.EscapedPath() + "?" + b.String()
}

// contextURL is @odata.context for an entity set, with the selected properties, e.g.
// https://host/v1.0/$metadata#users(displayName,id).
func contextURL(c *call, set string, sel []string, entity bool) string {
	u := c.root() + "/$metadata#" + set
	if len(sel) > 0 {
		u += "(" + strings.Join(sel, ",") + ")"
	}
	if entity {
		u += "/$entity"
	}
	return u
}

// writeList writes a collection page: @odata.context, @odata.count, @odata.nextLink and value. items
// must be a snapshot taken under the tenant lock; stored objects are never mutated in place (changes
// replace them), so rendering them after the lock is released is safe.
func writeList[T any](c *call, s *schema[T], set string, items []*T, lq *listQuery, idOf func(*T) string) {
	page, total, next := listPage(s, items, lq, idOf)
	values := make([]map[string]any, len(page))
	for i, it := range page {
		values[i] = s.project(it, lq.sel, c.version)
	}
	body := map[string]any{"@odata.context": contextURL(c, set, lq.sel, false), "value": values}
	if lq.count {
		body["@odata.count"] = total
	}
	if next != nil {
		body["@odata.nextLink"] = nextLink(c, next)
	}
	c.writeJSON(200, body)
}

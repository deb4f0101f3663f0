package simulator

import (
	"encoding/json"
	"net/http"
)

// Generic skeletons of the list, get, patch and delete handlers shared by the directory's typed
// collections (applications, service principals, role definitions, conditional access policies,
// named locations). Each resource family keeps its own checks, errors and side effects; these
// helpers hold only the common order of parsing, locking, lookup and answering.

// finder resolves the object a request addresses, and the key to name in a 404. The caller holds the
// tenant lock; finders see only replicated objects (lag.go).
type finder[T any] func(c *call) (*T, string)

// resource describes one typed collection for the generic handlers.
type resource[T any] struct {
	schema   *schema[T]
	set      string                                  // entity set named in @odata.context
	idOf     func(*T) string                         // the object's id
	coll     func(t *Tenant) *objectSet[T]           // the tenant's collection (read under t.mu)
	notFound func(key string) *graphError            // the 404 for a key that finds nothing
	render   func(v *T, sel []string) map[string]any // a GET body; nil: the schema's projection
}

// visibleLocked returns v, or nil when v is nil or still replicating (lag.go).
func visibleLocked[T any](t *Tenant, v *T, idOf func(*T) string) *T {
	if v == nil || !t.visible(idOf(v)) {
		return nil
	}
	return v
}

// byID is the finder for {id}: the replicated object with that id.
func (r *resource[T]) byID(c *call) (*T, string) {
	id := c.param("id")
	return visibleLocked(c.tenant, r.coll(c.tenant).get(id), r.idOf), id
}

// list implements GET on the collection: query options parsed, a snapshot taken under the read lock,
// objects still replicating left out, a page written by the schema (or of render's bodies).
func (r *resource[T]) list(c *call) *graphError {
	lq, gerr := parseListQuery(c, r.schema)
	if gerr != nil {
		return gerr
	}
	t := c.tenant
	t.mu.RLock()
	all := r.coll(t).list()
	t.mu.RUnlock()
	items := visibleOnly(t, all, r.idOf)
	if r.render == nil {
		writeList(c, r.schema, r.set, items, lq, r.idOf)
		return nil
	}
	page, total, next := listPage(r.schema, items, lq, r.idOf)
	values := make([]map[string]any, len(page))
	for i, v := range page {
		values[i] = r.render(v, lq.sel)
	}
	writeRenderedList(c, r.set, lq, values, total, next)
	return nil
}

// get implements GET of one object: $select parsed, the object found under the read lock, 404 when
// find finds nothing, else 200 with the rendered selection and its @odata.context.
func (r *resource[T]) get(c *call, find finder[T]) *graphError {
	sel, gerr := selectOnly(c, r.schema)
	if gerr != nil {
		return gerr
	}
	c.tenant.mu.RLock()
	v, key := find(c)
	c.tenant.mu.RUnlock()
	if v == nil {
		return r.notFound(key)
	}
	var body map[string]any
	if r.render == nil {
		body = r.schema.project(v, sel, c.version)
	} else {
		body = r.render(v, sel)
	}
	body["@odata.context"] = contextURL(c, r.set, sel, true)
	c.writeJSON(http.StatusOK, body)
	return nil
}

// patch implements the locked part of a PATCH, after the body is read: under the write lock, the
// object find resolves (404 when none) is handed to apply, which validates and stores the change;
// then the tenant's version moves on and 204 is answered.
func (r *resource[T]) patch(c *call, find finder[T], apply func(t *Tenant, cur *T) *graphError) *graphError {
	return r.locked(c, find, apply)
}

// remove implements the locked part of a DELETE: under the write lock, the object find resolves
// (404 when none) is handed to drop, which may refuse it or removes it with what goes with it; then
// the tenant's version moves on and 204 is answered.
func (r *resource[T]) remove(c *call, find finder[T], drop func(t *Tenant, cur *T) *graphError) *graphError {
	return r.locked(c, find, drop)
}

// locked is the common body of patch and remove.
func (r *resource[T]) locked(c *call, find finder[T], change func(t *Tenant, cur *T) *graphError) *graphError {
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, key := find(c)
	if cur == nil {
		return r.notFound(key)
	}
	if gerr := change(t, cur); gerr != nil {
		return gerr
	}
	t.touchLocked()
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// parseEntityBody reads a POST or PATCH body as a JSON object: an @odata.type other than odataType
// refused (none checked when odataType is empty), the readOnly top-level properties refused,
// annotations stripped.
func parseEntityBody(c *call, odataType string, readOnly ...string) (map[string]any, *graphError) {
	body, gerr := readParsed(c, decodeObject)
	if gerr != nil {
		return nil, gerr
	}
	if tp, ok := body["@odata.type"]; ok && odataType != "" && tp != odataType {
		return nil, errBadRequest("A type named '%v' could not be resolved by the model.", tp)
	}
	if gerr := checkTopLevel(body, readOnly...); gerr != nil {
		return nil, gerr
	}
	return stripAnnotations(body).(map[string]any), nil
}

// writeCreated answers a POST that created an object: body with its @odata.context (of contextSet),
// a Location header for path under the service root, 201.
func writeCreated(c *call, body map[string]any, contextSet, path string) {
	body["@odata.context"] = contextURL(c, contextSet, nil, true)
	c.w.Header().Set("Location", c.root()+path)
	c.writeJSON(http.StatusCreated, body)
}

// readRefBody reads a $ref body {"@odata.id": "…"} naming a directory object: unreadable JSON, a
// missing or empty @odata.id (missingMsg), a URL that is not a directory object's (badURLMsg) and a
// malformed object id are refused.
func readRefBody(c *call, missingMsg, badURLMsg string) (refTarget, *graphError) {
	raw, gerr := c.readBody()
	if gerr != nil {
		return refTarget{}, gerr
	}
	var body map[string]json.RawMessage
	if json.Unmarshal(raw, &body) != nil || body == nil {
		return refTarget{}, errUnreadableJSON()
	}
	var ref string
	if json.Unmarshal(body["@odata.id"], &ref) != nil || ref == "" {
		return refTarget{}, errBadRequest("%s", missingMsg)
	}
	target, ok := parseRefURL(ref)
	if !ok {
		return refTarget{}, errBadRequest("%s", badURLMsg)
	}
	if !guidRE.MatchString(target.id) {
		return refTarget{}, errInvalidObjectID(target.id)
	}
	return target, nil
}

// readParsed reads the request body and hands it to parse.
func readParsed[T any](c *call, parse func(raw []byte) (T, *graphError)) (T, *graphError) {
	raw, gerr := c.readBody()
	if gerr != nil {
		var zero T
		return zero, gerr
	}
	return parse(raw)
}

// selectOnly parses a request whose only allowed query option is $select, against s.
func selectOnly[T any](c *call, s *schema[T]) ([]string, *graphError) {
	q, gerr := queryOptions(c, "$select")
	if gerr != nil {
		return nil, gerr
	}
	return parseSelect(s, q.Get("$select"))
}

package simulator

import (
	"strings"
	"time"
)

// filterSupport says which $filter operators a property accepts without advanced query parameters
// (ConsistencyLevel: eventual and $count=true). With them, every filterable property also accepts ne,
// not, gt/ge/lt/le, endswith and eq null, as the directory's advanced queries do
// (https://learn.microsoft.com/graph/aad-advanced-queries).
type filterSupport int

const (
	filterNone       filterSupport = iota
	filterEq                       // eq, in (and any() on collections)
	filterEqStarts                 // eq, in, startswith
	filterAdvancedOn               // only with advanced query parameters (e.g. createdDateTime)
)

// prop is one property of an entity type: how to read it and how $select, $filter and $orderby treat it.
type prop[T any] struct {
	name string
	// get returns the value: string ("" means null), bool, []string, time.Time (zero means null), or any
	// JSON-encodable value for complex types.
	get func(*T) any
	// v1Default marks the properties v1.0 returns without $select (beta returns all).
	v1Default bool
	filter    filterSupport
	orderBy   bool
}

// schema is an entity type: its properties and the names Graph uses for it in messages and contexts.
type schema[T any] struct {
	typeName string // resource name in messages, e.g. "User"
	qualName string // e.g. "microsoft.graph.user"
	props    []prop[T]
	byName   map[string]*prop[T] // lower-case name
}

func newSchema[T any](typeName, qualName string, props []prop[T]) *schema[T] {
	s := &schema[T]{typeName: typeName, qualName: qualName, props: props, byName: map[string]*prop[T]{}}
	for i := range s.props {
		s.byName[strings.ToLower(s.props[i].name)] = &s.props[i]
	}
	return s
}

// lookup finds a property by name, case-insensitively as Graph does.
func (s *schema[T]) lookup(name string) *prop[T] { return s.byName[strings.ToLower(name)] }

// jsonValue normalizes a property value for output: empty strings and zero times are null, nil slices
// are empty arrays.
func jsonValue(v any) any {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return x.UTC().Format(time.RFC3339)
	case []string:
		if x == nil {
			return []string{}
		}
	}
	return v
}

// project renders obj with the selected properties (canonical names), or the default set when sel is
// empty: v1.0 defaults for v1.0, every property for beta.
func (s *schema[T]) project(obj *T, sel []string, version string) map[string]any {
	out := make(map[string]any, len(s.props))
	if len(sel) > 0 {
		for _, name := range sel {
			out[name] = jsonValue(s.lookup(name).get(obj))
		}
		return out
	}
	for i := range s.props {
		if p := &s.props[i]; p.v1Default || version == "beta" {
			out[p.name] = jsonValue(p.get(obj))
		}
	}
	return out
}

// checkFilter validates a parsed filter against the schema: properties exist and are filterable, the
// operator is allowed without or with advanced query parameters, and the expression has at most 15
// or-clauses (an in list counts one per value), the directory's limit.
func (s *schema[T]) checkFilter(n filterNode, advanced bool) *graphError {
	if c := orClauses(n); c > 15 {
		return errUnsupportedQuery("Too many child clauses specified in search filter expression containing 'OR' operators: %d. Max allowed: 15.", c)
	}
	return s.checkNode(n, advanced, "")
}

func orClauses(n filterNode) int {
	switch x := n.(type) {
	case logicNode:
		if x.op == "or" {
			return orClauses(x.left) + orClauses(x.right)
		}
		return max(orClauses(x.left), orClauses(x.right))
	case inNode:
		return len(x.vals)
	case notNode:
		return orClauses(x.inner)
	case anyNode:
		return orClauses(x.inner)
	}
	return 1
}

func (s *schema[T]) checkNode(n filterNode, advanced bool, lambdaProp string) *graphError {
	switch x := n.(type) {
	case logicNode:
		if err := s.checkNode(x.left, advanced, lambdaProp); err != nil {
			return err
		}
		return s.checkNode(x.right, advanced, lambdaProp)
	case notNode:
		if !advanced {
			return errUnsupportedQuery(msgAdvancedQueryMissing, "not")
		}
		return s.checkNode(x.inner, advanced, lambdaProp)
	case anyNode:
		return s.checkAny(x, advanced)
	case cmpNode:
		op := x.op
		if x.val == nil && op == "eq" {
			op = "eq null"
		}
		return s.checkOp(x.prop, op, advanced, lambdaProp)
	case inNode:
		return s.checkOp(x.prop, "in", advanced, lambdaProp)
	case funcNode:
		return s.checkOp(x.prop, x.fn, advanced, lambdaProp)
	}
	return errUnsupportedQuery("Unsupported Query.")
}

func (s *schema[T]) checkAny(x anyNode, advanced bool) *graphError {
	p := s.lookup(x.prop)
	if p == nil {
		return errBadRequest("Could not find a property named '%s' on type '%s'.", x.prop, s.qualName)
	}
	_, isList := p.get(new(T)).([]string)
	_, isIdentities := p.get(new(T)).([]ObjectIdentity)
	if !isList && !isIdentities || p.filter == filterNone {
		return errUnsupportedQuery("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", p.name, s.typeName)
	}
	return s.checkNode(x.inner, advanced, p.name)
}

// identityField reads issuer, issuerAssignedId or signInType of an identity in an any() over
// identities (https://learn.microsoft.com/graph/api/resources/objectidentity: eq only).
func identityField(it any, name string) (any, bool) {
	id, ok := it.(ObjectIdentity)
	if !ok {
		return nil, false
	}
	switch strings.TrimPrefix(name, itVar+"/") {
	case "issuer":
		return id.Issuer, true
	case "issuerAssignedId":
		return id.IssuerAssignedID, true
	case "signInType":
		return id.SignInType, true
	}
	return nil, false
}

func (s *schema[T]) checkOp(name, op string, advanced bool, lambdaProp string) *graphError {
	support := filterNone
	if strings.HasPrefix(name, itVar+"/") && lambdaProp == "identities" {
		if _, ok := identityField(ObjectIdentity{}, name); !ok || op != "eq" {
			return errUnsupportedQuery("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", name, s.typeName)
		}
		return nil
	}
	if name == itVar && lambdaProp != "" {
		support = s.lookup(lambdaProp).filter
	} else if p := s.lookup(name); p == nil {
		return errBadRequest("Could not find a property named '%s' on type '%s'.", name, s.qualName)
	} else if _, isList := p.get(new(T)).([]string); !isList {
		support = p.filter
		name = p.name
	}
	if support == filterNone {
		return errUnsupportedQuery("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", name, s.typeName)
	}
	basic := op == "eq" || op == "in" || (op == "startswith" && support == filterEqStarts)
	if support == filterAdvancedOn || !basic {
		if !advanced {
			return errUnsupportedQuery(msgAdvancedQueryMissing, op)
		}
	}
	return nil
}

// matches evaluates a validated filter against obj.
func (s *schema[T]) matches(n filterNode, obj *T) bool {
	return s.eval(n, obj, nil)
}

func (s *schema[T]) eval(n filterNode, obj *T, it any) bool {
	value := func(name string) any {
		if name == itVar {
			return it
		}
		if v, ok := identityField(it, name); ok {
			return v
		}
		return s.lookup(name).get(obj)
	}
	switch x := n.(type) {
	case logicNode:
		if x.op == "and" {
			return s.eval(x.left, obj, it) && s.eval(x.right, obj, it)
		}
		return s.eval(x.left, obj, it) || s.eval(x.right, obj, it)
	case notNode:
		return !s.eval(x.inner, obj, it)
	case anyNode:
		switch list := s.lookup(x.prop).get(obj).(type) {
		case []string:
			for _, v := range list {
				if s.eval(x.inner, obj, v) {
					return true
				}
			}
		case []ObjectIdentity:
			for _, v := range list {
				if s.eval(x.inner, obj, v) {
					return true
				}
			}
		}
		return false
	case cmpNode:
		return compare(value(x.prop), x.op, x.val)
	case inNode:
		for _, v := range x.vals {
			if compare(value(x.prop), "eq", v) {
				return true
			}
		}
		return false
	case funcNode:
		v, _ := value(x.prop).(string)
		if x.fn == "startswith" {
			return strings.HasPrefix(strings.ToLower(v), strings.ToLower(x.arg))
		}
		return strings.HasSuffix(strings.ToLower(v), strings.ToLower(x.arg))
	}
	return false
}

// compare applies a comparison operator. Directory string comparisons are case-insensitive; null
// equals only null and is neither greater nor smaller than anything.
func compare(have any, op string, want any) bool {
	have = jsonValue(have)
	if have == nil || want == nil {
		switch op {
		case "eq":
			return have == nil && want == nil
		case "ne":
			return (have == nil) != (want == nil)
		}
		return false
	}
	c, ok := order(have, want)
	if !ok {
		return op == "ne"
	}
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

// order compares a non-null property value with a non-null literal; ok is false when they are not
// comparable.
func order(have, want any) (int, bool) {
	switch h := have.(type) {
	case string:
		if d, isDate := want.(dateLiteral); isDate {
			want = string(d)
			if t, err := time.Parse(time.RFC3339, string(d)); err == nil {
				want = t.UTC().Format(time.RFC3339)
			}
		}
		w, ok := want.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(strings.ToLower(h), strings.ToLower(w)), true
	case bool:
		w, ok := want.(bool)
		if !ok {
			return 0, false
		}
		if h == w {
			return 0, true
		}
		return 1, true
	}
	return 0, false
}

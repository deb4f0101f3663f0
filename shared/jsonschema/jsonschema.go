// Package jsonschema validates JSON documents against the subset of JSON Schema (draft 2020-12) that
// t2t's published schemas use (docs/progress-events.schema.json): type, const, enum, required,
// properties, additionalProperties, items, allOf, anyOf, not, if/then/else, pattern, minLength,
// minimum, format date-time and local $ref. A schema using any other keyword is refused rather than
// half-checked, so a schema can never claim more than the tests check.
package jsonschema

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Schema is a parsed schema document.
type Schema struct {
	root map[string]any
}

// annotations are keywords that carry no constraint.
var annotations = []string{"$schema", "$id", "$defs", "title", "description", "default", "examples", "$comment"}

var checked = []string{"type", "const", "enum", "required", "properties", "additionalProperties", "items", "allOf",
	"anyOf", "not", "if", "then", "else", "pattern", "minLength", "minimum", "format", "$ref"}

// Parse reads a schema and refuses keywords this package does not check.
func Parse(data []byte) (*Schema, error) {
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("schema is not a JSON object: %w", err)
	}
	if err := known(root, "#"); err != nil {
		return nil, err
	}
	return &Schema{root: root}, nil
}

func known(s map[string]any, at string) error {
	for k, v := range s {
		switch {
		case slices.Contains(annotations, k) && k != "$defs":
			continue
		case k == "$defs" || k == "properties":
			defs, _ := v.(map[string]any)
			for name, d := range defs {
				if sub, ok := d.(map[string]any); ok {
					if err := known(sub, at+"/"+k+"/"+name); err != nil {
						return err
					}
				}
			}
		case !slices.Contains(checked, k):
			return fmt.Errorf("schema %s uses keyword %q, which jsonschema does not check", at, k)
		default:
			for _, sub := range subschemas(v) {
				if err := known(sub, at+"/"+k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func subschemas(v any) []map[string]any {
	switch t := v.(type) {
	case map[string]any:
		return []map[string]any{t}
	case []any:
		var out []map[string]any
		for _, e := range t {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// Validate checks a JSON document and returns every violation found, each naming its location.
func (s *Schema) Validate(doc []byte) []error {
	var v any
	d := json.NewDecoder(strings.NewReader(string(doc)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return []error{fmt.Errorf("not JSON: %w", err)}
	}
	var errs []error
	s.check(s.root, v, "$", &errs)
	return errs
}

func (s *Schema) check(sch map[string]any, v any, at string, errs *[]error) {
	fail := func(format string, args ...any) { *errs = append(*errs, fmt.Errorf(at+": "+format, args...)) }
	if ref, ok := sch["$ref"].(string); ok {
		target, err := s.resolve(ref)
		if err != nil {
			fail("%v", err)
			return
		}
		s.check(target, v, at, errs)
	}
	if t, ok := sch["type"].(string); ok && !hasType(v, t) {
		fail("is %s, want %s", typeName(v), t)
		return
	}
	if c, ok := sch["const"]; ok && !equal(v, c) {
		fail("is %v, want %v", v, c)
	}
	if enum, ok := sch["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return equal(v, e) }) {
		fail("%v is not one of %v", v, enum)
	}
	if str, ok := v.(string); ok {
		if p, ok := sch["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
		if n, ok := sch["minLength"].(float64); ok && float64(len([]rune(str))) < n {
			fail("%q is shorter than %v", str, n)
		}
		if f, _ := sch["format"].(string); f == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				fail("%q is not an RFC 3339 date-time", str)
			}
		}
	}
	if n, ok := v.(json.Number); ok {
		if m, ok := sch["minimum"].(float64); ok {
			if f, _ := n.Float64(); f < m {
				fail("%v is below %v", n, m)
			}
		}
	}
	if obj, ok := v.(map[string]any); ok {
		s.checkObject(sch, obj, at, errs)
	}
	if arr, ok := v.([]any); ok {
		if items, ok := sch["items"].(map[string]any); ok {
			for i, e := range arr {
				s.check(items, e, fmt.Sprintf("%s[%d]", at, i), errs)
			}
		}
	}
	s.checkCombinators(sch, v, at, errs)
}

func (s *Schema) checkObject(sch map[string]any, obj map[string]any, at string, errs *[]error) {
	req, _ := sch["required"].([]any)
	for _, r := range req {
		if _, ok := obj[r.(string)]; !ok {
			*errs = append(*errs, fmt.Errorf("%s: lacks required property %q", at, r))
		}
	}
	props, _ := sch["properties"].(map[string]any)
	for k, val := range obj {
		if p, ok := props[k].(map[string]any); ok {
			s.check(p, val, at+"."+k, errs)
			continue
		}
		switch ap := sch["additionalProperties"].(type) {
		case bool:
			if !ap {
				*errs = append(*errs, fmt.Errorf("%s: property %q is not allowed", at, k))
			}
		case map[string]any:
			s.check(ap, val, at+"."+k, errs)
		}
	}
}

func (s *Schema) checkCombinators(sch map[string]any, v any, at string, errs *[]error) {
	ok := func(sub map[string]any) bool {
		var e []error
		s.check(sub, v, at, &e)
		return len(e) == 0
	}
	for _, sub := range subschemas(sch["allOf"]) {
		s.check(sub, v, at, errs)
	}
	if alts := subschemas(sch["anyOf"]); len(alts) > 0 && !slices.ContainsFunc(alts, ok) {
		*errs = append(*errs, fmt.Errorf("%s: matches none of anyOf", at))
	}
	if not, isMap := sch["not"].(map[string]any); isMap && ok(not) {
		*errs = append(*errs, fmt.Errorf("%s: matches a schema it must not (not)", at))
	}
	if cond, isMap := sch["if"].(map[string]any); isMap {
		branch := "else"
		if ok(cond) {
			branch = "then"
		}
		if sub, isMap := sch[branch].(map[string]any); isMap {
			s.check(sub, v, at, errs)
		}
	}
}

func (s *Schema) resolve(ref string) (map[string]any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("only local $ref are supported, not %q", ref)
	}
	var cur any = s.root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
		cur = m[part]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %q does not resolve", ref)
	}
	return m, nil
}

func hasType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == math.Trunc(f)
	}
	return false
}

func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// equal compares a decoded value (numbers as json.Number) with a schema value (numbers as float64).
func equal(v, want any) bool {
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		w, isNum := want.(float64)
		return err == nil && isNum && f == w
	}
	a, _ := json.Marshal(v)
	b, _ := json.Marshal(want)
	return string(a) == string(b)
}

package funchost

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// routeTemplate is an HTTP trigger route in ASP.NET Core syntax: literal segments, {param}, optional
// {param?} (trailing only), catch-all {*rest}, and constraints {id:int}, {n:min(1)}, {s:alpha} ...
// Literals match case-insensitively. Constraints the local host does not know are ignored with a warning.
type routeTemplate struct {
	raw      string
	re       *regexp.Regexp
	params   []routeParam
	literals int  // literal segments, for precedence
	catchAll bool // has {*rest}, for precedence
}

type routeParam struct {
	name        string
	optional    bool
	def         string // default value ({p=x})
	constraints []string
}

// knownConstraints are the ASP.NET route constraints checked locally.
var knownConstraints = map[string]bool{
	"int": true, "long": true, "bool": true, "guid": true, "alpha": true, "double": true, "float": true,
	"decimal": true, "datetime": true, "min": true, "max": true, "range": true, "minlength": true,
	"maxlength": true, "length": true, "regex": true, "required": true,
}

// parseRoute compiles a route template; warn receives notes about ignored constraints.
func parseRoute(tmpl string, warn func(string)) (*routeTemplate, error) {
	rt := &routeTemplate{raw: strings.Trim(tmpl, "/")}
	var re strings.Builder
	re.WriteString("(?i)^")
	segments := strings.Split(rt.raw, "/")
	if rt.raw == "" {
		segments = nil
	}
	optionalSeen := false
	for _, seg := range segments {
		if isWholeParam(seg) {
			p, catchAll, err := parseRouteParam(seg[1:len(seg)-1], warn)
			if err != nil {
				return nil, fmt.Errorf("route %q: %w", tmpl, err)
			}
			rt.params = append(rt.params, p)
			rt.catchAll = rt.catchAll || catchAll
			switch {
			case catchAll:
				re.WriteString(`(?:/(.*))?`)
				optionalSeen = true
			case p.optional:
				re.WriteString(`(?:/([^/]+))?`)
				optionalSeen = true
			case optionalSeen:
				return nil, fmt.Errorf("route %q: an optional parameter must be at the end", tmpl)
			default:
				re.WriteString(`/([^/]+)`)
			}
			continue
		}
		if optionalSeen {
			return nil, fmt.Errorf("route %q: an optional parameter must be at the end", tmpl)
		}
		if err := rt.addMixedSegment(&re, seg, warn); err != nil {
			return nil, fmt.Errorf("route %q: %w", tmpl, err)
		}
	}
	re.WriteString("/?$")
	var err error
	if rt.re, err = regexp.Compile(re.String()); err != nil {
		return nil, fmt.Errorf("route %q: %w", tmpl, err)
	}
	return rt, nil
}

func isWholeParam(seg string) bool {
	return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") && strings.Count(seg, "{") == 1
}

// addMixedSegment compiles a literal segment, or one mixing literals and required parameters
// ("{name}.{ext}").
func (rt *routeTemplate) addMixedSegment(re *strings.Builder, seg string, warn func(string)) error {
	re.WriteString("/")
	hasParam := false
	for seg != "" {
		open := strings.IndexByte(seg, '{')
		if open < 0 {
			re.WriteString(regexp.QuoteMeta(seg))
			break
		}
		end := strings.IndexByte(seg[open:], '}')
		if end < 0 {
			return fmt.Errorf("unbalanced { in %q", seg)
		}
		p, catchAll, err := parseRouteParam(seg[open+1:open+end], warn)
		if err != nil {
			return err
		}
		if catchAll || p.optional {
			return fmt.Errorf("{%s} must be a whole trailing segment", p.name)
		}
		re.WriteString(regexp.QuoteMeta(seg[:open]) + `([^/]+?)`)
		rt.params = append(rt.params, p)
		hasParam = true
		seg = seg[open+end+1:]
	}
	if !hasParam {
		rt.literals++
	}
	return nil
}

// parseRouteParam reads "name", "name?", "*name", "name:int:min(1)", "name=default".
func parseRouteParam(tok string, warn func(string)) (routeParam, bool, error) {
	catchAll := strings.HasPrefix(tok, "*")
	tok = strings.TrimLeft(tok, "*")
	var p routeParam
	if name, def, ok := strings.Cut(tok, "="); ok {
		tok, p.def, p.optional = name, def, true
	}
	if strings.HasSuffix(tok, "?") {
		tok, p.optional = strings.TrimSuffix(tok, "?"), true
	}
	parts := splitConstraints(tok)
	p.name = parts[0]
	if !paramNameRE.MatchString(p.name) {
		return p, false, fmt.Errorf("bad parameter name %q", p.name)
	}
	for _, c := range parts[1:] {
		kind, _, _ := strings.Cut(c, "(")
		if !knownConstraints[strings.ToLower(kind)] {
			warn(fmt.Sprintf("route constraint %q on {%s} is not known locally; it is ignored", c, p.name))
			continue
		}
		p.constraints = append(p.constraints, c)
	}
	return p, catchAll, nil
}

// splitConstraints splits on ':' outside parentheses ("id:regex(^a:b$)" has one constraint).
func splitConstraints(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ':':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// match matches a path relative to the route prefix ("/waves/w1") and returns the parameter values.
func (rt *routeTemplate) match(rel string) (map[string]string, bool) {
	m := rt.re.FindStringSubmatch(rel)
	if m == nil {
		return nil, false
	}
	out := make(map[string]string, len(rt.params))
	for i, p := range rt.params {
		v := m[i+1]
		if v == "" {
			if p.def != "" {
				out[p.name] = p.def
			}
			continue
		}
		for _, c := range p.constraints {
			if !constraintOK(c, v) {
				return nil, false
			}
		}
		out[p.name] = v
	}
	return out, true
}

var alphaRE = regexp.MustCompile(`^[A-Za-z]+$`)

var guidRE = regexp.MustCompile(`^(?i)\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$`)

// constraintOK checks one known constraint against a value.
func constraintOK(c, v string) bool {
	kind, arg, _ := strings.Cut(c, "(")
	arg = strings.TrimSuffix(arg, ")")
	switch strings.ToLower(kind) {
	case "int":
		_, err := strconv.ParseInt(v, 10, 32)
		return err == nil
	case "long":
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	case "bool":
		return strings.EqualFold(v, "true") || strings.EqualFold(v, "false")
	case "guid":
		return guidRE.MatchString(v)
	case "alpha":
		return alphaRE.MatchString(v)
	case "double", "float", "decimal":
		_, err := strconv.ParseFloat(v, 64)
		return err == nil
	case "datetime":
		return parsesAsTime(v)
	case "regex":
		re, err := regexp.Compile(arg)
		return err == nil && re.MatchString(v)
	case "required":
		return v != ""
	}
	return numericConstraintOK(strings.ToLower(kind), arg, v)
}

// numericConstraintOK checks min, max, range, minlength, maxlength and length.
func numericConstraintOK(kind, arg, v string) bool {
	a, b, two := strings.Cut(arg, ",")
	lo, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	hi, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	if err1 != nil || (two && err2 != nil) {
		return true // a malformed argument is ignored, like an unknown constraint
	}
	n, nerr := strconv.ParseInt(v, 10, 64)
	l := int64(len([]rune(v)))
	switch kind {
	case "min":
		return nerr == nil && n >= lo
	case "max":
		return nerr == nil && n <= lo
	case "range":
		return nerr == nil && n >= lo && n <= hi
	case "minlength":
		return l >= lo
	case "maxlength":
		return l <= lo
	case "length":
		if two {
			return l >= lo && l <= hi
		}
		return l == lo
	}
	return true
}

func parsesAsTime(v string) bool {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}

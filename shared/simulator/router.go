package simulator

import (
	"net/http"
	"net/url"
	"strings"
)

// handlerFunc serves one routed Graph request. Returning a *graphError writes it; returning nil means the
// handler wrote the response itself.
type handlerFunc func(c *call) *graphError

// route is one method + path pattern with the application permissions that allow it: the request needs
// at least one of perms in its token's roles (an empty list needs none beyond a valid token).
type route struct {
	method string
	segs   []string // literal segments, or {name} parameters
	perms  []string
	handle handlerFunc
}

// router dispatches Graph requests by method and path pattern. Literal segments match
// case-insensitively, as Graph's do; a {name} segment matches any one segment, percent-decoded.
type router struct {
	routes []*route
}

// add registers a route. The pattern is relative to the version root, e.g. "/users/{id}".
func (rt *router) add(method, pattern string, perms []string, h handlerFunc) {
	rt.routes = append(rt.routes, &route{
		method: method, segs: splitPath(pattern), perms: perms, handle: h,
	})
}

// splitPath splits an escaped path into decoded segments, dropping empty ones.
func splitPath(escaped string) []string {
	var out []string
	for _, s := range strings.Split(escaped, "/") {
		if s == "" {
			continue
		}
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		out = append(out, s)
	}
	return out
}

// match finds the route for method and segments. It returns Graph's 400 for a path no route knows and
// 405 for a known path with another method. When several patterns match the path, the one with the
// most literal segments wins, as in Graph (/users/delta is the delta function, not the user "delta").
func (rt *router) match(method string, segs []string) (*route, map[string]string, *graphError) {
	best, pathKnown := 0, false
	var found *route
	var foundParams map[string]string
	foundLiterals, mostLiterals := -1, -1
	for _, r := range rt.routes {
		n, params := r.matchPath(segs)
		if n == len(segs) && len(r.segs) == len(segs) {
			lit := r.literals()
			mostLiterals = max(mostLiterals, lit)
			if r.method == method && lit > foundLiterals {
				found, foundParams, foundLiterals = r, params, lit
			}
			pathKnown = true
		}
		best = max(best, n)
	}
	if found != nil && foundLiterals == mostLiterals {
		return found, foundParams, nil
	}
	if pathKnown {
		return nil, nil, newGraphError(http.StatusMethodNotAllowed, codeBadRequest, msgMethodNotAllowed)
	}
	if best >= len(segs) {
		best = len(segs) - 1
	}
	if best < 0 {
		return nil, nil, errNoSegment("")
	}
	return nil, nil, errNoSegment(segs[best])
}

// matchPath returns how many leading segments match, and the parameters when all of them do.
func (r *route) matchPath(segs []string) (int, map[string]string) {
	var params map[string]string
	for i, pat := range r.segs {
		if i >= len(segs) {
			return i, nil
		}
		if strings.HasPrefix(pat, "{") && strings.HasSuffix(pat, "}") {
			if params == nil {
				params = map[string]string{}
			}
			params[pat[1:len(pat)-1]] = segs[i]
			continue
		}
		if name, value, ok := matchKeySegment(pat, segs[i]); ok {
			// An alternate-key segment such as groups(uniqueName='{key}').
			if params == nil {
				params = map[string]string{}
			}
			params[name] = value
			continue
		}
		if !strings.EqualFold(pat, segs[i]) {
			return i, nil
		}
	}
	return len(r.segs), params
}

// literals counts the pattern's segments that are not whole-segment parameters.
func (r *route) literals() int {
	n := 0
	for _, s := range r.segs {
		if !strings.HasPrefix(s, "{") {
			n++
		}
	}
	return n
}

// matchKeySegment matches a pattern segment with an embedded parameter, prefix{name}suffix (the OData
// alternate-key form, e.g. groups(uniqueName='{key}')), against seg. Prefix and suffix compare
// case-insensitively; the parameter must not be empty.
func matchKeySegment(pat, seg string) (name, value string, ok bool) {
	open := strings.IndexByte(pat, '{')
	end := strings.IndexByte(pat, '}')
	if open <= 0 || end < open {
		return "", "", false
	}
	prefix, suffix := pat[:open], pat[end+1:]
	if len(seg) <= len(prefix)+len(suffix) || !strings.EqualFold(seg[:len(prefix)], prefix) ||
		!strings.EqualFold(seg[len(seg)-len(suffix):], suffix) {
		return "", "", false
	}
	return pat[open+1 : end], seg[len(prefix) : len(seg)-len(suffix)], true
}

// allowed reports whether roles grant the route.
func (r *route) allowed(roles []string) bool {
	if len(r.perms) == 0 {
		return true
	}
	for _, have := range roles {
		for _, need := range r.perms {
			if strings.EqualFold(have, need) {
				return true
			}
		}
	}
	return false
}

// isWrite reports whether the method changes directory data (counted against the write quota).
func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

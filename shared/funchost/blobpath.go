package funchost

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// blobPattern is a blob trigger path such as "mappings/{name}.csv": a fixed container, then a blob-name
// pattern whose {parameters} may span slashes.
type blobPattern struct {
	raw       string
	container string
	prefix    string // literal start of the blob name, used as the listing prefix
	re        *regexp.Regexp
	params    []string
}

var paramNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseBlobPattern compiles a blob trigger path. Parameters in the container name are not supported
// (the real host rejects them too).
func parseBlobPattern(path string) (*blobPattern, error) {
	containerName, rest, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if containerName == "" || strings.ContainsAny(containerName, "{}") {
		return nil, fmt.Errorf("blob path %q: the container must be a fixed name", path)
	}
	p := &blobPattern{raw: path, container: strings.ToLower(containerName), prefix: rest}
	if i := strings.IndexByte(rest, '{'); i >= 0 {
		p.prefix = rest[:i]
	}
	var re strings.Builder
	re.WriteString("^")
	if rest == "" {
		re.WriteString(".*") // a bare container: every blob
	}
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			re.WriteString(regexp.QuoteMeta(rest))
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("blob path %q: unbalanced {", path)
		}
		name := rest[open+1 : open+end]
		if !paramNameRE.MatchString(name) {
			return nil, fmt.Errorf("blob path %q: bad parameter name %q", path, name)
		}
		p.params = append(p.params, name)
		re.WriteString(regexp.QuoteMeta(rest[:open]) + "(.+?)")
		rest = rest[open+end+1:]
	}
	re.WriteString("$")
	var err error
	if p.re, err = regexp.Compile(re.String()); err != nil {
		return nil, fmt.Errorf("blob path %q: %w", path, err)
	}
	return p, nil
}

// match reports whether a blob name fits the pattern and returns the parameter values.
func (p *blobPattern) match(blobName string) (map[string]string, bool) {
	m := p.re.FindStringSubmatch(blobName)
	if m == nil {
		return nil, false
	}
	out := make(map[string]string, len(p.params))
	for i, name := range p.params {
		out[name] = m[i+1]
	}
	return out, true
}

// dateTimeFormat is how the host renders {DateTime} in binding expressions.
const dateTimeFormat = "2006-01-02T15-04-05Z"

// resolveTemplate replaces {name} expressions in a queue name or blob path with binding data
// (case-insensitively), {rand-guid} with a new GUID and {DateTime} with the UTC time. An expression
// without a value is an error, as in the real host.
func resolveTemplate(tmpl string, data map[string]string) (string, error) {
	var b strings.Builder
	rest := tmpl
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("%q: unbalanced {", tmpl)
		}
		key := rest[open+1 : open+end]
		v, ok := templateValue(key, data)
		if !ok {
			return "", fmt.Errorf("%q: no value for named parameter '%s'", tmpl, key)
		}
		b.WriteString(rest[:open])
		b.WriteString(v)
		rest = rest[open+end+1:]
	}
}

func templateValue(key string, data map[string]string) (string, bool) {
	switch strings.ToLower(key) {
	case "rand-guid", "sys.randguid":
		return newGUID(), true
	case "datetime":
		return time.Now().UTC().Format(dateTimeFormat), true
	case "sys.utcnow":
		return time.Now().UTC().Format(time.RFC3339Nano), true
	}
	if v, ok := data[key]; ok {
		return v, true
	}
	for k, v := range data {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

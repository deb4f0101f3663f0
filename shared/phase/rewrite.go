package phase

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// RewriteDomains replaces each source domain of the map with its target domain wherever it stands as
// a whole domain (after '@', '.', a quote, '/' or alone), case-insensitively; longer domains first,
// so that sub.contoso.com is not rewritten as contoso.com. It is the one domain rewrite every phase
// uses (UPNs, mail, dynamic rules, identifierUris, redirect URIs).
func RewriteDomains(s string, domains map[string]string) string {
	keys := make([]string, 0, len(domains))
	for k := range domains {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, from := range keys {
		re := regexp.MustCompile(`(?i)(^|[@."'\s=/])` + regexp.QuoteMeta(from) + `\b`)
		s = re.ReplaceAllString(s, "${1}"+domains[from])
	}
	return s
}

// RewriteHost rewrites the host of a URI through the domain map; ok is false when the host is on no
// mapped domain (the URI is returned unchanged).
func RewriteHost(uri string, domains map[string]string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return uri, false
	}
	host := strings.ToLower(u.Hostname())
	for from, to := range domains {
		if host == from || strings.HasSuffix(host, "."+from) {
			newHost := strings.TrimSuffix(host, from) + to
			if p := u.Port(); p != "" {
				newHost += ":" + p
			}
			u.Host = newHost
			return u.String(), true
		}
	}
	return uri, false
}

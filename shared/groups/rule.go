package groups

import (
	"regexp"
	"sort"
	"strings"

	"t2t/shared/phase"
)

// guidPattern finds object ids in a dynamic membership rule (user.memberOf -any (group.objectId -in
// ['<id>']), manager ids, ...).
var guidPattern = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)

// RuleIDs returns the object ids a rule names, lower case, sorted, once each.
func RuleIDs(rule string) []string {
	seen := map[string]bool{}
	for _, id := range guidPattern.FindAllString(rule, -1) {
		seen[strings.ToLower(id)] = true
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// RewriteRule rewrites a dynamic membership rule for the target: every domain of the domain map
// (in addresses and in string values such as -endsWith "@contoso.com") becomes its target domain,
// and every object id becomes its target id. It returns the ids it could not translate; a rule with
// any is not usable yet (creating it with a source id would select nobody, or the wrong people).
func RewriteRule(rule string, domains map[string]string, ids map[string]string) (string, []string) {
	var missing []string
	out := guidPattern.ReplaceAllStringFunc(rule, func(id string) string {
		if t, ok := ids[strings.ToLower(id)]; ok {
			return t
		}
		missing = append(missing, strings.ToLower(id))
		return id
	})
	return phase.RewriteDomains(out, domains), missing
}

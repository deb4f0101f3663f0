package simulator

import (
	"sort"
	"strings"
)

// indexedUsers narrows a user list to the users that an equality condition on a key the directory
// indexes (id or userPrincipalName, with eq or in, possibly under "and") names, so that such lookups
// cost what they cost in the real directory instead of a scan of the whole tenant: t2t exports users
// 15 at a time with "userPrincipalName in (...)", and a 10,000-user tenant made every export a scan.
// The full filter still runs on the candidates (writeList), so the answer is the same as a scan's;
// ok is false when the filter has no such condition. Call with the tenant's lock held.
func indexedUsers(c *userCollection, f filterNode) ([]*User, bool) {
	var keys []string
	switch n := f.(type) {
	case cmpNode:
		v, isString := n.val.(string)
		if n.op != "eq" || !isString || !indexedUserKey(n.prop) {
			return nil, false
		}
		keys = []string{v}
	case inNode:
		if !indexedUserKey(n.prop) {
			return nil, false
		}
		for _, v := range n.vals {
			s, isString := v.(string)
			if !isString {
				return nil, false
			}
			keys = append(keys, s)
		}
	case logicNode:
		if n.op != "and" {
			return nil, false
		}
		if users, ok := indexedUsers(c, n.left); ok {
			return users, true
		}
		return indexedUsers(c, n.right)
	default:
		return nil, false
	}
	seen := map[string]bool{}
	var out []*User
	for _, k := range keys {
		if u := c.get(k); u != nil && !seen[u.ID] {
			seen[u.ID] = true
			out = append(out, u)
		}
	}
	// The order of c.list(), by id, which paging relies on.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, true
}

func indexedUserKey(prop string) bool {
	return strings.EqualFold(prop, "id") || strings.EqualFold(prop, "userPrincipalName")
}

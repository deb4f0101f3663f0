package simulator

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// costRule is one row of the documented base request costs
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits): method and
// path pattern ({id} matches one segment), resource units, and write-quota units.
type costRule struct {
	method string
	segs   []string
	ru     int
	writes int
}

// costTable lists the documented rows; any other identity request costs 1 RU, and 1 write when it is
// a POST, PATCH, PUT or DELETE. A cost that applies to me/... also applies to users/{id}/...
var costTable = buildCostTable([]struct {
	method, path string
	ru           int
}{
	{http.MethodGet, "applications", 2},
	{http.MethodGet, "applications/{id}/extensionProperties", 2},
	{http.MethodGet, "contracts", 3},
	{http.MethodPost, "directoryObjects/getByIds", 3},
	{http.MethodGet, "domains/{id}/domainNameReferences", 4},
	{http.MethodPost, "getObjectsById", 3},
	{http.MethodGet, "groups/{id}/members", 3},
	{http.MethodGet, "groups/{id}/transitiveMembers", 5},
	{http.MethodPost, "isMemberOf", 4},
	{http.MethodPost, "me/checkMemberGroups", 4},
	{http.MethodPost, "me/checkMemberObjects", 4},
	{http.MethodPost, "me/getMemberGroups", 2},
	{http.MethodPost, "me/getMemberObjects", 2},
	{http.MethodGet, "me/licenseDetails", 2},
	{http.MethodGet, "me/memberOf", 2},
	{http.MethodGet, "me/ownedObjects", 2},
	{http.MethodGet, "me/transitiveMemberOf", 2},
	{http.MethodGet, "oauth2PermissionGrants", 2},
	{http.MethodGet, "oauth2PermissionGrants/{id}", 2},
	{http.MethodGet, "servicePrincipals/{id}/appRoleAssignments", 2},
	{http.MethodGet, "subscribedSkus", 3},
	{http.MethodGet, "users", 2},
})

// buildCostTable compiles the rows. The POST rows are queries (getByIds, checkMemberGroups...), whose
// documented write cost is 0.
func buildCostTable(rows []struct {
	method, path string
	ru           int
}) []costRule {
	var out []costRule
	for _, r := range rows {
		segs := strings.Split(strings.ToLower(r.path), "/")
		out = append(out, costRule{method: r.method, segs: segs, ru: r.ru})
		if segs[0] == "me" {
			alias := append([]string{"users", "{id}"}, segs[1:]...)
			out = append(out, costRule{method: r.method, segs: alias, ru: r.ru})
		}
	}
	return out
}

func (r *costRule) matches(method string, segs []string) bool {
	if r.method != method || len(r.segs) != len(segs) {
		return false
	}
	for i, pat := range r.segs {
		if pat != "{id}" && pat != strings.ToLower(segs[i]) {
			return false
		}
	}
	return true
}

// requestCost returns a request's resource units and write units: the base cost from the table, then
// $select -1, $expand +1, $top under 20 -1, never below 1.
func requestCost(method string, segs []string, q url.Values) (ru, writes int) {
	ru = 1
	if isWrite(method) {
		writes = 1
	}
	for i := range costTable {
		if costTable[i].matches(method, segs) {
			ru, writes = costTable[i].ru, costTable[i].writes
			break
		}
	}
	for name, values := range q {
		switch strings.ToLower(name) {
		case "$select":
			ru--
		case "$expand":
			ru++
		case "$top":
			if n, err := strconv.Atoi(values[0]); err == nil && n < 20 {
				ru--
			}
		}
	}
	return max(ru, 1), writes
}

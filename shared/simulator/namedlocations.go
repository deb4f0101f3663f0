package simulator

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Named location types (https://learn.microsoft.com/graph/api/resources/namedlocation).
const (
	ipNamedLocationType      = "#microsoft.graph.ipNamedLocation"
	countryNamedLocationType = "#microsoft.graph.countryNamedLocation"
	ipv4RangeType            = "#microsoft.graph.iPv4CidrRange"
	ipv6RangeType            = "#microsoft.graph.iPv6CidrRange"
)

// NamedLocation is an ipNamedLocation or a countryNamedLocation; Type says which, and only that
// type's properties are set.
type NamedLocation struct {
	Type             string    `json:"@odata.type"`
	ID               string    `json:"id"`
	CreatedDateTime  time.Time `json:"createdDateTime"`
	ModifiedDateTime time.Time `json:"modifiedDateTime"`
	locationProps
}

// locationProps are the writable properties of both named location types.
type locationProps struct {
	DisplayName string `json:"displayName"`
	// ipNamedLocation
	IsTrusted *bool     `json:"isTrusted,omitempty"`
	IPRanges  []IPRange `json:"ipRanges,omitempty"`
	// countryNamedLocation
	CountriesAndRegions               []string `json:"countriesAndRegions,omitempty"`
	IncludeUnknownCountriesAndRegions *bool    `json:"includeUnknownCountriesAndRegions,omitempty"`
	CountryLookupMethod               *string  `json:"countryLookupMethod,omitempty"`
}

// IPRange is an iPv4CidrRange or iPv6CidrRange.
type IPRange struct {
	Type        string `json:"@odata.type"`
	CIDRAddress string `json:"cidrAddress"`
}

// render is the location as Graph answers it: the derived type's properties with their defaults.
func (l *NamedLocation) render() map[string]any {
	out := map[string]any{
		"@odata.type": l.Type, "id": l.ID, "displayName": l.DisplayName,
		"createdDateTime": jsonValue(l.CreatedDateTime), "modifiedDateTime": jsonValue(l.ModifiedDateTime),
	}
	if l.Type == ipNamedLocationType {
		out["isTrusted"] = l.IsTrusted != nil && *l.IsTrusted
		out["ipRanges"] = nonNil(l.IPRanges)
		return out
	}
	out["countriesAndRegions"] = nonNil(l.CountriesAndRegions)
	out["includeUnknownCountriesAndRegions"] = l.IncludeUnknownCountriesAndRegions != nil && *l.IncludeUnknownCountriesAndRegions
	out["countryLookupMethod"] = strPtrOr(l.CountryLookupMethod, "clientIpAddress")
	return out
}

// namedLocationSchema drives $select, $filter and $orderby over the base namedLocation properties.
var namedLocationSchema = newSchema("NamedLocation", "microsoft.graph.namedLocation", []prop[NamedLocation]{
	{name: "id", get: func(l *NamedLocation) any { return l.ID }, v1Default: true, filter: filterEq},
	{name: "displayName", get: func(l *NamedLocation) any { return l.DisplayName }, v1Default: true, filter: filterEqStarts, orderBy: true},
	{name: "createdDateTime", get: func(l *NamedLocation) any { return l.CreatedDateTime }, v1Default: true, filter: filterEq},
	{name: "modifiedDateTime", get: func(l *NamedLocation) any { return l.ModifiedDateTime }, v1Default: true, filter: filterEq},
})

// Conditional access permissions (https://learn.microsoft.com/graph/api/conditionalaccessroot-list-namedlocations,
// conditionalaccessroot-post-namedlocations, namedlocation-update, namedlocation-delete and the
// policy pages): reading takes Policy.Read.All; writing takes Policy.ReadWrite.ConditionalAccess
// together with Policy.Read.All (the route checks the first, requireAlso the second).
var (
	permCARead  = []string{"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"}
	permCAWrite = []string{"Policy.ReadWrite.ConditionalAccess"}
)

const namedLocationSet = "identity/conditionalAccess/namedLocations"

func (s *Server) addNamedLocationRoutes(rt *router) {
	rt.add(http.MethodGet, "/"+namedLocationSet, permCARead, locationResource.list)
	rt.add(http.MethodPost, "/"+namedLocationSet, permCAWrite, createNamedLocation)
	rt.add(http.MethodGet, "/"+namedLocationSet+"/{id}", permCARead, getNamedLocation)
	rt.add(http.MethodPatch, "/"+namedLocationSet+"/{id}", permCAWrite, updateNamedLocation)
	rt.add(http.MethodDelete, "/"+namedLocationSet+"/{id}", permCAWrite, deleteNamedLocation)
}

// errCABadRequest is the conditional access service's 400 (code BadRequest, not the directory's
// Request_BadRequest). Its messages are the simulator's own where Microsoft documents none.
func errCABadRequest(format string, args ...any) *graphError {
	return newGraphError(http.StatusBadRequest, codeGenericBadRequest, format, args...)
}

// errCANotFound is the conditional access service's 404, as observed for named locations:
// "NamedLocation with id … does not exist in the directory."
func errCANotFound(kind, id string) *graphError {
	return newGraphError(http.StatusNotFound, "ResourceNotFound", "%s with id %s does not exist in the directory.", kind, id)
}

func namedLocationID(l *NamedLocation) string { return l.ID }

// selectRendered keeps the selected properties of a rendered object (and its @odata.type).
func selectRendered(out map[string]any, sel []string) map[string]any {
	if len(sel) == 0 {
		return out
	}
	kept := map[string]any{"@odata.type": out["@odata.type"]}
	for _, name := range sel {
		kept[name] = out[name]
	}
	return kept
}

// locationResource drives the generic handlers (collection_handlers.go) for named locations.
var locationResource = &resource[NamedLocation]{
	schema: namedLocationSchema, set: namedLocationSet, idOf: namedLocationID,
	coll:     func(t *Tenant) *objectSet[NamedLocation] { return t.objs.locations },
	notFound: func(key string) *graphError { return errCANotFound("NamedLocation", key) },
	render:   func(l *NamedLocation, sel []string) map[string]any { return selectRendered(l.render(), sel) },
}

// writeRenderedList writes a page of already-rendered objects with the OData annotations.
func writeRenderedList(c *call, set string, lq *listQuery, values []map[string]any, total int, next *pageToken) {
	body := map[string]any{"@odata.context": contextURL(c, set, lq.sel, false), "value": values}
	if lq.count {
		body["@odata.count"] = total
	}
	if next != nil {
		body["@odata.nextLink"] = nextLink(c, next)
	}
	c.writeJSON(http.StatusOK, body)
}

// locationLocked finds a named location; ones still replicating are not found.
func (t *Tenant) locationLocked(id string) *NamedLocation {
	return visibleLocked(t, t.objs.locations.get(id), namedLocationID)
}

func getNamedLocation(c *call) *graphError { return locationResource.get(c, locationResource.byID) }

// parseLocationBody reads a named location body: its @odata.type (required, as the docs say for
// create and update) and the other top-level properties; the ranges keep their own @odata.type.
func parseLocationBody(c *call) (string, map[string]any, *graphError) {
	body, gerr := readParsed(c, decodeObject)
	if gerr != nil {
		return "", nil, gerr
	}
	tp, _ := body["@odata.type"].(string)
	if tp != ipNamedLocationType && tp != countryNamedLocationType {
		return "", nil, errCABadRequest("The @odata.type of a named location must be '%s' or '%s'.", ipNamedLocationType, countryNamedLocationType)
	}
	for k := range body {
		if strings.HasPrefix(k, "@") {
			delete(body, k)
		}
	}
	if gerr := checkTopLevel(body, "id", "createdDateTime", "modifiedDateTime"); gerr != nil {
		return "", nil, gerr
	}
	return tp, body, nil
}

// decodeLocation decodes and validates the merged properties of a location of type tp.
func decodeLocation(tp string, m map[string]any) (*locationProps, *graphError) {
	var p locationProps
	if gerr := strictDecode(m, &p, "NamedLocation"); gerr != nil {
		return nil, gerr
	}
	if strings.TrimSpace(p.DisplayName) == "" || utf8.RuneCountInString(p.DisplayName) > 256 {
		return nil, errCABadRequest("The displayName of a named location is required and must be at most 256 characters.")
	}
	ip := p.IsTrusted != nil || p.IPRanges != nil
	country := p.CountriesAndRegions != nil || p.IncludeUnknownCountriesAndRegions != nil || p.CountryLookupMethod != nil
	if (tp == ipNamedLocationType && country) || (tp == countryNamedLocationType && ip) {
		return nil, errCABadRequest("The properties in the request body do not match the named location type '%s'.", tp)
	}
	if tp == ipNamedLocationType {
		return &p, validateIPRanges(p.IPRanges)
	}
	return &p, validateCountries(&p)
}

// validateIPRanges: at least one range, each typed, a valid CIDR of that family with a prefix of /8
// or longer (https://learn.microsoft.com/entra/identity/conditional-access/concept-assignment-network).
// Host bits may be set, as in the docs' own example (12.34.221.11/22).
func validateIPRanges(ranges []IPRange) *graphError {
	if len(ranges) == 0 {
		return errCABadRequest("An IP named location must have at least one IP range in ipRanges.")
	}
	if len(ranges) > 2000 {
		return errCABadRequest("An IP named location can have at most 2000 IP ranges.")
	}
	for _, r := range ranges {
		pfx, err := netip.ParsePrefix(strings.TrimSpace(r.CIDRAddress))
		ok := err == nil && pfx.Bits() >= 8
		switch r.Type {
		case ipv4RangeType:
			ok = ok && pfx.Addr().Is4()
		case ipv6RangeType:
			ok = ok && pfx.Addr().Is6() && !pfx.Addr().Is4In6()
		default:
			return errCABadRequest("Each ipRanges entry needs an @odata.type of '%s' or '%s'.", ipv4RangeType, ipv6RangeType)
		}
		if !ok {
			return errCABadRequest("Invalid cidrAddress '%s' for %s.", r.CIDRAddress, strings.TrimPrefix(r.Type, "#microsoft.graph."))
		}
	}
	return nil
}

// validateCountries: ISO 3166-1 alpha-2 codes, at least one unless unknown countries are included,
// and a lookup method of clientIpAddress or authenticatorAppGps.
func validateCountries(p *locationProps) *graphError {
	if len(p.CountriesAndRegions) == 0 && (p.IncludeUnknownCountriesAndRegions == nil || !*p.IncludeUnknownCountriesAndRegions) {
		return errCABadRequest("A country named location must list at least one country or region in countriesAndRegions.")
	}
	for _, cc := range p.CountriesAndRegions {
		if len(cc) != 2 || !strings.Contains(isoCountries, " "+cc+" ") {
			return errCABadRequest("Invalid country or region code '%s' in countriesAndRegions.", cc)
		}
	}
	if m := p.CountryLookupMethod; m != nil && *m != "clientIpAddress" && *m != "authenticatorAppGps" {
		return errCABadRequest("Invalid countryLookupMethod '%s'.", *m)
	}
	return nil
}

// createNamedLocation implements POST /identity/conditionalAccess/namedLocations: 201.
func createNamedLocation(c *call) *graphError {
	if gerr := requireAlso(c, "Policy.Read.All"); gerr != nil {
		return gerr
	}
	tp, body, gerr := parseLocationBody(c)
	if gerr != nil {
		return gerr
	}
	p, gerr := decodeLocation(tp, body)
	if gerr != nil {
		return gerr
	}
	now := c.srv.now().UTC()
	l := &NamedLocation{Type: tp, ID: newGUID(), CreatedDateTime: now, ModifiedDateTime: now, locationProps: *p}
	t := c.tenant
	t.mu.Lock()
	t.objs.locations.put(l)
	t.markCreated(l.ID)
	t.touchLocked()
	t.mu.Unlock()
	writeCreated(c, l.render(), namedLocationSet, "/"+namedLocationSet+"/"+l.ID)
	return nil
}

// updateNamedLocation implements PATCH: the @odata.type must be the location's own type; 204.
func updateNamedLocation(c *call) *graphError {
	if gerr := requireAlso(c, "Policy.Read.All"); gerr != nil {
		return gerr
	}
	tp, body, gerr := parseLocationBody(c)
	if gerr != nil {
		return gerr
	}
	return locationResource.patch(c, locationResource.byID, func(t *Tenant, cur *NamedLocation) *graphError {
		if tp != cur.Type {
			return errCABadRequest("The type of a named location cannot be changed from '%s' to '%s'.", cur.Type, tp)
		}
		p, gerr := decodeLocation(tp, mergePatch(toJSONMap(cur.locationProps), body))
		if gerr != nil {
			return gerr
		}
		next := *cur
		next.locationProps = *p
		next.ModifiedDateTime = c.srv.now().UTC()
		t.objs.locations.put(&next)
		return nil
	})
}

// deleteNamedLocation implements DELETE: a location still referenced by a conditional access policy
// cannot be deleted (the portal and API refuse it; the message is the simulator's). 204.
func deleteNamedLocation(c *call) *graphError {
	if gerr := requireAlso(c, "Policy.Read.All"); gerr != nil {
		return gerr
	}
	return locationResource.remove(c, locationResource.byID, func(t *Tenant, cur *NamedLocation) *graphError {
		var users []string
		for _, p := range t.objs.policies.list() {
			if loc := p.Conditions.Locations; loc != nil &&
				(slices.ContainsFunc(loc.IncludeLocations, func(s string) bool { return strings.EqualFold(s, cur.ID) }) ||
					slices.ContainsFunc(loc.ExcludeLocations, func(s string) bool { return strings.EqualFold(s, cur.ID) })) {
				users = append(users, p.ID)
			}
		}
		if len(users) > 0 {
			return errCABadRequest("The named location '%s' is referenced by conditional access policies (%s) and cannot be deleted.",
				cur.ID, strings.Join(users, ", ")).withDetail("id", "ObjectInUse")
		}
		t.objs.locations.remove(cur.ID)
		return nil
	})
}

// isoCountries are the ISO 3166-1 alpha-2 codes, space-separated with a space at both ends.
const isoCountries = " AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
	"MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
	"UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "

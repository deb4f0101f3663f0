package simulator

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Group is a directory group. Like User it is never mutated once stored: a change replaces it with a
// modified copy (membership changes included), so handlers may render a snapshot after the lock.
type Group struct {
	ID                            string     `json:"id"`
	DisplayName                   string     `json:"displayName"`
	Description                   string     `json:"description,omitempty"`
	MailNickname                  string     `json:"mailNickname"`
	Mail                          string     `json:"mail,omitempty"`
	MailEnabled                   bool       `json:"mailEnabled"`
	SecurityEnabled               bool       `json:"securityEnabled"`
	GroupTypes                    []string   `json:"groupTypes,omitempty"`
	MembershipRule                string     `json:"membershipRule,omitempty"`
	MembershipRuleProcessingState string     `json:"membershipRuleProcessingState,omitempty"`
	UniqueName                    string     `json:"uniqueName,omitempty"`
	Visibility                    string     `json:"visibility,omitempty"`
	IsAssignableToRole            *bool      `json:"isAssignableToRole,omitempty"`
	ProxyAddresses                []string   `json:"proxyAddresses,omitempty"`
	CreatedDateTime               time.Time  `json:"createdDateTime"`
	DeletedDateTime               *time.Time `json:"deletedDateTime,omitempty"`
	// Members and Owners are directory object ids (users, groups, service principals), sorted.
	Members []string `json:"members,omitempty"`
	Owners  []string `json:"owners,omitempty"`
}

// Group kinds, from groupTypes, mailEnabled and securityEnabled
// (https://learn.microsoft.com/graph/api/resources/groups-overview#group-types-in-microsoft-entra-id-and-microsoft-graph).
const (
	groupKindSecurity     = "security"
	groupKindUnified      = "unified"
	groupKindMailSecurity = "mailEnabledSecurity"
	groupKindDistribution = "distribution"
)

func (g *Group) isUnified() bool { return containsFold(g.GroupTypes, "Unified") }
func (g *Group) isDynamic() bool { return containsFold(g.GroupTypes, "DynamicMembership") }

// kind classifies the group. Mail-enabled security groups and distribution lists are Exchange objects:
// Graph reads them but cannot create them or change their membership.
func (g *Group) kind() string {
	switch {
	case g.isUnified():
		return groupKindUnified
	case g.MailEnabled && g.SecurityEnabled:
		return groupKindMailSecurity
	case g.MailEnabled:
		return groupKindDistribution
	}
	return groupKindSecurity
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// securityIdentifier is the group's Windows SID, derived from the object id the way Entra does for
// cloud groups: S-1-12-1- followed by the id's 16 bytes as four little-endian uint32.
func securityIdentifier(id string) string {
	raw, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(raw) != 16 {
		return ""
	}
	// The GUID's first three fields are stored little-endian in its binary form.
	b := []byte{raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]}
	b = append(b, raw[8:]...)
	parts := make([]string, 4)
	for i := range parts {
		parts[i] = fmt.Sprint(binary.LittleEndian.Uint32(b[i*4:]))
	}
	return "S-1-12-1-" + strings.Join(parts, "-")
}

func gStr(name string, get func(*Group) string, v1 bool, f filterSupport) prop[Group] {
	return prop[Group]{name: name, get: func(g *Group) any { return get(g) }, v1Default: v1, filter: f}
}

func gConst(name string, v any) prop[Group] {
	return prop[Group]{name: name, get: func(*Group) any { return v }, v1Default: true}
}

// groupSchema is the group resource (https://learn.microsoft.com/graph/api/resources/group#properties).
// v1Default marks what v1.0 returns without $select; filter support follows the same page (displayName,
// mail, mailNickname, proxyAddresses with eq/in/startswith; flags and groupTypes with eq/any()).
var groupSchema = newSchema("Group", "microsoft.graph.group", []prop[Group]{
	gStr("id", func(g *Group) string { return g.ID }, true, filterEq),
	gConst("classification", nil),
	{name: "createdDateTime", get: func(g *Group) any { return g.CreatedDateTime }, v1Default: true, filter: filterAdvancedOn},
	{name: "deletedDateTime", get: func(g *Group) any { return timeOrZero(g.DeletedDateTime) }, v1Default: true},
	gStr("description", func(g *Group) string { return g.Description }, true, filterEqStarts),
	{name: "displayName", get: func(g *Group) any { return g.DisplayName }, v1Default: true, filter: filterEqStarts, orderBy: true},
	gConst("expirationDateTime", nil),
	{name: "groupTypes", get: func(g *Group) any { return g.GroupTypes }, v1Default: true, filter: filterEq},
	{name: "isAssignableToRole", get: func(g *Group) any { return boolOrNil(g.IsAssignableToRole) }, v1Default: true, filter: filterEq},
	gStr("mail", func(g *Group) string { return g.Mail }, true, filterEqStarts),
	{name: "mailEnabled", get: func(g *Group) any { return g.MailEnabled }, v1Default: true, filter: filterEq},
	gStr("mailNickname", func(g *Group) string { return g.MailNickname }, true, filterEqStarts),
	gStr("membershipRule", func(g *Group) string { return g.MembershipRule }, true, filterEqStarts),
	gStr("membershipRuleProcessingState", func(g *Group) string { return g.MembershipRuleProcessingState }, true, filterEq),
	gConst("onPremisesLastSyncDateTime", nil),
	gConst("onPremisesSecurityIdentifier", nil),
	gConst("onPremisesSyncEnabled", nil),
	gConst("preferredDataLocation", nil),
	gConst("preferredLanguage", nil),
	{name: "proxyAddresses", get: func(g *Group) any { return g.ProxyAddresses }, v1Default: true, filter: filterEqStarts},
	{name: "renewedDateTime", get: func(g *Group) any { return g.CreatedDateTime }, v1Default: true},
	{name: "resourceBehaviorOptions", get: func(*Group) any { return []string{} }, v1Default: true},
	{name: "resourceProvisioningOptions", get: func(*Group) any { return []string{} }, v1Default: true},
	{name: "securityEnabled", get: func(g *Group) any { return g.SecurityEnabled }, v1Default: true, filter: filterEq},
	gStr("securityIdentifier", func(g *Group) string { return securityIdentifier(g.ID) }, true, filterNone),
	gConst("theme", nil),
	gStr("uniqueName", func(g *Group) string { return g.UniqueName }, true, filterEqStarts),
	gStr("visibility", func(g *Group) string { return g.Visibility }, true, filterEq),
	{name: "onPremisesProvisioningErrors", get: func(*Group) any { return []any{} }, v1Default: true},
	{name: "serviceProvisioningErrors", get: func(*Group) any { return []any{} }, v1Default: true},
})

func boolOrNil(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func groupID(g *Group) string { return g.ID }

// groupCollection indexes a tenant's live groups by id, uniqueName and proxy address, keeps the ids
// sorted (listing and paging order), and keeps reverse indexes of membership and ownership.
type groupCollection struct {
	byID     map[string]*Group
	byUnique map[string]*Group // lower-case uniqueName
	byProxy  map[string]*Group // lower-case "smtp:address"
	ids      []string
	memberOf map[string]map[string]bool // member id -> ids of the groups it is a direct member of
	ownerOf  map[string]map[string]bool // owner id -> ids of the groups it owns
}

func newGroupCollection() *groupCollection {
	return &groupCollection{
		byID: map[string]*Group{}, byUnique: map[string]*Group{}, byProxy: map[string]*Group{},
		memberOf: map[string]map[string]bool{}, ownerOf: map[string]map[string]bool{},
	}
}

func (c *groupCollection) get(id string) *Group { return c.byID[strings.ToLower(id)] }

func (c *groupCollection) getByUniqueName(name string) *Group {
	return c.byUnique[strings.ToLower(name)]
}

// add indexes g. The caller has checked uniqueness.
func (c *groupCollection) add(g *Group) {
	c.byID[g.ID] = g
	if g.UniqueName != "" {
		c.byUnique[strings.ToLower(g.UniqueName)] = g
	}
	for _, p := range g.ProxyAddresses {
		c.byProxy[strings.ToLower(p)] = g
	}
	for _, m := range g.Members {
		addIndex(c.memberOf, m, g.ID)
	}
	for _, o := range g.Owners {
		addIndex(c.ownerOf, o, g.ID)
	}
	if i, found := slices.BinarySearch(c.ids, g.ID); !found {
		c.ids = slices.Insert(c.ids, i, g.ID)
	}
}

// remove drops g from every index.
func (c *groupCollection) remove(g *Group) {
	delete(c.byID, g.ID)
	if g.UniqueName != "" && c.byUnique[strings.ToLower(g.UniqueName)] == g {
		delete(c.byUnique, strings.ToLower(g.UniqueName))
	}
	for _, p := range g.ProxyAddresses {
		if c.byProxy[strings.ToLower(p)] == g {
			delete(c.byProxy, strings.ToLower(p))
		}
	}
	for _, m := range g.Members {
		dropIndex(c.memberOf, m, g.ID)
	}
	for _, o := range g.Owners {
		dropIndex(c.ownerOf, o, g.ID)
	}
	if i, found := slices.BinarySearch(c.ids, g.ID); found {
		c.ids = slices.Delete(c.ids, i, i+1)
	}
}

// replace swaps old for next (same id).
func (c *groupCollection) replace(old, next *Group) {
	c.remove(old)
	c.add(next)
}

func addIndex(idx map[string]map[string]bool, key, id string) {
	if idx[key] == nil {
		idx[key] = map[string]bool{}
	}
	idx[key][id] = true
}

func dropIndex(idx map[string]map[string]bool, key, id string) {
	delete(idx[key], id)
	if len(idx[key]) == 0 {
		delete(idx, key)
	}
}

// list returns the groups in id order.
func (c *groupCollection) list() []*Group {
	out := make([]*Group, len(c.ids))
	for i, id := range c.ids {
		out[i] = c.byID[id]
	}
	return out
}

func (c *groupCollection) len() int { return len(c.ids) }

// groupsOf returns the ids of the groups whose members (or owners) include id, sorted.
func (c *groupCollection) groupsOf(id string, owners bool) []string {
	idx := c.memberOf
	if owners {
		idx = c.ownerOf
	}
	out := make([]string, 0, len(idx[id]))
	for g := range idx[id] {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// withRef returns a copy of ids with id inserted in order (or removed when remove is set).
func withRef(ids []string, id string, remove bool) []string {
	out := slices.Clone(ids)
	i, found := slices.BinarySearch(out, id)
	switch {
	case remove && found:
		out = slices.Delete(out, i, i+1)
	case !remove && !found:
		out = slices.Insert(out, i, id)
	}
	return out
}

func hasRef(ids []string, id string) bool {
	_, found := slices.BinarySearch(ids, id)
	return found
}

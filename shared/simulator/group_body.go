package simulator

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// groupNicknameRE: ASCII 0-127 except @ ( ) \ [ ] " ; : < > , and space
// (https://learn.microsoft.com/graph/api/group-post-groups, request body).
var groupNicknameRE = regexp.MustCompile(`^[\x21-\x7e]+$`)

const groupNicknameForbidden = "@()\\[]\";:<>, "

// groupEdit is a parsed group body: validated property assignments and the references to bind.
type groupEdit struct {
	set     map[string]bool
	changes []func(*Group)
	binds   map[string][]string // "members" / "owners" -> object ids
	types   []string            // groupTypes when set
}

type groupSetter func(raw json.RawMessage, e *groupEdit) (func(*Group), *graphError)

var groupSetters = map[string]groupSetter{
	"displayName":     groupString("displayName", 256, true, nil, func(g *Group, v string) { g.DisplayName = v }),
	"description":     groupString("description", 1024, false, nil, func(g *Group, v string) { g.Description = v }),
	"mailNickname":    groupString("mailNickname", 64, true, isGroupNickname, func(g *Group, v string) { g.MailNickname = v }),
	"mailEnabled":     groupBool(func(g *Group, v bool) { g.MailEnabled = v }),
	"securityEnabled": groupBool(func(g *Group, v bool) { g.SecurityEnabled = v }),
	"membershipRule":  groupString("membershipRule", 3072, false, nil, func(g *Group, v string) { g.MembershipRule = v }),
	"membershipRuleProcessingState": groupString("membershipRuleProcessingState", 16, false,
		oneOf("On", "Paused"), func(g *Group, v string) { g.MembershipRuleProcessingState = v }),
	"uniqueName": groupString("uniqueName", 256, true, nil, func(g *Group, v string) { g.UniqueName = v }),
	"visibility": groupString("visibility", 32, false, oneOf("Public", "Private", "HiddenMembership"),
		func(g *Group, v string) { g.Visibility = v }),
	"isAssignableToRole": groupBool(func(g *Group, v bool) { g.IsAssignableToRole = &v }),
	"groupTypes":         setGroupTypes,
}

var groupReadOnly = map[string]bool{
	"id": true, "createdDateTime": true, "deletedDateTime": true, "mail": true, "proxyAddresses": true,
	"renewedDateTime": true, "securityIdentifier": true, "expirationDateTime": true,
}

func isGroupNickname(v string) bool {
	return groupNicknameRE.MatchString(v) && !strings.ContainsAny(v, groupNicknameForbidden)
}

func oneOf(values ...string) func(string) bool {
	return func(v string) bool { return slices.Contains(values, v) }
}

func groupString(name string, maxLen int, required bool, valid func(string) bool, apply func(*Group, string)) groupSetter {
	return func(raw json.RawMessage, _ *groupEdit) (func(*Group), *graphError) {
		var v string
		if !isNull(raw) && json.Unmarshal(raw, &v) != nil {
			return nil, errType(raw, "Edm.String")
		}
		v = strings.TrimSpace(v)
		if (v == "" && required) || utf8.RuneCountInString(v) > maxLen || (v != "" && valid != nil && !valid(v)) {
			return nil, errInvalidValue(name, "Group")
		}
		return func(g *Group) { apply(g, v) }, nil
	}
}

func groupBool(apply func(*Group, bool)) groupSetter {
	return func(raw json.RawMessage, _ *groupEdit) (func(*Group), *graphError) {
		var v bool
		if isNull(raw) || json.Unmarshal(raw, &v) != nil {
			return nil, errType(raw, "Edm.Boolean")
		}
		return func(g *Group) { apply(g, v) }, nil
	}
}

// setGroupTypes accepts Unified and DynamicMembership (in any letter case, stored as documented).
func setGroupTypes(raw json.RawMessage, e *groupEdit) (func(*Group), *graphError) {
	var v []string
	if !isNull(raw) && json.Unmarshal(raw, &v) != nil {
		return nil, errType(raw, "Collection(Edm.String)")
	}
	types := []string{}
	for _, t := range v {
		switch {
		case strings.EqualFold(t, "Unified"):
			t = "Unified"
		case strings.EqualFold(t, "DynamicMembership"):
			t = "DynamicMembership"
		default:
			return nil, errInvalidValue("groupTypes", "Group")
		}
		if slices.Contains(types, t) {
			return nil, errBadRequest(msgDuplicateValues)
		}
		types = append(types, t)
	}
	e.types = types
	return func(g *Group) { g.GroupTypes = types }, nil
}

// parseGroupBody decodes a POST, PATCH or upsert body, including members@odata.bind and
// owners@odata.bind (at most 20 references together, no duplicates, well-formed URLs).
func parseGroupBody(body []byte) (*groupEdit, *graphError) {
	var fields map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&fields); err != nil || fields == nil {
		return nil, errUnreadableJSON()
	}
	e := &groupEdit{set: map[string]bool{}, binds: map[string][]string{}}
	links := 0
	for name, raw := range fields {
		if rel, ok := strings.CutSuffix(name, "@odata.bind"); ok && (rel == "members" || rel == "owners") {
			ids, gerr := parseBinds(rel, raw)
			if gerr != nil {
				return nil, gerr
			}
			e.binds[rel] = ids
			links += len(ids)
			continue
		}
		if strings.HasPrefix(name, "@odata.") {
			if name == "@odata.type" && !bytes.Equal(bytes.TrimSpace(raw), []byte(`"#microsoft.graph.group"`)) {
				return nil, errBadRequest("A type named '%s' could not be resolved by the model.", strings.Trim(string(raw), `"#`))
			}
			continue
		}
		if groupReadOnly[name] {
			return nil, errBadRequest("Property '%s' is read-only and cannot be set.", name)
		}
		set := groupSetters[name]
		if set == nil {
			return nil, errUnknownProperty(name)
		}
		change, gerr := set(raw, e)
		if gerr != nil {
			return nil, gerr
		}
		e.set[name] = true
		e.changes = append(e.changes, change)
	}
	if links > maxLinkChanges {
		return nil, errBadRequest(msgTooManyLinks)
	}
	return e, nil
}

// parseBinds reads a members@odata.bind / owners@odata.bind array of reference URLs.
func parseBinds(rel string, raw json.RawMessage) ([]string, *graphError) {
	var urls []string
	if json.Unmarshal(raw, &urls) != nil {
		return nil, errType(raw, "Collection(Edm.String)")
	}
	ids := make([]string, 0, len(urls))
	for _, u := range urls {
		target, ok := parseRefURL(u)
		if !ok {
			return nil, errBadRequest("Invalid URL format specified in @odata.bind for %s", rel)
		}
		if !guidRE.MatchString(target.id) {
			return nil, errInvalidObjectID(target.id)
		}
		if slices.Contains(ids, target.id) {
			return nil, errBadRequest(msgDuplicateValues)
		}
		ids = append(ids, target.id)
	}
	return ids, nil
}

// Package groups migrates the wave's groups: the groups its users are direct members of and,
// transitively, the groups those are nested in. Security and Microsoft 365 groups are created by
// uniqueName upsert (a deterministic name from the migration and the source id, so a repeated create
// finds the first), with owners bound in the create; dynamic groups get their rule rewritten; groups
// Graph cannot create (mail-enabled security groups, distribution lists) are reported as manual steps
// listing their members. Memberships are the groupMembership phase's.
package groups

// Type is the phase name and the object type in the id map.
const Type = "groups"

// SourceGroup is a group as read from the source tenant: the properties t2t carries over.
type SourceGroup struct {
	ID                            string   `json:"id"`
	DisplayName                   string   `json:"displayName"`
	Description                   string   `json:"description,omitempty"`
	MailNickname                  string   `json:"mailNickname"`
	Mail                          string   `json:"mail,omitempty"`
	MailEnabled                   bool     `json:"mailEnabled"`
	SecurityEnabled               bool     `json:"securityEnabled"`
	GroupTypes                    []string `json:"groupTypes,omitempty"`
	MembershipRule                string   `json:"membershipRule,omitempty"`
	MembershipRuleProcessingState string   `json:"membershipRuleProcessingState,omitempty"`
	Visibility                    string   `json:"visibility,omitempty"`
	IsAssignableToRole            bool     `json:"isAssignableToRole,omitempty"`
	ProxyAddresses                []string `json:"proxyAddresses,omitempty"`
	// Owners are the source ids of the group's owners (users and service principals).
	Owners []Ref `json:"owners,omitempty"`
	// Members are read only for groups Graph cannot create, for the manual step that lists them.
	Members []Ref `json:"members,omitempty"`
}

// Ref is a directory object a group refers to: its id and kind (user, group, servicePrincipal, ...).
type Ref struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

// Snapshot is waves/<wave>/export/<version>/groups/<chunk>.json: the contract between export and
// import.
type Snapshot struct {
	Chunk  int           `json:"chunk"`
	Groups []SourceGroup `json:"groups"`
}

func hasType(g SourceGroup, t string) bool {
	for _, v := range g.GroupTypes {
		if equalFold(v, t) {
			return true
		}
	}
	return false
}

// Unified reports a Microsoft 365 group.
func (g SourceGroup) Unified() bool { return hasType(g, "Unified") }

// Dynamic reports a group whose members come from a rule.
func (g SourceGroup) Dynamic() bool { return hasType(g, "DynamicMembership") }

// Creatable reports whether Graph can create the group: security and Microsoft 365 groups. Mail-enabled
// security groups and distribution lists are Exchange objects
// (https://learn.microsoft.com/graph/api/group-post-groups).
func (g SourceGroup) Creatable() bool { return g.Unified() || !g.MailEnabled }

// Kind names the group's kind for reports.
func (g SourceGroup) Kind() string {
	switch {
	case g.Unified():
		return "Microsoft 365 group"
	case g.MailEnabled && g.SecurityEnabled:
		return "mail-enabled security group"
	case g.MailEnabled:
		return "distribution list"
	}
	return "security group"
}

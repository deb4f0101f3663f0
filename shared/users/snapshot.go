// Package users migrates user accounts: export reads the wave's users from the source tenant into a
// snapshot; import creates each one in the target under its destination UPN, or matches the existing
// account. Both halves are reconciles: re-running them converges and creates nothing twice.
package users

import (
	"time"

	"t2t/shared/mapping"
	"t2t/shared/state"
)

// Type is the object type name in the id map.
const Type = "users"

// SourceUser is a user as read from the source tenant: the properties t2t carries over. Passwords,
// licences and mailbox data are never read (they cannot be migrated through Graph).
type SourceUser struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName,omitempty"`
	Surname           string   `json:"surname,omitempty"`
	JobTitle          string   `json:"jobTitle,omitempty"`
	Department        string   `json:"department,omitempty"`
	CompanyName       string   `json:"companyName,omitempty"`
	OfficeLocation    string   `json:"officeLocation,omitempty"`
	MobilePhone       string   `json:"mobilePhone,omitempty"`
	BusinessPhones    []string `json:"businessPhones,omitempty"`
	UsageLocation     string   `json:"usageLocation,omitempty"`
	PreferredLanguage string   `json:"preferredLanguage,omitempty"`
	City              string   `json:"city,omitempty"`
	State             string   `json:"state,omitempty"`
	Country           string   `json:"country,omitempty"`
	StreetAddress     string   `json:"streetAddress,omitempty"`
	PostalCode        string   `json:"postalCode,omitempty"`
	EmployeeID        string   `json:"employeeId,omitempty"`
	EmployeeType      string   `json:"employeeType,omitempty"`
	// EmployeeHireDate and EmployeeOrgData (division, cost centre) are HR data many tenants keep.
	EmployeeHireDate *time.Time `json:"employeeHireDate,omitempty"`
	EmployeeOrgData  *OrgData   `json:"employeeOrgData,omitempty"`
	// ExtensionAttributes are the set onPremisesExtensionAttributes (extensionAttributeN).
	ExtensionAttributes map[string]string `json:"onPremisesExtensionAttributes,omitempty"`
	AccountEnabled      bool              `json:"accountEnabled"`
	UserType            string            `json:"userType,omitempty"`
}

// selectFields is the $select of an export read: exactly SourceUser's properties (fewer RUs, no
// surprises).
var selectFields = []string{"id", "userPrincipalName", "displayName", "givenName", "surname", "jobTitle",
	"department", "companyName", "officeLocation", "mobilePhone", "businessPhones", "usageLocation",
	"preferredLanguage", "city", "state", "country", "streetAddress", "postalCode", "employeeId",
	"employeeType", "employeeHireDate", "employeeOrgData", "onPremisesExtensionAttributes", "accountEnabled", "userType"}

// OrgData is a user's employeeOrgData.
type OrgData struct {
	Division   string `json:"division,omitempty"`
	CostCenter string `json:"costCenter,omitempty"`
}

// Exported is one mapping row with its source user.
type Exported struct {
	Row  mapping.Row `json:"row"`
	User SourceUser  `json:"user"`
}

// Missing is a mapping row whose source could not be exported, with the reason.
type Missing struct {
	Row       mapping.Row `json:"row"`
	Reason    string      `json:"reason"`
	Retryable bool        `json:"retryable"`
}

// Snapshot is waves/<wave>/export/<version>/users/<chunk>.json: the contract between export and import.
type Snapshot struct {
	Wave    string     `json:"wave"`
	Version string     `json:"version"`
	Chunk   int        `json:"chunk"`
	Users   []Exported `json:"users"`
	Missing []Missing  `json:"missing,omitempty"`
}

// Subset returns the part of the snapshot that belongs to rows, as the snapshot of chunk.
func (s *Snapshot) Subset(chunk int, rows []mapping.Row) *Snapshot {
	lines := make(map[int]bool, len(rows))
	for _, r := range rows {
		lines[r.Line] = true
	}
	out := &Snapshot{Wave: s.Wave, Version: s.Version, Chunk: chunk}
	for _, u := range s.Users {
		if lines[u.Row.Line] {
			out.Users = append(out.Users, u)
		}
	}
	for _, m := range s.Missing {
		if lines[m.Row.Line] {
			out.Missing = append(out.Missing, m)
		}
	}
	return out
}

// Scope is the ledger scope of the snapshot's users.
func (s *Snapshot) Scope() state.Scope {
	return state.Scope{Wave: s.Wave, Version: s.Version, Phase: Type, Chunk: s.Chunk}
}

func setScope(e *state.LedgerEntry, sc state.Scope) {
	e.Wave, e.Version, e.Phase, e.Chunk = sc.Wave, sc.Version, sc.Phase, sc.Chunk
}

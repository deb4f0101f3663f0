package simulator

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// User is a directory user. Field names follow Graph's; the JSON tags are the state file's format
// (which, unlike every API answer, carries the password hash).
type User struct {
	ID                string   `json:"id"`
	AccountEnabled    bool     `json:"accountEnabled"`
	DisplayName       string   `json:"displayName,omitempty"`
	GivenName         string   `json:"givenName,omitempty"`
	Surname           string   `json:"surname,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName"`
	Mail              string   `json:"mail,omitempty"`
	MailNickname      string   `json:"mailNickname,omitempty"`
	OtherMails        []string `json:"otherMails,omitempty"`
	ProxyAddresses    []string `json:"proxyAddresses,omitempty"`
	JobTitle          string   `json:"jobTitle,omitempty"`
	Department        string   `json:"department,omitempty"`
	CompanyName       string   `json:"companyName,omitempty"`
	EmployeeID        string   `json:"employeeId,omitempty"`
	EmployeeType      string   `json:"employeeType,omitempty"`
	// EmployeeHireDate and EmployeeOrgData are employee data HR systems keep (user_employee.go).
	EmployeeHireDate *time.Time       `json:"employeeHireDate,omitempty"`
	EmployeeOrgData  *EmployeeOrgData `json:"employeeOrgData,omitempty"`
	// ExtensionAttributes is onPremisesExtensionAttributes: extensionAttribute1..15 that are set.
	ExtensionAttributes   map[string]string `json:"onPremisesExtensionAttributes,omitempty"`
	OfficeLocation        string            `json:"officeLocation,omitempty"`
	BusinessPhones        []string          `json:"businessPhones,omitempty"`
	MobilePhone           string            `json:"mobilePhone,omitempty"`
	PreferredLanguage     string            `json:"preferredLanguage,omitempty"`
	UsageLocation         string            `json:"usageLocation,omitempty"`
	City                  string            `json:"city,omitempty"`
	State                 string            `json:"state,omitempty"`
	Country               string            `json:"country,omitempty"`
	StreetAddress         string            `json:"streetAddress,omitempty"`
	PostalCode            string            `json:"postalCode,omitempty"`
	UserType              string            `json:"userType,omitempty"`
	OnPremisesImmutableID string            `json:"onPremisesImmutableId,omitempty"`
	// OnPremisesSyncEnabled marks a user directory sync masters (set by seeds only: read-only in Graph).
	OnPremisesSyncEnabled bool       `json:"onPremisesSyncEnabled,omitempty"`
	PasswordPolicies      string     `json:"passwordPolicies,omitempty"`
	CreatedDateTime       time.Time  `json:"createdDateTime"`
	DeletedDateTime       *time.Time `json:"deletedDateTime,omitempty"`
	// ForceChangePassword is passwordProfile.forceChangePasswordNextSignIn.
	ForceChangePassword bool `json:"forceChangePasswordNextSignIn,omitempty"`
	// PasswordHash is a salted PBKDF2 hash; the clear password is never kept.
	PasswordHash string `json:"passwordHash,omitempty"`
	// AssignedLicenses are the user's licences (licenses.go).
	AssignedLicenses []AssignedLicense `json:"assignedLicenses,omitempty"`
	// ManagerID is the id of the user's manager (the manager navigation property), or "".
	ManagerID string `json:"managerId,omitempty"`
	// External (B2B) identity: externalUserState is PendingAcceptance or Accepted for invited users,
	// creationType is Invitation for users an invitation created.
	ExternalUserState               string           `json:"externalUserState,omitempty"`
	ExternalUserStateChangeDateTime *time.Time       `json:"externalUserStateChangeDateTime,omitempty"`
	CreationType                    string           `json:"creationType,omitempty"`
	Identities                      []ObjectIdentity `json:"identities,omitempty"`
}

// ObjectIdentity is one sign-in identity of a user
// (https://learn.microsoft.com/graph/api/resources/objectidentity).
type ObjectIdentity struct {
	SignInType       string `json:"signInType"`
	Issuer           string `json:"issuer"`
	IssuerAssignedID string `json:"issuerAssignedId,omitempty"`
}

// isExternal reports whether the user signs in with an identity from outside the tenant: a B2B user,
// recognisable by its #EXT# user principal name or its invitation state.
func (u *User) isExternal() bool {
	return strings.Contains(strings.ToUpper(u.UserPrincipalName), "#EXT#") || u.ExternalUserState != ""
}

func strProp(name string, get func(*User) string, v1 bool, f filterSupport) prop[User] {
	return prop[User]{name: name, get: func(u *User) any { return get(u) }, v1Default: v1, filter: f}
}

func listProp(name string, get func(*User) []string, v1 bool) prop[User] {
	return prop[User]{name: name, get: func(u *User) any { return get(u) }, v1Default: v1, filter: filterEqStarts}
}

// userSchema lists the user properties the simulator knows. v1Default marks the eleven properties v1.0
// returns without $select (https://learn.microsoft.com/graph/api/resources/user#properties); the
// filter support follows the same page.
var userSchema = newSchema("User", "microsoft.graph.user", []prop[User]{
	strProp("id", func(u *User) string { return u.ID }, true, filterEq),
	{name: "accountEnabled", get: func(u *User) any { return u.AccountEnabled }, filter: filterEq},
	listProp("businessPhones", func(u *User) []string { return u.BusinessPhones }, true),
	strProp("city", func(u *User) string { return u.City }, false, filterEqStarts),
	strProp("companyName", func(u *User) string { return u.CompanyName }, false, filterEqStarts),
	strProp("country", func(u *User) string { return u.Country }, false, filterEqStarts),
	{name: "createdDateTime", get: func(u *User) any { return u.CreatedDateTime }, filter: filterEq},
	{name: "deletedDateTime", get: func(u *User) any { return timeOrZero(u.DeletedDateTime) }},
	strProp("department", func(u *User) string { return u.Department }, false, filterEqStarts),
	{name: "displayName", get: func(u *User) any { return u.DisplayName }, v1Default: true, filter: filterEqStarts, orderBy: true},
	strProp("employeeId", func(u *User) string { return u.EmployeeID }, false, filterEqStarts),
	strProp("employeeType", func(u *User) string { return u.EmployeeType }, false, filterEqStarts),
	{name: "employeeHireDate", get: employeeHireDate},
	{name: "assignedLicenses", get: assignedLicenses},
	{name: "employeeOrgData", get: employeeOrgData},
	strProp("givenName", func(u *User) string { return u.GivenName }, true, filterEqStarts),
	strProp("jobTitle", func(u *User) string { return u.JobTitle }, true, filterEqStarts),
	strProp("mail", func(u *User) string { return u.Mail }, true, filterEqStarts),
	strProp("mailNickname", func(u *User) string { return u.MailNickname }, false, filterEqStarts),
	strProp("mobilePhone", func(u *User) string { return u.MobilePhone }, true, filterEqStarts),
	strProp("officeLocation", func(u *User) string { return u.OfficeLocation }, true, filterEqStarts),
	strProp("onPremisesImmutableId", func(u *User) string { return u.OnPremisesImmutableID }, false, filterEq),
	// null for users never synced, as Graph answers (https://learn.microsoft.com/graph/api/resources/user).
	{name: "onPremisesSyncEnabled", get: func(u *User) any { return nullIfFalse(u.OnPremisesSyncEnabled) }, filter: filterEq},
	listProp("otherMails", func(u *User) []string { return u.OtherMails }, false),
	strProp("passwordPolicies", func(u *User) string { return u.PasswordPolicies }, false, filterNone),
	// passwordProfile is write-only here: reads return null, so no password material ever leaves.
	{name: "passwordProfile", get: func(*User) any { return nil }},
	strProp("postalCode", func(u *User) string { return u.PostalCode }, false, filterEqStarts),
	strProp("preferredLanguage", func(u *User) string { return u.PreferredLanguage }, true, filterEqStarts),
	listProp("proxyAddresses", func(u *User) []string { return u.ProxyAddresses }, false),
	strProp("state", func(u *User) string { return u.State }, false, filterEqStarts),
	strProp("streetAddress", func(u *User) string { return u.StreetAddress }, false, filterEqStarts),
	strProp("surname", func(u *User) string { return u.Surname }, true, filterEqStarts),
	strProp("usageLocation", func(u *User) string { return u.UsageLocation }, false, filterEqStarts),
	{name: "userPrincipalName", get: func(u *User) any { return u.UserPrincipalName }, v1Default: true, filter: filterEqStarts, orderBy: true},
	strProp("userType", func(u *User) string { return u.UserType }, false, filterEq),
	strProp("creationType", func(u *User) string { return u.CreationType }, false, filterEq),
	strProp("externalUserState", func(u *User) string { return u.ExternalUserState }, false, filterEq),
	{name: "externalUserStateChangeDateTime", get: func(u *User) any { return timeOrZero(u.ExternalUserStateChangeDateTime) }, filter: filterAdvancedOn},
	// identities/any(c:c/issuerAssignedId eq '...' and c/issuer eq '...') is filterable (eq only).
	{name: "identities", get: func(u *User) any { return identitiesOrEmpty(u.Identities) }, filter: filterEq},
	{name: "onPremisesExtensionAttributes", get: func(u *User) any { return extensionAttributes(u.ExtensionAttributes) }},
})

func nullIfFalse(b bool) any {
	if !b {
		return nil
	}
	return true
}

func identitiesOrEmpty(ids []ObjectIdentity) []ObjectIdentity {
	if ids == nil {
		return []ObjectIdentity{}
	}
	return ids
}

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// userCollection indexes a tenant's live users by id, user principal name and proxy address, and keeps
// the ids sorted: listing order (and so paging) is by id, stable under concurrent inserts.
type userCollection struct {
	byID    map[string]*User
	byUPN   map[string]*User // lower-case UPN
	byProxy map[string]*User // lower-case "smtp:address"
	ids     []string
}

func newUserCollection() *userCollection {
	return &userCollection{byID: map[string]*User{}, byUPN: map[string]*User{}, byProxy: map[string]*User{}}
}

// get finds a user by id or by user principal name, the two keys /users/{key} accepts.
func (c *userCollection) get(key string) *User {
	if u := c.byID[strings.ToLower(key)]; u != nil {
		return u
	}
	return c.byUPN[strings.ToLower(key)]
}

// add indexes u. The caller has checked uniqueness.
func (c *userCollection) add(u *User) {
	c.byID[u.ID] = u
	c.byUPN[strings.ToLower(u.UserPrincipalName)] = u
	for _, p := range u.ProxyAddresses {
		c.byProxy[strings.ToLower(p)] = u
	}
	if i, found := slices.BinarySearch(c.ids, u.ID); !found {
		c.ids = slices.Insert(c.ids, i, u.ID)
	}
}

// remove drops u from every index.
func (c *userCollection) remove(u *User) {
	delete(c.byID, u.ID)
	delete(c.byUPN, strings.ToLower(u.UserPrincipalName))
	for _, p := range u.ProxyAddresses {
		if c.byProxy[strings.ToLower(p)] == u {
			delete(c.byProxy, strings.ToLower(p))
		}
	}
	if i, found := slices.BinarySearch(c.ids, u.ID); found {
		c.ids = slices.Delete(c.ids, i, i+1)
	}
}

// list returns the users in id order.
func (c *userCollection) list() []*User {
	out := make([]*User, len(c.ids))
	for i, id := range c.ids {
		out[i] = c.byID[id]
	}
	return out
}

func (c *userCollection) len() int { return len(c.ids) }

// conflict returns the property that makes u collide with another user (userPrincipalName or
// proxyAddresses), or "". self is the user being updated, which may keep its own values.
func (c *userCollection) conflict(u *User, self *User) string {
	if other := c.byUPN[strings.ToLower(u.UserPrincipalName)]; other != nil && other != self {
		return "userPrincipalName"
	}
	for _, p := range u.ProxyAddresses {
		if other := c.byProxy[strings.ToLower(p)]; other != nil && other != self {
			return "proxyAddresses"
		}
	}
	return ""
}

// extensionAttributes is onPremisesExtensionAttributes as Graph returns it: all fifteen, null when unset
// (https://learn.microsoft.com/graph/api/resources/onpremisesextensionattributes).
func extensionAttributes(set map[string]string) map[string]any {
	out := make(map[string]any, 15)
	for i := 1; i <= 15; i++ {
		k := fmt.Sprintf("extensionAttribute%d", i)
		if v, ok := set[k]; ok {
			out[k] = v
		} else {
			out[k] = nil
		}
	}
	return out
}

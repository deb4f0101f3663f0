package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"unicode/utf8"
)

// userChange is one validated property assignment from a POST or PATCH body, applied under the tenant
// lock to a copy of the current user (so concurrent PATCHes of different properties both land).
type userChange func(u *User)

// userEdit is a parsed request body: the changes, and the facts the handler checks under the lock.
type userEdit struct {
	changes  []userChange
	set      map[string]bool // properties present in the body
	password string          // passwordProfile.password, hashed before the lock is taken
	strongPw *bool           // passwordPolicies from the body, when present
}

// userSetter validates one property's raw JSON value and returns the change to apply.
type userSetter func(raw json.RawMessage, e *userEdit) (userChange, *graphError)

var (
	// mailNicknameRE is the RFC 5322 atom set Entra accepts for mailNickname, dots not at the ends.
	mailNicknameRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+(\\.[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+)*$")
	// upnLocalRE is the character set Entra allows in a UPN's local part
	// (https://learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-userprincipalname).
	upnLocalRE = regexp.MustCompile(`^[A-Za-z0-9'_!#^~\-]+(\.[A-Za-z0-9'_!#^~\-]+)*$`)
	domainRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
	countryRE  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// userSetters are the writable user properties. Anything else in a body is rejected: read-only ones
// with Graph's read-only message, unknown ones as undeclared properties.
var userSetters = map[string]userSetter{
	"accountEnabled":    setBool(func(u *User, v bool) { u.AccountEnabled = v }),
	"displayName":       setString("displayName", 256, true, nil, func(u *User, v string) { u.DisplayName = v }),
	"givenName":         setString("givenName", 64, false, nil, func(u *User, v string) { u.GivenName = v }),
	"surname":           setString("surname", 64, false, nil, func(u *User, v string) { u.Surname = v }),
	"userPrincipalName": setUPN,
	"mail":              setMail,
	"mailNickname":      setString("mailNickname", 64, true, mailNicknameRE, func(u *User, v string) { u.MailNickname = v }),
	"jobTitle":          setString("jobTitle", 128, false, nil, func(u *User, v string) { u.JobTitle = v }),
	"department":        setString("department", 64, false, nil, func(u *User, v string) { u.Department = v }),
	"companyName":       setString("companyName", 64, false, nil, func(u *User, v string) { u.CompanyName = v }),
	"employeeId":        setString("employeeId", 16, false, nil, func(u *User, v string) { u.EmployeeID = v }),
	// employeeType: docs give no length limit; 64 is the simulator's (stricter) choice.
	"employeeType":                  setString("employeeType", 64, false, nil, func(u *User, v string) { u.EmployeeType = v }),
	"officeLocation":                setString("officeLocation", 128, false, nil, func(u *User, v string) { u.OfficeLocation = v }),
	"mobilePhone":                   setString("mobilePhone", 64, false, nil, func(u *User, v string) { u.MobilePhone = v }),
	"preferredLanguage":             setString("preferredLanguage", 16, false, nil, func(u *User, v string) { u.PreferredLanguage = v }),
	"usageLocation":                 setString("usageLocation", 2, false, countryRE, func(u *User, v string) { u.UsageLocation = v }),
	"city":                          setString("city", 128, false, nil, func(u *User, v string) { u.City = v }),
	"state":                         setString("state", 128, false, nil, func(u *User, v string) { u.State = v }),
	"country":                       setString("country", 128, false, nil, func(u *User, v string) { u.Country = v }),
	"streetAddress":                 setString("streetAddress", 1024, false, nil, func(u *User, v string) { u.StreetAddress = v }),
	"postalCode":                    setString("postalCode", 40, false, nil, func(u *User, v string) { u.PostalCode = v }),
	"onPremisesImmutableId":         setString("onPremisesImmutableId", 256, false, nil, func(u *User, v string) { u.OnPremisesImmutableID = v }),
	"userType":                      setString("userType", 16, false, regexp.MustCompile(`^(Member|Guest)$`), func(u *User, v string) { u.UserType = v }),
	"businessPhones":                setBusinessPhones,
	"employeeHireDate":              setEmployeeHireDate,
	"employeeOrgData":               setEmployeeOrgData,
	"otherMails":                    setOtherMails,
	"onPremisesExtensionAttributes": setExtensionAttributes,
	"passwordPolicies":              setPasswordPolicies,
	"passwordProfile":               setPasswordProfile,
}

var userReadOnly = map[string]bool{"assignedLicenses": true, "id": true, "createdDateTime": true, "deletedDateTime": true, "proxyAddresses": true,
	"onPremisesSyncEnabled": true}

// cloudMastered are the user properties Graph may change on a synced user; directory sync masters the
// rest. Docs list no such set; the stricter choice keeps only usageLocation, which has no on-premises
// source attribute.
var cloudMastered = map[string]bool{"usageLocation": true}

// msgSyncMastered is Graph's 400 for a write to a property directory sync masters.
const msgSyncMastered = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."

// syncMasteredChange names a property of the edit that directory sync masters, or "".
func (e *userEdit) syncMasteredChange() string {
	for name := range e.set {
		if !cloudMastered[name] {
			return name
		}
	}
	return ""
}

// parseUserBody decodes a POST or PATCH body into validated changes.
func parseUserBody(body []byte) (*userEdit, *graphError) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, errUnreadableJSON()
	}
	e := &userEdit{set: map[string]bool{}}
	for name, raw := range fields {
		if strings.HasPrefix(name, "@odata.") {
			if name == "@odata.type" && !bytes.Equal(bytes.TrimSpace(raw), []byte(`"#microsoft.graph.user"`)) {
				return nil, errBadRequest("A type named '%s' could not be resolved by the model.", strings.Trim(string(raw), `"#`))
			}
			continue // other instance annotations are ignored, as by Graph
		}
		if userReadOnly[name] {
			// Docs are silent on writes to read-only properties; rejecting them is the stricter choice.
			return nil, errBadRequest("Property '%s' is read-only and cannot be set.", name)
		}
		set := userSetters[name]
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
	return e, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func errType(raw json.RawMessage, edm string) *graphError {
	return errBadRequest("Cannot convert the literal '%s' to the expected type '%s'.", strings.Trim(string(raw), `"`), edm)
}

func setBool(apply func(*User, bool)) userSetter {
	return func(raw json.RawMessage, _ *userEdit) (userChange, *graphError) {
		var v bool
		if isNull(raw) || json.Unmarshal(raw, &v) != nil {
			return nil, errType(raw, "Edm.Boolean")
		}
		return func(u *User) { apply(u, v) }, nil
	}
}

// setString validates a string property: type, length in characters, an optional pattern, and whether
// null or empty is allowed (required properties cannot be cleared).
func setString(name string, maxLen int, required bool, pattern *regexp.Regexp, apply func(*User, string)) userSetter {
	return func(raw json.RawMessage, _ *userEdit) (userChange, *graphError) {
		var v string
		if !isNull(raw) && json.Unmarshal(raw, &v) != nil {
			return nil, errType(raw, "Edm.String")
		}
		v = strings.TrimSpace(v)
		switch {
		case v == "" && required:
			return nil, errInvalidValue(name, "User")
		case utf8.RuneCountInString(v) > maxLen:
			return nil, errInvalidValue(name, "User")
		case v != "" && pattern != nil && !pattern.MatchString(v):
			return nil, errInvalidValue(name, "User")
		}
		return func(u *User) { apply(u, v) }, nil
	}
}

func setUPN(raw json.RawMessage, e *userEdit) (userChange, *graphError) {
	var v string
	if isNull(raw) || json.Unmarshal(raw, &v) != nil {
		return nil, errType(raw, "Edm.String")
	}
	if !validAddress(v, upnLocalRE) || len(v) > 113 {
		return nil, errBadRequest("Property userPrincipalName is invalid.").withDetail("userPrincipalName", codeInvalidValue)
	}
	return func(u *User) { u.UserPrincipalName = v }, nil
}

// setMail sets mail and, as the directory does, makes it the primary SMTP proxy address
// (https://learn.microsoft.com/graph/api/resources/user#properties, mail).
func setMail(raw json.RawMessage, e *userEdit) (userChange, *graphError) {
	var v string
	if !isNull(raw) && json.Unmarshal(raw, &v) != nil {
		return nil, errType(raw, "Edm.String")
	}
	if v != "" && !validAddress(v, mailNicknameRE) {
		return nil, errInvalidValue("mail", "User")
	}
	return func(u *User) {
		u.Mail = v
		u.ProxyAddresses = nil
		if v != "" {
			u.ProxyAddresses = []string{"SMTP:" + v}
		}
	}, nil
}

func validAddress(addr string, localRE *regexp.Regexp) bool {
	local, domain, ok := strings.Cut(addr, "@")
	return ok && len(local) <= 64 && localRE.MatchString(local) && domainRE.MatchString(domain)
}

func decodeStrings(raw json.RawMessage, name string) ([]string, *graphError) {
	var v []string
	if !isNull(raw) && json.Unmarshal(raw, &v) != nil {
		return nil, errType(raw, "Collection(Edm.String)")
	}
	for _, s := range v {
		if s == "" {
			return nil, errInvalidValue(name, "User")
		}
	}
	return v, nil
}

// setBusinessPhones accepts at most one number, as documented for businessPhones.
func setBusinessPhones(raw json.RawMessage, _ *userEdit) (userChange, *graphError) {
	v, err := decodeStrings(raw, "businessPhones")
	if err == nil && len(v) > 1 {
		err = errInvalidValue("businessPhones", "User")
	}
	return func(u *User) { u.BusinessPhones = v }, err
}

func setOtherMails(raw json.RawMessage, _ *userEdit) (userChange, *graphError) {
	v, err := decodeStrings(raw, "otherMails")
	for _, m := range v {
		if err == nil && !validAddress(m, mailNicknameRE) {
			err = errInvalidValue("otherMails", "User")
		}
	}
	return func(u *User) { u.OtherMails = v }, err
}

// setPasswordPolicies accepts None, DisablePasswordExpiration, DisableStrongPassword or both
// comma-separated.
func setPasswordPolicies(raw json.RawMessage, e *userEdit) (userChange, *graphError) {
	var v string
	if !isNull(raw) && json.Unmarshal(raw, &v) != nil {
		return nil, errType(raw, "Edm.String")
	}
	strong := true
	for _, p := range strings.Split(v, ",") {
		switch strings.TrimSpace(p) {
		case "", "None", "DisablePasswordExpiration":
		case "DisableStrongPassword":
			strong = false
		default:
			return nil, errInvalidValue("passwordPolicies", "User")
		}
	}
	e.strongPw = &strong
	return func(u *User) { u.PasswordPolicies = v }, nil
}

func setPasswordProfile(raw json.RawMessage, e *userEdit) (userChange, *graphError) {
	var v struct {
		Password                             *string `json:"password"`
		ForceChangePasswordNextSignIn        *bool   `json:"forceChangePasswordNextSignIn"`
		ForceChangePasswordNextSignInWithMfa *bool   `json:"forceChangePasswordNextSignInWithMfa"`
	}
	if isNull(raw) || json.Unmarshal(raw, &v) != nil {
		return nil, errType(raw, "microsoft.graph.passwordProfile")
	}
	if v.Password != nil {
		e.password = *v.Password
	}
	return func(u *User) {
		if v.ForceChangePasswordNextSignIn != nil {
			u.ForceChangePassword = *v.ForceChangePasswordNextSignIn
		}
	}, nil
}

// setExtensionAttributes updates the onPremisesExtensionAttributes named in the body (extensionAttribute1
// to 15, at most 1024 characters each; null clears one) and leaves the others as they are, as the
// documented PATCH of one attribute does. Synced users' attributes are mastered on premises
// (syncMasteredChange refuses them).
func setExtensionAttributes(raw json.RawMessage, _ *userEdit) (userChange, *graphError) {
	var in map[string]*string
	if isNull(raw) || json.Unmarshal(raw, &in) != nil {
		return nil, errType(raw, "microsoft.graph.onPremisesExtensionAttributes")
	}
	valid := map[string]bool{}
	for i := 1; i <= 15; i++ {
		valid[fmt.Sprintf("extensionAttribute%d", i)] = true
	}
	for k, v := range in {
		if !valid[k] || (v != nil && utf8.RuneCountInString(*v) > 1024) {
			return nil, errInvalidValue("onPremisesExtensionAttributes", "User")
		}
	}
	return func(u *User) {
		next := maps.Clone(u.ExtensionAttributes)
		if next == nil {
			next = map[string]string{}
		}
		for k, v := range in {
			if v == nil || *v == "" {
				delete(next, k)
			} else {
				next[k] = *v
			}
		}
		u.ExtensionAttributes = next
	}, nil
}

package simulator

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// EmployeeOrgData is a user's employeeOrgData: division and cost centre
// (https://learn.microsoft.com/graph/api/resources/employeeorgdata).
type EmployeeOrgData struct {
	Division   string `json:"division,omitempty"`
	CostCenter string `json:"costCenter,omitempty"`
}

// employeeHireDate renders employeeHireDate: null when unset, as Graph returns it.
func employeeHireDate(u *User) any {
	if u.EmployeeHireDate == nil {
		return nil
	}
	return u.EmployeeHireDate.UTC().Format(time.RFC3339)
}

// employeeOrgData renders employeeOrgData: null when unset, both members otherwise (null when empty).
func employeeOrgData(u *User) any {
	if u.EmployeeOrgData == nil {
		return nil
	}
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return map[string]any{"division": orNull(u.EmployeeOrgData.Division), "costCenter": orNull(u.EmployeeOrgData.CostCenter)}
}

// setEmployeeHireDate sets employeeHireDate from an Edm.DateTimeOffset (RFC 3339); null clears it.
func setEmployeeHireDate(raw json.RawMessage, _ *userEdit) (userChange, *graphError) {
	if isNull(raw) {
		return func(u *User) { u.EmployeeHireDate = nil }, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, errType(raw, "Edm.DateTimeOffset")
	}
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, errInvalidValue("employeeHireDate", "User")
	}
	at = at.UTC()
	return func(u *User) { u.EmployeeHireDate = &at }, nil
}

// setEmployeeOrgData sets employeeOrgData; the docs give no length limits, 64 characters each is the
// simulator's (stricter) choice. null clears it.
func setEmployeeOrgData(raw json.RawMessage, _ *userEdit) (userChange, *graphError) {
	if isNull(raw) {
		return func(u *User) { u.EmployeeOrgData = nil }, nil
	}
	var in struct {
		Division   *string `json:"division"`
		CostCenter *string `json:"costCenter"`
	}
	if json.Unmarshal(raw, &in) != nil {
		return nil, errType(raw, "microsoft.graph.employeeOrgData")
	}
	val := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	next := EmployeeOrgData{Division: val(in.Division), CostCenter: val(in.CostCenter)}
	if utf8.RuneCountInString(next.Division) > 64 || utf8.RuneCountInString(next.CostCenter) > 64 {
		return nil, errInvalidValue("employeeOrgData", "User")
	}
	return func(u *User) { u.EmployeeOrgData = &next }, nil
}

package users

import (
	"context"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/mapping"
	"t2t/shared/state"
)

// filterBatch is how many UPNs one "userPrincipalName in (...)" filter may hold: Graph allows 15
// values in an in() clause (https://learn.microsoft.com/graph/filter-query-parameter).
const filterBatch = 15

// Export reads the source users of rows from the source tenant, up to 15 per request with an in()
// filter (one 2-RU list call instead of 15 reads). A source that does not exist is reported in
// Missing (permanent); a read that failed for a passing reason (throttling that outlived the
// transport's retries, an outage) returns an error so that the whole step is retried later.
func Export(ctx context.Context, src *graph.Client, sc state.Scope, rows []mapping.Row) (*Snapshot, error) {
	snap := &Snapshot{Wave: sc.Wave, Version: sc.Version, Chunk: sc.Chunk}
	for start := 0; start < len(rows); start += filterBatch {
		part := rows[start:min(start+filterBatch, len(rows))]
		upns := make([]string, len(part))
		for i, r := range part {
			upns[i] = r.Source
		}
		found, err := readByUPN(ctx, src, upns)
		if err != nil && graph.IsRetryable(err) {
			return nil, fmt.Errorf("reading %d source users: %w", len(part), err)
		}
		for _, row := range part {
			switch u, ok := found[strings.ToLower(row.Source)]; {
			case err != nil:
				snap.Missing = append(snap.Missing, Missing{Row: row, Reason: "reading the source user: " + graph.Describe(err)})
			case ok:
				snap.Users = append(snap.Users, Exported{Row: row, User: u})
			default:
				snap.Missing = append(snap.Missing, Missing{Row: row, Reason: "the source user does not exist in the source tenant"})
			}
		}
	}
	return snap, nil
}

// readByUPN lists the users of a tenant whose UPN is one of upns (at most filterBatch), keyed by
// lower-case UPN.
func readByUPN(ctx context.Context, c *graph.Client, upns []string) (map[string]SourceUser, error) {
	quoted := make([]string, len(upns))
	for i, u := range upns {
		quoted[i] = "'" + strings.ReplaceAll(u, "'", "''") + "'" // OData escapes ' by doubling it
	}
	filter := "userPrincipalName in (" + strings.Join(quoted, ",") + ")"
	top := int32(len(upns))
	resp, err := c.Users().Get(ctx, &graphusers.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: selectFields, Top: &top},
	})
	if err != nil {
		return nil, err
	}
	found := make(map[string]SourceUser, len(upns))
	for _, u := range resp.GetValue() {
		su := fromModel(u)
		found[strings.ToLower(su.UserPrincipalName)] = su
	}
	return found, nil
}

func fromModel(u models.Userable) SourceUser {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	enabled := u.GetAccountEnabled()
	return SourceUser{
		ID: s(u.GetId()), UserPrincipalName: s(u.GetUserPrincipalName()), DisplayName: s(u.GetDisplayName()),
		GivenName: s(u.GetGivenName()), Surname: s(u.GetSurname()), JobTitle: s(u.GetJobTitle()),
		Department: s(u.GetDepartment()), CompanyName: s(u.GetCompanyName()), OfficeLocation: s(u.GetOfficeLocation()),
		MobilePhone: s(u.GetMobilePhone()), BusinessPhones: u.GetBusinessPhones(), UsageLocation: s(u.GetUsageLocation()),
		PreferredLanguage: s(u.GetPreferredLanguage()), City: s(u.GetCity()), State: s(u.GetState()),
		Country: s(u.GetCountry()), StreetAddress: s(u.GetStreetAddress()), PostalCode: s(u.GetPostalCode()),
		EmployeeID: s(u.GetEmployeeId()), EmployeeType: s(u.GetEmployeeType()), AccountEnabled: enabled != nil && *enabled,
		UserType: s(u.GetUserType()), ExtensionAttributes: readExtensionAttributes(u.GetOnPremisesExtensionAttributes()),
		EmployeeHireDate: u.GetEmployeeHireDate(), EmployeeOrgData: readOrgData(u.GetEmployeeOrgData()),
	}
}

func readOrgData(o models.EmployeeOrgDataable) *OrgData {
	if o == nil || o.GetDivision() == nil && o.GetCostCenter() == nil {
		return nil
	}
	d := &OrgData{}
	if o.GetDivision() != nil {
		d.Division = *o.GetDivision()
	}
	if o.GetCostCenter() != nil {
		d.CostCenter = *o.GetCostCenter()
	}
	return d
}

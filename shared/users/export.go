package users

import (
	"context"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/mapping"
)

// Export reads the source users of rows from the source tenant. A source that does not exist is
// reported in Missing (permanent); a read that failed for a passing reason (throttling that outlived
// the transport's retries, an outage) returns an error so that the whole step is retried later.
func Export(ctx context.Context, src *graph.Client, waveID string, chunk int, rows []mapping.Row) (*Snapshot, error) {
	snap := &Snapshot{Wave: waveID, Chunk: chunk}
	cfg := &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: selectFields},
	}
	for _, row := range rows {
		u, err := src.Users().ByUserId(row.Source).Get(ctx, cfg)
		switch {
		case err == nil:
			snap.Users = append(snap.Users, Exported{Row: row, User: fromModel(u)})
		case graph.IsNotFound(err):
			snap.Missing = append(snap.Missing, Missing{Row: row, Reason: "the source user does not exist in the source tenant"})
		case graph.IsRetryable(err):
			return nil, fmt.Errorf("reading source user %s: %w", row.Source, err)
		default:
			snap.Missing = append(snap.Missing, Missing{Row: row, Reason: "reading the source user: " + graph.Describe(err)})
		}
	}
	return snap, nil
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
		EmployeeID: s(u.GetEmployeeId()), AccountEnabled: enabled != nil && *enabled, UserType: s(u.GetUserType()),
	}
}

package users

import (
	"context"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/phase"
	"t2t/shared/wave"
)

// guestSelect is what the guest lookup reads of a target account.
var guestSelect = []string{"id", "userPrincipalName", "mail", "otherMails", "userType", "externalUserState", "onPremisesSyncEnabled"}

// msgConvertedGuest is the ledger note of a migrating user found as a guest of the target and
// converted to an internal member (the account, its object id and memberships stay).
const msgConvertedGuest = wave.NoteConverted + "the target's guest %s became this internal member (same object id)"

// converted is how createOrMatch answers for a guest it converted: not a failure, a match with a note.
type converted struct{ id, note string }

func (c converted) Error() string { return c.note }

// extForm is the start of the #EXT# user principal name a B2B invitation gives address in any tenant:
// the address with @ replaced by _, then #EXT#.
func extForm(address string) string {
	return strings.ReplaceAll(address, "@", "_") + "#EXT#"
}

// guestIssuers are the identity issuers of B2B guests: another Entra tenant, and email one-time
// passcode or Microsoft accounts (https://learn.microsoft.com/graph/api/resources/objectidentity).
var guestIssuers = []string{"ExternalAzureAD", "mail"}

// AddressFilter is the $filter that finds the accounts a tenant holds for an address: by mail,
// otherMails, the #EXT# user principal name a B2B invitation gives it, or the sign-in identity of a
// guest whose mail and UPN were changed since (Graph wants both issuer and issuerAssignedId in an
// identities filter). The users phase looks for a migrating user's target guest with it, the guests
// phase for a source guest's account.
func AddressFilter(address string) string {
	q := strings.ReplaceAll(address, "'", "''")
	terms := []string{"mail eq '" + q + "'", "otherMails/any(m:m eq '" + q + "')",
		"startswith(userPrincipalName,'" + strings.ReplaceAll(extForm(address), "'", "''") + "')"}
	for _, issuer := range guestIssuers {
		terms = append(terms, "identities/any(i:i/issuer eq '"+issuer+"' and i/issuerAssignedId eq '"+q+"')")
	}
	return strings.Join(terms, " or ")
}

// targetGuest finds the external account the target already holds for the migrating user (see
// AddressFilter). Nil when there is none; a Permanent error when two accounts match (which one is
// the person is a decision for a person).
func (im *Importer) targetGuest(ctx context.Context, ex Exported) (models.Userable, error) {
	addrs := []string{sourceAddress(ex)}
	filter := AddressFilter(addrs[0])
	resp, err := im.Target.Users().Get(ctx, &graphusers.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: guestSelect}})
	if err != nil {
		return nil, fmt.Errorf("looking for a target guest of %s: %w", addrs[0], err)
	}
	var found []models.Userable
	for _, u := range resp.GetValue() {
		if isExternalUser(u) {
			found = append(found, u)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, u := range found {
		names[i] = deref(u.GetUserPrincipalName())
	}
	return nil, phase.Permanent{Reason: "ambiguous: " + fmt.Sprint(len(found)) + " target guests match " + addrs[0] +
		" (" + strings.Join(names, ", ") + "); remove or merge all but one, then run again"}
}

// convertGuest converts the target's guest g to the internal member the row asks for, in place: a
// guest (userType Guest) becomes userType Member first, then beta convertExternalToInternalMemberUser
// gives it the destination UPN and, for a cloud user, the temporary password kept in Key Vault. The
// object id, and with it every membership and permission of the guest, stays.
func (im *Importer) convertGuest(ctx context.Context, waveID string, ex Exported, g models.Userable) (string, error) {
	id, dest := deref(g.GetId()), ex.Row.Destination
	if deref(g.GetUserType()) != "Member" {
		patch := models.NewUser()
		member := "Member"
		patch.SetUserType(&member)
		if _, err := im.Target.Users().ByUserId(id).Patch(ctx, patch, nil); err != nil {
			return "", fmt.Errorf("making guest %s a member before converting it: %w", deref(g.GetUserPrincipalName()), err)
		}
	}
	body := &convertRequest{}
	if !isSynced(g) {
		pw, err := im.password(ctx, waveID, ex)
		if err != nil {
			return "", err
		}
		body.upn, body.password = dest, pw
	}
	if err := im.Target.PostBeta(ctx, "/users/"+id+"/convertExternalToInternalMemberUser", body); err != nil {
		// A lost answer retried by the transport is refused (the user is internal now): read again.
		if again, rerr := readUser(ctx, im.Target, id, convertSelect); rerr == nil && !isExternalUser(again) {
			return id, nil
		}
		return "", fmt.Errorf("converting target guest %s to internal member %s: %w", deref(g.GetUserPrincipalName()), dest, err)
	}
	return id, nil
}

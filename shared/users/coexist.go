package users

import (
	"context"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
)

// inviteRedirectURL is where an invited user would land after redeeming; invitations require one
// (https://learn.microsoft.com/graph/api/invitation-post). No mail is sent, so nobody follows it.
const inviteRedirectURL = "https://myapps.microsoft.com"

// coexistSelect is what a coexistence lookup reads of a target account.
var coexistSelect = []string{"id", "userPrincipalName", "displayName", "accountEnabled", "createdDateTime", "userType", "externalUserState"}

// inviteOrMatch is createOrMatch for a coexistence wave: the person becomes an external member of
// the target (B2B, userType Member) linked to the source identity, invited with no mail, so that they
// keep signing in with their source account until cutover converts them. In order:
//  1. an account already holding the destination UPN is matched, as in an internal wave (cutover
//     will find it internal and leave it);
//  2. an external user already invited with the source address is found (a re-run after a lost
//     answer, or an earlier invitation by hand) and never invited twice: it is ours when an earlier
//     attempt of ours was recorded and the directory created it after that intent, matched otherwise;
//  3. otherwise POST /invitations with invitedUserType Member and sendInvitationMessage false.
func (im *Importer) inviteOrMatch(ctx context.Context, ex Exported, entry state.LedgerEntry) (string, bool, error) {
	existing, err := im.Target.Users().ByUserId(ex.Row.Destination).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: coexistSelect}})
	switch {
	case err == nil:
		if e := existing.GetAccountEnabled(); e != nil && !*e {
			return "", false, phase.Permanent{Reason: msgDisabledTarget}
		}
		return deref(existing.GetId()), false, nil
	case !graph.IsNotFound(err):
		return "", false, fmt.Errorf("looking up %s: %w", ex.Row.Destination, err)
	}
	address := sourceAddress(ex)
	invited, err := im.invitedUser(ctx, address)
	if err != nil {
		return "", false, err
	}
	if invited != nil {
		// Ours only if an earlier attempt of ours may have sent the invitation (this is not the first)
		// and the directory created the user after that attempt's intent.
		ours := entry.Attempts > 1 && invited.GetCreatedDateTime() != nil && !invited.GetCreatedDateTime().Before(entry.IntentUtc.Add(-intentSkew))
		return deref(invited.GetId()), ours, nil
	}
	inv := models.NewInvitation()
	member, send, redirect, name := "Member", false, inviteRedirectURL, targetDisplayName(ex)
	inv.SetInvitedUserEmailAddress(&address)
	inv.SetInvitedUserType(&member)
	inv.SetSendInvitationMessage(&send)
	inv.SetInviteRedirectUrl(&redirect)
	inv.SetInvitedUserDisplayName(&name)
	got, err := im.Target.Invitations().Post(ctx, inv, nil)
	if err != nil {
		return "", false, fmt.Errorf("inviting %s as an external member: %w", address, err)
	}
	if got.GetInvitedUser() == nil || got.GetInvitedUser().GetId() == nil {
		return "", false, fmt.Errorf("inviting %s: the answer names no invited user", address)
	}
	return *got.GetInvitedUser().GetId(), true, nil
}

// sourceAddress is the address a coexistence invitation links the target account to: the source
// user's UPN (its sign-in name in the source tenant).
func sourceAddress(ex Exported) string {
	return phase.FirstNonEmpty(ex.User.UserPrincipalName, ex.Row.Source)
}

// invitedUser finds the external user a target holds for address (an invitation sets its mail to the
// invited address), or nil.
func (im *Importer) invitedUser(ctx context.Context, address string) (models.Userable, error) {
	filter := "mail eq '" + strings.ReplaceAll(address, "'", "''") + "'"
	resp, err := im.Target.Users().Get(ctx, &graphusers.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: coexistSelect}})
	if err != nil {
		return nil, fmt.Errorf("looking for an invited user %s: %w", address, err)
	}
	for _, u := range resp.GetValue() {
		if deref(u.GetExternalUserState()) != "" || strings.Contains(strings.ToUpper(deref(u.GetUserPrincipalName())), "#EXT#") {
			return u, nil
		}
	}
	return nil, nil
}

package users_test

import (
	"context"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/mapping"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// TestCoexistenceInvitesOnceAndFindsEarlierInvitations: a coexistence import invites each source
// address as an external member (no mail); a person someone already invited by hand is found by its
// address and matched, not invited again; a crash that loses the id map (the ledger's intent kept)
// finds its own invitation and records it as created; no run adds a second account.
func TestCoexistenceInvitesOnceAndFindsEarlierInvitations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	src := e.sourceUsers(t, 2)
	byHand := *src[1].GetUserPrincipalName()
	inv := models.NewInvitation()
	member, redirect := "Member", "https://myapps.microsoft.com"
	inv.SetInvitedUserEmailAddress(&byHand)
	inv.SetInvitedUserType(&member)
	inv.SetInviteRedirectUrl(&redirect)
	earlier, err := e.target.Invitations().Post(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := []mapping.Row{
		{Line: 2, Source: *src[0].GetUserPrincipalName(), Destination: "coex.one@fabrikam.example"},
		{Line: 3, Source: byHand, Destination: "coex.two@fabrikam.example"},
	}
	snap, err := users.Export(ctx, e.source, scope("coex"), rows)
	if err != nil {
		t.Fatal(err)
	}
	before := countUsers(ctx, t, e)
	im := &users.Importer{Target: e.target, Store: e.store, Migration: e.migration, MaxAttempts: 3, Coexistence: true}
	if counts, err := im.Import(ctx, snap); err != nil || counts != (wave.Counts{Created: 1, Matched: 1}) {
		t.Fatalf("Import: %+v, %v", counts, err)
	}
	if n := countUsers(ctx, t, e); n != before+1 {
		t.Errorf("the import added %d target users, want 1", n-before)
	}
	first, err := e.store.GetIDMap(ctx, e.migration, users.Type, *src[0].GetId())
	if err != nil || !first.Created {
		t.Fatalf("id map of the invited user: %+v, %v", first, err)
	}
	u, err := e.target.Users().ByUserId(first.TargetID).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"userType", "externalUserState", "mail", "userPrincipalName"}}})
	if err != nil || *u.GetUserType() != "Member" || *u.GetExternalUserState() != "PendingAcceptance" ||
		!strings.EqualFold(*u.GetMail(), *src[0].GetUserPrincipalName()) || !strings.Contains(*u.GetUserPrincipalName(), "#EXT#") {
		t.Errorf("invited user: %v %v", u, err)
	}
	second, err := e.store.GetIDMap(ctx, e.migration, users.Type, *src[1].GetId())
	if err != nil || second.Created || second.TargetID != *earlier.GetInvitedUser().GetId() {
		t.Errorf("the earlier invitation was not matched: %+v, %v", second, err)
	}

	// A crash after the invitation but before the id map was written: the rerun finds its own
	// invitation by address (created after the recorded intent) and invites nobody.
	if err := e.store.DeleteIDMap(ctx, e.migration, users.Type, *src[0].GetId()); err != nil {
		t.Fatal(err)
	}
	if counts, err := im.Import(ctx, snap); err != nil || counts != (wave.Counts{Created: 1, Matched: 1}) {
		t.Errorf("rerun: %+v, %v", counts, err)
	}
	again, err := e.store.GetIDMap(ctx, e.migration, users.Type, *src[0].GetId())
	if err != nil || again.TargetID != first.TargetID || !again.Created {
		t.Errorf("rerun id map %+v, want %s created", again, first.TargetID)
	}
	if n := countUsers(ctx, t, e); n != before+1 {
		t.Errorf("after the rerun the target has %d more users, want 1", n-before)
	}
}

func countUsers(ctx context.Context, t *testing.T, e *env) int {
	top := int32(999)
	resp, err := e.target.Users().Get(ctx, &graphusers.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UsersRequestBuilderGetQueryParameters{Top: &top, Select: []string{"id"}}})
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.GetValue())
}

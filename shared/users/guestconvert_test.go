package users_test

import (
	"context"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/mapping"
	"t2t/shared/report"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// inviteGuest invites address into the target as a B2B guest (no mail), as earlier collaboration did.
func inviteGuest(ctx context.Context, t *testing.T, e *env, address string) string {
	t.Helper()
	inv := models.NewInvitation()
	guest, redirect, send := "Guest", "https://myapps.microsoft.com", false
	inv.SetInvitedUserEmailAddress(&address)
	inv.SetInvitedUserType(&guest)
	inv.SetInviteRedirectUrl(&redirect)
	inv.SetSendInvitationMessage(&send)
	got, err := e.target.Invitations().Post(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	return *got.GetInvitedUser().GetId()
}

// TestImportConvertsATargetGuestInPlace: a migrating user who is already a guest of the target (found
// by the invited address) becomes that account, converted to an internal member under the destination
// UPN, with the same object id and its group membership; the id map calls it matched (rollback leaves
// it), the dry run shows it as convert, and a second run writes nothing to the target.
func TestImportConvertsATargetGuestInPlace(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	src := e.sourceUsers(t, 1)
	guestID := inviteGuest(ctx, t, e, *src[0].GetUserPrincipalName())
	g := models.NewGroup()
	name, nick, no, yes := "Earlier collaboration", "earlier.collab", false, true
	g.SetDisplayName(&name)
	g.SetMailNickname(&nick)
	g.SetMailEnabled(&no)
	g.SetSecurityEnabled(&yes)
	group, err := e.target.Groups().Post(ctx, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref := models.NewReferenceCreate()
	odataID := "https://graph.microsoft.com/v1.0/directoryObjects/" + guestID
	ref.SetOdataId(&odataID)
	if err := e.target.Groups().ByGroupId(*group.GetId()).Members().Ref().Post(ctx, ref, nil); err != nil {
		t.Fatal(err)
	}
	dest := "was.a.guest@fabrikam.example"
	rows := []mapping.Row{{Line: 2, Source: *src[0].GetUserPrincipalName(), Destination: dest}}
	snap, err := users.Export(ctx, e.source, scope("gc"), rows)
	if err != nil {
		t.Fatal(err)
	}
	im := &users.Importer{Target: e.target, Store: e.store, Migration: e.migration, MaxAttempts: 3}

	// The dry run: its own action, convert, and no write.
	dryScope := state.Scope{Wave: "gcdry", Version: "v1", Phase: users.Type}
	drySnap, err := users.Export(ctx, e.source, dryScope, rows)
	if err != nil {
		t.Fatal(err)
	}
	counts, _, err := im.Plan(ctx, drySnap)
	if err != nil || counts != (wave.Counts{Matched: 1}) {
		t.Fatalf("Plan: %+v, %v", counts, err)
	}
	dry, err := e.store.GetLedger(ctx, dryScope, rows[0].Source)
	if err != nil || dry.TargetID != guestID {
		t.Fatalf("dry-run ledger %+v, %v", dry, err)
	}
	csv := string(report.WhatIfCSV([]report.PhaseLedger{{Name: users.Type, Entries: []state.LedgerEntry{dry}}}))
	if !strings.Contains(csv, ",convert,") {
		t.Errorf("whatif.csv has no convert action:\n%s", csv)
	}

	before := countUsers(ctx, t, e)
	counts, err = im.Import(ctx, snap)
	if err != nil || counts != (wave.Counts{Matched: 1}) {
		t.Fatalf("Import: %+v, %v", counts, err)
	}
	if n := countUsers(ctx, t, e); n != before {
		t.Errorf("the import added %d target users; the guest should have been converted", n-before)
	}
	m, err := e.store.GetIDMap(ctx, e.migration, users.Type, *src[0].GetId())
	if err != nil || m.Created || m.TargetID != guestID {
		t.Fatalf("id map %+v, %v; want matched (not created) to the guest %s", m, err, guestID)
	}
	u, err := e.target.Users().ByUserId(guestID).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"userPrincipalName", "userType", "externalUserState"}}})
	if err != nil || !strings.EqualFold(*u.GetUserPrincipalName(), dest) || *u.GetUserType() != "Member" ||
		(u.GetExternalUserState() != nil && *u.GetExternalUserState() != "") {
		t.Errorf("converted account: %v, %v", u, err)
	}
	members, err := e.target.Groups().ByGroupId(*group.GetId()).Members().Get(ctx, nil)
	if err != nil || len(members.GetValue()) != 1 || *members.GetValue()[0].GetId() != guestID {
		t.Errorf("the group lost the converted member: %v", err)
	}
	entry, err := e.store.GetLedger(ctx, scope("gc"), rows[0].Source)
	if err != nil || entry.Status != wave.ObjMatched || !strings.HasPrefix(entry.LastError, wave.NoteConverted) {
		t.Errorf("ledger %+v, %v", entry, err)
	}

	// A second run changes nothing.
	var c graph.Counters
	again, err := im.Import(graph.WithCounters(ctx, &c), snap)
	if err != nil || again != counts || c.Writes.Load() != 0 {
		t.Errorf("rerun: %+v, %v, %d target writes; want %+v and none", again, err, c.Writes.Load(), counts)
	}
}

// TestImportRefusesAnAmbiguousTargetGuest: two target guests that both may be the migrating user
// (one invited with the address, one holding it in otherMails) are refused with a reason, and nothing
// is created.
func TestImportRefusesAnAmbiguousTargetGuest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	src := e.sourceUsers(t, 1)
	address := *src[0].GetUserPrincipalName()
	inviteGuest(ctx, t, e, address)
	other := inviteGuest(ctx, t, e, "someone.else@partner.example")
	patch := models.NewUser()
	patch.SetOtherMails([]string{"someone.else@partner.example", address})
	if _, err := e.target.Users().ByUserId(other).Patch(ctx, patch, nil); err != nil {
		t.Fatal(err)
	}
	rows := []mapping.Row{{Line: 2, Source: address, Destination: "ambiguous@fabrikam.example"}}
	snap, err := users.Export(ctx, e.source, scope("amb"), rows)
	if err != nil {
		t.Fatal(err)
	}
	before := countUsers(ctx, t, e)
	im := &users.Importer{Target: e.target, Store: e.store, Migration: e.migration, MaxAttempts: 3}
	if counts, err := im.Import(ctx, snap); err != nil || counts != (wave.Counts{Failed: 1}) {
		t.Fatalf("Import: %+v, %v", counts, err)
	}
	entry, err := e.store.GetLedger(ctx, scope("amb"), address)
	if err != nil || entry.Status != wave.ObjFailed || !strings.Contains(entry.LastError, "ambiguous") {
		t.Errorf("ledger %+v, %v", entry, err)
	}
	if n := countUsers(ctx, t, e); n != before {
		t.Errorf("an ambiguous match created %d users", n-before)
	}
}

// TestImportFindsATargetGuestByItsIdentity: a guest whose mail, otherMails and UPN were changed
// since its invitation is still found by the identity it signs in with, and converted in place.
func TestImportFindsATargetGuestByItsIdentity(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	src := e.sourceUsers(t, 1)
	address := *src[0].GetUserPrincipalName()
	guestID := inviteGuest(ctx, t, e, address)
	patch := models.NewUser()
	mail, upn := "someone.else@partner.example", "renamed_partner.example#EXT#@fabrikam.onmicrosoft.com"
	patch.SetMail(&mail)
	patch.SetOtherMails([]string{})
	patch.SetUserPrincipalName(&upn)
	if _, err := e.target.Users().ByUserId(guestID).Patch(ctx, patch, nil); err != nil {
		t.Fatal(err)
	}
	rows := []mapping.Row{{Line: 2, Source: address, Destination: "found.by.identity@fabrikam.example"}}
	snap, err := users.Export(ctx, e.source, scope("gcid"), rows)
	if err != nil {
		t.Fatal(err)
	}
	im := &users.Importer{Target: e.target, Store: e.store, Migration: e.migration, MaxAttempts: 3}
	if counts, err := im.Import(ctx, snap); err != nil || counts != (wave.Counts{Matched: 1}) {
		t.Fatalf("Import: %+v, %v; want the guest found by its identity and converted", counts, err)
	}
	if m, err := e.store.GetIDMap(ctx, e.migration, users.Type, *src[0].GetId()); err != nil || m.TargetID != guestID {
		t.Errorf("id map %+v, %v; want the guest %s", m, err, guestID)
	}
}

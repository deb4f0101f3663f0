package users

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

var (
	convertSelect = []string{"id", "userPrincipalName", "userType", "externalUserState", "onPremisesSyncEnabled", "onPremisesImmutableId"}
	linkSelect    = []string{"id", "userPrincipalName", "externalUserState", "otherMails", "identities"}
)

func readUser(ctx context.Context, c *graph.Client, id string, fields []string) (models.Userable, error) {
	return c.Users().ByUserId(id).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: fields}})
}

func isExternalUser(u models.Userable) bool {
	return deref(u.GetExternalUserState()) != "" || strings.Contains(strings.ToUpper(deref(u.GetUserPrincipalName())), "#EXT#")
}

func isSynced(u models.Userable) bool { s := u.GetOnPremisesSyncEnabled(); return s != nil && *s }

// convertUser converts the target account to an internal member (beta
// convertExternalToInternalMemberUser, https://learn.microsoft.com/graph/api/user-convertexternaltointernalmemberuser):
// a cloud user gets the destination UPN and a temporary password kept in Key Vault first (the same
// secret a created user's password uses, reused on a retry); a synced user's UPN and password stay
// managed on premises, so neither is sent. An account already internal is left as it is.
func (c *cutover) convertUser(ctx context.Context, ex Exported, m state.IDMapping) (string, string, error) {
	env, key, dest := c.env, ex.Row.Source, ex.Row.Destination
	u, err := readUser(ctx, env.Target, m.TargetID, convertSelect)
	if graph.IsNotFound(err) {
		return "", "", phase.Permanent{Reason: "the target account " + m.TargetID + " no longer exists"}
	}
	if err != nil {
		return "", "", fmt.Errorf("reading target account %s: %w", dest, err)
	}
	im := &Importer{Target: env.Target}
	if ex.Row.ImmutableID != "" && isSynced(u) && deref(u.GetOnPremisesImmutableId()) != ex.Row.ImmutableID {
		return "", "", phase.Permanent{Reason: msgSyncedAnchor}
	}
	if !isExternalUser(u) {
		switch {
		case env.DryRun:
			return wave.ObjWouldMatch, "already an internal member", nil
		case c.intended(c.convert, key):
			return wave.ObjCreated, "", im.SetAnchor(ctx, u, ex.Row.ImmutableID) // converted by an earlier delivery
		}
		return wave.ObjMatched, "already an internal member", im.SetAnchor(ctx, u, ex.Row.ImmutableID)
	}
	if deref(u.GetUserType()) != "Member" {
		return "", "", phase.Permanent{Reason: "the target account is an external guest (userType " + deref(u.GetUserType()) +
			"); only external members convert to internal: set its userType to Member first"}
	}
	if env.DryRun {
		return wave.ObjWouldCreate, "would convert to an internal member as " + dest, nil
	}
	body := &convertRequest{}
	if !isSynced(u) {
		if env.Vault == nil {
			return "", "", errNoVault
		}
		pw, err := keptPassword(ctx, env.Vault, SecretName(env.Wave, ex.User.ID))
		if err != nil {
			return "", "", err
		}
		body.upn, body.password = dest, pw
	}
	c.intend(c.convert, key)
	if err := env.Target.PostBeta(ctx, "/users/"+m.TargetID+"/convertExternalToInternalMemberUser", body); err != nil {
		// The transport retries a lost answer, and the retry of a conversion that ran is refused (the
		// user is internal now): read again before calling it a failure.
		if again, rerr := readUser(ctx, env.Target, m.TargetID, convertSelect); rerr == nil && !isExternalUser(again) {
			return wave.ObjCreated, "", im.SetAnchor(ctx, again, ex.Row.ImmutableID)
		}
		return "", "", fmt.Errorf("converting %s to an internal member: %w", dest, err)
	}
	return wave.ObjCreated, "", im.SetAnchor(ctx, u, ex.Row.ImmutableID)
}

// linkUser B2B-links the source account to the target identity: POST /invitations with invitedUser
// {id}, the destination as invitedUserEmailAddress and no mail
// (https://learn.microsoft.com/entra/external-id/invite-internal-users). The account keeps its object
// id, UPN and memberships, so links and shares to it keep working. One already linked to the
// destination is left as it is; one linked elsewhere is refused.
func (c *cutover) linkUser(ctx context.Context, ex Exported, _ state.IDMapping) (string, string, error) {
	env, key, dest := c.env, ex.Row.Source, ex.Row.Destination
	u, err := readUser(ctx, env.Source, ex.User.ID, linkSelect)
	if graph.IsNotFound(err) {
		return "", "", phase.Permanent{Reason: "the source account no longer exists"}
	}
	if err != nil {
		return "", "", fmt.Errorf("reading source account %s: %w", key, err)
	}
	switch {
	case linkedTo(u, dest) && env.DryRun:
		return wave.ObjWouldMatch, "already B2B-linked to " + dest, nil
	case linkedTo(u, dest) && c.intended(c.link, key):
		return wave.ObjCreated, "", nil
	case linkedTo(u, dest):
		return wave.ObjMatched, "already B2B-linked to " + dest, nil
	case isExternalUser(u):
		return "", "", phase.Permanent{Reason: "the source account is already an external (B2B) user linked to another identity; t2t leaves it alone"}
	case env.DryRun:
		return wave.ObjWouldCreate, "would B2B-link the source account to " + dest, nil
	}
	c.intend(c.link, key)
	inv := models.NewInvitation()
	invited := models.NewUser()
	id, send, redirect := ex.User.ID, false, inviteRedirectURL
	invited.SetId(&id)
	inv.SetInvitedUser(invited)
	inv.SetInvitedUserEmailAddress(&dest)
	inv.SetSendInvitationMessage(&send)
	inv.SetInviteRedirectUrl(&redirect)
	if _, err := env.Source.Invitations().Post(ctx, inv, nil); err != nil {
		// A lost answer of our own earlier attempt, or a concurrent one, may have linked it already.
		if again, rerr := readUser(ctx, env.Source, ex.User.ID, linkSelect); rerr == nil && linkedTo(again, dest) {
			return wave.ObjCreated, "", nil
		}
		return "", "", fmt.Errorf("B2B-linking source account %s to %s: %w", key, dest, err)
	}
	return wave.ObjCreated, "", nil
}

// linkedTo reports whether a source account is a B2B user signing in as address.
func linkedTo(u models.Userable, address string) bool {
	if deref(u.GetExternalUserState()) == "" {
		return false
	}
	if slices.ContainsFunc(u.GetOtherMails(), func(m string) bool { return strings.EqualFold(m, address) }) {
		return true
	}
	return slices.ContainsFunc(u.GetIdentities(), func(i models.ObjectIdentityable) bool {
		return strings.EqualFold(deref(i.GetIssuerAssignedId()), address)
	})
}

// convertRequest is the body of beta convertExternalToInternalMemberUser, which the v1.0 SDK does not
// model: userPrincipalName and passwordProfile for cloud users, nothing for synced ones.
type convertRequest struct {
	upn, password string
}

// Serialize implements serialization.Parsable. The password goes only into the request body.
func (r *convertRequest) Serialize(w serialization.SerializationWriter) error {
	if r.upn != "" {
		if err := w.WriteStringValue("userPrincipalName", &r.upn); err != nil {
			return err
		}
	}
	if r.password == "" {
		return nil
	}
	pp := models.NewPasswordProfile()
	force := true
	pp.SetPassword(&r.password)
	pp.SetForceChangePasswordNextSignIn(&force)
	return w.WriteObjectValue("passwordProfile", pp)
}

// GetFieldDeserializers implements serialization.Parsable (the request is never read back).
func (r *convertRequest) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{}
}

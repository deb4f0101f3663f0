package simulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Permissions: invitation-post (User.Invite.All, or the higher User.ReadWrite.All and
// Directory.ReadWrite.All); user-convertexternaltointernalmemberuser (beta; User-ConvertToInternal.ReadWrite.All
// or User.ReadWrite.All); directoryobject-getbyids (Directory.Read.All).
var (
	permInvite        = []string{"User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	permConvert       = []string{"User-ConvertToInternal.ReadWrite.All", "User.ReadWrite.All"}
	permDirectoryRead = []string{"Directory.Read.All", "Directory.ReadWrite.All"}
)

func (s *Server) addInvitationRoutes(rt *router) {
	rt.add(http.MethodPost, "/invitations", permInvite, createInvitation)
	rt.add(http.MethodPost, "/users/{id}/convertExternalToInternalMemberUser", permConvert, convertExternalToInternal)
	rt.add(http.MethodPost, "/users/{id}/microsoft.graph.convertExternalToInternalMemberUser", permConvert, convertExternalToInternal)
}

// invitationBody is POST /invitations (https://learn.microsoft.com/graph/api/invitation-post).
type invitationBody struct {
	InvitedUserEmailAddress string          `json:"invitedUserEmailAddress"`
	InviteRedirectURL       string          `json:"inviteRedirectUrl"`
	InvitedUserDisplayName  string          `json:"invitedUserDisplayName"`
	InvitedUserType         string          `json:"invitedUserType"`
	SendInvitationMessage   bool            `json:"sendInvitationMessage"`
	ResetRedemption         bool            `json:"resetRedemption"`
	InvitedUserMessageInfo  json.RawMessage `json:"invitedUserMessageInfo"`
	InvitedUser             *struct {
		ID string `json:"id"`
	} `json:"invitedUser"`
}

// errInvitation is the invitation service's 400 (its errors use code BadRequest).
func errInvitation(format string, args ...any) *graphError {
	return newGraphError(http.StatusBadRequest, codeGenericBadRequest, format, args...)
}

func decodeStrict(raw []byte, v any) *graphError {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&odataTolerant{v: v}); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return errUnknownProperty(strings.Trim(name, `"`))
		}
		return errUnreadableJSON()
	}
	return nil
}

// odataTolerant decodes strictly into v after dropping instance annotations such as "@odata.type",
// at any depth (the SDKs send one on every object, nested ones such as invitedUser and
// passwordProfile included).
type odataTolerant struct{ v any }

func (o *odataTolerant) UnmarshalJSON(data []byte) error {
	var m any
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	clean, _ := json.Marshal(stripAnnotations(m))
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	return dec.Decode(o.v)
}

// createInvitation implements POST /invitations. A new address becomes a user of the invited type
// (Guest by default) with UPN <address, @ as _>#EXT#@<initial domain>, in PendingAcceptance; an
// address already invited returns that user again; invitedUser {id} B2B-links an existing internal
// user, keeping its object id, UPN and memberships
// (https://learn.microsoft.com/entra/external-id/invite-internal-users).
func createInvitation(c *call) *graphError {
	raw, gerr := c.readBody()
	if gerr != nil {
		return gerr
	}
	var in invitationBody
	if gerr := decodeStrict(raw, &in); gerr != nil {
		return gerr
	}
	email := strings.TrimSpace(in.InvitedUserEmailAddress)
	switch {
	case email == "":
		return errInvitation("The invitedUserEmailAddress property is required.")
	case !validAddress(email, mailNicknameRE):
		return errInvitation("The email address '%s' is not valid.", email)
	case in.InviteRedirectURL == "" || !absoluteURL(in.InviteRedirectURL):
		return errInvitation("The inviteRedirectUrl property is required and must be an absolute URL.")
	}
	userType := in.InvitedUserType
	switch {
	case userType == "" && in.InvitedUser == nil:
		userType = "Guest"
	case userType != "" && !strings.EqualFold(userType, "Guest") && !strings.EqualFold(userType, "Member"):
		return errInvitation("The invitedUserType '%s' is not valid; use Guest or Member.", userType)
	case userType != "":
		userType = strings.ToUpper(userType[:1]) + strings.ToLower(userType[1:])
	}
	t := c.tenant
	now := c.srv.now().UTC().Truncate(1e9)
	t.mu.Lock()
	var u *User
	if in.InvitedUser != nil {
		u, gerr = t.linkInternalUserLocked(in.InvitedUser.ID, email, userType, in.ResetRedemption, now)
	} else {
		u, gerr = t.inviteLocked(email, in.InvitedUserDisplayName, userType, in.ResetRedemption, now)
	}
	if gerr == nil && in.SendInvitationMessage {
		t.invitationMails++
	}
	t.mu.Unlock()
	if gerr != nil {
		return gerr
	}
	status := "PendingAcceptance"
	if u.ExternalUserState == "Accepted" {
		status = "Completed"
	}
	msgInfo := any(map[string]any{"messageLanguage": nil, "customizedMessageBody": nil, "ccRecipients": []any{}})
	if len(in.InvitedUserMessageInfo) > 0 && !isNull(in.InvitedUserMessageInfo) {
		msgInfo = in.InvitedUserMessageInfo
	}
	invID := newGUID()
	redeem := c.srv.graphURL + "/redeem?" + url.Values{"tenant": {t.ID}, "user": {u.ID}, "ticket": {invID}}.Encode()
	c.writeJSON(http.StatusCreated, map[string]any{
		"@odata.context":          c.root() + "/$metadata#invitations/$entity",
		"id":                      invID,
		"inviteRedeemUrl":         redeem,
		"invitedUserDisplayName":  jsonValue(u.DisplayName),
		"invitedUserType":         u.UserType,
		"invitedUserEmailAddress": email,
		"sendInvitationMessage":   in.SendInvitationMessage,
		"resetRedemption":         in.ResetRedemption,
		"inviteRedirectUrl":       in.InviteRedirectURL,
		"status":                  status,
		"invitedUserMessageInfo":  msgInfo,
		"invitedUser":             map[string]any{"id": u.ID},
	})
	return nil
}

func absoluteURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// userByAddressLocked finds a user whose UPN, mail, proxy address or other mails is addr, the lookup
// the invitation service does before inviting
// (https://learn.microsoft.com/entra/external-id/customize-invitation-api).
func (t *Tenant) userByAddressLocked(addr string) *User {
	if u := t.users.byProxy["smtp:"+strings.ToLower(addr)]; u != nil {
		return u
	}
	for _, u := range t.users.list() {
		if strings.EqualFold(u.UserPrincipalName, addr) || strings.EqualFold(u.Mail, addr) || containsFold(u.OtherMails, addr) {
			return u
		}
	}
	return nil
}

// inviteLocked creates the invited user or returns the B2B user already invited with that address.
func (t *Tenant) inviteLocked(email, name, userType string, reset bool, now time.Time) (*User, *graphError) {
	_, domain, _ := strings.Cut(email, "@")
	if t.hasDomainLocked(domain, true) {
		// Docs: the invited address must not be on a verified domain of the inviting tenant; the
		// message is the simulator's.
		return nil, errInvitation("The invited user's email domain '%s' is a verified domain of this directory.", domain)
	}
	if cur := t.userByAddressLocked(email); cur != nil {
		if !cur.isExternal() {
			return nil, errInvitation("A user with the email address '%s' already exists in this directory as an internal user; invite it with invitedUser.", email)
		}
		if reset {
			next := *cur
			next.ExternalUserState, next.ExternalUserStateChangeDateTime = "PendingAcceptance", &now
			t.replaceUserLocked(cur, &next, now)
			return &next, nil
		}
		return cur, nil
	}
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if userType == "" {
		userType = "Guest"
	}
	u := &User{
		ID: newGUID(), AccountEnabled: true, DisplayName: name,
		UserPrincipalName: externalUPN(strings.ToLower(email), t.Name+".onmicrosoft.com"),
		Mail:              email, MailNickname: externalNickname(strings.ToLower(email)),
		OtherMails: []string{email}, ProxyAddresses: []string{"SMTP:" + email},
		UserType: userType, CreationType: "Invitation", ExternalUserState: "PendingAcceptance",
		ExternalUserStateChangeDateTime: &now, CreatedDateTime: now,
		Identities: []ObjectIdentity{{SignInType: "federated", Issuer: "ExternalAzureAD", IssuerAssignedID: email}},
	}
	if prop := t.users.conflict(u, nil); prop != "" {
		return nil, errConflict(prop)
	}
	t.users.add(u)
	t.markCreated(u.ID)
	t.logUserLocked(nil, u, now)
	t.touchLocked()
	return u, nil
}

// linkInternalUserLocked B2B-links an existing internal user to an external address: same object,
// UPN and memberships; the user now signs in with the external identity once it accepts.
func (t *Tenant) linkInternalUserLocked(id, email, userType string, reset bool, now time.Time) (*User, *graphError) {
	cur := t.users.get(id)
	if cur == nil || !t.visible(cur.ID) {
		return nil, errNotFound(id)
	}
	if cur.isExternal() && !reset {
		// Docs: an already external user is re-invited with resetRedemption; refused without it.
		return nil, errInvitation("The user '%s' is already an external user; set resetRedemption to invite it again.", id)
	}
	if other := t.userByAddressLocked(email); other != nil && other.ID != cur.ID && other.isExternal() {
		return nil, errConflict("otherMails")
	}
	next := *cur
	next.ExternalUserState, next.ExternalUserStateChangeDateTime = "PendingAcceptance", &now
	next.Identities = []ObjectIdentity{{SignInType: "federated", Issuer: "ExternalAzureAD", IssuerAssignedID: email}}
	if !containsFold(next.OtherMails, email) {
		next.OtherMails = append(append([]string(nil), next.OtherMails...), email)
	}
	if userType != "" {
		next.UserType = userType
	}
	t.replaceUserLocked(cur, &next, now)
	return &next, nil
}

func (t *Tenant) replaceUserLocked(cur, next *User, now time.Time) {
	t.users.remove(cur)
	t.users.add(next)
	t.logUserLocked(cur, next, now)
	t.touchLocked()
}

// convertBody is the convertExternalToInternalMemberUser action's parameters.
type convertBody struct {
	UserPrincipalName string `json:"userPrincipalName"`
	Mail              string `json:"mail"`
	PasswordProfile   *struct {
		Password string `json:"password"`
		// The documented example sends "true" as a string; the SDKs send a boolean. Both are read.
		ForceChangePasswordNextSignIn json.RawMessage `json:"forceChangePasswordNextSignIn"`
	} `json:"passwordProfile"`
}

// convertExternalToInternal implements beta POST /users/{id}/convertExternalToInternalMemberUser
// (https://learn.microsoft.com/graph/api/user-convertexternaltointernalmemberuser): the external user
// gets an internal UPN on a verified domain and a password (cloud users), keeps its object id and
// memberships, and becomes an internal member. 200 with conversionUserDetails.
func convertExternalToInternal(c *call) *graphError {
	if c.version != "beta" {
		return errNoSegment("convertExternalToInternalMemberUser")
	}
	var in convertBody
	if c.r.ContentLength != 0 {
		raw, gerr := c.readBody()
		if gerr != nil {
			return gerr
		}
		if gerr := decodeStrict(raw, &in); gerr != nil {
			return gerr
		}
	}
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.users.get(c.param("id"))
	if cur == nil || !t.visible(cur.ID) {
		return errNotFound(c.param("id"))
	}
	if !cur.isExternal() {
		// Docs describe the action for externally authenticated users only; the message is the simulator's.
		return errBadRequest("The user '%s' is not an external user.", cur.ID)
	}
	if cur.UserType != "Member" {
		// The action converts external members (its name, and DESIGN section 4); a guest is refused as
		// the stricter reading: change userType first.
		return errBadRequest("Only external users with userType Member can be converted to internal members.")
	}
	next := *cur
	// A synced user's UPN and password are mastered on premises: "not required for on-premises synced
	// users". Docs are silent on sending them anyway; refusing them is the stricter choice.
	synced := cur.OnPremisesSyncEnabled
	if synced && (in.UserPrincipalName != "" || in.PasswordProfile != nil) {
		return errBadRequest(msgSyncMastered)
	}
	if !synced {
		// "Required for users whose authentication is managed in the cloud" (passwordProfile) and
		// "required for cloud users" (userPrincipalName).
		if in.UserPrincipalName == "" {
			return errRequired("userPrincipalName")
		}
		if in.PasswordProfile == nil || in.PasswordProfile.Password == "" {
			return errBadRequest(msgPasswordRequired)
		}
	}
	if in.UserPrincipalName != "" {
		if !validAddress(in.UserPrincipalName, upnLocalRE) || strings.Contains(strings.ToUpper(in.UserPrincipalName), "#EXT#") {
			return errBadRequest("Property userPrincipalName is invalid.").withDetail("userPrincipalName", codeInvalidValue)
		}
		next.UserPrincipalName = in.UserPrincipalName
	}
	if in.Mail != "" {
		if !validAddress(in.Mail, mailNicknameRE) {
			return errInvalidValue("mail", "User")
		}
		next.Mail, next.ProxyAddresses = in.Mail, []string{"SMTP:" + in.Mail}
	}
	if in.PasswordProfile != nil && in.PasswordProfile.Password != "" {
		if gerr := checkPassword(in.PasswordProfile.Password, !strings.Contains(cur.PasswordPolicies, "DisableStrongPassword")); gerr != nil {
			return gerr
		}
		hash, err := hashPassword(in.PasswordProfile.Password)
		if err != nil {
			return newGraphError(http.StatusInternalServerError, codeUnknownError, "%s", err.Error())
		}
		next.PasswordHash = hash
		if f := strings.Trim(string(in.PasswordProfile.ForceChangePasswordNextSignIn), `" `); f != "" {
			next.ForceChangePassword = strings.EqualFold(f, "true")
		}
	}
	if gerr := t.checkUserLocked(&next, cur); gerr != nil {
		return gerr
	}
	now := c.srv.now().UTC()
	next.UserType, next.ExternalUserState, next.ExternalUserStateChangeDateTime = "Member", "", nil
	next.CreationType, next.Identities = "", nil
	t.replaceUserLocked(cur, &next, now)
	c.writeJSON(http.StatusOK, map[string]any{
		"@odata.context":                  c.root() + "/$metadata#microsoft.graph.conversionUserDetails",
		"displayName":                     jsonValue(next.DisplayName),
		"userPrincipalName":               next.UserPrincipalName,
		"convertedToInternalUserDateTime": now.Format(time.RFC3339Nano),
		"mail":                            jsonValue(next.Mail),
	})
	return nil
}

// getByIDs implements POST /directoryObjects/getByIds
// (https://learn.microsoft.com/graph/api/directoryobject-getbyids): up to 1000 ids, optionally limited
// to types; unknown ids are left out; objects come back with @odata.type in the order asked.
func getByIDs(c *call) *graphError {
	raw, gerr := c.readBody()
	if gerr != nil {
		return gerr
	}
	var in struct {
		IDs   []string `json:"ids"`
		Types []string `json:"types"`
	}
	if gerr := decodeStrict(raw, &in); gerr != nil {
		return gerr
	}
	if len(in.IDs) == 0 {
		return errRequired("ids")
	}
	if len(in.IDs) > 1000 {
		return errBadRequest("Too many identifiers specified: %d. Max allowed: 1000.", len(in.IDs))
	}
	want := map[string]bool{}
	for _, ty := range in.Types {
		ty = strings.TrimPrefix(strings.ToLower(ty), "microsoft.graph.")
		want[ty] = true
	}
	all := len(want) == 0 || want["directoryobject"]
	t := c.tenant
	t.mu.RLock()
	var objs []dirObject
	for _, id := range in.IDs {
		if !guidRE.MatchString(id) {
			t.mu.RUnlock()
			return errInvalidObjectID(id)
		}
		if d, ok := t.objectLocked(id); ok && t.visible(d.id()) && (all || want[strings.ToLower(d.kind)]) {
			objs = append(objs, d)
		}
	}
	t.mu.RUnlock()
	values := make([]map[string]any, len(objs))
	for i, d := range objs {
		values[i] = d.render(nil, c.version, c.token.Roles)
	}
	c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.root() + "/$metadata#directoryObjects", "value": values})
	return nil
}

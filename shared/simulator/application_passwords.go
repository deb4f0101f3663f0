package simulator

import (
	"crypto/rand"
	"net/http"
	"strings"
	"time"
)

// addPassword implements POST /applications/{id}/addPassword
// (https://learn.microsoft.com/graph/api/application-addpassword): the generated secret is returned
// once, in secretText; only its hash and hint are kept.
func addPassword(c *call) *graphError {
	body, gerr := readParsed(c, decodeObject)
	if gerr != nil {
		return gerr
	}
	var req struct {
		PasswordCredential *struct {
			DisplayName   *string    `json:"displayName"`
			StartDateTime *time.Time `json:"startDateTime"`
			EndDateTime   *time.Time `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	if gerr := strictDecode(stripAnnotations(body).(map[string]any), &req, "PasswordCredential"); gerr != nil {
		return gerr
	}
	now := c.srv.now().UTC().Truncate(time.Second)
	pw := appPassword{KeyID: newGUID(), StartDateTime: now, EndDateTime: now.AddDate(2, 0, 0)}
	if pc := req.PasswordCredential; pc != nil {
		pw.DisplayName = pc.DisplayName
		if pc.StartDateTime != nil {
			pw.StartDateTime = pc.StartDateTime.UTC()
		}
		if pc.EndDateTime != nil {
			pw.EndDateTime = pc.EndDateTime.UTC()
		}
	}
	if !pw.EndDateTime.After(pw.StartDateTime) {
		return errInvalidValue("endDateTime", "PasswordCredential")
	}
	secret := newClientSecret()
	hash, err := hashPassword(secret)
	if err != nil {
		return newGraphError(http.StatusInternalServerError, codeUnknownError, "%s", err.Error())
	}
	pw.Hash, pw.Hint = hash, secret[:3]
	t := c.tenant
	t.mu.Lock()
	cur := visibleApp(t, t.objs.apps.get(c.param("id")))
	if cur != nil {
		next := *cur
		next.Passwords = append(append([]appPassword(nil), cur.Passwords...), pw)
		t.objs.apps.put(&next)
		t.touchLocked()
	}
	t.mu.Unlock()
	if cur == nil {
		return errNotFound(c.param("id"))
	}
	out := renderPassword(pw)
	out["secretText"] = secret
	out["@odata.context"] = c.root() + "/$metadata#microsoft.graph.passwordCredential"
	c.writeJSON(http.StatusOK, out)
	return nil
}

// removePassword implements POST /applications/{id}/removePassword with {"keyId": …}: 204.
func removePassword(c *call) *graphError {
	body, gerr := readParsed(c, decodeObject)
	if gerr != nil {
		return gerr
	}
	var req struct {
		KeyID string `json:"keyId"`
	}
	if gerr := strictDecode(stripAnnotations(body).(map[string]any), &req, "PasswordCredential"); gerr != nil {
		return gerr
	}
	if !isGUID(req.KeyID) {
		return errRequired("keyId")
	}
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := visibleApp(t, t.objs.apps.get(c.param("id")))
	if cur == nil {
		return errNotFound(c.param("id"))
	}
	next := *cur
	next.Passwords = nil
	for _, p := range cur.Passwords {
		if !strings.EqualFold(p.KeyID, req.KeyID) {
			next.Passwords = append(next.Passwords, p)
		}
	}
	if len(next.Passwords) == len(cur.Passwords) {
		// Docs are silent on an unknown keyId; refusing it is the stricter choice.
		return errBadRequest("No password credential found with keyId '%s'.", req.KeyID)
	}
	t.objs.apps.put(&next)
	t.touchLocked()
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// newClientSecret returns a 40-character secret in the alphabet Entra uses for client secrets.
func newClientSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-"
	var b [40]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

func renderPassword(p appPassword) map[string]any {
	return map[string]any{
		"customKeyIdentifier": nil, "displayName": strPtrValue(p.DisplayName), "hint": p.Hint, "keyId": p.KeyID,
		"secretText": nil, "startDateTime": jsonValue(p.StartDateTime), "endDateTime": jsonValue(p.EndDateTime),
	}
}

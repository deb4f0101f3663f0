package simulator

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

func setSecret(vr *vaultRequest, segs []string) *vaultError {
	in, verr := vr.readInput()
	if verr != nil {
		return verr
	}
	if in.Value == nil {
		return &vaultError{http.StatusBadRequest, "BadParameter", "", "Property 'value' is required."}
	}
	if len(*in.Value) > 25*1024 {
		return &vaultError{http.StatusBadRequest, "BadParameter", "", "Secret value exceeds the maximum size of 25 KB."}
	}
	now := vr.srv.now().Unix()
	sv := &SecretVersion{Version: newSecretVersion(), Value: *in.Value, Enabled: true, Created: now, Updated: now}
	in.apply(sv)
	s, ok := vr.srv.vault.set(segs[1], sv)
	if !ok {
		return &vaultError{http.StatusConflict, "Conflict", "ObjectIsDeletedButRecoverable", "Secret " + segs[1] +
			" is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged."}
	}
	writeJSON(vr.w, http.StatusOK, vr.secretBundle(s, sv, true, true))
	return nil
}

func getSecret(vr *vaultRequest, segs []string) *vaultError {
	version := ""
	if len(segs) == 3 {
		version = segs[2]
	}
	s, sv := vr.srv.vault.get(segs[1], version)
	if sv == nil {
		if s != nil {
			return &vaultError{http.StatusNotFound, "SecretNotFound", "", "A secret with (name/id) " + segs[1] + "/" + version + " was not found in this key vault."}
		}
		return errSecretNotFound(segs[1])
	}
	if !sv.Enabled {
		return &vaultError{http.StatusForbidden, "Forbidden", "SecretDisabled", "Operation get is not allowed on a disabled secret."}
	}
	writeJSON(vr.w, http.StatusOK, vr.secretBundle(s, sv, true, true))
	return nil
}

func updateSecret(vr *vaultRequest, segs []string) *vaultError {
	in, verr := vr.readInput()
	if verr != nil {
		return verr
	}
	if in.Value != nil {
		return &vaultError{http.StatusBadRequest, "BadParameter", "", "The value of a secret version cannot be updated; set a new version instead."}
	}
	now := vr.srv.now().Unix()
	s, sv := vr.srv.vault.update(segs[1], segs[2], func(sv *SecretVersion) { in.apply(sv); sv.Updated = now })
	if sv == nil {
		return errSecretNotFound(segs[1])
	}
	writeJSON(vr.w, http.StatusOK, vr.secretBundle(s, sv, false, true))
	return nil
}

func deleteSecret(vr *vaultRequest, segs []string) *vaultError {
	s := vr.srv.vault.softDelete(segs[1], vr.srv.now())
	if s == nil {
		return errSecretNotFound(segs[1])
	}
	writeJSON(vr.w, http.StatusOK, vr.secretBundle(s, s.current(), false, true))
	return nil
}

func getDeletedSecret(vr *vaultRequest, segs []string) *vaultError {
	s := vr.srv.vault.getDeleted(segs[1])
	if s == nil {
		return &vaultError{http.StatusNotFound, "SecretNotFound", "", "Deleted Secret not found: " + segs[1]}
	}
	writeJSON(vr.w, http.StatusOK, vr.secretBundle(s, s.current(), false, true))
	return nil
}

func purgeSecret(vr *vaultRequest, segs []string) *vaultError {
	if !vr.srv.vault.purge(segs[1]) {
		return &vaultError{http.StatusNotFound, "SecretNotFound", "", "Deleted Secret not found: " + segs[1]}
	}
	vr.w.WriteHeader(http.StatusNoContent)
	return nil
}

func recoverSecret(vr *vaultRequest, segs []string) *vaultError {
	s := vr.srv.vault.recover(segs[1])
	if s == nil {
		return &vaultError{http.StatusNotFound, "SecretNotFound", "", "Deleted Secret not found: " + segs[1]}
	}
	writeJSON(vr.w, http.StatusOK, vr.secretBundle(s, s.current(), false, true))
	return nil
}

func listSecrets(vr *vaultRequest, _ []string) *vaultError { return vr.listNames(false) }

func listDeletedSecrets(vr *vaultRequest, _ []string) *vaultError { return vr.listNames(true) }

// listNames lists live or deleted secrets (current version's properties, never values), by name,
// resuming after the name in $skiptoken.
func (vr *vaultRequest) listNames(deleted bool) *vaultError {
	max, after, verr := vr.pageParams()
	if verr != nil {
		return verr
	}
	var page []map[string]any
	lastKey, next := "", ""
	for _, s := range vr.srv.vault.list(deleted) {
		key := strings.ToLower(s.Name)
		if after != "" && key <= after {
			continue
		}
		if len(page) == max {
			next = lastKey
			break
		}
		page = append(page, vr.secretBundle(s, s.current(), false, false))
		lastKey = key
	}
	vr.writeList(page, next, max)
	return nil
}

func listSecretVersions(vr *vaultRequest, segs []string) *vaultError {
	max, after, verr := vr.pageParams()
	if verr != nil {
		return verr
	}
	var s *Secret
	for _, x := range vr.srv.vault.list(false) {
		if strings.EqualFold(x.Name, segs[1]) {
			s = x
		}
	}
	if s == nil {
		return errSecretNotFound(segs[1])
	}
	start, _ := strconv.Atoi(after)
	page := []map[string]any{}
	for i := start; i < len(s.Versions) && len(page) < max; i++ {
		page = append(page, vr.secretBundle(s, s.Versions[i], false, true))
	}
	next := ""
	if start+len(page) < len(s.Versions) {
		next = strconv.Itoa(start + len(page))
	}
	vr.writeList(page, next, max)
	return nil
}

// writeList writes {"value": [...], "nextLink": url-or-null}.
func (vr *vaultRequest) writeList(page []map[string]any, next string, max int) {
	if page == nil {
		page = []map[string]any{}
	}
	body := map[string]any{"value": page, "nextLink": nil}
	if next != "" {
		q := url.Values{}
		q.Set("api-version", vr.r.URL.Query().Get("api-version"))
		q.Set("maxresults", strconv.Itoa(max))
		q.Set("$skiptoken", next)
		body["nextLink"] = vr.base + vr.r.URL.EscapedPath() + "?" + q.Encode()
	}
	writeJSON(vr.w, http.StatusOK, body)
}

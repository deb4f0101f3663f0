package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

var secretNameRE = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)

// vaultError is Key Vault's error body: {"error":{"code","message","innererror":{"code"}}}.
type vaultError struct {
	status      int
	code, inner string
	message     string
}

func errSecretNotFound(name string) *vaultError {
	return &vaultError{http.StatusNotFound, "SecretNotFound", "", fmt.Sprintf(
		"A secret with (name/id) %s was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", name)}
}

// vaultRequest is one Key Vault request being served.
type vaultRequest struct {
	w      http.ResponseWriter
	r      *http.Request
	srv    *Server
	base   string // the vault URL, for ids
	claims *tokenClaims
}

// serveVault is the vault listener's handler: challenge authentication, api-version, RBAC, dispatch.
func (s *Server) serveVault(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	vr := &vaultRequest{w: sw, r: r, srv: s, base: s.vaultURL}
	sw.Header().Set("x-ms-request-id", newGUID())
	if verr := vr.dispatch(); verr != nil {
		vr.writeError(verr)
	}
	tid, appID := s.vault.tenant, ""
	if vr.claims != nil {
		appID = vr.claims.AppID
	}
	s.counters.record(tid, appID, r.Method, sw.status)
	s.log.Debug("vault", "method", r.Method, "path", r.URL.Path, "status", sw.status, "client", appID)
}

func (vr *vaultRequest) dispatch() *vaultError {
	if verr := vr.authenticate(); verr != nil {
		return verr
	}
	if vr.r.URL.Query().Get("api-version") == "" {
		return &vaultError{http.StatusBadRequest, "BadParameter", "", "The request URI is missing the api-version query parameter."}
	}
	segs := splitPath(vr.r.URL.EscapedPath())
	route, action := vaultRoute(vr.r.Method, segs)
	if route == nil {
		return &vaultError{http.StatusNotFound, "NotFound", "", "The requested resource was not found."}
	}
	if !roleAllows(vr.srv.vault.roles[strings.ToLower(vr.claims.AppID)], action) {
		return &vaultError{http.StatusForbidden, "Forbidden", "ForbiddenByRbac", fmt.Sprintf(
			"Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=%s;oid=%s\r\nVault: sim;location=local",
			vr.claims.AppID, vr.claims.Oid)}
	}
	if len(segs) > 1 && !secretNameRE.MatchString(segs[1]) {
		return &vaultError{http.StatusBadRequest, "BadParameter", "", "The request URI contains an invalid name: " + segs[1]}
	}
	return route(vr, segs)
}

type vaultHandler func(vr *vaultRequest, segs []string) *vaultError

// vaultRoute maps method and path to a handler and the RBAC action it needs.
func vaultRoute(method string, segs []string) (vaultHandler, vaultAction) {
	n := len(segs)
	switch {
	case n == 0:
		return nil, 0
	case segs[0] == "secrets" && n == 1 && method == http.MethodGet:
		return listSecrets, actionReadMeta
	case segs[0] == "secrets" && n == 2 && method == http.MethodPut:
		return setSecret, actionWrite
	case segs[0] == "secrets" && n == 2 && method == http.MethodDelete:
		return deleteSecret, actionWrite
	case segs[0] == "secrets" && n == 3 && segs[2] == "versions" && method == http.MethodGet:
		return listSecretVersions, actionReadMeta
	case segs[0] == "secrets" && (n == 2 || n == 3) && method == http.MethodGet:
		return getSecret, actionReadValue
	case segs[0] == "secrets" && n == 3 && method == http.MethodPatch:
		return updateSecret, actionWrite
	case segs[0] == "deletedsecrets" && n == 1 && method == http.MethodGet:
		return listDeletedSecrets, actionReadMeta
	case segs[0] == "deletedsecrets" && n == 2 && method == http.MethodGet:
		return getDeletedSecret, actionReadMeta
	case segs[0] == "deletedsecrets" && n == 2 && method == http.MethodDelete:
		return purgeSecret, actionWrite
	case segs[0] == "deletedsecrets" && n == 3 && segs[2] == "recover" && method == http.MethodPost:
		return recoverSecret, actionWrite
	}
	return nil, 0
}

// authenticate implements Key Vault's challenge: without a bearer token the answer is 401 with
// WWW-Authenticate naming the authority (simulator URL + vault tenant) and the resource, which is what
// azsecrets parses to ask for a token. A token must be for https://vault.azure.net and the vault's tenant.
func (vr *vaultRequest) authenticate() *vaultError {
	s := vr.srv
	challenge := fmt.Sprintf(`Bearer authorization="%s/%s", resource="%s"`, s.graphURL, s.vault.tenant, vaultResource)
	fail := func(msg string) *vaultError {
		vr.w.Header().Set("WWW-Authenticate", challenge)
		return &vaultError{http.StatusUnauthorized, "Unauthorized", "", msg}
	}
	raw, ok := bearer(vr.r)
	if !ok {
		return fail("AKV10000: Request is missing a Bearer or PoP token.")
	}
	claims, err := s.signer.verify(raw, s.now())
	switch {
	case errors.Is(err, errTokenExpired):
		return fail("AKV10022: Invalid audience or token lifetime. The token is expired.")
	case err != nil:
		return fail("AKV10000: Request is missing a valid Bearer token: " + err.Error() + ".")
	case strings.TrimSuffix(claims.Aud, "/") != vaultResource:
		return fail(fmt.Sprintf("AKV10022: Invalid audience. Expected %s, found: %s.", vaultResource, claims.Aud))
	case claims.Tid != s.vault.tenant:
		return fail(fmt.Sprintf("AKV10032: Invalid issuer. Expected one of https://sts.windows.net/%s/, found https://sts.windows.net/%s/.", s.vault.tenant, claims.Tid))
	}
	vr.claims = claims
	return nil
}

func (vr *vaultRequest) writeError(e *vaultError) {
	body := map[string]any{"code": e.code, "message": e.message}
	if e.inner != "" {
		body["innererror"] = map[string]string{"code": e.inner}
	}
	writeJSON(vr.w, e.status, map[string]any{"error": body})
}

// secretBundle renders a version as Key Vault does; withValue is false for list items.
func (vr *vaultRequest) secretBundle(s *Secret, sv *SecretVersion, withValue, versionedID bool) map[string]any {
	id := vr.base + "/secrets/" + s.Name
	if versionedID {
		id += "/" + sv.Version
	}
	attrs := map[string]any{
		"enabled": sv.Enabled, "created": sv.Created, "updated": sv.Updated,
		"recoveryLevel": vaultRecoveryLevel, "recoverableDays": vaultRecoverableDays,
	}
	if sv.NotBefore != nil {
		attrs["nbf"] = *sv.NotBefore
	}
	if sv.Expires != nil {
		attrs["exp"] = *sv.Expires
	}
	out := map[string]any{"id": id, "attributes": attrs}
	if withValue {
		out["value"] = sv.Value
	}
	if sv.ContentType != "" {
		out["contentType"] = sv.ContentType
	}
	if len(sv.Tags) > 0 {
		out["tags"] = sv.Tags
	}
	if s.DeletedDate != 0 {
		out["recoveryId"] = vr.base + "/deletedsecrets/" + s.Name
		out["deletedDate"] = s.DeletedDate
		out["scheduledPurgeDate"] = s.DeletedDate + vaultRecoverableDays*24*3600
	}
	return out
}

// secretInput is the body of PUT /secrets/{name} and PATCH /secrets/{name}/{version}.
type secretInput struct {
	Value       *string           `json:"value"`
	ContentType *string           `json:"contentType"`
	Tags        map[string]string `json:"tags"`
	Attributes  *struct {
		Enabled *bool  `json:"enabled"`
		NotBef  *int64 `json:"nbf"`
		Expires *int64 `json:"exp"`
	} `json:"attributes"`
}

func (vr *vaultRequest) readInput() (*secretInput, *vaultError) {
	data, err := io.ReadAll(io.LimitReader(vr.r.Body, 1<<20))
	var in secretInput
	if err != nil || json.Unmarshal(data, &in) != nil {
		return nil, &vaultError{http.StatusBadRequest, "BadParameter", "", "The request body is not valid JSON."}
	}
	return &in, nil
}

// apply copies the input's properties onto a version.
func (in *secretInput) apply(sv *SecretVersion) {
	if in.ContentType != nil {
		sv.ContentType = *in.ContentType
	}
	if in.Tags != nil {
		sv.Tags = in.Tags
	}
	if a := in.Attributes; a != nil {
		if a.Enabled != nil {
			sv.Enabled = *a.Enabled
		}
		if a.NotBef != nil {
			sv.NotBefore = a.NotBef
		}
		if a.Expires != nil {
			sv.Expires = a.Expires
		}
	}
}

// pageParams reads maxresults (1..25, Key Vault's bounds) and the skiptoken of list requests.
func (vr *vaultRequest) pageParams() (int, string, *vaultError) {
	q := vr.r.URL.Query()
	max := 25
	if v := q.Get("maxresults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 25 {
			return 0, "", &vaultError{http.StatusBadRequest, "BadParameter", "", "maxresults must be between 1 and 25."}
		}
		max = n
	}
	return max, q.Get("$skiptoken"), nil
}

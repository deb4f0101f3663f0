package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Resources the token endpoint issues tokens for, by App ID URI. Storage tokens (Azure Storage's
// resource, https://learn.microsoft.com/azure/storage/blobs/authorize-access-azure-active-directory)
// let the t2t CLI's identity-based storage connection run against Azurite's OAuth mode.
const (
	vaultResource   = "https://vault.azure.net"
	storageResource = "https://storage.azure.com"
	tokenLifetime   = time.Hour
)

var knownResources = map[string]bool{graphResource: true, vaultResource: true, storageResource: true, powerAppsResource: true, exchangeResource: true}

// aadError is the token endpoint's error body (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
type aadError struct {
	status      int
	code        string // OAuth error: invalid_client, unauthorized_client, invalid_scope, ...
	aadsts      int
	description string
}

// serveOAuth routes /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/oauth2/v2.0/token and
// /{tenant}/discovery/v2.0/keys. {tenant} is a tenant id or one of its verified domain names.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) {
	segs := splitPath(r.URL.EscapedPath())
	if len(segs) < 2 {
		http.NotFound(w, r)
		return
	}
	rest := strings.Join(segs[1:], "/")
	switch {
	case rest == "v2.0/.well-known/openid-configuration" && r.Method == http.MethodGet:
		s.openIDConfiguration(w, r, segs[0])
	case rest == "oauth2/v2.0/token" && r.Method == http.MethodPost:
		s.token(w, r, segs[0])
	case rest == "discovery/v2.0/keys" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.signer.jwks())
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request, tenantKey string) {
	t := s.store.tenant(tenantKey)
	if t == nil {
		s.writeAADError(w, r, errUnknownTenant(tenantKey))
		return
	}
	base := s.graphURL + "/" + t.ID
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base + "/v2.0",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "roles"},
		"request_uri_parameter_supported":       false,
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
		"msgraph_host":                          strings.TrimPrefix(s.graphURL, "https://"),
	})
}

// token implements the client credentials grant with a client secret (form post or HTTP basic) or a
// federated client assertion.
func (s *Server) token(w http.ResponseWriter, r *http.Request, tenantKey string) {
	tok, aerr := s.issueToken(r, tenantKey)
	if aerr != nil {
		s.writeAADError(w, r, aerr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": int(tokenLifetime.Seconds()) - 1,
		"ext_expires_in": int(tokenLifetime.Seconds()) - 1, "access_token": tok,
	})
}

func (s *Server) issueToken(r *http.Request, tenantKey string) (string, *aadError) {
	if err := r.ParseForm(); err != nil {
		return "", &aadError{400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."}
	}
	t := s.store.tenant(tenantKey)
	if t == nil {
		return "", errUnknownTenant(tenantKey)
	}
	clientID, secret, basic := r.BasicAuth()
	if !basic {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	s.counters.recordToken(t.ID, strings.ToLower(clientID))
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			return "", &aadError{400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."}
		}
		return "", &aadError{400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '" + gt + "'."}
	}
	if clientID == "" {
		return "", &aadError{400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."}
	}
	cl := t.client(clientID)
	if cl == nil {
		// Entra answers 400 unauthorized_client for an app that has no service principal in the tenant.
		return "", &aadError{400, "unauthorized_client", 700016, fmt.Sprintf(
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, t.Name)}
	}
	if aerr := s.authenticateClient(r, cl, secret); aerr != nil {
		return "", aerr
	}
	resource, aerr := scopeResource(r.PostForm.Get("scope"), t)
	if aerr != nil {
		return "", aerr
	}
	return s.signToken(t, cl, resource)
}

// authenticateClient checks the client's credential: a federated assertion (client_assertion_type and
// client_assertion, federated.go) or a client secret.
func (s *Server) authenticateClient(r *http.Request, cl *client, secret string) *aadError {
	assertionType, assertion := r.PostForm.Get("client_assertion_type"), r.PostForm.Get("client_assertion")
	switch {
	case assertion != "" || assertionType != "":
		return s.checkAssertion(cl, assertionType, assertion)
	case secret == "":
		return &aadError{401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
	case !cl.hasSecret || !cl.secretMatches(secret):
		return &aadError{401, "invalid_client", 7000215, fmt.Sprintf(
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", cl.ID)}
	}
	return nil
}

// scopeResource returns the resource of a client-credentials scope list: exactly one <resource>/.default
// (OpenID scopes such as openid, profile, offline_access, which azidentity adds, are ignored).
func scopeResource(scope string, t *Tenant) (string, *aadError) {
	resource := ""
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		res, ok := strings.CutSuffix(sc, "/.default")
		if !ok || resource != "" {
			return "", &aadError{400, "invalid_scope", 1002012, fmt.Sprintf(
				"The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc)}
		}
		resource = strings.TrimSuffix(res, "/")
	}
	if resource == "" {
		return "", &aadError{400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."}
	}
	if resource == graphAppID {
		resource = graphResource
	}
	if !knownResources[resource] {
		return "", &aadError{400, "invalid_resource", 500011, fmt.Sprintf(
			"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, t.Name)}
	}
	return resource, nil
}

func (s *Server) signToken(t *Tenant, cl *client, resource string) (string, *aadError) {
	now := s.now()
	roles := cl.Roles
	if resource != graphResource {
		roles = nil // Graph app roles belong in Graph tokens only
	}
	tok, err := s.signer.sign(&tokenClaims{
		Aud: resource, Iss: "https://sts.windows.net/" + t.ID + "/",
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(tokenLifetime).Unix(),
		AppDisplayName: cl.DisplayName, AppID: cl.ID, AppIDACR: "1", Azp: cl.ID, IdTyp: "app",
		Oid: cl.ObjectID, Sub: cl.ObjectID, Roles: roles, Tid: t.ID, Uti: newGUID(), Ver: "1.0",
	})
	if err != nil {
		return "", &aadError{500, "server_error", 90000, err.Error()}
	}
	return tok, nil
}

func errUnknownTenant(key string) *aadError {
	return &aadError{400, "invalid_tenant", 90002, fmt.Sprintf(
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", key)}
}

// writeAADError writes the token endpoint's error JSON: error, error_description (AADSTS code, trace
// and correlation ids, timestamp), error_codes, timestamp, trace_id, correlation_id, error_uri.
func (s *Server) writeAADError(w http.ResponseWriter, r *http.Request, e *aadError) {
	now := s.now().UTC()
	trace, corr := newGUID(), r.Header.Get("client-request-id")
	if corr == "" {
		corr = newGUID()
	}
	stamp := now.Format("2006-01-02 15:04:05Z")
	writeJSON(w, e.status, map[string]any{
		"error": e.code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			e.aadsts, e.description, trace, corr, stamp),
		"error_codes":    []int{e.aadsts},
		"timestamp":      stamp,
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      fmt.Sprintf("%s/error?code=%d", s.graphURL, e.aadsts),
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	data, err := marshalJSON(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// marshalJSON encodes like the Microsoft services do: no HTML escaping of <, > and &.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding JSON answer: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

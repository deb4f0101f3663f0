package simulator_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

func TestOpenIDConfiguration(t *testing.T) {
	e := newEnv(t, nil)
	for _, key := range []string{simtest.ContosoID, simtest.ContosoDomain, "contoso.onmicrosoft.com"} {
		resp, body := e.do(http.MethodGet, e.graph+"/"+key+"/v2.0/.well-known/openid-configuration", "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", key, resp.StatusCode)
		}
		base := e.graph + "/" + simtest.ContosoID
		if body["token_endpoint"] != base+"/oauth2/v2.0/token" || body["issuer"] != base+"/v2.0" ||
			body["authorization_endpoint"] == nil || body["jwks_uri"] != base+"/discovery/v2.0/keys" {
			t.Errorf("%s: metadata %v", key, body)
		}
	}
	// An unverified domain does not name a tenant.
	resp, body := e.do(http.MethodGet, e.graph+"/"+simtest.UnverifiedInFab+"/v2.0/.well-known/openid-configuration", "", nil)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_tenant" {
		t.Errorf("unverified domain: %d %v", resp.StatusCode, body)
	}
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name, tenant, client, secret, scope string
		status                              int
		errCode                             string
		aadsts                              float64
	}{
		{"bad secret", simtest.ContosoID, simtest.MigratorID, "wrong", simtest.GraphScope, 401, "invalid_client", 7000215},
		{"unknown client", simtest.ContosoID, "00000000-1111-2222-3333-444444444444", "x", simtest.GraphScope, 400, "unauthorized_client", 700016},
		{"client of another tenant", simtest.ContosoID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope, 400, "unauthorized_client", 700016},
		{"no secret", simtest.ContosoID, simtest.MigratorID, "", simtest.GraphScope, 401, "invalid_client", 7000218},
		{"scope without .default", simtest.ContosoID, simtest.MigratorID, simtest.MigratorSecret, "https://graph.microsoft.com/User.Read.All", 400, "invalid_scope", 1002012},
		{"unknown resource", simtest.ContosoID, simtest.MigratorID, simtest.MigratorSecret, "https://example.com/.default", 400, "invalid_resource", 500011},
		{"unknown tenant", "nowhere.example", simtest.MigratorID, simtest.MigratorSecret, simtest.GraphScope, 400, "invalid_tenant", 90002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.tokenResponse(tt.tenant, tt.client, tt.secret, tt.scope)
			codes, _ := body["error_codes"].([]any)
			desc, _ := body["error_description"].(string)
			if status != tt.status || body["error"] != tt.errCode || len(codes) != 1 || codes[0] != tt.aadsts ||
				!strings.HasPrefix(desc, "AADSTS") || body["trace_id"] == nil || body["correlation_id"] == nil {
				t.Fatalf("got %d %v", status, body)
			}
		})
	}
}

func TestTokenClaims(t *testing.T) {
	e := newEnv(t, nil)
	claims := decodeClaims(t, e.token(simtest.FabrikamDomain, simtest.MigratorID, simtest.MigratorSecret,
		simtest.GraphScope+" openid offline_access profile"))
	if claims["tid"] != simtest.FabrikamID || claims["appid"] != simtest.MigratorID || claims["azp"] != simtest.MigratorID ||
		claims["aud"] != "https://graph.microsoft.com" || claims["idtyp"] != "app" {
		t.Errorf("claims %v", claims)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 3600 {
		t.Errorf("lifetime %v s, want 3600", exp-iat)
	}
	roles, _ := claims["roles"].([]any)
	if len(roles) == 0 || roles[0] != "User.ReadWrite.All" {
		t.Errorf("roles %v", roles)
	}
	vault := decodeClaims(t, e.token(simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret, simtest.VaultScope))
	if vault["aud"] != "https://vault.azure.net" || vault["roles"] != nil {
		t.Errorf("vault token claims %v", vault)
	}
}

func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	return simtest.DecodeClaims(t, tok)
}

func TestGraphRejectsBadTokens(t *testing.T) {
	var skew atomic.Int64
	e := newEnv(t, &simulator.Options{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	good := e.migratorToken(simtest.ContosoID)
	vaultTok := e.token(simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret, simtest.VaultScope)
	parts := strings.Split(good, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"tid":"x","aud":"https://graph.microsoft.com","exp":9999999999}`)) + "." + parts[2]
	tests := map[string]struct{ token, message string }{
		"missing":         {"", "Access token is empty."},
		"garbage":         {"not-a-jwt", "IDX14100: JWT is not well formed."},
		"forged payload":  {forged, "Access token validation failure."},
		"vault audience":  {vaultTok, "Access token validation failure. Invalid audience."},
		"expired (later)": {good, "Lifetime validation failed, the token is expired."},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if name == "expired (later)" {
				skew.Store(int64(66 * time.Minute)) // 1 h lifetime + 5 min tolerated skew, passed
				defer skew.Store(0)
			}
			resp, body := e.do(http.MethodGet, e.graph+"/v1.0/users", tt.token, nil)
			expectGraphError(t, resp, body, http.StatusUnauthorized, "InvalidAuthenticationToken", tt.message)
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("no WWW-Authenticate challenge: %v", resp.Header)
			}
		})
	}
	skew.Store(int64(64 * time.Minute)) // within the 5 minute skew
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users?$top=1", good, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("token within clock skew rejected: %d", resp.StatusCode)
	}
}

func TestStorageTokenClaims(t *testing.T) {
	e := newEnv(t, nil)
	claims := decodeClaims(t, e.token(simtest.FabrikamDomain, simtest.MigratorID, simtest.MigratorSecret,
		"https://storage.azure.com/.default openid offline_access profile"))
	if claims["aud"] != "https://storage.azure.com" || claims["iss"] != "https://sts.windows.net/"+simtest.FabrikamID+"/" ||
		claims["roles"] != nil || claims["tid"] != simtest.FabrikamID {
		t.Errorf("claims %v", claims)
	}
}

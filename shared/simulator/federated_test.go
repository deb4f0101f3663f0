package simulator_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// Identities added to simtest.FederatedConfig by federatedConfig.
const (
	// strayClientID is a managed identity in fabrikam that no federated credential trusts.
	strayClientID    = "7a3d9e4f-0c5b-4f8a-9d2e-3c4d5e6f7a83"
	strayPrincipalID = "8b4e0f5a-1d6c-4a9b-8e3f-4d5e6f7a8b94"
	// foreignClientID is a managed identity of contoso: right subject shape, wrong issuer.
	foreignClientID    = "9c5f1a6b-2e7d-4b0c-9f4a-5e6f7a8b9ca5"
	foreignPrincipalID = "ad6a2b7c-3f8e-4c1d-8a5b-6f7a8b9cadb6"
	// audAppID has a federated credential for the managed identity with another audience.
	audAppID      = "be7b3c8d-4a9f-4d2e-9b6c-7a8b9cadbec7"
	miHeader      = simtest.MIHeader
	miClientID    = simtest.MIClientID
	miPrincipalID = simtest.MIPrincipalID
)

// federatedConfig is simtest.FederatedConfig plus identities and an app that each break one rule.
func federatedConfig() *simulator.Config {
	cfg := simtest.FederatedConfig()
	other := simulator.FederatedCredentialConfig{Name: "other-cloud", Issuer: simulator.EntraIssuer(simtest.FabrikamID),
		Subject: miPrincipalID, Audiences: []string{"api://AzureADTokenExchangeUSGov"}}
	cfg.Tenants[1].Clients = append(cfg.Tenants[1].Clients, simulator.ClientConfig{ClientID: audAppID,
		Roles: []string{"User.Read.All"}, FederatedCredentials: []simulator.FederatedCredentialConfig{other}})
	cfg.ManagedIdentity.Identities = append(cfg.ManagedIdentity.Identities,
		simulator.ManagedIdentity{ClientID: strayClientID, PrincipalID: strayPrincipalID, Tenant: simtest.FabrikamID},
		simulator.ManagedIdentity{ClientID: foreignClientID, PrincipalID: foreignPrincipalID, Tenant: simtest.ContosoID})
	return cfg
}

func newFederatedEnv(t *testing.T, opts *simulator.Options) *env {
	t.Helper()
	srv := simtest.Start(t, federatedConfig(), opts)
	u := srv.URLs()
	return &env{t: t, srv: srv, graph: u.GraphURL, vault: u.VaultURL, client: srv.HTTPClient()}
}

// miToken asks the managed identity endpoint for an assertion, as azidentity does on App Service.
func (e *env) miToken(clientID, header, resource string) (int, map[string]any) {
	e.t.Helper()
	q := url.Values{"api-version": {"2019-08-01"}, "resource": {resource}, "client_id": {clientID}}
	resp, body := e.do(http.MethodGet, e.graph+simulator.ManagedIdentityPath+"?"+q.Encode(), "", nil, "X-IDENTITY-HEADER", header)
	return resp.StatusCode, body
}

func (e *env) assertion(clientID string) string {
	e.t.Helper()
	status, body := e.miToken(clientID, miHeader, simulator.TokenExchangeAudience)
	tok, _ := body["access_token"].(string)
	if status != http.StatusOK || tok == "" {
		e.t.Fatalf("managed identity token: %d %v", status, body)
	}
	return tok
}

// assertionResponse posts a client-credentials request authenticated by a client assertion.
func (e *env) assertionResponse(tenant, clientID, assertionType, assertion string) (int, map[string]any) {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {simtest.GraphScope},
		"client_assertion_type": {assertionType}, "client_assertion": {assertion}}
	resp, err := e.client.PostForm(e.graph+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decode(e.t, resp.Body)
}

func TestManagedIdentityEndpoint(t *testing.T) {
	e := newFederatedEnv(t, nil)
	status, body := e.miToken(miClientID, miHeader, simulator.TokenExchangeAudience)
	if status != http.StatusOK || body["token_type"] != "Bearer" || body["client_id"] != miClientID || body["expires_on"] == nil {
		t.Fatalf("got %d %v", status, body)
	}
	claims := decodeClaims(t, body["access_token"].(string))
	if claims["iss"] != "https://login.microsoftonline.com/"+simtest.FabrikamID+"/v2.0" || claims["sub"] != miPrincipalID ||
		claims["aud"] != "api://AzureADTokenExchange" || claims["tid"] != simtest.FabrikamID || claims["roles"] != nil {
		t.Errorf("claims %v", claims)
	}
	for name, tc := range map[string]struct {
		client, header, resource string
		status                   int
	}{
		"wrong header":      {miClientID, "guess", simulator.TokenExchangeAudience, http.StatusUnauthorized},
		"other resource":    {miClientID, miHeader, "https://graph.microsoft.com", http.StatusBadRequest},
		"unknown identity":  {"00000000-0000-4000-8000-000000000000", miHeader, simulator.TokenExchangeAudience, http.StatusBadRequest},
		"scope form (ok)":   {miClientID, miHeader, simulator.TokenExchangeAudience + "/.default", http.StatusOK},
		"no id, several":    {"", miHeader, simulator.TokenExchangeAudience, http.StatusBadRequest},
		"foreign identity":  {foreignClientID, miHeader, simulator.TokenExchangeAudience, http.StatusOK},
		"stray identity ok": {strayClientID, miHeader, simulator.TokenExchangeAudience, http.StatusOK},
	} {
		if got, body := e.miToken(tc.client, tc.header, tc.resource); got != tc.status {
			t.Errorf("%s: status %d %v, want %d", name, got, body, tc.status)
		}
	}
}

// TestFederatedAssertion: the migrator app gets Graph tokens in both tenants with the managed
// identity's token as its client assertion (the federated credential lives on the app, so it works in
// the source tenant too), and every mismatch answers Entra's error code.
func TestFederatedAssertion(t *testing.T) {
	var skew atomic.Int64
	e := newFederatedEnv(t, &simulator.Options{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	good := e.assertion(miClientID)
	for _, tenant := range []string{simtest.FabrikamID, simtest.ContosoID} {
		status, body := e.assertionResponse(tenant, simtest.MigratorID, simulator.ClientAssertionType, good)
		tok, _ := body["access_token"].(string)
		if status != http.StatusOK || tok == "" {
			t.Fatalf("%s: %d %v", tenant, status, body)
		}
		if claims := decodeClaims(t, tok); claims["tid"] != tenant || claims["appid"] != simtest.MigratorID {
			t.Errorf("%s: claims %v", tenant, claims)
		}
	}

	parts := strings.Split(good, ".")
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString([]byte("not the signature"))
	graphTok := e.migratorToken(simtest.FabrikamID) // iss https://sts.windows.net/<tid>/: not a trusted issuer
	tests := []struct {
		name, client, assertionType, assertion string
		status                                 int
		code                                   string
		aadsts                                 float64
	}{
		{"assertion type", simtest.MigratorID, "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", good, 400, "invalid_request", 90011},
		{"malformed", simtest.MigratorID, simulator.ClientAssertionType, "not-a-jwt", 400, "invalid_request", 50027},
		{"app without federated credential", simtest.ReaderID, simulator.ClientAssertionType, good, 401, "invalid_client", 70021},
		{"issuer", simtest.MigratorID, simulator.ClientAssertionType, graphTok, 401, "invalid_client", 700211},
		{"issuer of another tenant", simtest.MigratorID, simulator.ClientAssertionType, e.assertion(foreignClientID), 401, "invalid_client", 700211},
		{"subject", simtest.MigratorID, simulator.ClientAssertionType, e.assertion(strayClientID), 401, "invalid_client", 700213},
		{"audience", audAppID, simulator.ClientAssertionType, good, 401, "invalid_client", 700212},
		{"signature", simtest.MigratorID, simulator.ClientAssertionType, forged, 401, "invalid_client", 7000272},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.assertionResponse(simtest.FabrikamID, tt.client, tt.assertionType, tt.assertion)
			checkAADError(t, status, body, tt.status, tt.code, tt.aadsts)
		})
	}
	t.Run("secret of a federated-only app", func(t *testing.T) {
		status, body := e.tokenResponse(simtest.FabrikamID, audAppID, "anything", simtest.GraphScope)
		checkAADError(t, status, body, 401, "invalid_client", 7000215)
	})
	t.Run("expired", func(t *testing.T) {
		skew.Store(int64(66 * time.Minute))
		defer skew.Store(0)
		status, body := e.assertionResponse(simtest.FabrikamID, simtest.MigratorID, simulator.ClientAssertionType, good)
		checkAADError(t, status, body, 401, "invalid_client", 700024)
	})
}

func checkAADError(t *testing.T, status int, body map[string]any, wantStatus int, wantCode string, wantAADSTS float64) {
	t.Helper()
	codes, _ := body["error_codes"].([]any)
	desc, _ := body["error_description"].(string)
	if status != wantStatus || body["error"] != wantCode || len(codes) != 1 || codes[0] != wantAADSTS ||
		!strings.HasPrefix(desc, "AADSTS") {
		t.Errorf("got %d %v, want %d %s AADSTS%.0f", status, body, wantStatus, wantCode, wantAADSTS)
	}
}

func TestFederatedCredentialConfigIsValidated(t *testing.T) {
	for name, edit := range map[string]func(*simulator.Config){
		"no secret, no credential": func(c *simulator.Config) { c.Tenants[1].Clients[0].Secret = "" },
		"issuer not https": func(c *simulator.Config) {
			c.Tenants[1].Clients[0].FederatedCredentials[0].Issuer = "http://issuer.example"
		},
		"two audiences": func(c *simulator.Config) {
			c.Tenants[1].Clients[0].FederatedCredentials[0].Audiences = []string{"a", "b"}
		},
		"identity of no tenant": func(c *simulator.Config) {
			c.ManagedIdentity.Identities[0].Tenant = "00000000-0000-4000-8000-000000000000"
		},
		"no header": func(c *simulator.Config) { c.ManagedIdentity.Header = "" },
	} {
		cfg := federatedConfig()
		cfg.Tenants[1].Clients[0].FederatedCredentials = []simulator.FederatedCredentialConfig{{Name: "x",
			Issuer: simulator.EntraIssuer(simtest.FabrikamID), Subject: "s", Audiences: []string{simulator.TokenExchangeAudience}}}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("base config: %v", err)
		}
		edit(cfg)
		if name == "no secret, no credential" {
			cfg.Tenants[1].Clients[0].FederatedCredentials = nil
		}
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"t2t/shared/graph"
	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// federatedGraphConfig is the app's Graph configuration against srv with no client secret, as in Azure.
func federatedGraphConfig(srv *simulator.Server) graph.Config {
	u := srv.URLs()
	return graph.Config{AuthorityHost: u.GraphURL + "/", GraphBaseURL: u.GraphURL + "/v1.0", ClientID: simtest.MigratorID,
		ManagedIdentityClientID: simtest.MIClientID, WritesPerSecond: graph.DefaultWritesPerSecond, MaxAttempts: 2}
}

// TestManagedIdentityFederatedCredential runs the production path end to end: azidentity's
// ManagedIdentityCredential reads IDENTITY_ENDPOINT and IDENTITY_HEADER (as on Azure Functions) and
// gets the identity's api://AzureADTokenExchange token from the simulator, which is the client
// assertion for Graph tokens in both the target tenant (the app's home) and the source tenant.
func TestManagedIdentityFederatedCredential(t *testing.T) {
	srv := simtest.Start(t, simtest.FederatedConfig(), nil)
	t.Setenv("IDENTITY_ENDPOINT", srv.URLs().GraphURL+simulator.ManagedIdentityPath)
	t.Setenv("IDENTITY_HEADER", simtest.MIHeader)
	cfg := federatedGraphConfig(srv)
	for _, tenant := range []string{simtest.FabrikamID, simtest.ContosoID} {
		cred, err := graph.NewCredential(cfg, tenant, srv.Transport())
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{simtest.GraphScope}})
		if err != nil {
			t.Fatalf("%s: %v", tenant, err)
		}
		if c := simtest.DecodeClaims(t, tok.Token); c["tid"] != tenant || c["appid"] != simtest.MigratorID {
			t.Errorf("%s: token claims %v", tenant, c)
		}
	}
	// The whole Graph client (SDK, retrying transport, CA from a file) on the federated credential.
	cfg.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := srv.WriteCA(cfg.CAFile); err != nil {
		t.Fatal(err)
	}
	client, err := graph.New(cfg, simtest.FabrikamID)
	if err != nil {
		t.Fatal(err)
	}
	org, err := client.Organization().Get(context.Background(), nil)
	if err != nil || len(org.GetValue()) != 1 || *org.GetValue()[0].GetId() != simtest.FabrikamID {
		t.Fatalf("organization through the federated credential: %v", err)
	}
}

// TestInjectedAssertion: Config.Assertion replaces the managed identity, and the simulator's
// federated credential checks reach the caller as Entra's error codes.
func TestInjectedAssertion(t *testing.T) {
	srv := simtest.Start(t, simtest.FederatedConfig(), nil)
	miToken := func(ctx context.Context) (string, error) {
		q := url.Values{"api-version": {"2019-08-01"}, "resource": {graph.TokenExchangeAudience}, "client_id": {simtest.MIClientID}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URLs().GraphURL+simulator.ManagedIdentityPath+"?"+q.Encode(), nil)
		req.Header.Set("X-IDENTITY-HEADER", simtest.MIHeader)
		resp, err := srv.HTTPClient().Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
			return "", errors.New("no managed identity token")
		}
		return body.AccessToken, nil
	}
	garbage := func(context.Context) (string, error) { return "not-a-jwt", nil }
	tests := []struct {
		name      string
		clientID  string
		assertion func(context.Context) (string, error)
		wantErr   string // "" means a token
	}{
		{"managed identity token", simtest.MigratorID, miToken, ""},
		{"malformed assertion", simtest.MigratorID, garbage, "AADSTS50027"},
		{"app without federated credential", simtest.ReaderID, miToken, "AADSTS70021"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := federatedGraphConfig(srv)
			cfg.ClientID, cfg.Assertion = tt.clientID, tt.assertion
			cred, err := graph.NewCredential(cfg, simtest.FabrikamID, srv.Transport())
			if err != nil {
				t.Fatal(err)
			}
			_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{simtest.GraphScope}})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("GetToken: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("GetToken error %v, want %s", err, tt.wantErr)
			}
		})
	}
}

// TestSecretStillWins: with a client secret configured (local runs, the Key Vault fallback) no
// assertion is asked for.
func TestSecretStillWins(t *testing.T) {
	srv := simtest.Start(t, simtest.FederatedConfig(), nil)
	cfg := federatedGraphConfig(srv)
	cfg.ClientSecret = simtest.MigratorSecret
	cfg.Assertion = func(context.Context) (string, error) { return "", errors.New("assertion must not be used") }
	cred, err := graph.NewCredential(cfg, simtest.ContosoID, srv.Transport())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{simtest.GraphScope}}); err != nil {
		t.Fatal(err)
	}
}

func TestManagedIdentityClientIDFromEnv(t *testing.T) {
	t.Setenv("T2T_CLIENT_ID", simtest.MigratorID)
	t.Setenv("AZURE_CLIENT_ID", "from-azure-client-id")
	t.Setenv("T2T_MANAGED_IDENTITY_CLIENT_ID", "")
	if c, err := graph.ConfigFromEnv(); err != nil || c.ManagedIdentityClientID != "from-azure-client-id" {
		t.Errorf("fallback: %q %v", c.ManagedIdentityClientID, err)
	}
	t.Setenv("T2T_MANAGED_IDENTITY_CLIENT_ID", "explicit")
	if c, err := graph.ConfigFromEnv(); err != nil || c.ManagedIdentityClientID != "explicit" {
		t.Errorf("explicit: %q %v", c.ManagedIdentityClientID, err)
	}
}

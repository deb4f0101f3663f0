// Package simtest starts the tenant simulator inside a test and builds azidentity credentials that
// trust it. Other packages' tests use it to talk to simulated tenants through the real Azure SDK code.
package simtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"t2t/shared/simulator"
)

// Identities of simulator.ExampleConfig. The secrets are test values published in the repository.
const (
	ContosoID       = "7d3c1f2a-5b8e-4c61-9a0f-2e4b6d8c1a01"
	FabrikamID      = "2b9e4d6f-8a1c-4e73-b5d2-9c0f1e3a7b02"
	MigratorID      = "5f0e2c9a-3d47-4b8e-a6c1-7e2d9f4b0c11" // multi-tenant: reads contoso, writes fabrikam, vault officer
	MigratorSecret  = "sim-migrator-secret-not-a-real-secret"
	ReaderID        = "9c4a7e21-6b3f-4d58-8e0a-1f5c2d7b3e22" // fabrikam only: User.Read.All, vault reader
	ReaderSecret    = "sim-reader-secret-not-a-real-secret"
	ContosoUsers    = 250
	FabrikamUsers   = 20
	GraphScope      = "https://graph.microsoft.com/.default"
	VaultScope      = "https://vault.azure.net/.default"
	ContosoDomain   = "contoso.example"
	FabrikamDomain  = "fabrikam.example"
	UnverifiedInFab = "unverified.example"
)

// Start runs a simulator for the test (cfg nil means simulator.ExampleConfig) and stops it at cleanup.
func Start(t testing.TB, cfg *simulator.Config, opts *simulator.Options) *simulator.Server {
	t.Helper()
	if cfg == nil {
		cfg = simulator.ExampleConfig()
	}
	srv, err := simulator.New(cfg, opts)
	if err != nil {
		t.Fatalf("creating simulator: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("stopping simulator: %v", err)
		}
	})
	return srv
}

// ClientOptions are azcore client options pointing at the simulator: its authority host and a transport
// trusting its CA.
func ClientOptions(srv *simulator.Server) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: srv.URLs().GraphURL + "/"},
		Transport: &http.Client{Transport: srv.Transport()},
	}
}

// Credential returns a client-secret credential for a tenant of srv, as the pipeline builds it, with
// instance discovery disabled (the simulator is not a known Microsoft cloud).
func Credential(t testing.TB, srv *simulator.Server, tenantID, clientID, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            ClientOptions(srv),
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("creating credential: %v", err)
	}
	return cred
}

// The function app's managed identity in FederatedConfig: a user-assigned identity of fabrikam, the
// target tenant, where Bicep creates the app registration and its federated credential.
const (
	MIHeader      = "sim-identity-header"
	MIClientID    = "4e1b7c2d-8a3f-4d6e-9b0c-1a2b3c4d5e61"
	MIPrincipalID = "6f2c8d3e-9b4a-4e7f-8c1d-2b3c4d5e6f72"
)

// FederatedConfig is simulator.ExampleConfig plus a managed identity endpoint serving MIClientID and a
// federated credential on the migrator app that trusts it (issuer fabrikam's Entra issuer, subject
// MIPrincipalID, audience api://AzureADTokenExchange), as infra/modules/appregistration.bicep creates it.
// The migrator keeps its secret, so both paths can be compared.
func FederatedConfig() *simulator.Config {
	cfg := simulator.ExampleConfig()
	fic := simulator.FederatedCredentialConfig{Name: "t2t-function-app", Issuer: simulator.EntraIssuer(FabrikamID),
		Subject: MIPrincipalID, Audiences: []string{simulator.TokenExchangeAudience}}
	for i := range cfg.Tenants {
		for j := range cfg.Tenants[i].Clients {
			if c := &cfg.Tenants[i].Clients[j]; c.ClientID == MigratorID && cfg.Tenants[i].ID == FabrikamID {
				c.FederatedCredentials = append(c.FederatedCredentials, fic)
			}
		}
	}
	cfg.ManagedIdentity = &simulator.ManagedIdentityConfig{Header: MIHeader, Identities: []simulator.ManagedIdentity{
		{ClientID: MIClientID, PrincipalID: MIPrincipalID, Tenant: FabrikamID},
	}}
	return cfg
}

// DecodeClaims returns the claims of a JWT without verifying it, for tests that inspect the tokens
// the simulator issues.
func DecodeClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token is not a JWS: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

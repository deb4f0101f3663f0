// Package simulator is the t2t tenant simulator: one HTTPS server that imitates, for several tenants at
// once, the Microsoft Entra OAuth 2.0 v2.0 token endpoint, a subset of Microsoft Graph (v1.0 and beta)
// and, on a second listener, the Azure Key Vault secrets API.
//
// Clients reach it through their real code paths: azidentity's ClientSecretCredential (authority host
// set to the simulator URL, instance discovery disabled), msgraph-sdk-go with a kiota Azure identity
// authentication provider, and azsecrets with challenge resource verification disabled. They trust the
// simulator's own CA, generated at startup (CAPEM, CertPool, WriteCA).
//
// Fidelity rule: where Microsoft documents a behaviour (status codes, error codes and messages, default
// properties, paging, permissions), the simulator reproduces it; where the documentation is silent the
// simulator picks the stricter behaviour and says so in a comment, so that code tested here does not
// rely on leniency the real service may not have.
//
// The tenants file (see testdata/tenants.json, also available as ExampleConfig):
//
//	{"tenants": [{"id": "<guid>", "name": "contoso", "displayName": "Contoso Ltd",
//	    "domains": [{"id": "contoso.example", "isVerified": true, "isDefault": true, "isInitial": false}],
//	    "seed": {"users": 250, "seed": 1},
//	    "clients": [{"clientId": "<guid>", "secret": "...", "roles": ["User.Read.All", "Domain.Read.All"]}]}],
//	 "vault": {"tenant": "<tenant guid>",
//	    "roleAssignments": [{"clientId": "<guid>", "role": "Key Vault Secrets Officer"}]}}
//
// Layout: config.go (tenants file), server.go (listeners, lifecycle), router.go (method + path pattern
// with a per-route permission list), tenant.go (the per-tenant store), one file per resource family
// (users*.go, domains.go), odata_*.go (paging, $select, $filter shared by all collections),
// graph_errors.go, oauth.go and jwt.go (tokens), keyvault*.go, admin.go, counters.go, seed*.go, state.go.
package simulator

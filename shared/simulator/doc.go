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
// A client may instead authenticate with a federated assertion (client_assertion_type
// urn:ietf:params:oauth:client-assertion-type:jwt-bearer): list the app's "federatedCredentials"
// ({"name", "issuer", "subject", "audiences": ["api://AzureADTokenExchange"]}) on its client entry
// and the token endpoint matches issuer, subject and audience exactly and answers Entra's codes
// (AADSTS70021, 700211, 700213, 700212, 7000272, 700024). "managedIdentity": {"header": "...",
// "identities": [{"clientId", "principalId", "tenant"}]} serves the App Service managed identity
// endpoint at /msi/token (set IDENTITY_ENDPOINT and IDENTITY_HEADER for azidentity), which issues the
// identity's api://AzureADTokenExchange token with the tenant's Entra issuer
// (https://login.microsoftonline.com/<tenant>/v2.0): federated.go, managedidentity.go.
//
// Layout: config.go (tenants file), server.go (listeners, lifecycle), router.go (method + path pattern
// with a per-route permission list), tenant.go (the per-tenant store), one file per resource family
// (users*.go, domains.go), odata_*.go (paging, $select, $filter shared by all collections),
// graph_errors.go, oauth.go and jwt.go (tokens), keyvault*.go, admin.go, counters.go, seed*.go, state.go.
//
// # Service behaviour: throttling, $batch, replication lag, faults
//
// Every authenticated Graph request goes through controlledDispatch (faults.go) before its route:
// fault injection, then throttling (throttle.go), then the handler. A route added with router.add gets
// all of it with no code of its own, and so does each inner request of a $batch (batch.go), which is
// replayed through serveGraph with the outer token.
//
//   - Throttling (off unless "throttling": {"enabled": true}): the identity and access limits
//     (resource units per app per tenant by tenant size, write quotas per app+tenant, per tenant and
//     per app), as token buckets, with the documented request costs (x-ms-resource-unit on every
//     directory answer), Retry-After and x-ms-throttle-* headers on a 429; conditional access, named
//     locations and identity protection at 1 request per second per tenant with no Retry-After.
//   - Time scale ("throttling": {"timeScale": 10}): every simulated duration (throttling windows,
//     Retry-After, replication lag) runs that many times faster, quotas unchanged. Retry-After stays
//     whole seconds (rounded up); x-ms-sim-retry-after-ms carries the exact wait for clients that know
//     the simulator.
//   - Faults ("faults": {"seed", "rate503", "rate504", "rateDrop", "routes": [...]}): deterministic
//     for a seed; a 503 runs nothing, a 504 or a dropped connection runs the request and loses the
//     answer.
//   - Runtime control: GET/PUT /_sim/settings and /_sim/settings/{part} (throttling, faults,
//     replicationLag, timeScale), POST /_sim/reset-throttling, POST /_sim/reset. GET /_sim/counters
//     adds resource units, 429s by limit, injected faults and batches per tenant and app. Settings
//     changed at runtime are saved in the -state folder (settings.json) and win over the tenants file
//     at restart.
//
// # Replication lag: how a collection opts in
//
// A tenant's "replicationLag" (or PUT /_sim/settings/replicationLag) hides each object created
// through Graph for that long (lag.go). A collection takes part by calling four helpers:
//
//   - t.markCreated(id) right after storing a new object (any lock state);
//   - t.visible(id) in GET, PATCH and DELETE by id: answer errNotFound(key) when false, as for a
//     missing object;
//   - visibleOnly(t, items, idOf) on a list snapshot before writeList (filtering and paging then agree);
//   - t.allVisible(ids...) before adding references (members, owners, @odata.bind): answer
//     errReferencedObjectMissing() (400 Request_BadRequest, "The source resource object or one of the
//     objects being referenced do not exist.") when false. The object the reference is added to is
//     checked with t.visible like any by-id write.
//
// Uniqueness checks ignore the lag (the directory enforces them on write), and objects from seeds,
// seed files and the state folder are visible from the start. users.go is the worked example.
//
// # Seed files
//
// "seed": {"file": "contoso.json"} loads a tenant from a document shaped like GET
// /_sim/tenants/{tenant}/dump (seed_file.go). Users, deleted users and domains are built in; another
// collection registers its dump section from an init function in its own file with
// registerSeedSection("groups", func(t *Tenant, raw json.RawMessage) error {...}), which runs after
// users with t.mu held. A non-empty section nobody registered fails the load.
//
// # Directory: groups, membership, delta, B2B
//
// group.go, groups*.go, group_body.go (groups, upsert by uniqueName), membership*.go and
// directory_objects.go (members/owners by $ref and @odata.bind, memberOf, mixed-type directoryObject
// pages), manager.go, invitations.go (invitations, beta convertExternalToInternalMemberUser, getByIds),
// changelog.go and delta*.go (users/delta, groups/delta), seed_groups.go (guests, external members,
// managers, groups, synced users; the groups seed-file sections), directory_routes.go. Users synced
// from on-premises (onPremisesSyncEnabled, read-only) refuse writes to sync-mastered properties with
// Graph's message, and convert to internal without a UPN or password (users_write.go, invitations.go). Every user, group and
// membership write appends to the tenant's change log (logUserLocked, logGroupLocked): a write path
// that skips it is invisible to delta queries. A collection whose objects can be members (service
// principals) should call t.removeObjectRefsLocked(id, now) before deleting one.
//
// # Configuration objects: applications, service principals, conditional access, roles
//
// objects.go (the tenantObjects store, JSON merge/strict decode, routes), application*.go
// (app registrations, upsert by uniqueName, appId and identifierUris rules, addPassword),
// serviceprincipal*.go (service principals, first-party Microsoft Graph, Exchange, SharePoint and
// Azure management in every tenant, configured clients with their Graph grants),
// approleassignments.go (appRoleAssignedTo and appRoleAssignments of service principals, users,
// groups), namedlocations.go and conditionalaccess*.go (every reference resolved, stricter than
// documented where the docs are silent), roles*.go (built-in roles with real template ids, custom
// roles), seed_policies*.go (deterministic seeds and seed-file sections), objects_state.go
// (persistence and admin dump, secrets as metadata only). These collections take part in
// replication lag like users do.
//
// # Tenant-wide settings: organization, authorization policy, cross-tenant access
//
// tenantsettings.go (the tenants file's optional "organization" and "policies" overrides, merged onto
// the documented defaults and validated at load; GET /organization/{id}; persistence, admin dump and
// seed-file sections authorizationPolicy, crossTenantAccessDefault, crossTenantAccessPartners),
// authorizationpolicy.go (GET /policies/authorizationPolicy, read-only) and crosstenantaccess.go
// (GET /policies/crossTenantAccessPolicy and its default, read-only; partners by tenant id with GET,
// POST, PATCH and DELETE, a second POST for one tenant answering 409
// Request_MultipleObjectsWithSameKeyValue). Partners take part in replication lag.
package simulator

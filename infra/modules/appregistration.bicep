// The cross-tenant migration app, made with the Microsoft Graph Bicep extension in the tenant of the
// deployment (the target tenant):
//   - one multi-tenant app registration requesting exactly the Graph application permissions of
//     shared/permissions (../graph-permissions.json, generated from it and checked by the infra tests);
//   - a federated identity credential trusting the function app's user-assigned managed identity, so
//     no client secret exists (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity);
//   - its service principal in the target tenant with the target set granted (admin consent);
//   - the admin consent URL for the source tenant, whose admin grants the requested permissions there.
// Entra grants a tenant all permissions the app requests: the source admin consents to the union
// (including write permissions the code never uses there). docs/deploy.md says how to narrow it.
extension microsoftGraphV1

@description('Alternate key of the app registration: immutable, unique in the tenant.')
param uniqueName string

param displayName string

@description('Principal (object) id of the function app identity: the subject of the federated credential.')
param managedIdentityPrincipalId string

@description('Source tenant id, for the admin consent URL.')
param sourceTenantId string

var permissions = loadJsonContent('../graph-permissions.json')
var loginEndpoint = environment().authentication.loginEndpoint

// Managed identity tokens for federation carry the tenant's v2.0 issuer, the identity's object id as
// subject and this audience (public cloud; the Graph extension deploys to the public cloud only).
var federationIssuer = '${loginEndpoint}${tenant().tenantId}/v2.0'
var federationAudience = 'api://AzureADTokenExchange'

resource graphServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: permissions.graphAppId
}

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMultipleOrgs'
  notes: 'Created by t2t (infra/modules/appregistration.bicep). Authenticates with a federated credential trusting the function app managed identity; no secret.'
  requiredResourceAccess: [
    {
      resourceAppId: permissions.graphAppId
      resourceAccess: [for p in permissions.all: { id: p.id, type: 'Role' }]
    }
  ]

  resource functionAppCredential 'federatedIdentityCredentials@v1.0' = {
    name: '${app.uniqueName}/t2t-function-app'
    description: 'The t2t function app user-assigned managed identity'
    issuer: federationIssuer
    subject: managedIdentityPrincipalId
    audiences: [federationAudience]
  }
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
}

// Admin consent in the target tenant: exactly the target set.
resource targetGrants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for p in permissions.target: {
    appRoleId: p.id
    principalId: servicePrincipal.id
    resourceId: graphServicePrincipal.id
  }
]

output appId string = app.appId
output servicePrincipalId string = servicePrincipal.id
output sourceAdminConsentUrl string = '${loginEndpoint}${sourceTenantId}/adminconsent?client_id=${app.appId}'

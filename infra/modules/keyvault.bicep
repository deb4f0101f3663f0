// Key Vault with Azure RBAC: the migration app's service principal (the handler authenticates to the
// vault as the app, in the target tenant) keeps new users' temporary passwords here as Key Vault
// Secrets Officer. The function app's identity reads a client secret only when the secret fallback is
// on (Key Vault reference in T2T_CLIENT_SECRET), and the operator may read temporary passwords to hand
// them to users.

param resourceToken string
param location string
param tags object

@description('Object id of the app registration\'s service principal in the target tenant.')
param appServicePrincipalId string

@description('Principal id of the function app identity, which resolves Key Vault references.')
param identityPrincipalId string

@description('True when T2T_CLIENT_SECRET is a Key Vault reference: the identity may then read secrets.')
param secretFallback bool = false

param operatorPrincipalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

param purgeProtection bool = false

var appRoles = [
  {
    roleDefinitionIdOrName: 'Key Vault Secrets Officer'
    principalId: appServicePrincipalId
    principalType: 'ServicePrincipal'
  }
]

var identityRoles = secretFallback
  ? [
      {
        roleDefinitionIdOrName: 'Key Vault Secrets User'
        principalId: identityPrincipalId
        principalType: 'ServicePrincipal'
      }
    ]
  : []

var operatorRoles = empty(operatorPrincipalId)
  ? []
  : [
      {
        roleDefinitionIdOrName: 'Key Vault Secrets User'
        principalId: operatorPrincipalId
        principalType: operatorPrincipalType
      }
    ]

module vault 'br/public:avm/res/key-vault/vault:0.14.0' = {
  name: 'vault'
  params: {
    name: 'kv-t2t-${resourceToken}'
    location: location
    tags: tags
    sku: 'standard'
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: purgeProtection
    enableVaultForDeployment: false
    enableVaultForTemplateDeployment: false
    enableVaultForDiskEncryption: false
    publicNetworkAccess: 'Enabled'
    roleAssignments: concat(appRoles, identityRoles, operatorRoles)
  }
}

output name string = vault.outputs.name
output uri string = vault.outputs.uri

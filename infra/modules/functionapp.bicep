// The function app: the custom handler (the linux/amd64 `handler` binary next to host.json and the
// function folders, assembled by `make package`) on Flex Consumption by default, Elastic Premium on
// request, running as the user-assigned managed identity. Every app setting the code reads is set
// here (appSettings below); the infra contract tests check that against the Go code and function.json.

param name string
param location string
param tags object

@allowed(['FlexConsumption', 'ElasticPremium'])
param hostingPlan string

@description('Most instances per scale group (Flex) or per app (Elastic Premium).')
param maximumInstanceCount int

param instanceMemoryMB int
param queueBatchSize int
param queueNewBatchThreshold int

@description('Per-instance Graph write pace (T2T_GRAPH_WRITES_PER_SEC): instances x pace <= Graph\'s 20 writes/s per app per tenant.')
param graphWritesPerSecond int

@description('Writes one instance may burst before holding its pace (its share of Graph\'s 3,000-write bucket).')
param graphWriteBurst int

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

param storageAccountName string
param deploymentContainerName string
param appInsightsConnectionString string
param keyVaultName string
param keyVaultUri string
param sourceTenantId string
param targetTenantId string

@description('Client (application) id of the migration app registration.')
param migrationClientId string

@description('Key Vault secret with a client secret of the app; empty: federated credential only.')
param clientSecretName string = ''

@description('DeltaSync timer schedule (six-field NCRONTAB): every 15 minutes by default.')
param deltaSchedule string = '0 */15 * * * *'

@allowed(['report', 'disable'])
@description('What DeltaSync does with a migrated object deleted in the source: report it only (default), or disable the target account. It never deletes.')
param deltaDeletions string = 'report'

@description('Default domain rewrite map of every wave (source.example=target.example,...); an upload may name its own.')
param domainMap string = ''

@allowed(['disabled', 'enabled'])
@description('Power Platform environment moves: the admin API they call is not documented by Microsoft.')
param powerPlatformMoves string = 'disabled'

@allowed(['disabled', 'enabled'])
@description('Mailbox-move prerequisites: the Exchange Online admin API they call is not documented by Microsoft.')
param exchangeAdminApi string = 'disabled'

@description('Mail-enabled security group scoping the source organization relationship for mailbox moves.')
param exchangeScopeGroup string = ''

var isFlex = hostingPlan == 'FlexConsumption'

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}'
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? { name: 'FC1', tier: 'FlexConsumption' } : { name: 'EP1', tier: 'ElasticPremium' }
  properties: {
    reserved: true // Linux
    maximumElasticWorkerCount: isFlex ? null : maximumInstanceCount
  }
}

// Settings every plan gets. The storage connection is identity-based: the host resolves the
// AzureWebJobsStorage connection from __accountName with the managed identity (__credential,
// __clientId); no key or connection string exists.
var commonSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // host.json overrides: the queue batch that one instance runs at once. Writes of all invocations
  // of an instance share its pacer, so the batch changes how long an invocation waits, not the rate.
  AzureFunctionsJobHost__extensions__queues__batchSize: string(queueBatchSize)
  AzureFunctionsJobHost__extensions__queues__newBatchThreshold: string(queueNewBatchThreshold)
  AZURE_CLIENT_ID: identityClientId
  T2T_MANAGED_IDENTITY_CLIENT_ID: identityClientId
  T2T_CLIENT_ID: migrationClientId
  T2T_SOURCE_TENANT_ID: sourceTenantId
  T2T_TARGET_TENANT_ID: targetTenantId
  T2T_MIGRATION_ID: '${sourceTenantId}_${targetTenantId}'
  T2T_AUTHORITY_HOST: environment().authentication.loginEndpoint
  T2T_GRAPH_BASE_URL: 'https://graph.microsoft.com/v1.0'
  T2T_KEYVAULT_URL: keyVaultUri
  T2T_DOMAIN_MAP: domainMap
  T2T_POWER_PLATFORM: powerPlatformMoves
  T2T_POWER_PLATFORM_URL: 'https://api.bap.microsoft.com'
  T2T_EXCHANGE: exchangeAdminApi
  T2T_EXCHANGE_URL: 'https://outlook.office365.com'
  T2T_EXCHANGE_SCOPE_GROUP: exchangeScopeGroup
  T2T_DELTA_SCHEDULE: deltaSchedule
  T2T_DELTA_DELETIONS: deltaDeletions
  T2T_GRAPH_WRITES_PER_SEC: string(graphWritesPerSecond)
  T2T_GRAPH_WRITE_BURST: string(graphWriteBurst)
  // Conditional access and named locations: 1 request/s per tenant. A wave sends one per policy or
  // location; with several instances a rare 429 (no Retry-After) is waited out by the transport.
  T2T_GRAPH_POLICY_PER_SEC: '1'
  T2T_GRAPH_MAX_ATTEMPTS: '6'
}

// Flex Consumption takes runtime and version from functionAppConfig and rejects these settings;
// Elastic Premium needs them, and runs from the deployed package (no Azure Files content share,
// which would need a storage key).
var premiumSettings = {
  FUNCTIONS_WORKER_RUNTIME: 'custom'
  FUNCTIONS_EXTENSION_VERSION: '~4'
  WEBSITE_RUN_FROM_PACKAGE: '1'
}

// The secret fallback: a Key Vault reference the platform resolves with the identity.
var secretSettings = {
  T2T_CLIENT_SECRET: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${clientSecretName})'
}

var appSettings = union(commonSettings, isFlex ? {} : premiumSettings, empty(clientSecretName) ? {} : secretSettings)

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'functions' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    functionAppConfig: isFlex
      ? {
          deployment: {
            storage: {
              type: 'blobContainer'
              value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
              authentication: {
                type: 'UserAssignedIdentity'
                userAssignedIdentityResourceId: identityId
              }
            }
          }
          scaleAndConcurrency: {
            maximumInstanceCount: maximumInstanceCount
            instanceMemoryMB: instanceMemoryMB
          }
          runtime: {
            name: 'custom'
            version: '1.0'
          }
        }
      : null
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      functionAppScaleLimit: isFlex ? null : maximumInstanceCount
      minimumElasticInstanceCount: isFlex ? null : 1
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName

// t2t infrastructure for `azd up`: one resource group holding the function app (Flex Consumption,
// custom handler), its user-assigned managed identity, storage (shared keys disabled), Key Vault,
// Log Analytics + Application Insights + the migration workbook, and, in Entra ID, the multi-tenant
// app registration whose federated credential trusts the managed identity. The Event Grid
// subscription that feeds WaveStart is created after the code is deployed (hooks/postdeploy.sh,
// eventgrid-subscription.bicep): its webhook needs the blob extension's key, which exists only once
// the host runs.
//
// Deploy from the TARGET tenant: the Graph extension creates the app registration in the tenant of
// the deployment, and a federated credential may only trust a managed identity of the app's own tenant.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; it names and tags every resource.')
param environmentName string

@minLength(1)
@description('Azure region of every resource; with hostingPlan FlexConsumption it must offer Flex Consumption.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Entra tenant id of the source tenant (users move from it). Its admin consents to the app after deployment.')
param sourceTenantId string

@description('FlexConsumption (default: scales to zero, custom handler runtime) or ElasticPremium (always-warm instances).')
@allowed(['FlexConsumption', 'ElasticPremium'])
param hostingPlan string = 'FlexConsumption'

@description('Most instances per scale group. Every instance paces its Graph writes separately, so instances x T2T_GRAPH_WRITES_PER_SEC must stay within graphWriteBudget; the pace is derived below.')
@minValue(1)
@maxValue(19)
param maximumInstanceCount int = 1

@description('Writes per second all instances together may send to one tenant. Graph allows 3,000 writes per 150 s per app per tenant (20/s); 19 keeps headroom for retries.')
@minValue(1)
@maxValue(20)
param graphWriteBudget int = 19

@description('Queue messages an instance fetches at once (host.json extensions.queues.batchSize; same default).')
@minValue(1)
@maxValue(32)
param queueBatchSize int = 16

@description('Queue messages in flight before an instance fetches more (host.json extensions.queues.newBatchThreshold; same default).')
@minValue(0)
param queueNewBatchThreshold int = 8

@description('Memory of a Flex Consumption instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Object id of the operator (user, group or service principal) who uploads mappings and reads reports and temporary passwords. Empty: no operator access is granted.')
param operatorPrincipalId string = ''

@description('Principal type of operatorPrincipalId.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

@description('Name of a Key Vault secret holding a client secret of the app registration (fallback when federation is not possible). Empty (default): federated credential only, no secret exists.')
param clientSecretName string = ''

@description('Default domain rewrite map of every wave: source.example=target.example,... (UPNs, mail, identifierUris, redirect URIs, dynamic rules).')
param domainMap string = ''

@allowed(['disabled', 'enabled'])
@description('Power Platform environment moves (the powerPlatform phase) call the Power Platform admin API, whose REST calls Microsoft does not document (only their PowerShell cmdlets): enable them knowingly.')
param powerPlatformMoves string = 'disabled'

@allowed(['disabled', 'enabled'])
@description('Mailbox-move prerequisites (the exchangePrereqs phase) call the Exchange Online admin API, which Microsoft does not document: enable them knowingly.')
param exchangeAdminApi string = 'disabled'

@description('The mail-enabled security group scoping the source organization relationship for mailbox moves (empty: listed as a manual step).')
param exchangeScopeGroup string = ''

@description('DeltaSync timer schedule, six-field NCRONTAB ({second} {minute} {hour} {day} {month} {day-of-week}).')
param deltaSchedule string = '0 */15 * * * *'

@allowed(['report', 'disable'])
@description('What DeltaSync does with a migrated user deleted in the source: report it (default) or disable the target account. t2t never deletes.')
param deltaDeletions string = 'report'

@description('Key Vault purge protection. Off by default so that `azd down --purge` removes the vault; turn it on for production.')
param keyVaultPurgeProtection bool = false

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var targetTenantId = tenant().tenantId
// Integer division is floor, so instances x pace stays within the budget; at least 1 write/s per
// instance (the handler refuses 0), which maximumInstanceCount <= 19 keeps within Graph's 20/s.
var graphWritesPerSecond = max(1, graphWriteBudget / maximumInstanceCount)
// Graph's write quota is a bucket of 3,000 per app per tenant: each instance may burst its share of
// 95 % of it before holding its pace.
var graphWriteBurst = 2850 / maximumInstanceCount

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.6.0' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-t2t-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    resourceToken: resourceToken
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    resourceToken: resourceToken
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

module appRegistration 'modules/appregistration.bicep' = {
  name: 'appRegistration'
  scope: rg
  params: {
    uniqueName: 't2t-migration-${resourceToken}'
    displayName: 't2t migration (${environmentName})'
    managedIdentityPrincipalId: identity.outputs.principalId
    sourceTenantId: sourceTenantId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyVault'
  scope: rg
  params: {
    resourceToken: resourceToken
    location: location
    tags: tags
    appServicePrincipalId: appRegistration.outputs.servicePrincipalId
    identityPrincipalId: identity.outputs.principalId
    secretFallback: !empty(clientSecretName)
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
    purgeProtection: keyVaultPurgeProtection
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionApp'
  scope: rg
  params: {
    name: 'func-t2t-${resourceToken}'
    location: location
    tags: tags
    hostingPlan: hostingPlan
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    queueBatchSize: queueBatchSize
    queueNewBatchThreshold: queueNewBatchThreshold
    graphWritesPerSecond: graphWritesPerSecond
    graphWriteBurst: graphWriteBurst
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    keyVaultName: keyVault.outputs.name
    keyVaultUri: keyVault.outputs.uri
    sourceTenantId: sourceTenantId
    targetTenantId: targetTenantId
    migrationClientId: appRegistration.outputs.appId
    clientSecretName: clientSecretName
    domainMap: domainMap
    powerPlatformMoves: powerPlatformMoves
    exchangeAdminApi: exchangeAdminApi
    exchangeScopeGroup: exchangeScopeGroup
    deltaSchedule: deltaSchedule
    deltaDeletions: deltaDeletions
  }
}

// azd stores these in the environment (.azure/<env>/.env); the hooks and docs/deploy.md use them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = targetTenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_URL string = keyVault.outputs.uri
output AZURE_EVENTGRID_SYSTEM_TOPIC string = storage.outputs.systemTopicName
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.appInsightsName
output AZURE_WORKBOOK_ID string = monitoring.outputs.workbookId
output T2T_SOURCE_TENANT_ID string = sourceTenantId
output T2T_TARGET_TENANT_ID string = targetTenantId
output T2T_CLIENT_ID string = appRegistration.outputs.appId
output T2T_GRAPH_WRITES_PER_SEC int = graphWritesPerSecond
output T2T_SOURCE_ADMIN_CONSENT_URL string = appRegistration.outputs.sourceAdminConsentUrl

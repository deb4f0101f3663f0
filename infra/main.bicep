// t2t infrastructure: placeholder until the infrastructure issue lands. It declares the parameters
// the function app's settings need so that code and infra share one contract; resources come later
// (storage account, Flex Consumption function app with a user-assigned managed identity, Key Vault,
// Application Insights, the multi-tenant app registration with its federated credential).
targetScope = 'resourceGroup'

@description('Azure region for all resources.')
param location string = resourceGroup().location

@description('Entra tenant id of the source (the tenant users move from).')
param sourceTenantId string

@description('Entra tenant id of the target (the tenant users move to).')
param targetTenantId string

output T2T_SOURCE_TENANT_ID string = sourceTenantId
output T2T_TARGET_TENANT_ID string = targetTenantId
output AZURE_LOCATION string = location

// Storage: one StorageV2 account with shared-key access disabled (every client uses Entra ID), holding
// every container, queue and table the code and the Functions host use, and the Event Grid system
// topic that feeds the WaveStart blob trigger. The infra contract tests (infra/contract_test.go)
// check these lists against the Go code and functions/*/function.json.

param resourceToken string
param location string
param tags object

@description('Principal id of the function app identity: data roles on blobs, queues and tables.')
param identityPrincipalId string

@description('Object id of the operator who uploads mappings and reads reports; empty for none.')
param operatorPrincipalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

// Flex Consumption reads the deployed package from this container.
var deploymentContainerName = 'app-package'

var containers = [
  'mappings' // uploads start waves (WaveStart blob trigger)
  'waves' // wave manifests, export snapshots, reports, MigrationState.json
  'delta' // DeltaSync: delta links, run reports, the run lease
  'azure-webjobs-hosts' // host locks, blob receipts, timer status
  'azure-webjobs-secrets' // host and function keys
  deploymentContainerName
]

var queues = [
  'steps' // StepRun
  'steps-poison' // StepPoison (maxDequeueCount exceeded)
  'progress' // ProgressSink
  'progress-poison' // the host moves failed progress events here
  'webjobs-blobtrigger-poison' // blobs WaveStart failed on maxDequeueCount times
]

var tables = [
  'ledger' // one entity per wave/phase/object
  'idmap' // source id -> target id per migration and type
  'chunks' // chunk completion facts
]

var identityRoles = [
  'Storage Blob Data Owner' // the host takes blob leases (locks) and manages receipts
  'Storage Queue Data Contributor'
  'Storage Table Data Contributor'
]

var operatorRoles = [
  'Storage Blob Data Contributor' // upload mappings, read reports and state
  'Storage Table Data Reader' // read the ledger for reports
]

module account 'br/public:avm/res/storage/storage-account:0.33.0' = {
  name: 'storageAccount'
  params: {
    name: 'stt2t${resourceToken}'
    location: location
    tags: tags
    kind: 'StorageV2'
    skuName: 'Standard_LRS'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    blobServices: {
      deleteRetentionPolicyEnabled: true
      deleteRetentionPolicyDays: 7
      containerDeleteRetentionPolicyEnabled: true
      containerDeleteRetentionPolicyDays: 7
      containers: [for name in containers: { name: name }]
    }
    queueServices: {
      queues: [for name in queues: { name: name }]
    }
    tableServices: {
      tables: [for name in tables: { name: name }]
    }
    roleAssignments: concat(
      map(identityRoles, role => {
        roleDefinitionIdOrName: role
        principalId: identityPrincipalId
        principalType: 'ServicePrincipal'
      }),
      empty(operatorPrincipalId) ? [] : map(operatorRoles, role => {
        roleDefinitionIdOrName: role
        principalId: operatorPrincipalId
        principalType: operatorPrincipalType
      })
    )
  }
}

// Blob events of the account; the subscription for WaveStart is added after deployment
// (../eventgrid-subscription.bicep) because its webhook needs the blob extension's system key.
resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: 'evgt-t2t-${resourceToken}'
  location: location
  tags: tags
  properties: {
    source: account.outputs.resourceId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output name string = account.outputs.name
output resourceId string = account.outputs.resourceId
output deploymentContainerName string = deploymentContainerName
output systemTopicName string = systemTopic.name

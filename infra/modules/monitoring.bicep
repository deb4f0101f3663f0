// Monitoring: a Log Analytics workspace, workspace-based Application Insights (local auth off: the
// function app's identity publishes with Entra ID), and the t2t workbook (../workbook.json), which
// charts waves, phases, failures and throttling from the handler's log fields (shared/logfields).

param resourceToken string
param location string
param tags object

@description('Principal id of the function app identity; it gets Monitoring Metrics Publisher on Application Insights.')
param identityPrincipalId string

module workspace 'br/public:avm/res/operational-insights/workspace:0.16.1' = {
  name: 'workspace'
  params: {
    name: 'log-t2t-${resourceToken}'
    location: location
    tags: tags
    skuName: 'PerGB2018'
    dataRetention: 30
  }
}

module appInsights 'br/public:avm/res/insights/component:0.8.0' = {
  name: 'appInsights'
  params: {
    name: 'appi-t2t-${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: workspace.outputs.resourceId
    retentionInDays: 30
    disableLocalAuth: true
    roleAssignments: [
      {
        roleDefinitionIdOrName: 'Monitoring Metrics Publisher'
        principalId: identityPrincipalId
        principalType: 'ServicePrincipal'
      }
    ]
  }
}

// The workbook's queries run against Application Insights; fallbackResourceIds names it for portal
// links opened outside the resource.
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, 't2t-migration-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 't2t migration'
    category: 'workbook'
    sourceId: appInsights.outputs.resourceId
    serializedData: replace(loadTextContent('../workbook.json'), '__APP_INSIGHTS_RESOURCE_ID__', appInsights.outputs.resourceId)
  }
}

output appInsightsName string = appInsights.outputs.name
output appInsightsConnectionString string = appInsights.outputs.connectionString
output workbookId string = workbook.id

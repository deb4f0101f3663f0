// The Event Grid subscription that delivers `mappings` uploads to WaveStart (its function.json
// declares "source": "EventGrid", the only blob trigger source on Flex Consumption). Deployed by
// hooks/postdeploy.sh after the code is deployed: the webhook URL carries the blob extension's system
// key, which the host creates when it first indexes the blob trigger.
targetScope = 'resourceGroup'

@description('Name of the function app (AZURE_FUNCTION_APP_NAME).')
param functionAppName string

@description('Name of the storage account\'s Event Grid system topic (AZURE_EVENTGRID_SYSTEM_TOPIC).')
param systemTopicName string

@description('The blob-triggered function and the container it watches (functions/WaveStart/function.json).')
param functionName string = 'WaveStart'
param containerName string = 'mappings'

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

var blobsExtensionKey = listKeys('${site.id}/host/default', '2024-04-01').systemKeys.blobs_extension

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: systemTopic
  name: toLower('${functionName}-${containerName}')
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${site.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'
      }
    }
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      subjectBeginsWith: '/blobServices/default/containers/${containerName}/'
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output subscriptionName string = subscription.name

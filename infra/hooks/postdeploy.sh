#!/bin/sh
# azd postdeploy hook: once the code is deployed, subscribe WaveStart to blob uploads in `mappings`
# (eventgrid-subscription.bicep). The webhook needs the blob extension's system key, which the host
# creates when it first starts with the blob trigger, so wait for it. Needs the Azure CLI, signed in
# to the same tenant and subscription as azd (`az login`). Safe to run again.
set -eu

: "${AZURE_RESOURCE_GROUP:?run through azd (azd deploy / azd up)}"
: "${AZURE_FUNCTION_APP_NAME:?}"
: "${AZURE_EVENTGRID_SYSTEM_TOPIC:?}"

host=$(az functionapp show -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" --query defaultHostName -o tsv)
echo "waiting for the blob extension key of $AZURE_FUNCTION_APP_NAME ..."
tries=0
until key=$(az functionapp keys list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
  --query systemKeys.blobs_extension -o tsv 2>/dev/null) && [ -n "$key" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 30 ]; then
    echo "the blob extension key did not appear; check that the app started (Log stream), then run: sh infra/hooks/postdeploy.sh" >&2
    exit 1
  fi
  # A request wakes a scaled-to-zero app so that the host starts and indexes its functions.
  curl -s -o /dev/null "https://$host/" || true
  sleep 10
done

az deployment group create -g "$AZURE_RESOURCE_GROUP" -n t2t-eventgrid-subscription \
  -f "$(dirname "$0")/../eventgrid-subscription.bicep" \
  -p functionAppName="$AZURE_FUNCTION_APP_NAME" systemTopicName="$AZURE_EVENTGRID_SYSTEM_TOPIC" \
  --query properties.outputs -o json

echo
echo "Source tenant admin consent (once, by a Global or Privileged Role Administrator of the source tenant):"
echo "  ${T2T_SOURCE_ADMIN_CONSENT_URL:-see the T2T_SOURCE_ADMIN_CONSENT_URL output of azd provision}"

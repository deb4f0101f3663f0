// Package infra holds the Bicep that `azd up` deploys (main.bicep, modules/, eventgrid-subscription.bicep)
// and, in its tests, the contract between that infrastructure and the code:
//
//   - every .bicep file parses with tree-sitter-bicep (tools/bicep), without ERROR or MISSING nodes;
//   - every app setting the handler's Go code or function.json reads is set by modules/functionapp.bicep;
//   - every container, queue and table named in code or function.json is created by modules/storage.bicep;
//   - the app registration requests exactly shared/permissions (graph-permissions.json is generated
//     from it) and grants the target set in the target tenant;
//   - host.json and functions/*/function.json agree with the handler's routes and bindings, and each
//     Event Grid blob trigger has its subscription;
//   - the workbook (workbook.json) queries only the log fields of shared/logfields;
//   - maximum instances x per-instance Graph write pace stays within Graph's write quota.
//
// There is no Go code to import here; the package exists for its tests.
package infra

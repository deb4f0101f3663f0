package infra

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"t2t/shared/permissions"
)

var update = flag.Bool("update", false, "rewrite generated files (graph-permissions.json) from the code")

const permissionsFile = "graph-permissions.json"

// permissionsJSON renders shared/permissions as the file modules/appregistration.bicep loads.
func permissionsJSON(t *testing.T) []byte {
	t.Helper()
	doc := map[string]any{
		"$comment":   "Generated from shared/permissions by `go test ./infra -run TestGraphPermissionsFile -update`; edit shared/permissions, not this file.",
		"graphAppId": permissions.GraphAppID,
		"source":     permissions.Source(),
		"target":     permissions.Target(),
		"all":        permissions.All(),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGraphPermissionsFile: the permission list Bicep deploys is shared/permissions, byte for byte.
func TestGraphPermissionsFile(t *testing.T) {
	want := permissionsJSON(t)
	if *update {
		if err := os.WriteFile(permissionsFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(permissionsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("infra/%s differs from shared/permissions; run: go test ./infra -run TestGraphPermissionsFile -update", permissionsFile)
	}
}

// TestAppRegistrationGrantsExactlyTheNeededPermissions: the app requests every permission the code
// needs in either tenant and nothing else (requiredResourceAccess over permissions.all, as
// application permissions), is multi-tenant, and is granted exactly the target set in the target
// tenant; its federated credential trusts the managed identity with Entra's issuer and audience.
func TestAppRegistrationGrantsExactlyTheNeededPermissions(t *testing.T) {
	f := infra(t, "modules/appregistration.bicep")
	if len(f.Extensions) != 1 || f.Extensions[0] != "microsoftGraphV1" {
		t.Errorf("extensions %v, want [microsoftGraphV1] (infra/bicepconfig.json)", f.Extensions)
	}
	perms := f.declaration("variable_declaration", "permissions")
	if perms == nil || perms.value().Text != "loadJsonContent('../"+permissionsFile+"')" {
		t.Fatalf("var permissions must be loadJsonContent('../%s')", permissionsFile)
	}

	app := f.find("resource_declaration", "Microsoft.Graph/applications@")
	grants := f.find("resource_declaration", "Microsoft.Graph/appRoleAssignedTo@")
	fic := f.find("resource_declaration", "federatedIdentityCredentials@")
	if app == nil || grants == nil || fic == nil {
		t.Fatal("appregistration.bicep needs an application, its federatedIdentityCredentials and appRoleAssignedTo grants")
	}
	body := app.body()
	if v, _ := body.prop("signInAudience").stringValue(); v != "AzureADMultipleOrgs" {
		t.Errorf("signInAudience %q, want AzureADMultipleOrgs", v)
	}
	rra := body.prop("requiredResourceAccess")
	if rra == nil || len(rra.Children) != 1 {
		t.Fatalf("requiredResourceAccess must name one resource (Microsoft Graph): %v", rra)
	}
	graph := rra.Children[0]
	if graph.prop("resourceAppId").Text != "permissions.graphAppId" {
		t.Errorf("resourceAppId %q, want permissions.graphAppId", graph.prop("resourceAppId").Text)
	}
	access := graph.prop("resourceAccess")
	if access.Type != "for_statement" || access.forIterable().Text != "permissions.all" {
		t.Errorf("resourceAccess must loop over permissions.all: %s", access.Text)
	}
	if typ, _ := access.forBody().prop("type").stringValue(); typ != "Role" {
		t.Errorf("resourceAccess type %q, want Role (application permissions)", typ)
	}
	if l := grants.loop(); l == nil || l.forIterable().Text != "permissions.target" {
		t.Errorf("appRoleAssignedTo must loop over permissions.target")
	}

	ficBody := fic.body()
	if aud := ficBody.prop("audiences"); aud == nil || f.stringValues(t, aud)[0] != "api://AzureADTokenExchange" || len(aud.Children) != 1 {
		t.Errorf("federated credential audiences must be [api://AzureADTokenExchange]")
	}
	if s := ficBody.prop("subject"); s == nil || s.Leaf != "managedIdentityPrincipalId" {
		t.Errorf("federated credential subject must be the managed identity's principal id")
	}
	issuer := f.declaration("variable_declaration", "federationIssuer")
	if issuer == nil || ficBody.prop("issuer").Leaf != "federationIssuer" ||
		issuer.value().Text != "'${loginEndpoint}${tenant().tenantId}/v2.0'" {
		t.Errorf("federated credential issuer must be the deployment tenant's v2.0 issuer")
	}
	if out := f.declaration("output_declaration", "sourceAdminConsentUrl"); out == nil ||
		!strings.Contains(out.value().Text, "${sourceTenantId}/adminconsent?client_id=${app.appId}") {
		t.Errorf("output sourceAdminConsentUrl must be the source tenant's admin consent URL for the app")
	}
}

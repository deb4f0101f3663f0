package conformance_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// graphClient builds a Graph client the way the pipeline does: azidentity credential, kiota Azure
// identity provider with the simulator host allowed, Graph middleware over a transport trusting the CA.
func graphClient(t *testing.T, srv *simulator.Server, tenant, clientID, secret string) (*msgraphsdk.GraphServiceClient, *msgraphsdk.GraphRequestAdapter) {
	t.Helper()
	cred := simtest.Credential(t, srv, tenant, clientID, secret)
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{simtest.GraphScope}, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	middleware := msgraphcore.GetDefaultMiddlewaresWithOptions(&msgraphcore.GraphClientOptions{})
	httpClient := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(srv.Transport(), middleware...)}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(srv.URLs().GraphURL + "/v1.0")
	return msgraphsdk.NewGraphServiceClient(adapter), adapter
}

func ptr[T any](v T) *T { return &v }

// odataError asserts err is the SDK's OData error with the given status and code.
func odataError(t *testing.T, err error, status int, code string) *odataerrors.ODataError {
	t.Helper()
	var oerr *odataerrors.ODataError
	if !errors.As(err, &oerr) {
		t.Fatalf("error %v (%T) is not an ODataError", err, err)
	}
	if oerr.ResponseStatusCode != status || oerr.GetErrorEscaped() == nil || *oerr.GetErrorEscaped().GetCode() != code {
		t.Fatalf("got %d %v, want %d %s", oerr.ResponseStatusCode, oerr.Error(), status, code)
	}
	return oerr
}

func newUser(upn, password string) models.Userable {
	local, _, _ := strings.Cut(upn, "@")
	u := models.NewUser()
	u.SetAccountEnabled(ptr(true))
	u.SetDisplayName(ptr("Conformance " + local))
	u.SetMailNickname(ptr(local))
	u.SetUserPrincipalName(ptr(upn))
	u.SetUsageLocation(ptr("FR"))
	pp := models.NewPasswordProfile()
	pp.SetPassword(ptr(password))
	pp.SetForceChangePasswordNextSignIn(ptr(true))
	u.SetPasswordProfile(pp)
	return u
}

func TestTokenAcquisition(t *testing.T) {
	srv := simtest.Start(t, nil, nil)
	ctx := context.Background()
	for _, tenant := range []string{simtest.FabrikamID, simtest.FabrikamDomain} {
		cred := simtest.Credential(t, srv, tenant, simtest.MigratorID, simtest.MigratorSecret)
		for _, scope := range []string{simtest.GraphScope, simtest.VaultScope} {
			tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
			if err != nil || tok.Token == "" || tok.ExpiresOn.IsZero() {
				t.Fatalf("%s %s: %v", tenant, scope, err)
			}
		}
	}
	bad := simtest.Credential(t, srv, simtest.FabrikamID, simtest.MigratorID, "wrong secret")
	_, err := bad.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{simtest.GraphScope}})
	var authErr *azidentity.AuthenticationFailedError
	if !errors.As(err, &authErr) || authErr.RawResponse == nil || authErr.RawResponse.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("bad secret: %v", err)
	}
}

func TestListUsersWithPageIterator(t *testing.T) {
	srv := simtest.Start(t, nil, nil)
	client, adapter := graphClient(t, srv, simtest.ContosoID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()
	first, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr(int32(40)), Select: []string{"id", "displayName", "accountEnabled"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	it, err := msgraphcore.NewPageIterator[models.Userable](first, adapter, models.CreateUserCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	disabled := 0
	err = it.Iterate(ctx, func(u models.Userable) bool {
		seen[*u.GetId()] = true
		if u.GetAccountEnabled() != nil && !*u.GetAccountEnabled() {
			disabled++
		}
		return true
	})
	if err != nil || len(seen) != simtest.ContosoUsers || disabled == 0 {
		t.Fatalf("iterated %d users (%d disabled): %v", len(seen), disabled, err)
	}
}

func TestGetUserByUPNAndFilter(t *testing.T) {
	srv := simtest.Start(t, nil, nil)
	client, _ := graphClient(t, srv, simtest.ContosoID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()
	page, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr(int32(1))},
	})
	if err != nil {
		t.Fatal(err)
	}
	upn := *page.GetValue()[0].GetUserPrincipalName()
	u, err := client.Users().ByUserId(upn).Get(ctx, nil)
	if err != nil || *u.GetUserPrincipalName() != upn {
		t.Fatalf("get by UPN %s: %v", upn, err)
	}
	filtered, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: ptr("userPrincipalName eq '" + strings.ReplaceAll(upn, "'", "''") + "'")},
	})
	if err != nil || len(filtered.GetValue()) != 1 {
		t.Fatalf("filter by UPN: %v", err)
	}
	_, err = client.Users().ByUserId("nobody@contoso.example").Get(ctx, nil)
	odataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")
}

func TestCreateUserConflictAndValidation(t *testing.T) {
	srv := simtest.Start(t, nil, nil)
	client, _ := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()
	created, err := client.Users().Post(ctx, newUser("ana.lopez@fabrikam.example", "Xq7!long-enough"), nil)
	if err != nil || created.GetId() == nil {
		t.Fatalf("create: %v", err)
	}
	_, err = client.Users().Post(ctx, newUser("ana.lopez@fabrikam.example", "Xq7!long-enough"), nil)
	oerr := odataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	details := oerr.GetErrorEscaped().GetDetails()
	if len(details) != 1 || *details[0].GetTarget() != "userPrincipalName" || *details[0].GetCode() != "ObjectConflict" {
		t.Fatalf("conflict details %v", details)
	}
	_, err = client.Users().Post(ctx, newUser("someone@unverified.example", "Xq7!long-enough"), nil)
	oerr = odataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	if !strings.Contains(*oerr.GetErrorEscaped().GetMessage(), "verified domain") {
		t.Errorf("unverified domain message %q", *oerr.GetErrorEscaped().GetMessage())
	}
	_, err = client.Users().Post(ctx, newUser("weak@fabrikam.example", "password"), nil)
	odataError(t, err, http.StatusBadRequest, "Request_BadRequest")

	patch := models.NewUser()
	patch.SetJobTitle(ptr("Cutover lead"))
	if _, err := client.Users().ByUserId(*created.GetId()).Patch(ctx, patch, nil); err != nil {
		t.Fatalf("patch: %v", err)
	}
	if err := client.Users().ByUserId(*created.GetId()).Delete(ctx, nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = client.Users().ByUserId(*created.GetId()).Get(ctx, nil)
	odataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")
}

func TestForbiddenAndTenantIsolation(t *testing.T) {
	srv := simtest.Start(t, nil, nil)
	ctx := context.Background()
	reader, _ := graphClient(t, srv, simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret)
	_, err := reader.Users().Post(ctx, newUser("denied@fabrikam.example", "Xq7!long-enough"), nil)
	oerr := odataError(t, err, http.StatusForbidden, "Authorization_RequestDenied")
	if *oerr.GetErrorEscaped().GetMessage() != "Insufficient privileges to complete the operation." {
		t.Errorf("403 message %q", *oerr.GetErrorEscaped().GetMessage())
	}
	source, _ := graphClient(t, srv, simtest.ContosoID, simtest.MigratorID, simtest.MigratorSecret)
	page, err := source.Users().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	_, err = target.Users().ByUserId(*page.GetValue()[0].GetId()).Get(ctx, nil)
	odataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")
}

func TestDomainsThroughSDK(t *testing.T) {
	srv := simtest.Start(t, nil, nil)
	client, _ := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	resp, err := client.Domains().Get(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	verified := map[string]bool{}
	for _, d := range resp.GetValue() {
		verified[*d.GetId()] = *d.GetIsVerified()
	}
	if !verified[simtest.FabrikamDomain] || verified[simtest.UnverifiedInFab] || len(verified) != 3 {
		t.Errorf("domains %v", verified)
	}
}

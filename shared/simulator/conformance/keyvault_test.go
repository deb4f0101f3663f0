package conformance_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

func secretsClient(t *testing.T, srv *simulator.Server, clientID, secret string) *azsecrets.Client {
	t.Helper()
	cred := simtest.Credential(t, srv, simtest.FabrikamID, clientID, secret)
	c, err := azsecrets.NewClient(srv.URLs().VaultURL, cred, &azsecrets.ClientOptions{
		ClientOptions:                        simtest.ClientOptions(srv),
		DisableChallengeResourceVerification: true, // the challenge names vault.azure.net, not 127.0.0.1
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestKeyVaultRoundTrip(t *testing.T) {
	srv := simtest.Start(t, nil, nil)
	ctx := context.Background()
	kv := secretsClient(t, srv, simtest.MigratorID, simtest.MigratorSecret)
	set, err := kv.SetSecret(ctx, "temp-password-ana", azsecrets.SetSecretParameters{Value: ptr("first"), ContentType: ptr("password")}, nil)
	if err != nil {
		t.Fatalf("set: %v", err)
	}
	v1 := set.ID.Version()
	if _, err := kv.SetSecret(ctx, "temp-password-ana", azsecrets.SetSecretParameters{Value: ptr("second")}, nil); err != nil {
		t.Fatalf("set again: %v", err)
	}
	latest, err := kv.GetSecret(ctx, "temp-password-ana", "", nil)
	if err != nil || *latest.Value != "second" || latest.ID.Name() != "temp-password-ana" {
		t.Fatalf("get latest: %v %v", err, latest.Value)
	}
	old, err := kv.GetSecret(ctx, "temp-password-ana", v1, nil)
	if err != nil || *old.Value != "first" {
		t.Fatalf("get version %s: %v", v1, err)
	}
	pager := kv.NewListSecretPropertiesPager(nil)
	names := 0
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names += len(page.Value)
	}
	if names != 1 {
		t.Errorf("listed %d secrets", names)
	}
	if _, err := kv.DeleteSecret(ctx, "temp-password-ana", nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = kv.GetSecret(ctx, "temp-password-ana", "", nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound || re.ErrorCode != "SecretNotFound" {
		t.Fatalf("get after delete: %v", err)
	}

	reader := secretsClient(t, srv, simtest.ReaderID, simtest.ReaderSecret)
	_, err = reader.SetSecret(ctx, "nope", azsecrets.SetSecretParameters{Value: ptr("x")}, nil)
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		t.Fatalf("reader set: %v", err)
	}
}

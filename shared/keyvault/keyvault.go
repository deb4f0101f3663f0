// Package keyvault keeps secrets t2t produces (temporary passwords of created users) in Azure Key
// Vault through azsecrets. Values are never logged; errors name the secret, never its value.
package keyvault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"t2t/shared/graph"
)

// ErrNotFound is wrapped by Get when the secret does not exist.
var ErrNotFound = errors.New("secret not found")

// Vault writes secrets to one Key Vault.
type Vault struct {
	client *azsecrets.Client
}

// New connects to the vault at vaultURL with the app's credential in tenantID (client secret locally,
// federated managed identity in Azure). Against a local vault (any URL not under vault.azure.net) the
// challenge resource check is off, since its host is not a Key Vault domain.
func New(cfg graph.Config, vaultURL, tenantID string) (*Vault, error) {
	base, err := graph.BaseTransport(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	cred, err := graph.NewCredential(cfg, tenantID, base)
	if err != nil {
		return nil, err
	}
	client, err := azsecrets.NewClient(vaultURL, cred, &azsecrets.ClientOptions{
		ClientOptions:                        azcore.ClientOptions{Transport: &http.Client{Transport: base}},
		DisableChallengeResourceVerification: !strings.Contains(vaultURL, ".vault.azure.net"),
	})
	if err != nil {
		return nil, fmt.Errorf("key vault client for %s: %w", vaultURL, err)
	}
	return &Vault{client: client}, nil
}

// Put stores value as a new version of the secret name.
func (v *Vault) Put(ctx context.Context, name, value string) error {
	contentType := "t2t/temporary-password"
	_, err := v.client.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: &value, ContentType: &contentType}, nil)
	if err != nil {
		return fmt.Errorf("setting secret %s: %w", name, err)
	}
	return nil
}

// Get reads the latest version of a secret (used by the CLI to hand a temporary password to an
// administrator, and by tests).
func (v *Vault) Get(ctx context.Context, name string) (string, error) {
	resp, err := v.client.GetSecret(ctx, name, "", nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == 404 {
		return "", fmt.Errorf("getting secret %s: %w: %w", name, ErrNotFound, err)
	}
	if err != nil {
		return "", fmt.Errorf("getting secret %s: %w", name, err)
	}
	if resp.Value == nil {
		return "", fmt.Errorf("secret %s has no value", name)
	}
	return *resp.Value, nil
}

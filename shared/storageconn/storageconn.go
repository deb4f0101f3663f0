// Package storageconn resolves a storage connection the way the Azure Functions host resolves the
// connection named in function.json: either a connection string in the app setting <name> (locally:
// Azurite), or an identity-based connection in <name>__accountName (or <name>__blobServiceUri,
// __queueServiceUri, __tableServiceUri) with <name>__credential=managedidentity and <name>__clientId
// (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
// In Azure, infra/ sets the identity-based form: the storage account has shared-key access disabled,
// so no connection string exists. It builds blob, queue and table clients for either form.
package storageconn

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

// Conn is one resolved storage connection: a connection string, or service URLs reached with a
// managed identity.
type Conn struct {
	// ConnectionString is set for a connection-string connection; the URLs are then empty.
	ConnectionString string
	// BlobURL, QueueURL and TableURL are the service endpoints of an identity-based connection.
	BlobURL, QueueURL, TableURL string
	// ClientID names the user-assigned managed identity (<name>__clientId); empty means the
	// system-assigned identity.
	ClientID string
}

// ErrNotConfigured reports that neither form of the connection is set.
var ErrNotConfigured = errors.New("storage connection is not configured")

// FromEnv resolves connection name (e.g. "AzureWebJobsStorage") with lookup (os.LookupEnv, or a map
// in tests). A connection string wins, as in the host.
func FromEnv(name string, lookup func(string) (string, bool)) (Conn, error) {
	get := func(suffix string) string {
		v, _ := lookup(name + suffix)
		return strings.TrimSpace(v)
	}
	if cs := get(""); cs != "" {
		return Conn{ConnectionString: cs}, nil
	}
	c := Conn{BlobURL: get("__blobServiceUri"), QueueURL: get("__queueServiceUri"), TableURL: get("__tableServiceUri"),
		ClientID: get("__clientId")}
	if c.BlobURL == "" {
		c.BlobURL = get("__serviceUri") // the blob-only form
	}
	if account := get("__accountName"); account != "" {
		c.BlobURL = orDefault(c.BlobURL, "https://"+account+".blob.core.windows.net")
		c.QueueURL = orDefault(c.QueueURL, "https://"+account+".queue.core.windows.net")
		c.TableURL = orDefault(c.TableURL, "https://"+account+".table.core.windows.net")
	}
	if c.BlobURL == "" && c.QueueURL == "" && c.TableURL == "" {
		return Conn{}, fmt.Errorf("%w: set %s (connection string) or %s__accountName", ErrNotConfigured, name, name)
	}
	if cred := get("__credential"); cred != "" && !strings.EqualFold(cred, "managedidentity") {
		return Conn{}, fmt.Errorf("%s__credential=%q: only managedidentity is supported", name, cred)
	}
	return c, nil
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// Identity reports whether c is an identity-based connection.
func (c Conn) Identity() bool { return c.ConnectionString == "" }

// Credential returns the managed identity credential of an identity-based connection.
func (c Conn) Credential(transport *http.Client) (azcore.TokenCredential, error) {
	opts := &azidentity.ManagedIdentityCredentialOptions{}
	if transport != nil {
		opts.ClientOptions = azcore.ClientOptions{Transport: transport}
	}
	if c.ClientID != "" {
		opts.ID = azidentity.ClientID(c.ClientID)
	}
	cred, err := azidentity.NewManagedIdentityCredential(opts)
	if err != nil {
		return nil, fmt.Errorf("storage managed identity: %w", err)
	}
	return cred, nil
}

// Clients are the service clients of one connection.
type Clients struct {
	Blob  *azblob.Client
	Queue *azqueue.ServiceClient
	Table *aztables.ServiceClient
}

// Clients builds the blob, queue and table clients of c; cred authenticates an identity-based
// connection (nil means c.Credential(nil)) and is ignored for a connection string.
func (c Conn) Clients(cred azcore.TokenCredential) (*Clients, error) {
	var out Clients
	var err error
	if !c.Identity() {
		if out.Blob, err = azblob.NewClientFromConnectionString(c.ConnectionString, nil); err != nil {
			return nil, fmt.Errorf("blob client: %w", err)
		}
		if out.Queue, err = azqueue.NewServiceClientFromConnectionString(c.ConnectionString, nil); err != nil {
			return nil, fmt.Errorf("queue client: %w", err)
		}
		if out.Table, err = aztables.NewServiceClientFromConnectionString(c.ConnectionString, nil); err != nil {
			return nil, fmt.Errorf("table client: %w", err)
		}
		return &out, nil
	}
	if cred == nil {
		if cred, err = c.Credential(nil); err != nil {
			return nil, err
		}
	}
	if c.BlobURL != "" {
		if out.Blob, err = azblob.NewClient(c.BlobURL, cred, nil); err != nil {
			return nil, fmt.Errorf("blob client: %w", err)
		}
	}
	if c.QueueURL != "" {
		if out.Queue, err = azqueue.NewServiceClient(c.QueueURL, cred, nil); err != nil {
			return nil, fmt.Errorf("queue client: %w", err)
		}
	}
	if c.TableURL != "" {
		if out.Table, err = aztables.NewServiceClient(c.TableURL, cred, nil); err != nil {
			return nil, fmt.Errorf("table client: %w", err)
		}
	}
	return &out, nil
}

// IsAuthError reports whether err is storage refusing the request's credential (401, 403) or the
// credential failing to get a token, so that a caller can tell "not allowed" from "not there".
func IsAuthError(err error) bool {
	var re *azcore.ResponseError
	if errors.As(err, &re) && (re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden) {
		return true
	}
	var authFailed *azidentity.AuthenticationFailedError
	var unavailable interface{ NonRetriable() }
	return errors.As(err, &authFailed) || errors.As(err, &unavailable)
}

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/pflag"

	"t2t/shared/state"
	"t2t/shared/storageconn"
)

// connectionName is the app setting (and environment variable) the function app and the CLI read.
const connectionName = "AzureWebJobsStorage"

// storageFlags say which storage account the CLI works in.
type storageFlags struct {
	connString          string
	accountURL          string
	queueURL, tableURL  string
	noInstanceDiscovery bool
}

func (s *storageFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.connString, "storage", "", "storage connection string (default: $"+connectionName+")")
	fs.StringVar(&s.accountURL, "account-url", "",
		"storage account blob endpoint, e.g. https://ACCOUNT.blob.core.windows.net, reached with DefaultAzureCredential\n"+
			"(default: $"+connectionName+"__blobServiceUri or __accountName)")
	fs.StringVar(&s.queueURL, "queue-url", "", "queue endpoint of --account-url (default: $"+connectionName+"__queueServiceUri, or derived from a *.blob.* host)")
	fs.StringVar(&s.tableURL, "table-url", "", "table endpoint of --account-url (default: $"+connectionName+"__tableServiceUri, or derived from a *.blob.* host)")
	fs.BoolVar(&s.noInstanceDiscovery, "disable-instance-discovery", false,
		"skip Microsoft Entra instance discovery: only for private or disconnected clouds (AZURE_AUTHORITY_HOST)")
}

// conn resolves the storage connection: --storage, then --account-url, then the environment in the
// function app's own forms (storageconn: a connection string wins over the identity-based settings).
func (s *storageFlags) conn(lookupEnv func(string) (string, bool)) (storageconn.Conn, error) {
	if s.connString != "" {
		return storageconn.Conn{ConnectionString: s.connString}, nil
	}
	if s.accountURL != "" {
		env := func(k string) string { v, _ := lookupEnv(connectionName + k); return strings.TrimSpace(v) }
		c := storageconn.Conn{BlobURL: s.accountURL,
			QueueURL: cmp.Or(s.queueURL, env("__queueServiceUri"), sibling(s.accountURL, "queue")),
			TableURL: cmp.Or(s.tableURL, env("__tableServiceUri"), sibling(s.accountURL, "table"))}
		if c.QueueURL == "" || c.TableURL == "" {
			return c, usageErrorf("--account-url %s is not a *.blob.* host: pass --queue-url and --table-url too", s.accountURL)
		}
		return c, nil
	}
	c, err := storageconn.FromEnv(connectionName, lookupEnv)
	if errors.Is(err, storageconn.ErrNotConfigured) {
		return c, usageErrorf("no storage account: pass --storage (a connection string) or --account-url, or set %s", connectionName)
	}
	if err != nil {
		return c, withCode(exitUsage, err)
	}
	return c, nil
}

// sibling derives the queue or table endpoint of a blob endpoint on a *.blob.* host
// (https://acct.blob.core.windows.net -> https://acct.queue.core.windows.net); "" otherwise.
func sibling(blobURL, service string) string {
	u, err := url.Parse(blobURL)
	if err != nil {
		return ""
	}
	account, rest, ok := strings.Cut(u.Host, ".blob.")
	if !ok || account == "" {
		return ""
	}
	u.Host = account + "." + service + "." + rest
	return u.String()
}

// account is the opened storage account: clients for uploads and queues, and the state store.
type account struct {
	conn    storageconn.Conn
	clients *storageconn.Clients
	store   *state.Store
}

// open connects to the storage account. An identity-based connection authenticates with
// DefaultAzureCredential (environment, workload identity, managed identity, az and azd logins).
func (s *storageFlags) open(ctx context.Context, lookupEnv func(string) (string, bool)) (*account, error) {
	conn, err := s.conn(lookupEnv)
	if err != nil {
		return nil, err
	}
	var cred azcore.TokenCredential
	if conn.Identity() {
		// A user-assigned managed identity is chosen with AZURE_CLIENT_ID, as DefaultAzureCredential
		// documents; __clientId is the function app's setting, not the operator's.
		if cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			DisableInstanceDiscovery: s.noInstanceDiscovery,
		}); err != nil {
			return nil, withCode(exitAuth, fmt.Errorf("storage credential: %w", err))
		}
	}
	clients, err := conn.Clients(cred)
	if err != nil {
		return nil, err
	}
	store, err := state.OpenWith(ctx, conn, cred)
	if err != nil {
		return nil, describeStorageError(conn, err)
	}
	return &account{conn: conn, clients: clients, store: store}, nil
}

// describeStorageError says which account and credential a failure concerns.
func describeStorageError(conn storageconn.Conn, err error) error {
	if !storageconn.IsAuthError(err) {
		return fmt.Errorf("opening the storage account: %w", err)
	}
	if conn.Identity() {
		return withCode(exitAuth, fmt.Errorf("storage account %s refused DefaultAzureCredential, or it found no usable "+
			"credential (az login, AZURE_* environment, managed identity; the identity needs the Storage Blob, Queue "+
			"and Table Data Contributor roles): %w", conn.BlobURL, err))
	}
	return withCode(exitAuth, fmt.Errorf("the storage account refused the connection string's key: %w", err))
}

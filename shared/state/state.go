// Package state keeps a wave's state in Azure Storage: JSON documents in blob storage (manifest,
// export snapshots, reports, MigrationState.json) and per-object truth in Table storage (ledger, id
// map, chunk completion). Storage errors are translated here to ErrNotFound and ErrConflict; nothing
// above this package inspects azcore errors.
package state

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"t2t/shared/storageconn"
)

// Sentinels every backend operation translates its failures to.
var (
	// ErrNotFound: the document or entity does not exist.
	ErrNotFound = errors.New("state: not found")
	// ErrConflict: a conditional write lost (ETag changed, or the object already exists).
	ErrConflict = errors.New("state: conflicting write")
)

// Container and table names.
const (
	WavesContainer    = "waves"
	MappingsContainer = "mappings"
	LedgerTable       = "ledger"
	IDMapTable        = "idmap"
	ChunksTable       = "chunks"
)

// Store is the state of all waves in one storage account. It is safe for concurrent use.
type Store struct {
	waves  *container.Client
	delta  *container.Client // DeltaContainer (lease.go)
	ledger *aztables.Client
	idmap  *aztables.Client
	chunks *aztables.Client
}

var (
	ensured   sync.Map // connection string -> struct{}: containers and tables already created
	openMutex sync.Mutex
)

// Open connects to the storage account of a connection string (Azurite, locally) and makes sure
// the container and tables exist (once per process per account).
func Open(ctx context.Context, connStr string) (*Store, error) {
	return OpenConn(ctx, storageconn.Conn{ConnectionString: connStr})
}

// OpenConn connects to a resolved storage connection: a connection string, or the identity-based
// AzureWebJobsStorage__accountName/__credential/__clientId form a deployed app has (its storage
// account allows no shared key).
func OpenConn(ctx context.Context, c storageconn.Conn) (*Store, error) {
	return OpenWith(ctx, c, nil)
}

// OpenWith is OpenConn with the credential of an identity-based connection (the CLI's
// DefaultAzureCredential); nil means the connection's managed identity.
func OpenWith(ctx context.Context, c storageconn.Conn, cred azcore.TokenCredential) (*Store, error) {
	clients, err := c.Clients(cred)
	if err != nil {
		return nil, err
	}
	if clients.Blob == nil || clients.Table == nil {
		return nil, errors.New("the storage connection names no blob or table endpoint")
	}
	s := &Store{
		waves:  clients.Blob.ServiceClient().NewContainerClient(WavesContainer),
		delta:  clients.Blob.ServiceClient().NewContainerClient(DeltaContainer),
		ledger: clients.Table.NewClient(LedgerTable),
		idmap:  clients.Table.NewClient(IDMapTable),
		chunks: clients.Table.NewClient(ChunksTable),
	}
	key := c.ConnectionString + "|" + c.BlobURL
	openMutex.Lock()
	defer openMutex.Unlock()
	if _, ok := ensured.Load(key); ok {
		return s, nil
	}
	for name, c := range map[string]*container.Client{WavesContainer: s.waves, DeltaContainer: s.delta} {
		if _, err := c.Create(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			return nil, fmt.Errorf("creating container %s: %w", name, err)
		}
	}
	for _, t := range []*aztables.Client{s.ledger, s.idmap, s.chunks} {
		if _, err := t.CreateTable(ctx, nil); err != nil && !isTableExists(err) {
			return nil, fmt.Errorf("creating table: %w", err)
		}
	}
	ensured.Store(key, struct{}{})
	return s, nil
}

func isTableExists(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && (re.StatusCode == 409 || re.ErrorCode == string(aztables.TableAlreadyExists))
}

// translate maps storage errors to the package sentinels, keeping the original in the chain.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case 404:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		case 409, 412:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		}
	}
	return err
}

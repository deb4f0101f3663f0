package funchost

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

// developmentStorage is what UseDevelopmentStorage=true stands for: Azurite on its default ports with
// the well-known development account (a public constant published by Microsoft, not a secret). It is
// spelled out here rather than taken from shared/localstack so the host binary does not depend on the
// local-stack tooling.
const developmentStorage = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;" +
	"TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

// hostsContainer holds the host's own state: blob receipts and timer status.
const hostsContainer = "azure-webjobs-hosts"

// account is one storage account reached through a connection string.
type account struct {
	setting string // the setting name, for messages
	blob    *azblob.Client
	queue   *azqueue.ServiceClient

	mu         sync.Mutex
	queues     map[string]bool // queues known to exist
	containers map[string]bool // containers known to exist
}

// newAccount opens blob and queue clients. Explicit connection strings with BlobEndpoint and
// QueueEndpoint (what Azurite uses) and UseDevelopmentStorage=true (Azurite on its default ports) work.
func newAccount(setting, connStr string) (*account, error) {
	connStr = expandDevelopmentStorage(connStr)
	b, err := azblob.NewClientFromConnectionString(connStr, nil)
	if err != nil {
		return nil, fmt.Errorf("opening blob client: %w", err)
	}
	q, err := azqueue.NewServiceClientFromConnectionString(connStr, nil)
	if err != nil {
		return nil, fmt.Errorf("opening queue client: %w", err)
	}
	return &account{setting: setting, blob: b, queue: q, queues: map[string]bool{}, containers: map[string]bool{}}, nil
}

// expandDevelopmentStorage turns the UseDevelopmentStorage=true shortcut into Azurite's explicit
// connection string, which the Go SDKs do not understand by themselves.
func expandDevelopmentStorage(cs string) string {
	for _, part := range strings.Split(cs, ";") {
		k, v, _ := strings.Cut(part, "=")
		if strings.EqualFold(strings.TrimSpace(k), "UseDevelopmentStorage") && strings.EqualFold(strings.TrimSpace(v), "true") {
			return developmentStorage
		}
	}
	return cs
}

// queueClient returns a client for a queue, creating the queue on first use (the host creates trigger,
// output and poison queues when they are missing).
func (a *account) queueClient(ctx context.Context, name string) (*azqueue.QueueClient, error) {
	qc := a.queue.NewQueueClient(name)
	a.mu.Lock()
	known := a.queues[name]
	a.mu.Unlock()
	if known {
		return qc, nil
	}
	// Create answers 201, or 204 when the queue already exists with the same (no) metadata.
	if _, err := qc.Create(ctx, nil); err != nil {
		return nil, fmt.Errorf("creating queue %q: %w", name, err)
	}
	a.mu.Lock()
	a.queues[name] = true
	a.mu.Unlock()
	return qc, nil
}

// forgetQueue drops a queue from the cache, e.g. after it was deleted under the host.
func (a *account) forgetQueue(name string) {
	a.mu.Lock()
	delete(a.queues, name)
	a.mu.Unlock()
}

// containerClient returns a client for a container, creating it on first use.
func (a *account) containerClient(ctx context.Context, name string) (*container.Client, error) {
	cc := a.blob.ServiceClient().NewContainerClient(name)
	a.mu.Lock()
	known := a.containers[name]
	a.mu.Unlock()
	if known {
		return cc, nil
	}
	if _, err := cc.Create(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return nil, fmt.Errorf("creating container %q: %w", name, err)
	}
	a.mu.Lock()
	a.containers[name] = true
	a.mu.Unlock()
	return cc, nil
}

// enqueue puts one message on a queue, creating the queue if needed, encoded per host.json
// messageEncoding.
func (a *account) enqueue(ctx context.Context, queueName, text string, qs queueSettings) error {
	qc, err := a.queueClient(ctx, queueName)
	if err != nil {
		return err
	}
	if _, err := qc.EnqueueMessage(ctx, encodeMessage(text, qs), nil); err != nil {
		return fmt.Errorf("enqueueing on %q: %w", queueName, err)
	}
	return nil
}

// encodeMessage applies messageEncoding to an outgoing message.
func encodeMessage(text string, qs queueSettings) string {
	if qs.base64 {
		return base64.StdEncoding.EncodeToString([]byte(text))
	}
	return text
}

// decodeMessage reverses messageEncoding on a dequeued message.
func decodeMessage(raw string, qs queueSettings) (string, error) {
	if !qs.base64 {
		return raw, nil
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return "", fmt.Errorf("message is not base64 although host.json messageEncoding is base64: %w", err)
	}
	return string(b), nil
}

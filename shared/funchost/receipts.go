package funchost

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
)

// Receipt metadata. The real host marks a receipt "Incomplete" while it hands the blob over and removes
// the mark once done, under a lease so that two hosts never process the same version. It counts
// failures through the dequeue count of an internal queue (azure-webjobs-blobtrigger-<hostId>); the
// local host keeps that count, and the retry time, in the receipt's metadata instead.
const (
	metaIncomplete   = "Incomplete"
	metaFailureCount = "FailureCount"
	metaNotBefore    = "NotBefore"
	receiptLeaseSecs = 60
	leaseRenewEvery  = 20 * time.Second
)

// receiptName is where a blob version's receipt lives in azure-webjobs-hosts:
// blobreceipts/<hostId>/Host.Functions.<FunctionName>/"<etag>"/<container>/<blob>, the real host's layout
// (its function id is Host.Functions.<FunctionName>), so receipts written by either host are honoured
// by the other.
func receiptName(hostID, fn, etag, containerName, blobName string) string {
	return fmt.Sprintf("blobreceipts/%s/Host.Functions.%s/%s/%s/%s", hostID, fn, etag, containerName, blobName)
}

// receiptStore reads and writes receipts in the host's azure-webjobs-hosts container.
type receiptStore struct {
	cc *container.Client
}

// receiptClaim is the outcome of claiming a receipt. When neither complete nor busy, the caller holds
// the receipt's lease and must release it.
type receiptClaim struct {
	bc       *blockblob.Client
	lc       *lease.BlobClient
	complete bool // the version was processed (or poisoned) already
	busy     bool // another invocation holds it, or its retry time has not come
	failures int
	stop     chan struct{}
}

// claim creates the receipt if missing and takes its lease, unless the version is complete or busy.
func (s *receiptStore) claim(ctx context.Context, name string) (*receiptClaim, error) {
	c := &receiptClaim{bc: s.cc.NewBlockBlobClient(name)}
	props, err := c.properties(ctx)
	if err != nil || !c.open(props) {
		return c, err
	}
	if deref(props.LeaseState) == lease.StateTypeLeased {
		c.busy = true
		return c, nil
	}
	if c.lc, err = lease.NewBlobClient(c.bc, &lease.BlobClientOptions{LeaseID: ptr(newGUID())}); err != nil {
		return nil, fmt.Errorf("lease client: %w", err)
	}
	if _, err := c.lc.AcquireLease(ctx, receiptLeaseSecs, nil); err != nil {
		if bloberror.HasCode(err, bloberror.LeaseAlreadyPresent) {
			c.busy = true
			return c, nil
		}
		return nil, fmt.Errorf("leasing receipt: %w", err)
	}
	// Read again under the lease: another host may have finished between the first read and the lease.
	if props, err = c.bc.GetProperties(ctx, nil); err != nil || !c.open(props) {
		c.release(ctx)
		return c, err
	}
	c.stop = make(chan struct{})
	go c.renew(c.stop)
	return c, nil
}

// properties reads the receipt, creating it (marked Incomplete) when it does not exist.
func (c *receiptClaim) properties(ctx context.Context) (blob.GetPropertiesResponse, error) {
	props, err := c.bc.GetProperties(ctx, nil)
	if !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return props, err
	}
	any := azcore.ETagAny
	_, err = c.bc.UploadBuffer(ctx, nil, &blockblob.UploadBufferOptions{
		Metadata:         map[string]*string{metaIncomplete: ptr("true")},
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: &any}},
	})
	if err != nil && !bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet) {
		return props, fmt.Errorf("creating receipt: %w", err)
	}
	return c.bc.GetProperties(ctx, nil)
}

// open reads the receipt's metadata: it sets complete, busy (retry time not reached) and failures, and
// reports whether the version still needs processing now.
func (c *receiptClaim) open(props blob.GetPropertiesResponse) bool {
	if _, ok := metaGet(props.Metadata, metaIncomplete); !ok {
		c.complete = true
		return false
	}
	if s, ok := metaGet(props.Metadata, metaNotBefore); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && time.Now().Before(t) {
			c.busy = true
			return false
		}
	}
	if s, ok := metaGet(props.Metadata, metaFailureCount); ok {
		c.failures, _ = strconv.Atoi(s)
	}
	return true
}

// renew keeps the lease while the function runs.
func (c *receiptClaim) renew(stop <-chan struct{}) {
	t := time.NewTicker(leaseRenewEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			_, _ = c.lc.RenewLease(context.Background(), nil)
		}
	}
}

// markComplete removes the Incomplete mark: this version is never processed again by this function.
func (c *receiptClaim) markComplete(ctx context.Context) error {
	if err := c.setMetadata(ctx, map[string]*string{}); err != nil {
		return err
	}
	c.complete = true
	return nil
}

// markFailed records a failure and the time of the next attempt.
func (c *receiptClaim) markFailed(ctx context.Context, failures int, next time.Time) error {
	return c.setMetadata(ctx, map[string]*string{
		metaIncomplete:   ptr("true"),
		metaFailureCount: ptr(strconv.Itoa(failures)),
		metaNotBefore:    ptr(next.UTC().Format(time.RFC3339Nano)),
	})
}

func (c *receiptClaim) setMetadata(ctx context.Context, md map[string]*string) error {
	_, err := c.bc.SetMetadata(ctx, md, &blob.SetMetadataOptions{
		AccessConditions: &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: c.lc.LeaseID()}},
	})
	if err != nil {
		return fmt.Errorf("writing receipt: %w", err)
	}
	return nil
}

// release stops renewing and releases the lease; an expired lease is harmless.
func (c *receiptClaim) release(ctx context.Context) {
	if c.stop != nil {
		close(c.stop)
		c.stop = nil
	}
	if c.lc != nil {
		_, _ = c.lc.ReleaseLease(ctx, nil)
	}
}

// metaGet finds a metadata value; storage returns metadata names in whatever case it stores them.
func metaGet(md map[string]*string, key string) (string, bool) {
	for k, v := range md {
		if strings.EqualFold(k, key) {
			return deref(v), true
		}
	}
	return "", false
}

func ptr[T any](v T) *T { return &v }

package funchost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// blobPoisonQueue is where the real host reports blobs that failed maxDequeueCount times.
const blobPoisonQueue = "webjobs-blobtrigger-poison"

// blobListener runs one blob-triggered function.
//
// Detection: the real host learns of new blobs from Event Grid (source: EventGrid, the only choice on
// Flex Consumption) or from storage logs plus container scans. Locally the host stands in for Event
// Grid delivery by listing the container every Config.BlobScanInterval; the function sees the same
// invocation either way. Exactly-once per blob version uses the real host's receipts (below), so the
// detection method does not change what runs.
type blobListener struct {
	h        *Host
	fn       *function
	receipts *receiptStore
	sem      chan struct{} // bounds concurrent invocations (extensions.blobs.maxDegreeOfParallelism)

	mu       sync.Mutex
	inflight map[string]bool // receipt names being processed
	done     map[string]bool // receipt names known complete: no need to read them again
}

func newBlobListener(h *Host, fn *function, receipts *receiptStore) *blobListener {
	return &blobListener{
		h: h, fn: fn, receipts: receipts, sem: make(chan struct{}, h.app.host.blobParallelism),
		inflight: map[string]bool{}, done: map[string]bool{},
	}
}

// run scans the container until ctx ends.
func (l *blobListener) run(ctx context.Context) {
	for {
		l.scan(ctx)
		if !sleepCtx(ctx, l.h.cfg.BlobScanInterval) {
			return
		}
	}
}

// candidate is one listed blob version that matches the trigger path.
type candidate struct {
	name    string
	etag    string
	params  map[string]string
	receipt string
}

// scan lists the blobs under the pattern's prefix and starts each version without a complete receipt.
func (l *blobListener) scan(ctx context.Context) {
	p := l.fn.blob
	cc := l.fn.trigger.acct.blob.ServiceClient().NewContainerClient(p.container)
	pager := cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &p.prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			if ctx.Err() == nil && !bloberror.HasCode(err, bloberror.ContainerNotFound) {
				l.h.log.fnf(l.fn.name, "listing container %q: %v", p.container, err)
			}
			return
		}
		for _, item := range page.Segment.BlobItems {
			if c, ok := l.candidate(item); ok && !l.start(ctx, c) {
				return
			}
		}
	}
}

func (l *blobListener) candidate(item *container.BlobItem) (candidate, bool) {
	name := deref(item.Name)
	if item.Properties == nil || item.Properties.ETag == nil {
		return candidate{}, false
	}
	params, ok := l.fn.blob.match(name)
	if !ok {
		return candidate{}, false
	}
	etag := quoteETag(string(*item.Properties.ETag))
	return candidate{name: name, etag: etag, params: params,
		receipt: receiptName(l.h.app.hostID, l.fn.name, etag, l.fn.blob.container, name)}, true
}

// start launches processing of a candidate unless it is in flight or known done. It returns false when
// ctx ended while waiting for a free slot.
func (l *blobListener) start(ctx context.Context, c candidate) bool {
	l.mu.Lock()
	skip := l.inflight[c.receipt] || l.done[c.receipt]
	if !skip {
		l.inflight[c.receipt] = true
	}
	l.mu.Unlock()
	if skip {
		return true
	}
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		l.finish(c, false)
		return false
	}
	l.h.goWork(func(work context.Context) {
		defer func() { <-l.sem }()
		l.finish(c, l.process(work, c))
	})
	return true
}

func (l *blobListener) finish(c candidate, complete bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.inflight, c.receipt)
	if complete {
		l.done[c.receipt] = true
	}
}

// process claims the receipt, runs the function and records the outcome. It returns true when the
// receipt is complete (processed, poisoned, or the version is gone).
func (l *blobListener) process(ctx context.Context, c candidate) bool {
	claim, err := l.receipts.claim(ctx, c.receipt)
	if err != nil {
		l.h.log.fnf(l.fn.name, "blob receipt for %s: %v", c.name, err)
		return false
	}
	if claim.complete || claim.busy {
		return claim.complete
	}
	defer claim.release(context.WithoutCancel(ctx))
	inv, err := l.invocation(ctx, c)
	if errors.Is(err, errBlobChanged) {
		return true // this version is gone; the new one has its own ETag and receipt
	}
	if err == nil {
		_, err = l.h.invoke(ctx, inv)
	}
	if err == nil {
		return l.record(claim, c, claim.markComplete(ctx))
	}
	failures := claim.failures + 1
	if failures < l.h.app.host.queues.maxDequeueCount {
		next := time.Now().Add(l.h.app.host.queues.visibilityTimeout)
		return l.record(claim, c, claim.markFailed(ctx, failures, next))
	}
	l.h.log.fnf(l.fn.name, "blob %s/%s failed %d times; reporting it on %q", l.fn.blob.container, c.name, failures, blobPoisonQueue)
	if err := l.poison(ctx, c); err != nil {
		l.h.log.fnf(l.fn.name, "reporting poison blob %s: %v", c.name, err)
		return false
	}
	return l.record(claim, c, claim.markComplete(ctx))
}

// record logs a receipt write failure; it returns whether the receipt is now complete.
func (l *blobListener) record(claim *receiptClaim, c candidate, err error) bool {
	if err != nil {
		l.h.log.fnf(l.fn.name, "updating the receipt of %s: %v", c.name, err)
		return false
	}
	return claim.complete
}

// poison puts the real host's poison-blob message on webjobs-blobtrigger-poison, encoded per host.json
// so that a queue-triggered function can read it.
func (l *blobListener) poison(ctx context.Context, c candidate) error {
	msg := rawJSON(map[string]string{
		"Type": "blob", "FunctionId": l.fn.id(), "BlobType": "BlockBlob",
		"ContainerName": l.fn.blob.container, "BlobName": c.name, "ETag": c.etag,
	})
	acct, err := l.h.app.hostAccount()
	if err != nil {
		return err
	}
	return acct.enqueue(ctx, blobPoisonQueue, string(msg), l.h.app.host.queues)
}

// errBlobChanged means the listed version was overwritten or deleted before it was read.
var errBlobChanged = errors.New("blob changed since it was listed")

// invocation reads the blob version (If-Match its ETag) and builds the real host's request.
func (l *blobListener) invocation(ctx context.Context, c candidate) (*invocation, error) {
	cc := l.fn.trigger.acct.blob.ServiceClient().NewContainerClient(l.fn.blob.container)
	bc := cc.NewBlobClient(c.name)
	etag := azcore.ETag(c.etag)
	resp, err := bc.DownloadStream(ctx, &blob.DownloadStreamOptions{
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: &etag}},
	})
	if bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobNotFound) {
		return nil, errBlobChanged
	}
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", c.name, err)
	}
	defer resp.Body.Close()
	content, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", c.name, err)
	}
	return l.buildInvocation(c, bc.URL(), resp.DownloadResponse, content), nil
}

func (l *blobListener) buildInvocation(c candidate, uri string, r blob.DownloadResponse, content []byte) *invocation {
	b := l.fn.trigger
	data := metaString(string(content)) // dataType string or absent: text, encoded twice
	if strings.EqualFold(b.DataType, "binary") {
		data = rawJSON(content) // base64
	}
	meta := map[string]json.RawMessage{"Uri": metaString(uri)}
	bd := map[string]string{"BlobTrigger": l.fn.blob.container + "/" + c.name, "Uri": uri}
	for k, v := range c.params {
		meta[k] = metaString(v)
		bd[k] = v
	}
	props := map[string]any{
		"Length": len(content), "ContentType": deref(r.ContentType), "ETag": c.etag,
		"BlobType": string(deref(r.BlobType)), "ContentEncoding": deref(r.ContentEncoding),
		"LastModified": deref(r.LastModified).UTC().Format(time.RFC3339), "ContentMD5": r.ContentMD5,
	}
	if r.CreationTime != nil {
		props["CreatedOn"] = r.CreationTime.UTC().Format(time.RFC3339)
	}
	md := map[string]string{}
	for k, v := range r.Metadata {
		md[k] = deref(v)
	}
	meta["Properties"], meta["Metadata"] = rawJSON(props), rawJSON(md)
	return &invocation{
		fn: l.fn, reason: fmt.Sprintf("New blob detected(%s): %s/%s", sourceName(b), l.fn.blob.container, c.name),
		data: map[string]json.RawMessage{b.Name: data}, meta: meta, bindingData: bd,
	}
}

func sourceName(b *binding) string {
	if strings.EqualFold(b.Source, blobSourceEventGrid) {
		return blobSourceEventGrid
	}
	return blobSourceScan
}

// quoteETag renders an ETag the way response headers (and the real host) do: in double quotes. Blob
// listings return it bare.
func quoteETag(s string) string {
	if strings.HasPrefix(s, `"`) {
		return s
	}
	return `"` + s + `"`
}

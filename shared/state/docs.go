package state

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"t2t/shared/wave"
)

// ETag identifies one version of a document.
type ETag = azcore.ETag

// Cond is the precondition of a document write.
type Cond struct {
	// IfMatch writes only over this version; ErrConflict otherwise.
	IfMatch ETag
	// IfNoneExists creates only; ErrConflict if the document exists.
	IfNoneExists bool
}

// GetBytes reads a document of the waves container. ErrNotFound if absent.
func (s *Store) GetBytes(ctx context.Context, path string) ([]byte, ETag, error) {
	resp, err := s.waves.NewBlobClient(path).DownloadStream(ctx, nil)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", path, translate(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", path, err)
	}
	var etag ETag
	if resp.ETag != nil {
		etag = *resp.ETag
	}
	return data, etag, nil
}

// GetJSON reads a JSON document into v.
func (s *Store) GetJSON(ctx context.Context, path string, v any) (ETag, error) {
	data, etag, err := s.GetBytes(ctx, path)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return "", fmt.Errorf("decoding %s: %w", path, err)
	}
	return etag, nil
}

// PutBytes writes a document under cond and returns its new ETag. ErrConflict when cond fails.
func (s *Store) PutBytes(ctx context.Context, path string, data []byte, contentType string, cond Cond) (ETag, error) {
	mac := &blob.ModifiedAccessConditions{}
	if cond.IfMatch != "" {
		mac.IfMatch = &cond.IfMatch
	}
	if cond.IfNoneExists {
		anyTag := azcore.ETagAny
		mac.IfNoneMatch = &anyTag
	}
	resp, err := s.waves.NewBlockBlobClient(path).Upload(ctx, streaming.NopCloser(bytes.NewReader(data)),
		&blockblob.UploadOptions{
			HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: &contentType},
			AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: mac},
		})
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, translate(err))
	}
	var etag ETag
	if resp.ETag != nil {
		etag = *resp.ETag
	}
	return etag, nil
}

// PutJSON writes v as an indented JSON document under cond.
func (s *Store) PutJSON(ctx context.Context, path string, v any, cond Cond) (ETag, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", path, err)
	}
	return s.PutBytes(ctx, path, data, "application/json", cond)
}

// Update applies change to the JSON document at path with optimistic concurrency: read, change, write
// if unchanged, and start again on a conflict (up to 20 times). create returns the value to use when
// the document does not exist yet. change returning false skips the write.
func Update[T any](ctx context.Context, s *Store, path string, create func() *T, change func(*T) bool) error {
	for try := 0; try < 20; try++ {
		v := new(T)
		etag, err := s.GetJSON(ctx, path, v)
		cond := Cond{IfMatch: etag}
		switch {
		case isNotFound(err):
			v, cond = create(), Cond{IfNoneExists: true}
		case err != nil:
			return err
		}
		if !change(v) {
			return nil
		}
		if _, err := s.PutJSON(ctx, path, v, cond); err == nil || !isConflict(err) {
			return err
		}
	}
	return fmt.Errorf("updating %s: %w (too much contention)", path, ErrConflict)
}

// Waves lists the ids of the waves that have documents (the top-level folders of the container).
func (s *Store) Waves(ctx context.Context) ([]string, error) {
	var ids []string
	pager := s.waves.NewListBlobsHierarchyPager("/", nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing waves: %w", translate(err))
		}
		for _, p := range page.Segment.BlobPrefixes {
			if p.Name == nil {
				continue
			}
			if id := strings.TrimSuffix(*p.Name, "/"); wave.CheckID(id) == nil {
				ids = append(ids, id) // other folders (_domainmoves) are no waves
			}
		}
	}
	return ids, nil
}

// claim is the content of a claim blob.
type claim struct {
	Owner string    `json:"owner"`
	Utc   time.Time `json:"utc"`
}

// Claim takes the one-at-a-time right to do the work named by path (a wave version's finalize, say):
// it reports true to exactly one caller, by conditional create, and to a later caller once the
// holder's claim is older than stale (the holder crashed; its work is taken over). Release ends a
// claim early so that the work can run again.
func (s *Store) Claim(ctx context.Context, path, owner string, stale time.Duration) (bool, error) {
	now := time.Now().UTC()
	_, err := s.PutJSON(ctx, path, claim{Owner: owner, Utc: now}, Cond{IfNoneExists: true})
	if err == nil {
		return true, nil
	}
	if !isConflict(err) {
		return false, err
	}
	var cur claim
	tag, err := s.GetJSON(ctx, path, &cur)
	if isNotFound(err) {
		return s.Claim(ctx, path, owner, stale)
	}
	if err != nil || now.Sub(cur.Utc) < stale {
		return false, err
	}
	if _, err := s.PutJSON(ctx, path, claim{Owner: owner, Utc: now}, Cond{IfMatch: tag}); err != nil {
		if isConflict(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Release gives a claim up so that the next caller of Claim gets it at once.
func (s *Store) Release(ctx context.Context, path string) error {
	_, err := s.PutJSON(ctx, path, claim{Owner: "released"}, Cond{})
	return err
}

// streamBlock is the block size of a streamed document: memory stays at a few blocks whatever the
// document's size.
const streamBlock = 1 << 20

// Stream is a document being written in blocks (OpenStream). Close completes it; Abort drops it.
type Stream struct {
	*bufio.Writer
	pw   *io.PipeWriter
	done chan error
	path string
}

// OpenStream starts writing a document in blocks, so that a report of any size is never held in
// memory. The document appears whole when Close returns nil.
func (s *Store) OpenStream(ctx context.Context, path, contentType string) *Stream {
	pr, pw := io.Pipe()
	st := &Stream{Writer: bufio.NewWriterSize(pw, 64<<10), pw: pw, done: make(chan error, 1), path: path}
	go func() {
		_, err := s.waves.NewBlockBlobClient(path).UploadStream(ctx, pr, &blockblob.UploadStreamOptions{
			BlockSize: streamBlock, Concurrency: 2, HTTPHeaders: &blob.HTTPHeaders{BlobContentType: &contentType}})
		pr.CloseWithError(err) // unblocks the writer if the upload failed first
		st.done <- translate(err)
	}()
	return st
}

// Close flushes and completes the document.
func (st *Stream) Close() error {
	err := st.Flush()
	st.pw.CloseWithError(err)
	if uerr := <-st.done; uerr != nil && err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", st.path, err)
	}
	return nil
}

// Abort ends the stream without completing the document.
func (st *Stream) Abort(cause error) {
	st.pw.CloseWithError(cause)
	<-st.done
}

// PutStream writes a document as write produces it (see OpenStream).
func (s *Store) PutStream(ctx context.Context, path, contentType string, write func(w io.Writer) error) error {
	st := s.OpenStream(ctx, path, contentType)
	if err := write(st); err != nil {
		st.Abort(err)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return st.Close()
}

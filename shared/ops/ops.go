// Package ops is what the t2t CLI does against storage (never against Graph): upload a mapping file
// to start a wave, watch a wave's progress, read its report.
package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"t2t/shared/report"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Upload puts a mapping file into the mappings container as name, which starts (or, if the content
// changed, restarts) the wave named after it.
func Upload(ctx context.Context, connStr, name string, data []byte) error {
	return UploadWith(ctx, connStr, name, data, nil)
}

// UploadOptions are the choices `t2t start` offers.
type UploadOptions struct {
	// DryRun makes the wave validate and plan only: whatif.csv, and nothing written to the target.
	DryRun bool
}

// UploadWith is Upload with options, carried to WaveStart as blob metadata.
func UploadWith(ctx context.Context, connStr, name string, data []byte, o *UploadOptions) error {
	client, err := azblob.NewClientFromConnectionString(connStr, nil)
	if err != nil {
		return fmt.Errorf("blob client: %w", err)
	}
	c := client.ServiceClient().NewContainerClient(state.MappingsContainer)
	if _, err := c.Create(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("creating container %s: %w", state.MappingsContainer, err)
	}
	ct := "text/csv"
	opts := &blockblob.UploadOptions{HTTPHeaders: &blob.HTTPHeaders{BlobContentType: &ct}}
	if o != nil && o.DryRun {
		yes := "true"
		opts.Metadata = map[string]*string{wave.DryRunMetadataKey: &yes}
	}
	if _, err := c.NewBlockBlobClient(name).Upload(ctx, streaming.NopCloser(bytes.NewReader(data)), opts); err != nil {
		return fmt.Errorf("uploading %s: %w", name, err)
	}
	return nil
}

// Retry runs a wave's current mapping file again: it re-uploads the same content with a new retry
// token in the blob's metadata, which WaveStart treats as a new version. The new run re-reads every
// row: users already migrated are settled from the id map without a Graph write, failed ones are
// tried again. It returns the wave's previous version.
func Retry(ctx context.Context, connStr string, store *state.Store, waveID string) (string, error) {
	var m wave.Manifest
	if _, err := store.GetJSON(ctx, wave.ManifestPath(waveID), &m); err != nil {
		return "", fmt.Errorf("reading wave %s: %w", waveID, err)
	}
	client, err := azblob.NewClientFromConnectionString(connStr, nil)
	if err != nil {
		return "", fmt.Errorf("blob client: %w", err)
	}
	name := strings.TrimPrefix(m.Blob, state.MappingsContainer+"/")
	bc := client.ServiceClient().NewContainerClient(state.MappingsContainer).NewBlockBlobClient(name)
	dl, err := bc.DownloadStream(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", m.Blob, err)
	}
	data, err := io.ReadAll(dl.Body)
	dl.Body.Close()
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", m.Blob, err)
	}
	token := strconv.FormatInt(time.Now().UnixNano(), 36)
	ct := "text/csv"
	meta := map[string]*string{wave.RetryMetadataKey: &token}
	if m.DryRun {
		yes := "true"
		meta[wave.DryRunMetadataKey] = &yes
	}
	_, err = bc.Upload(ctx, streaming.NopCloser(bytes.NewReader(data)), &blockblob.UploadOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: &ct},
		Metadata:    meta,
	})
	if err != nil {
		return "", fmt.Errorf("re-uploading %s: %w", m.Blob, err)
	}
	return wave.VersionOf(&m), nil
}

// Status is one look at a wave.
type Status struct {
	Manifest *wave.Manifest
	Progress *wave.Progress // nil until the first event is folded in
	Report   *report.Report // nil until the wave is finalized
}

// Done reports whether the wave has reached a final state.
func (s Status) Done() bool {
	if s.Manifest == nil {
		return false
	}
	switch s.Manifest.Status {
	case wave.StatusRejected:
		return true
	case wave.StatusCompleted, wave.StatusCompletedWithErrors:
		return s.Manifest.Chunks == 0 || (s.Report != nil && s.Report.Version == wave.VersionOf(s.Manifest))
	}
	return false
}

// Look reads a wave's manifest, progress and report. The manifest is nil while the wave has not
// been started by WaveStart yet.
func Look(ctx context.Context, store *state.Store, waveID string) (Status, error) {
	var st Status
	var m wave.Manifest
	if _, err := store.GetJSON(ctx, wave.ManifestPath(waveID), &m); err == nil {
		st.Manifest = &m
	} else if !errors.Is(err, state.ErrNotFound) {
		return st, err
	}
	var p wave.Progress
	if _, err := store.GetJSON(ctx, wave.ProgressPath(waveID), &p); err == nil {
		st.Progress = &p
	} else if !errors.Is(err, state.ErrNotFound) {
		return st, err
	}
	var r report.Report
	if _, err := store.GetJSON(ctx, wave.ReportPath(waveID), &r); err == nil {
		st.Report = &r
	} else if !errors.Is(err, state.ErrNotFound) {
		return st, err
	}
	return st, nil
}

// Watch yields the wave's status every interval until it is done or ctx ends.
func Watch(ctx context.Context, store *state.Store, waveID string, interval time.Duration) iter.Seq2[Status, error] {
	return func(yield func(Status, error) bool) {
		for {
			st, err := Look(ctx, store, waveID)
			if !yield(st, err) || err != nil || st.Done() {
				return
			}
			select {
			case <-ctx.Done():
				yield(st, ctx.Err())
				return
			case <-time.After(interval):
			}
		}
	}
}

// Line renders a status as one line for a terminal.
func (s Status) Line() string {
	if s.Manifest == nil {
		return "waiting for WaveStart to pick up the file"
	}
	m := s.Manifest
	line := fmt.Sprintf("%s: %s, %d rows (%d invalid)", m.Wave, m.Status, m.TotalRows, m.InvalidRows)
	if p := s.Progress; p != nil {
		line += fmt.Sprintf(", chunks %d/%d, users %d created, %d matched, %d failed",
			p.ChunksDone, max(p.Chunks, m.Chunks), p.Users.Created, p.Users.Matched, p.Users.Failed)
	}
	return line
}

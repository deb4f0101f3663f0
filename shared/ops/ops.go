// Package ops is what the t2t CLI does against storage (never against Graph): upload a mapping file
// to start a wave, watch a wave's progress, read its report.
package ops

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/queueerror"

	"t2t/shared/report"
	"t2t/shared/state"
	"t2t/shared/storageconn"
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
	// Wave options (see wave.Options): phases to run (empty: all), the domain rewrite map, the
	// conditional access state (disabled or reportOnly), and whether to ensure a cross-tenant access
	// partner entry for the source.
	Phases    []string
	DomainMap map[string]string
	CAState   string
	Partner   bool
	// Mode is wave.ModeCoexistence to invite users as external members until cutover ("": internal).
	Mode string
	// CutoverAt is when the wave's cutover is planned (zero: on request only).
	CutoverAt time.Time
	// LicenseMap maps source SKUs to target SKUs by skuPartNumber (the licenses phase).
	LicenseMap map[string]string
	// PowerPlatformEnvironments are the environments to move (the powerPlatform phase).
	PowerPlatformEnvironments []string
	// DevicePlan asks for devices.csv (the devices phase).
	DevicePlan bool
	// Workloads are the content workloads to move with migration jobs (the contentJobs phase).
	Workloads []string
}

// metadata renders the options as the blob metadata WaveStart reads.
func (o *UploadOptions) metadata() map[string]*string {
	meta := map[string]*string{}
	if o == nil {
		return meta
	}
	set := func(k, v string) {
		if v != "" {
			meta[k] = &v
		}
	}
	if o.DryRun {
		set(wave.DryRunMetadataKey, "true")
	}
	set(wave.PhasesMetadataKey, strings.Join(o.Phases, ","))
	set(wave.DomainsMetadataKey, wave.FormatDomainMap(o.DomainMap))
	set(wave.CAStateMetadataKey, o.CAState)
	if o.Partner {
		set(wave.PartnerMetadataKey, "true")
	}
	set(wave.ModeMetadataKey, o.Mode)
	if !o.CutoverAt.IsZero() {
		set(wave.CutoverMetadataKey, o.CutoverAt.UTC().Format(time.RFC3339))
	}
	set(wave.LicensesMetadataKey, wave.FormatDomainMap(o.LicenseMap))
	set(wave.PowerPlatformMetadataKey, strings.Join(o.PowerPlatformEnvironments, ","))
	if o.DevicePlan {
		set(wave.DevicesMetadataKey, "plan")
	}
	set(wave.WorkloadsMetadataKey, strings.Join(o.Workloads, ","))
	return meta
}

// UploadWith is Upload with options, carried to WaveStart as blob metadata.
func UploadWith(ctx context.Context, connStr, name string, data []byte, o *UploadOptions) error {
	clients, err := connClients(connStr)
	if err != nil {
		return err
	}
	return UploadTo(ctx, clients, name, data, o)
}

// connClients builds the clients of a connection string.
func connClients(connStr string) (*storageconn.Clients, error) {
	return storageconn.Conn{ConnectionString: connStr}.Clients(nil)
}

// UploadTo is UploadWith on the clients of any storage connection (a connection string, or an
// account URL with a token credential).
func UploadTo(ctx context.Context, clients *storageconn.Clients, name string, data []byte, o *UploadOptions) error {
	if clients.Blob == nil {
		return errors.New("the storage connection names no blob endpoint")
	}
	c := clients.Blob.ServiceClient().NewContainerClient(state.MappingsContainer)
	if _, err := c.Create(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("creating container %s: %w", state.MappingsContainer, err)
	}
	ct := "text/csv"
	opts := &blockblob.UploadOptions{HTTPHeaders: &blob.HTTPHeaders{BlobContentType: &ct}, Metadata: o.metadata()}
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
	clients, err := connClients(connStr)
	if err != nil {
		return "", err
	}
	return RetryOn(ctx, clients, store, waveID)
}

// RetryOn is Retry on the clients of any storage connection. It wraps state.ErrNotFound when the
// wave has no manifest.
func RetryOn(ctx context.Context, clients *storageconn.Clients, store *state.Store, waveID string) (string, error) {
	var m wave.Manifest
	if _, err := store.GetJSON(ctx, wave.ManifestPath(waveID), &m); err != nil {
		return "", fmt.Errorf("reading wave %s: %w", waveID, err)
	}
	if clients.Blob == nil {
		return "", errors.New("the storage connection names no blob endpoint")
	}
	name := strings.TrimPrefix(m.Blob, state.MappingsContainer+"/")
	bc := clients.Blob.ServiceClient().NewContainerClient(state.MappingsContainer).NewBlockBlobClient(name)
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
	ca := m.Options.CAState
	if ca == wave.CAReportOnly {
		ca = "reportOnly"
	}
	again := &UploadOptions{DryRun: m.DryRun, Phases: m.Options.Phases, DomainMap: m.Options.DomainMap, CAState: ca,
		Partner: m.Options.Partner, Mode: m.Options.Mode}
	if m.Options.CutoverUtc != nil {
		again.CutoverAt = *m.Options.CutoverUtc
	}
	meta := again.metadata()
	meta[wave.RetryMetadataKey] = &token
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
	Progress *wave.Progress // derived from the facts of the manifest's version
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
		return s.Report != nil && s.Report.Version == wave.VersionOf(s.Manifest)
	}
	return false
}

// Look reads a wave's manifest, progress and report. The manifest is nil while the wave has not
// been started by WaveStart yet.
func Look(ctx context.Context, store *state.Store, waveID string) (Status, error) {
	var st Status
	m, p, err := store.Progress(ctx, waveID)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return st, err
	}
	st.Manifest, st.Progress = m, p
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
		for _, name := range p.PhaseNames(nil) {
			ph := p.Phases[name]
			state := "running"
			if ph.Complete() {
				state = "done"
			}
			line += fmt.Sprintf("; %s %s %d/%d chunks (%s)", name, state, ph.ChunksDone, ph.Chunks, CountsText(ph.Counts))
		}
	}
	return line
}

// CountsText renders a tally as "3 created, 1 matched, 2 failed", leaving out zero kinds.
func CountsText(c wave.Counts) string {
	var parts []string
	for _, kv := range []struct {
		n    int
		what string
	}{{c.Created, "created"}, {c.Matched, "matched"}, {c.Skipped, "skipped"}, {c.Pending, "pending"}, {c.Failed, "failed"}} {
		if kv.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", kv.n, kv.what))
		}
	}
	if len(parts) == 0 {
		return "nothing yet"
	}
	return strings.Join(parts, ", ")
}

// Rollback asks the function app to delete what t2t created in a wave (a step on the steps queue; the
// CLI never talks to Graph). A dry run lists what it would delete in waves/<wave>/rollback.json.
func Rollback(ctx context.Context, connStr, waveID string, dryRun bool) error {
	clients, err := connClients(connStr)
	if err != nil {
		return err
	}
	return RollbackOn(ctx, clients, waveID, dryRun)
}

// RollbackOn is Rollback on the clients of any storage connection.
func RollbackOn(ctx context.Context, clients *storageconn.Clients, waveID string, dryRun bool) error {
	if err := wave.CheckID(waveID); err != nil {
		return err
	}
	return EnqueueOn(ctx, clients, "steps", wave.Step{Wave: waveID, Op: wave.OpRollback, DryRun: dryRun})
}

// Enqueue puts a JSON message on a queue, base64-encoded as host.json's messageEncoding says.
func Enqueue(ctx context.Context, connStr, queue string, v any) error {
	clients, err := connClients(connStr)
	if err != nil {
		return err
	}
	return EnqueueOn(ctx, clients, queue, v)
}

// EnqueueOn is Enqueue on the clients of any storage connection.
func EnqueueOn(ctx context.Context, clients *storageconn.Clients, queue string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if clients.Queue == nil {
		return errors.New("the storage connection names no queue endpoint")
	}
	qc := clients.Queue.NewQueueClient(queue)
	if _, err := qc.Create(ctx, nil); err != nil && !queueerror.HasCode(err, queueerror.QueueAlreadyExists) {
		return fmt.Errorf("creating queue %s: %w", queue, err)
	}
	if _, err := qc.EnqueueMessage(ctx, base64.StdEncoding.EncodeToString(data), nil); err != nil {
		return fmt.Errorf("queuing on %s: %w", queue, err)
	}
	return nil
}

// Cutover asks the function app to cut a finished wave over (a step on the steps queue; the CLI never
// talks to Graph): each migrated user is converted to an internal member of the target, then its
// source account is B2B-linked to it. A dry run writes nothing to either tenant and lists what it
// would do in waves/<wave>/cutover-whatif.csv. It refuses a wave that has not finished a real run. It
// returns the run's name; the report is waves/<wave>/cutover.json once the run has finished.
func Cutover(ctx context.Context, connStr string, store *state.Store, waveID string, dryRun bool) (string, error) {
	clients, err := connClients(connStr)
	if err != nil {
		return "", err
	}
	return CutoverOn(ctx, clients, store, waveID, dryRun)
}

// CutoverOn is Cutover on the clients of any storage connection. It wraps state.ErrNotFound when the
// wave has no manifest.
func CutoverOn(ctx context.Context, clients *storageconn.Clients, store *state.Store, waveID string, dryRun bool) (string, error) {
	if err := wave.CheckID(waveID); err != nil {
		return "", err
	}
	var m wave.Manifest
	if _, err := store.GetJSON(ctx, wave.ManifestPath(waveID), &m); err != nil {
		return "", fmt.Errorf("reading wave %s: %w", waveID, err)
	}
	if err := wave.CheckCutover(&m); err != nil {
		return "", err
	}
	run := wave.NewCutoverRun(time.Now())
	if err := EnqueueOn(ctx, clients, "steps", wave.Step{Wave: waveID, Version: run, DryRun: dryRun, Op: wave.OpCutover}); err != nil {
		return "", err
	}
	return run, nil
}

// CutoverReport reads the report of a wave's latest cutover run; it wraps state.ErrNotFound until one
// has finished. Compare its Run with the name Cutover returned to know whether that run is done.
func CutoverReport(ctx context.Context, store *state.Store, waveID string) (*wave.CutoverReport, error) {
	var r wave.CutoverReport
	if _, err := store.GetJSON(ctx, wave.CutoverReportPath(waveID), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Domain is DomainOn on a connection string.
func Domain(ctx context.Context, connStr, domain, action string, dryRun bool) (string, error) {
	clients, err := connClients(connStr)
	if err != nil {
		return "", err
	}
	return DomainOn(ctx, clients, domain, action, dryRun)
}

// DomainOn queues one step of a vanity-domain move for the function app and returns the run's name;
// its report is domainmove.ReportPath(domain, action), with Run set to that name once it has run.
func DomainOn(ctx context.Context, clients *storageconn.Clients, domain, action string, dryRun bool) (string, error) {
	run := fmt.Sprintf("domain-%d", time.Now().UnixNano())
	step := wave.Step{Wave: wave.DomainWave, Version: run, DryRun: dryRun, Op: wave.OpDomain, Domain: strings.ToLower(strings.TrimSpace(domain)), Action: action}
	if err := step.Validate(); err != nil {
		return "", err
	}
	if err := EnqueueOn(ctx, clients, "steps", step); err != nil {
		return "", err
	}
	return run, nil
}

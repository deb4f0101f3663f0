package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"t2t/shared/graph"
	"t2t/shared/mapping"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// WaveStart runs when a mapping file lands in mappings/{name}: it validates the file, writes the wave's
// manifest and errors.csv, and enqueues the export steps of the valid rows. Invalid rows never block
// valid ones. The same file uploaded again changes nothing; a retry of the same trigger (same blob
// ETag) emits the same steps again, since the host may have lost them.
func (a *App) WaveStart(ctx context.Context, inv *invocation) error {
	name, err := inv.req.MetaString("name")
	if err != nil {
		return fmt.Errorf("reading the blob name: %w", err)
	}
	content, err := inv.req.Bytes("mapping")
	if err != nil {
		return fmt.Errorf("reading blob %s: %w", name, err)
	}
	waveID, err := wave.IDFromBlob(name)
	if err != nil {
		inv.logf("ignoring %s: %v", name, err)
		return nil // a name no retry will fix; nothing to record it under
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	dryRun := strings.EqualFold(blobMetadata(inv.req, wave.DryRunMetadataKey), "true")
	digest, etag := fileDigest(content, blobMetadata(inv.req, wave.RetryMetadataKey), dryRun), blobETag(inv.req)
	var prev wave.Manifest
	prevTag, err := store.GetJSON(ctx, wave.ManifestPath(waveID), &prev)
	switch {
	case err == nil && !strings.EqualFold(prev.Blob, "mappings/"+name):
		// Finance.csv and finance.csv make the same wave id: never let one file restart another's wave.
		inv.logf("ignoring mappings/%s: wave %s belongs to %s; rename the file to start a wave of its own", name, waveID, prev.Blob)
		return nil
	case err == nil && prev.ContentSHA256 == digest && (etag == "" || prev.BlobETag != etag):
		inv.logf("wave %s: %s is identical to the file already started; nothing to do", waveID, name)
		return nil
	case err == nil && prev.ContentSHA256 == digest:
		inv.logf("wave %s: trigger retried; emitting its steps again", waveID)
		if err := setCurrent(ctx, store, &prev); err != nil {
			return err
		}
		a.emitStart(inv, &prev)
		return nil
	case err != nil && !isNotFound(err):
		return err
	}
	m, err := a.newManifest(ctx, waveID, name, etag, digest, content, store)
	if err != nil {
		return err
	}
	m.DryRun = dryRun
	if prevTag != "" {
		m.CreatedUtc = prev.CreatedUtc
	}
	if _, err := store.PutJSON(ctx, wave.ManifestPath(waveID), m, state.Cond{IfMatch: prevTag, IfNoneExists: prevTag == ""}); err != nil {
		if errors.Is(err, state.ErrConflict) {
			return fmt.Errorf("wave %s was started concurrently; retrying: %w", waveID, err)
		}
		return err
	}
	if err := setCurrent(ctx, store, m); err != nil {
		return err
	}
	inv.logf("wave %s: %d rows, %d valid, %d rejected, %d chunks", waveID, m.TotalRows, len(m.Rows), m.InvalidRows, m.Chunks)
	a.emitStart(inv, m)
	return nil
}

// setCurrent records the manifest's version as the one steps must belong to; steps of a replaced file
// stop before touching the target.
func setCurrent(ctx context.Context, store *state.Store, m *wave.Manifest) error {
	_, err := store.PutJSON(ctx, wave.CurrentPath(m.Wave), wave.Current{Version: wave.VersionOf(m)}, state.Cond{})
	return err
}

// isCurrent reports whether version is the wave's current file version. A wave without current.json
// (written before this check existed) accepts every version.
func isCurrent(ctx context.Context, store *state.Store, waveID, version string) (bool, error) {
	var cur wave.Current
	if _, err := store.GetJSON(ctx, wave.CurrentPath(waveID), &cur); err != nil {
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	}
	return cur.Version == version, nil
}

// fileDigest is the version of an upload: the content's hash, salted with the retry token `t2t retry`
// sets as blob metadata and with the dry-run flag. The same file uploaded again is a no-op; the same
// file retried, or run for real after a dry run, is a new run.
func fileDigest(content []byte, retryToken string, dryRun bool) string {
	h := sha256.New()
	h.Write(content)
	if retryToken != "" {
		h.Write([]byte("\x00retry:" + retryToken))
	}
	if dryRun {
		h.Write([]byte("\x00dryrun"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// newManifest parses and validates the file and writes errors.csv.
func (a *App) newManifest(ctx context.Context, waveID, name, etag, digest string, content []byte, store *state.Store) (*wave.Manifest, error) {
	now := time.Now().UTC()
	m := &wave.Manifest{
		Wave: waveID, MigrationID: a.Settings.MigrationID, SourceTenantID: a.Settings.SourceTenantID,
		TargetTenantID: a.Settings.TargetTenantID, Blob: "mappings/" + name, BlobETag: etag, ContentSHA256: digest,
		CreatedUtc: now, UpdatedUtc: now, Status: wave.StatusRunning,
		Phases: map[string]*wave.Phase{"users": {Status: wave.StatusRunning, StartedUtc: now}},
	}
	rows, bad, err := mapping.Parse(content)
	if err != nil {
		// The file as a whole is unusable: say so in errors.csv and stop here.
		bad = []mapping.RowError{{Line: 1, Reason: err.Error()}}
		m.Status, m.Phases = wave.StatusRejected, map[string]*wave.Phase{}
	} else if verified, err := a.verifiedDomains(ctx); err != nil {
		if graph.IsRetryable(err) && !errors.Is(err, errNoDomains) {
			return nil, err // the blob trigger retries
		}
		// No retry fixes a missing permission or a target without verified domains: say so in
		// errors.csv rather than end in the blob trigger's poison queue with nothing to show.
		rows, bad = nil, []mapping.RowError{{Line: 0, Reason: "the target tenant's verified domains could not be read: " +
			graph.Describe(err) + " (the app needs Domain.Read.All in the target tenant)"}}
		m.Status, m.Phases = wave.StatusRejected, map[string]*wave.Phase{}
	} else {
		var more []mapping.RowError
		rows, more = mapping.Validate(rows, verified)
		bad = append(bad, more...)
	}
	m.Rows, m.InvalidRows = rows, countRows(bad)
	m.TotalRows = len(rows) + m.InvalidRows
	m.Chunks = wave.Chunks(len(rows))
	if m.Status != wave.StatusRejected && len(rows) == 0 {
		m.Status = wave.StatusCompletedWithErrors
	}
	if _, err := store.PutBytes(ctx, wave.ErrorsPath(waveID), mapping.ErrorsCSV(bad), "text/csv", state.Cond{}); err != nil {
		return nil, err
	}
	return m, nil
}

// emitStart queues the export steps and the wave.started event.
func (a *App) emitStart(inv *invocation, m *wave.Manifest) {
	if m.Status != wave.StatusRunning {
		return
	}
	for _, s := range wave.ExportSteps(m.Wave, wave.VersionOf(m), m.Rows) {
		s.DryRun = m.DryRun
		inv.output("steps", s)
	}
	inv.output("progress", wave.Event{Kind: wave.EventWaveStarted, Wave: m.Wave, Version: wave.VersionOf(m), Chunks: m.Chunks, Utc: time.Now().UTC()})
}

// verifiedDomains reads the target tenant's verified domains (lower case).
func (a *App) verifiedDomains(ctx context.Context) (map[string]bool, error) {
	target, err := a.targetGraph()
	if err != nil {
		return nil, err
	}
	resp, err := target.Domains().Get(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the target tenant's domains: %w", err)
	}
	verified := map[string]bool{}
	for _, d := range resp.GetValue() {
		if d.GetId() != nil && d.GetIsVerified() != nil && *d.GetIsVerified() {
			verified[strings.ToLower(*d.GetId())] = true
		}
	}
	if len(verified) == 0 {
		return nil, fmt.Errorf("the target tenant reports no verified domain: %w", errNoDomains)
	}
	return verified, nil
}

var errNoDomains = errors.New("no verified domains")

// countRows counts distinct rejected rows (one row may fail on both columns).
func countRows(bad []mapping.RowError) int {
	seen := map[int]bool{}
	for _, e := range bad {
		seen[e.Line] = true
	}
	return len(seen)
}

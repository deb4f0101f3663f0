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
	"t2t/shared/logfields"
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
	inv.with(logfields.Wave, waveID)
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	dryRun := strings.EqualFold(blobMetadata(inv.req, wave.DryRunMetadataKey), "true")
	opts, optErr := wave.ParseOptions(func(k string) string { return blobMetadata(inv.req, k) }, a.Settings.DomainMap, a.Phases.Names())
	digest := fileDigest(content, blobMetadata(inv.req, wave.RetryMetadataKey), dryRun, optionsKey(opts, optErr))
	etag := blobETag(inv.req)
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
		return a.emitStart(ctx, inv, store, &prev)
	case err != nil && !isNotFound(err):
		return err
	}
	m, err := a.newManifest(ctx, waveID, name, etag, digest, content, store, opts, optErr)
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
	inv.logf("wave %s: %d rows, %d valid, %d rejected, %d chunks", waveID, m.TotalRows, m.ValidRows, m.InvalidRows, m.Chunks)
	return a.emitStart(ctx, inv, store, m)
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
func fileDigest(content []byte, retryToken string, dryRun bool, options string) string {
	h := sha256.New()
	h.Write(content)
	if options != "" {
		h.Write([]byte("\x00options:" + options))
	}
	if retryToken != "" {
		h.Write([]byte("\x00retry:" + retryToken))
	}
	if dryRun {
		h.Write([]byte("\x00dryrun"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// optionsKey renders a wave's options for its version digest: changed options are a new run.
func optionsKey(o wave.Options, err error) string {
	if err != nil {
		return "invalid:" + err.Error()
	}
	if len(o.Phases) == 0 && len(o.DomainMap) == 0 && o.CAState == wave.CADisabled && !o.Partner {
		return "" // the defaults: versions of waves started before options existed stay the same
	}
	return fmt.Sprintf("phases=%s;domains=%s;ca=%s;partner=%t", strings.Join(o.Phases, ","), wave.FormatDomainMap(o.DomainMap), o.CAState, o.Partner)
}

// newManifest parses and validates the file, writes errors.csv and the rows blobs.
func (a *App) newManifest(ctx context.Context, waveID, name, etag, digest string, content []byte, store *state.Store,
	opts wave.Options, optErr error) (*wave.Manifest, error) {
	now := time.Now().UTC()
	m := &wave.Manifest{
		Wave: waveID, MigrationID: a.Settings.MigrationID, SourceTenantID: a.Settings.SourceTenantID,
		TargetTenantID: a.Settings.TargetTenantID, Blob: "mappings/" + name, BlobETag: etag, ContentSHA256: digest,
		CreatedUtc: now, UpdatedUtc: now, Status: wave.StatusRunning, Options: opts, Phases: map[string]*wave.Phase{},
	}
	rows, bad, err := mapping.Parse(content)
	if err == nil && optErr != nil {
		err = fmt.Errorf("the upload's options are invalid: %w", optErr)
	}
	if err != nil {
		// The file as a whole is unusable: say so in errors.csv and stop here.
		bad = []mapping.RowError{{Line: 1, Reason: err.Error()}}
		m.Status, m.Reason = wave.StatusRejected, err.Error()
	} else if verified, err := a.verifiedDomains(ctx); err != nil {
		if graph.IsRetryable(err) && !errors.Is(err, errNoDomains) {
			return nil, err // the blob trigger retries
		}
		// No retry fixes a missing permission or a target without verified domains: say so in
		// errors.csv rather than end in the blob trigger's poison queue with nothing to show.
		rows, bad = nil, []mapping.RowError{{Line: 0, Reason: "the target tenant's verified domains could not be read: " +
			graph.Describe(err) + " (the app needs Domain.Read.All in the target tenant)"}}
		m.Status, m.Reason = wave.StatusRejected, bad[0].Reason
	} else {
		var more []mapping.RowError
		rows, more = mapping.Validate(rows, verified)
		bad = append(bad, more...)
	}
	m.ValidRows, m.InvalidRows = len(rows), mapping.RejectedRows(bad)
	m.TotalRows = len(rows) + m.InvalidRows
	m.Chunks, m.Parts = wave.Chunks(len(rows)), wave.Parts(len(rows))
	if _, err := store.PutBytes(ctx, wave.ErrorsPath(waveID), mapping.ErrorsCSV(bad), "text/csv", state.Cond{}); err != nil {
		return nil, err
	}
	for part := range m.Parts {
		chunk := rows[part*wave.PartRows : min((part+1)*wave.PartRows, len(rows))]
		if _, err := store.PutJSON(ctx, wave.RowsPath(waveID, wave.VersionOf(m), part), chunk, state.Cond{}); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// emitStart queues the start of every phase that is ready (those that run after none of the selected
// phases) and the wave.started event. A retried trigger queues what has not started yet.
func (a *App) emitStart(ctx context.Context, inv *invocation, store *state.Store, m *wave.Manifest) error {
	if m.Status != wave.StatusRunning {
		return nil
	}
	version := wave.VersionOf(m)
	facts, err := store.Summary(ctx, m.Wave, version)
	if err != nil {
		return err
	}
	for _, name := range a.Phases.Ready(m.Options, wave.Summarize(facts)) {
		inv.emit("steps", wave.Step{Wave: m.Wave, Version: version, DryRun: m.DryRun, Op: wave.OpStart, Phase: name})
	}
	inv.emit("progress", wave.Event{Kind: wave.EventWaveStarted, Wave: m.Wave, Version: version, Utc: time.Now().UTC()})
	return nil
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

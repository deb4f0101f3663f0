// Package wave is the domain of a migration wave: its manifest, the step messages that drive it, the
// progress events it emits, and the object statuses it records. Pure types and rules; no I/O.
package wave

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"t2t/shared/mapping"
)

// ChunkSize is how many users one import step handles (a chunk): small enough that an invocation
// takes seconds, and the size of a Graph $batch and of a members@odata.bind request.
const ChunkSize = 20

// ExportChunks is how many chunks one export step reads: exports are cheap reads (15 users per
// request), so fewer, larger export steps reach the write-bound imports sooner.
const ExportChunks = 5

// Phase names.
const (
	PhaseExportUsers = "export.users"
	PhaseImportUsers = "import.users"
	PhaseFinalize    = "finalize"
)

// Wave statuses.
const (
	StatusRunning             = "Running"
	StatusCompleted           = "Completed"
	StatusCompletedWithErrors = "CompletedWithErrors"
	StatusRejected            = "Rejected" // the file as a whole was unusable; see errors.csv
)

// Object statuses in the ledger.
const (
	ObjCreating = "Creating" // intent recorded, create sent or about to be
	ObjCreated  = "Created"
	ObjMatched  = "Matched"
	ObjFailed   = "Failed"
	// A dry run's verdicts: what the import would do.
	ObjWouldCreate = "WouldCreate"
	ObjWouldMatch  = "WouldMatch"
)

// Manifest is waves/<wave>/wave.json: what the wave is and how far it got.
type Manifest struct {
	Wave           string    `json:"wave"`
	MigrationID    string    `json:"migrationId"`
	SourceTenantID string    `json:"sourceTenantId"`
	TargetTenantID string    `json:"targetTenantId"`
	Blob           string    `json:"blob"`
	BlobETag       string    `json:"blobETag"`
	ContentSHA256  string    `json:"contentSha256"`
	CreatedUtc     time.Time `json:"createdUtc"`
	UpdatedUtc     time.Time `json:"updatedUtc"`
	Status         string    `json:"status"`
	// DryRun waves validate and plan (whatif.csv) and write nothing to the target.
	DryRun      bool              `json:"dryRun"`
	TotalRows   int               `json:"totalRows"`
	InvalidRows int               `json:"invalidRows"`
	Rows        []mapping.Row     `json:"rows"`
	Chunks      int               `json:"chunks"`
	Phases      map[string]*Phase `json:"phases"`
}

// Phase is one phase's status and times in the manifest.
type Phase struct {
	Status       string     `json:"status"`
	StartedUtc   time.Time  `json:"startedUtc"`
	CompletedUtc *time.Time `json:"completedUtc,omitempty"`
}

// Step is a message on the steps queue: a reference to work, never object bodies (a queue message
// holds 64 KiB at most). Export steps carry their rows' keys; import steps find theirs in the export
// snapshot.
type Step struct {
	Wave string `json:"wave"`
	// Version is the first 12 hex digits of the mapping file's SHA-256: a changed file restarts the
	// wave under a new version, and chunk completion is counted per version.
	Version string        `json:"version"`
	DryRun  bool          `json:"dryRun,omitempty"`
	Phase   string        `json:"phase"`
	Chunk   int           `json:"chunk"`
	Chunks  int           `json:"chunks"`
	Rows    []mapping.Row `json:"rows,omitempty"`
}

// Validate checks a decoded step before any work is done with it.
func (s Step) Validate() error {
	if err := CheckID(s.Wave); err != nil {
		return err
	}
	switch s.Phase {
	case PhaseExportUsers:
		if len(s.Rows) == 0 || len(s.Rows) > ChunkSize*ExportChunks {
			return fmt.Errorf("step %s/%d: %d rows, want 1 to %d", s.Phase, s.Chunk, len(s.Rows), ChunkSize*ExportChunks)
		}
	case PhaseImportUsers, PhaseFinalize:
	default:
		return fmt.Errorf("step of wave %s: unknown phase %q", s.Wave, s.Phase)
	}
	if s.Chunk < 0 || s.Chunks < 0 || (s.Chunks > 0 && s.Chunk >= s.Chunks) {
		return fmt.Errorf("step %s/%d: chunk out of range 0..%d", s.Phase, s.Chunk, s.Chunks)
	}
	return nil
}

// Chunks is how many chunks (import steps) rows make.
func Chunks(rows int) int { return (rows + ChunkSize - 1) / ChunkSize }

// ExportSteps splits rows into export steps of up to ExportChunks chunks. Each step's Chunk is the
// first chunk it covers and Chunks the wave's total, so chunk numbers are the same in every phase.
func ExportSteps(waveID, version string, rows []mapping.Row) []Step {
	n, per := Chunks(len(rows)), ChunkSize*ExportChunks
	var steps []Step
	for start := 0; start < len(rows); start += per {
		steps = append(steps, Step{Wave: waveID, Version: version, Phase: PhaseExportUsers, Chunk: start / ChunkSize,
			Chunks: n, Rows: rows[start:min(start+per, len(rows))]})
	}
	return steps
}

// SplitRows cuts an export step's rows into its chunks, numbered from the step's Chunk.
func (s Step) SplitRows() map[int][]mapping.Row {
	out := map[int][]mapping.Row{}
	for i, r := range s.Rows {
		c := s.Chunk + i/ChunkSize
		out[c] = append(out[c], r)
	}
	return out
}

// Blob metadata keys a mapping file may carry, set by the CLI and read by WaveStart:
// RetryMetadataKey (`t2t retry`) runs an unchanged file again as a new version; DryRunMetadataKey
// "true" (`t2t start -dry-run`) makes the wave a dry run that writes whatif.csv and nothing to the
// target.
const (
	RetryMetadataKey  = "t2tretry"
	DryRunMetadataKey = "t2tdryrun"
)

// VersionOf returns the version of a manifest (see Step.Version).
func VersionOf(m *Manifest) string {
	if len(m.ContentSHA256) < 12 {
		return m.ContentSHA256
	}
	return m.ContentSHA256[:12]
}

// Counts tallies object outcomes.
type Counts struct {
	Created int `json:"created"`
	Matched int `json:"matched"`
	Failed  int `json:"failed"`
}

// With returns the tally with one more object of the given ledger status (anything but Created or
// Matched counts as Failed; a dry run's WouldCreate and WouldMatch count as Created and Matched).
func (c Counts) With(status string) Counts {
	switch status {
	case ObjCreated, ObjWouldCreate:
		c.Created++
	case ObjMatched, ObjWouldMatch:
		c.Matched++
	default:
		c.Failed++
	}
	return c
}

// Add returns the sum of two tallies.
func (c Counts) Add(o Counts) Counts {
	return Counts{Created: c.Created + o.Created, Matched: c.Matched + o.Matched, Failed: c.Failed + o.Failed}
}

// Event kinds on the progress queue.
const (
	EventWaveStarted   = "wave.started"
	EventChunkDone     = "chunk.done"
	EventWaveCompleted = "wave.completed"
)

// Event is a message on the progress queue.
type Event struct {
	Kind    string    `json:"kind"`
	Wave    string    `json:"wave"`
	Version string    `json:"version"`
	Phase   string    `json:"phase,omitempty"`
	Chunk   int       `json:"chunk"`
	Chunks  int       `json:"chunks,omitempty"`
	Counts  Counts    `json:"counts"`
	Utc     time.Time `json:"utc"`
}

// ErrBadID is wrapped when a wave id cannot be used.
var ErrBadID = errors.New("invalid wave id")

// IDFromBlob derives the wave id from an uploaded blob name: "Wave 1.csv" becomes "wave-1". Ids are
// lower-case letters, digits and dashes (usable in blob paths, table keys and Key Vault secret names).
func IDFromBlob(name string) (string, error) {
	base := strings.TrimSuffix(path.Base(name), path.Ext(name))
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(base) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	id := strings.TrimRight(b.String(), "-")
	if err := CheckID(id); err != nil {
		return "", fmt.Errorf("blob %q: %w", name, err)
	}
	return id, nil
}

// CheckID validates a wave id.
func CheckID(id string) error {
	if id == "" || len(id) > 48 {
		return fmt.Errorf("%w: %q must be 1 to 48 characters", ErrBadID, id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("%w: %q may hold only a-z, 0-9 and -", ErrBadID, id)
		}
	}
	return nil
}

// Paths of a wave's documents in the waves container.
func ManifestPath(id string) string { return id + "/wave.json" }
func ErrorsPath(id string) string   { return id + "/errors.csv" }
func WhatIfPath(id string) string   { return id + "/whatif.csv" }
func ReportPath(id string) string   { return id + "/report.json" }
func StatePath(id string) string    { return id + "/MigrationState.json" }
func ProgressPath(id string) string { return id + "/progress.json" }

// CurrentPath is waves/<wave>/current.json: the version of the file steps must belong to. Small, so
// every step can afford to read it; steps of a replaced version stop there.
func CurrentPath(id string) string { return id + "/current.json" }

// Current is the content of CurrentPath.
type Current struct {
	Version string `json:"version"`
}

func ExportPath(id, version string, chunk int) string {
	return fmt.Sprintf("%s/export/%s/users/%05d.json", id, version, chunk)
}

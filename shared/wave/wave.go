// Package wave is the domain of a migration wave: its manifest, the step messages that drive it, the
// progress events it emits, and the object statuses it records. Pure types and rules; no I/O.
package wave

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// ChunkSize is how many objects one import step handles (a chunk): small enough that an invocation
// takes seconds, and the size of a Graph $batch and of a members@odata.bind request.
const ChunkSize = 20

// ExportChunks is how many chunks of rows one users export part reads: exports are cheap reads (15
// users per request), so fewer, larger export steps reach the write-bound imports sooner.
const ExportChunks = 5

// PartRows is how many mapping rows one users export part covers (and one rows blob holds).
const PartRows = ChunkSize * ExportChunks

// Step operations. A phase runs start (find its scope, queue its export parts), export (one part:
// source to snapshot chunks) and import (one chunk: snapshot to target); the wave runs finalize once
// every phase has settled, and rollback on request.
const (
	OpStart    = "start"
	OpExport   = "export"
	OpImport   = "import"
	OpFinalize = "finalize"
	OpRollback = "rollback"
	// OpCutover runs a wave's cutover (cutover.go): Version names the cutover run, not a file version.
	OpCutover = "cutover"
	// OpDomain runs one step of a vanity-domain move (Domain, Action; shared/domainmove). Its Wave is
	// DomainWave and its Version the run's name.
	OpDomain = "domain"
)

// Wave statuses.
const (
	StatusRunning             = "Running"
	StatusCompleted           = "Completed"
	StatusCompletedWithErrors = "CompletedWithErrors"
	StatusRejected            = "Rejected" // the file as a whole was unusable; see errors.csv
)

// Object statuses in the ledger. Settled statuses are final for a wave: Created, Matched, Skipped,
// Pending (waits for objects a later wave migrates) and Failed (with a reason).
const (
	ObjCreating = "Creating" // intent recorded, create sent or about to be
	ObjCreated  = "Created"
	ObjMatched  = "Matched"
	ObjSkipped  = "Skipped"
	ObjPending  = "Pending"
	ObjFailed   = "Failed"
	// A dry run's verdicts: what the import would do.
	ObjWouldCreate = "WouldCreate"
	ObjWouldMatch  = "WouldMatch"
)

// NoteConverted starts the ledger note (LastError) of an object matched by converting an existing
// target object in place (a migrating user found as a guest of the target): it counts as Matched,
// and a dry run's what-if shows it as its own action, convert.
const NoteConverted = "convert: "

// Settled reports whether a ledger status is final for the wave.
func Settled(status string) bool {
	switch status {
	case ObjCreated, ObjMatched, ObjSkipped, ObjPending, ObjFailed, ObjWouldCreate, ObjWouldMatch:
		return true
	}
	return false
}

// Manifest is waves/<wave>/wave.json: what the wave is and how far it got. It stays small: the rows
// live in rows blobs (RowsPath) that steps read by reference.
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
	// Reason says why a Rejected wave was refused as a whole (also in errors.csv).
	Reason string `json:"reason,omitempty"`
	// DryRun waves validate and plan (whatif.csv) and write nothing to the target.
	DryRun      bool              `json:"dryRun"`
	Options     Options           `json:"options"`
	TotalRows   int               `json:"totalRows"`
	InvalidRows int               `json:"invalidRows"`
	ValidRows   int               `json:"validRows"`
	Parts       int               `json:"parts"` // rows blobs (PartRows rows each)
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
// holds 64 KiB at most). Phase names a registered phase; finalize and a wave-level rollback carry none.
type Step struct {
	Wave string `json:"wave"`
	// Version is the first 12 hex digits of the mapping file's SHA-256: a changed file restarts the
	// wave under a new version, and completion is counted per version.
	Version string `json:"version"`
	DryRun  bool   `json:"dryRun,omitempty"`
	Op      string `json:"op"`
	Phase   string `json:"phase,omitempty"`
	Part    int    `json:"part,omitempty"`
	Chunk   int    `json:"chunk,omitempty"`
	// Domain and Action name a domain move step (OpDomain).
	Domain string `json:"domain,omitempty"`
	Action string `json:"action,omitempty"`
	// Parts is the phase's number of export parts, on export and import steps: a settled import (or
	// an export that queued none) queues the export part ExportWindow further on, when there is one.
	Parts int `json:"parts,omitempty"`
}

// DomainWave is the Wave of domain move steps (they belong to no wave).
const DomainWave = "domains"

// DomainMovesFolder holds the domain moves' records and reports in the waves container; its name is
// no wave id, so wave listings pass it by.
const DomainMovesFolder = "_domainmoves"

// DomainReportPath is _domainmoves/<domain>/<action>.json in the waves container: the latest run of
// one domain move step.
func DomainReportPath(domain, action string) string {
	return DomainMovesFolder + "/" + strings.ToLower(domain) + "/" + action + ".json"
}

// DomainActions are the steps of a vanity-domain move, in the order a move takes them.
var DomainActions = []string{"plan", "free", "remove", "add", "verify", "move"}

// ExportWindow is how many export parts of a phase are under way at once: a phase's start queues
// the first ones, and each part's imports queue the next as they settle. The steps queue then holds
// tens of messages instead of every chunk of a large wave, and exports keep pace with the writes
// the imports can make.
const ExportWindow = 8

// Validate checks a decoded step's shape before any work is done with it; whether its phase exists
// is the registry's business.
func (s Step) Validate() error {
	if err := CheckID(s.Wave); err != nil {
		return err
	}
	switch s.Op {
	case OpStart, OpExport, OpImport:
		if s.Phase == "" || s.Version == "" {
			return fmt.Errorf("step %s of wave %s needs a phase and a version", s.Op, s.Wave)
		}
	case OpFinalize:
		if s.Version == "" {
			return fmt.Errorf("finalize step of wave %s has no version", s.Wave)
		}
	case OpRollback:
	case OpDomain:
		if s.Domain == "" || !slices.Contains(DomainActions, s.Action) || s.Version == "" {
			return fmt.Errorf("domain step needs a domain, a run and one of the actions %s", strings.Join(DomainActions, ", "))
		}
	case OpCutover:
		if !strings.HasPrefix(s.Version, cutoverRunPrefix) {
			return fmt.Errorf("cutover step of wave %s has no cutover run", s.Wave)
		}
	default:
		return fmt.Errorf("step of wave %s: unknown operation %q", s.Wave, s.Op)
	}
	if s.Part < 0 || s.Chunk < 0 {
		return fmt.Errorf("step %s/%s of wave %s: negative part or chunk", s.Op, s.Phase, s.Wave)
	}
	return nil
}

// Chunks is how many chunks of ChunkSize n objects make.
func Chunks(n int) int { return (n + ChunkSize - 1) / ChunkSize }

// Parts is how many users export parts n rows make.
func Parts(n int) int { return (n + PartRows - 1) / PartRows }

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

// Counts tallies object outcomes of one phase (or, added up, of a wave).
type Counts struct {
	Created int `json:"created"`
	Matched int `json:"matched"`
	Skipped int `json:"skipped"`
	Pending int `json:"pending"`
	Failed  int `json:"failed"`
}

// With returns the tally with one more object of the given ledger status (a dry run's WouldCreate and
// WouldMatch count as Created and Matched; anything unsettled counts as Failed).
func (c Counts) With(status string) Counts {
	switch status {
	case ObjCreated, ObjWouldCreate:
		c.Created++
	case ObjMatched, ObjWouldMatch:
		c.Matched++
	case ObjSkipped:
		c.Skipped++
	case ObjPending:
		c.Pending++
	default:
		c.Failed++
	}
	return c
}

// Add returns the sum of two tallies.
func (c Counts) Add(o Counts) Counts {
	return Counts{Created: c.Created + o.Created, Matched: c.Matched + o.Matched, Skipped: c.Skipped + o.Skipped,
		Pending: c.Pending + o.Pending, Failed: c.Failed + o.Failed}
}

// Total is how many objects the tally counts.
func (c Counts) Total() int { return c.Created + c.Matched + c.Skipped + c.Pending + c.Failed }

// Sum adds up per-phase tallies.
func Sum(byPhase map[string]Counts) Counts {
	var t Counts
	for _, c := range byPhase {
		t = t.Add(c)
	}
	return t
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
func ManifestPath(id string) string   { return id + "/wave.json" }
func ErrorsPath(id string) string     { return id + "/errors.csv" }
func WhatIfPath(id string) string     { return id + "/whatif.csv" }
func ReportPath(id string) string     { return id + "/report.json" }
func ReportHTMLPath(id string) string { return id + "/report.html" }
func ReportCSVPath(id string) string  { return id + "/report.csv" }
func FailuresPath(id string) string   { return id + "/failures.csv" }
func StatePath(id string) string      { return id + "/MigrationState.json" }
func ProgressPath(id string) string   { return id + "/progress.json" }

// CurrentPath is waves/<wave>/current.json: the version of the file steps must belong to. Small, so
// every step can afford to read it; steps of a replaced version stop there.
func CurrentPath(id string) string { return id + "/current.json" }

// Current is the content of CurrentPath.
type Current struct {
	Version string `json:"version"`
}

// ExportPath is the snapshot of one chunk of a phase's export.
func ExportPath(id, version, phase string, chunk int) string {
	return fmt.Sprintf("%s/export/%s/%s/%05d.json", id, version, phase, chunk)
}

// RowsPath is the blob holding one users export part's mapping rows (PartRows of them), so that steps
// read their rows by reference and wave.json stays small.
func RowsPath(id, version string, part int) string {
	return fmt.Sprintf("%s/rows/%s/%05d.json", id, version, part)
}

// RollbackPath is the report of the wave's rollback (or of its dry run).
func RollbackPath(id string) string { return id + "/rollback.json" }

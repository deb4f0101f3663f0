package wave

import (
	"fmt"
	"strconv"
	"time"
)

// A cutover flips a wave's migrated users from coexistence to the target identity: each is converted
// to an internal member of the target, then its source account is B2B-linked to it. It runs on
// request (or at Options.CutoverUtc) as steps of its own: one start, then one step per users chunk,
// each ledgered under the cutover run's name as the version.

// Ledger phases of a cutover, in the order each user goes through them (DESIGN section 4).
const (
	CutoverConvert = "convertToInternal" // target: external member to internal member
	CutoverLink    = "inviteToB2B"       // source: internal user B2B-linked to the target identity
)

const cutoverRunPrefix = "cutover-"

// NewCutoverRun names a new cutover run of a wave (its steps' Version and its ledger's).
func NewCutoverRun(now time.Time) string {
	return cutoverRunPrefix + strconv.FormatInt(now.UnixNano(), 36)
}

// CutoverRun is waves/<wave>/cutover/<run>.json: what one cutover run works on, fixed when it starts,
// so that every chunk reads the same file version even if the wave runs again meanwhile.
type CutoverRun struct {
	Run        string    `json:"run"`
	Wave       string    `json:"wave"`
	Of         string    `json:"of"`     // the wave version whose users (snapshot, id map) it cuts over
	Chunks     int       `json:"chunks"` // users chunks of that version
	Phases     []string  `json:"phases"` // the phases with a cutover that the wave ran
	DryRun     bool      `json:"dryRun"`
	StartedUtc time.Time `json:"startedUtc"`
}

// CutoverRunPath is the CutoverRun document of a run.
func CutoverRunPath(id, run string) string { return id + "/cutover/" + run + ".json" }

// CutoverReportPath is waves/<wave>/cutover.json, the report of the latest cutover run (dry or not).
func CutoverReportPath(id string) string { return id + "/cutover.json" }

// CutoverWhatIfPath is waves/<wave>/cutover-whatif.csv: what a cutover dry run would do, per user.
func CutoverWhatIfPath(id string) string { return id + "/cutover-whatif.csv" }

// CheckCutover says why a wave cannot be cut over now, or nil: the wave must have finished a real
// (not dry) run, so that its users are in the id map.
func CheckCutover(m *Manifest) error {
	switch {
	case m.DryRun:
		return fmt.Errorf("wave %s is a dry run: nothing was migrated to cut over", m.Wave)
	case m.Status == StatusRejected:
		return fmt.Errorf("wave %s was rejected: nothing was migrated to cut over", m.Wave)
	case m.Status != StatusCompleted && m.Status != StatusCompletedWithErrors:
		return fmt.Errorf("wave %s is %s: cut over once it has finished", m.Wave, m.Status)
	}
	return nil
}

// CutoverReport is waves/<wave>/cutover.json: the outcome of the latest cutover run, per step.
type CutoverReport struct {
	Wave         string            `json:"wave"`
	Run          string            `json:"run"`
	Of           string            `json:"of"` // the wave version cut over
	DryRun       bool              `json:"dryRun"`
	CompletedUtc time.Time         `json:"completedUtc"`
	Steps        map[string]Counts `json:"steps"` // convertToInternal, inviteToB2B
	Failed       []CutoverItem     `json:"failed"`
	MoreFailed   int               `json:"moreFailed,omitempty"` // failures beyond the ones listed
	Notes        []string          `json:"notes"`
}

// CutoverItem is one user's failed cutover step.
type CutoverItem struct {
	Step        string `json:"step"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Reason      string `json:"reason"`
}

// TranslationCSVPath and TranslationJSONPath are the wave's translation table (package translation).
func TranslationCSVPath(id string) string  { return id + "/translation.csv" }
func TranslationJSONPath(id string) string { return id + "/translation.json" }

// CutoverTriggeredPath marks that the planned cutover at (Options.CutoverUtc) was started, so that a
// schedule check starts it once; a new planned time is a new marker.
func CutoverTriggeredPath(id string, at time.Time) string {
	return fmt.Sprintf("%s/cutover/planned-%d.json", id, at.Unix())
}

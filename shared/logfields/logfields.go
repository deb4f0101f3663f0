// Package logfields names the structured log records and fields of the custom handler. The handler
// logs with log/slog as JSON, one record per line, on stderr, and copies each record of an
// invocation into the invocation response's Logs, which the Functions host logs under that
// invocation (the portal's invocation log, Application Insights traces); the Azure Monitor workbook
// (infra/workbook.json) reads the records with KQL parse_json(message). The workbook may name only fields listed here (an infra contract test
// checks it), and a handlers test checks that the handler's records use only these names, so
// renaming a field is one change here plus the workbook.
//
// Fields marked Emitted are in the handler's records today.
package logfields

// Record messages (slog's msg).
const (
	// MsgInvocation ends every invocation: Function, Status, DurationMs.
	MsgInvocation = "invocation"
	// MsgInvocationFailed precedes MsgInvocation for a failed run: Function, Err.
	MsgInvocationFailed = "invocation failed"
	// MsgObjectFailed is one object marked Failed in a chunk: Wave, Phase, Chunk, Key, Err (the reason).
	MsgObjectFailed = "object failed"
	// MsgStep is one settled import chunk of a wave: Wave, Phase, Chunk, the counts, Writes,
	// Throttled, DryRun.
	MsgStep = "step"
)

// Field names.
const (
	Time       = "time"     // slog's timestamp
	Level      = "level"    // slog's level
	Msg        = "msg"      // slog's message: one of the Msg* constants
	Function   = "function" // the Azure Function invoked, e.g. StepRun
	Status     = "status"   // HTTP status the handler answered the host: 200, or 500 for a failed run
	DurationMs = "ms"       // invocation duration in milliseconds
	Err        = "err"      // error text of a failed run (never a secret: DESIGN section 9)
	Port       = "port"     // the handler's listen port, logged once at start
	// InvocationID is the Functions host's id of the invocation (header X-Azure-Functions-InvocationId),
	// on every record of a run: the id the portal shows for it.
	InvocationID = "invocationId"
	Key          = "key" // the object's key (source UPN or id) in a record about one object

	Wave      = "wave"      // wave id
	Phase     = "phase"     // phase name, e.g. users, groups, groupMembership
	Chunk     = "chunk"     // chunk number within the phase
	Created   = "created"   // objects created in the target by the step
	Matched   = "matched"   // objects matched to existing target objects
	Skipped   = "skipped"   // objects left to a manual step
	Pending   = "pending"   // objects waiting for objects a later wave migrates
	Failed    = "failed"    // objects that failed in the step
	Writes    = "writes"    // Graph writes the step issued (every attempt)
	Throttled = "throttled" // Graph 429 answers the step received (retried by the transport)
	DryRun    = "dryRun"    // true for a dry run's plan step
)

// Field describes one field for the contract tests and readers of the workbook.
type Field struct {
	Name string
	// Emitted is true when the handler writes the field today.
	Emitted bool
}

// Fields lists every field the workbook may query.
var Fields = []Field{
	{Time, true}, {Level, true}, {Msg, true},
	{Function, true}, {Status, true}, {DurationMs, true}, {Err, true}, {Port, true}, {InvocationID, true}, {Key, true},
	{Wave, true}, {Phase, true}, {Chunk, true},
	{Created, true}, {Matched, true}, {Skipped, true}, {Pending, true}, {Failed, true},
	{Writes, true}, {Throttled, true}, {DryRun, true},
}

// Messages lists every record message the workbook may filter on, with whether it is emitted today.
var Messages = map[string]bool{MsgInvocation: true, MsgInvocationFailed: true, MsgStep: true, MsgObjectFailed: true}

// StepFields are the fields of the per-step record (MsgStep), written when an import chunk settles.
var StepFields = []string{Wave, Phase, Chunk, Created, Matched, Skipped, Pending, Failed, Writes, Throttled, DryRun}

package funchost

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// hostJSON is the part of host.json the local host reads. encoding/json matches keys case-insensitively,
// as the real host does.
type hostJSON struct {
	Version         string `json:"version"`
	FunctionTimeout string `json:"functionTimeout"`
	CustomHandler   struct {
		Description struct {
			DefaultExecutablePath string   `json:"defaultExecutablePath"`
			WorkingDirectory      string   `json:"workingDirectory"`
			Arguments             []string `json:"arguments"`
		} `json:"description"`
		EnableForwardingHTTPRequest bool `json:"enableForwardingHttpRequest"`
	} `json:"customHandler"`
	Extensions struct {
		HTTP struct {
			RoutePrefix *string `json:"routePrefix"`
		} `json:"http"`
		Queues struct {
			BatchSize          *int   `json:"batchSize"`
			NewBatchThreshold  *int   `json:"newBatchThreshold"`
			MaxDequeueCount    *int   `json:"maxDequeueCount"`
			VisibilityTimeout  string `json:"visibilityTimeout"`
			MaxPollingInterval string `json:"maxPollingInterval"`
			MessageEncoding    string `json:"messageEncoding"`
		} `json:"queues"`
		Blobs struct {
			MaxDegreeOfParallelism *int `json:"maxDegreeOfParallelism"`
		} `json:"blobs"`
	} `json:"extensions"`
}

// hostSettings is host.json with defaults applied and durations parsed.
type hostSettings struct {
	functionTimeout time.Duration // 0 means no limit
	executable      string
	arguments       []string
	workingDir      string
	forwardHTTP     bool
	routePrefix     string
	queues          queueSettings
	blobParallelism int
}

// queueSettings are the extensions.queues knobs, shared by every queue trigger and queue output.
type queueSettings struct {
	batchSize          int
	newBatchThreshold  int
	maxDequeueCount    int
	visibilityTimeout  time.Duration // delay before a failed message is visible again
	maxPollingInterval time.Duration
	base64             bool // messageEncoding base64 (default) or none
}

// defaultFunctionTimeout applies when host.json has no functionTimeout: the Flex Consumption and
// Premium default of 30 minutes.
const defaultFunctionTimeout = 30 * time.Minute

// readHostJSON reads and validates root/host.json.
func readHostJSON(root string) (*hostSettings, error) {
	raw, err := os.ReadFile(filepath.Join(root, "host.json"))
	if err != nil {
		return nil, fmt.Errorf("reading host.json: %w", err)
	}
	var hj hostJSON
	if err := json.Unmarshal(raw, &hj); err != nil {
		return nil, fmt.Errorf("parsing host.json: %w", err)
	}
	if hj.Version != "2.0" {
		return nil, fmt.Errorf("host.json: version %q is not supported; the Functions runtime v4 needs \"2.0\"", hj.Version)
	}
	hs := &hostSettings{
		executable:  hj.CustomHandler.Description.DefaultExecutablePath,
		arguments:   hj.CustomHandler.Description.Arguments,
		workingDir:  hj.CustomHandler.Description.WorkingDirectory,
		forwardHTTP: hj.CustomHandler.EnableForwardingHTTPRequest,
		routePrefix: "api",
	}
	if p := hj.Extensions.HTTP.RoutePrefix; p != nil {
		hs.routePrefix = strings.Trim(*p, "/")
	}
	if hs.functionTimeout, err = parseFunctionTimeout(hj.FunctionTimeout); err != nil {
		return nil, err
	}
	if hs.queues, err = parseQueueSettings(&hj); err != nil {
		return nil, err
	}
	hs.blobParallelism = intOr(hj.Extensions.Blobs.MaxDegreeOfParallelism, 8)
	if hs.blobParallelism < 1 {
		return nil, fmt.Errorf("host.json: extensions.blobs.maxDegreeOfParallelism must be at least 1")
	}
	return hs, nil
}

// parseFunctionTimeout reads functionTimeout; "-1" means unbounded.
func parseFunctionTimeout(s string) (time.Duration, error) {
	switch strings.TrimSpace(s) {
	case "":
		return defaultFunctionTimeout, nil
	case "-1":
		return 0, nil
	}
	d, err := parseTimeSpan(s)
	if err != nil {
		return 0, fmt.Errorf("host.json functionTimeout: %w", err)
	}
	return d, nil
}

// parseQueueSettings applies the queue extension defaults (batchSize 16, newBatchThreshold batchSize/2,
// maxDequeueCount 5, visibilityTimeout 0, maxPollingInterval 1 min, messageEncoding base64). The real
// host multiplies the default newBatchThreshold by the CPU count; locally one instance counts as one CPU.
func parseQueueSettings(hj *hostJSON) (queueSettings, error) {
	q := hj.Extensions.Queues
	qs := queueSettings{
		batchSize:          intOr(q.BatchSize, 16),
		maxDequeueCount:    intOr(q.MaxDequeueCount, 5),
		maxPollingInterval: time.Minute,
		base64:             true,
	}
	if qs.batchSize < 1 || qs.batchSize > 32 {
		return qs, fmt.Errorf("host.json: extensions.queues.batchSize must be between 1 and 32, got %d", qs.batchSize)
	}
	if qs.maxDequeueCount < 1 {
		return qs, fmt.Errorf("host.json: extensions.queues.maxDequeueCount must be at least 1")
	}
	qs.newBatchThreshold = intOr(q.NewBatchThreshold, qs.batchSize/2)
	var err error
	if q.VisibilityTimeout != "" {
		if qs.visibilityTimeout, err = parseTimeSpan(q.VisibilityTimeout); err != nil {
			return qs, fmt.Errorf("host.json extensions.queues.visibilityTimeout: %w", err)
		}
	}
	if q.MaxPollingInterval != "" {
		if qs.maxPollingInterval, err = parseTimeSpan(q.MaxPollingInterval); err != nil {
			return qs, fmt.Errorf("host.json extensions.queues.maxPollingInterval: %w", err)
		}
	}
	switch strings.ToLower(q.MessageEncoding) {
	case "", "base64":
	case "none":
		qs.base64 = false
	default:
		return qs, fmt.Errorf("host.json: extensions.queues.messageEncoding %q is neither base64 nor none", q.MessageEncoding)
	}
	return qs, nil
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// parseTimeSpan reads a .NET TimeSpan as host.json writes it: "hh:mm:ss", "hh:mm", "d.hh:mm:ss", each
// with optional fractional seconds ("00:00:00.250").
func parseTimeSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days int64
	if dot, colon := strings.IndexByte(s, '.'), strings.IndexByte(s, ':'); dot >= 0 && colon > dot {
		n, err := strconv.ParseInt(s[:dot], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("time span %q: bad days: %w", s, err)
		}
		days, s = n, s[dot+1:]
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("time span %q is not hh:mm:ss", s)
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 32)
	m, err2 := strconv.ParseInt(parts[1], 10, 32)
	var sec float64
	var err3 error
	if len(parts) == 3 {
		sec, err3 = strconv.ParseFloat(parts[2], 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || h < 0 || m < 0 || m > 59 || sec < 0 || sec >= 60 {
		return 0, fmt.Errorf("time span %q is not hh:mm:ss", s)
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	return d + time.Duration(sec*float64(time.Second)), nil
}

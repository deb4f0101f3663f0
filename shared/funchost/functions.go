package funchost

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// bindingJSON is one entry of function.json "bindings".
type bindingJSON struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Direction    string   `json:"direction"`
	QueueName    string   `json:"queueName"`
	Path         string   `json:"path"`
	Connection   string   `json:"connection"`
	DataType     string   `json:"dataType"`
	Source       string   `json:"source"`
	Schedule     string   `json:"schedule"`
	RunOnStartup bool     `json:"runOnStartup"`
	UseMonitor   *bool    `json:"useMonitor"`
	AuthLevel    string   `json:"authLevel"`
	Methods      []string `json:"methods"`
	Route        string   `json:"route"`
}

// functionJSON is a function.json file.
type functionJSON struct {
	Bindings []bindingJSON `json:"bindings"`
	Disabled bool          `json:"disabled"`
}

// binding is a binding with its %Setting% references resolved and its storage account opened.
type binding struct {
	bindingJSON
	acct *account // queue and blob bindings only
}

// function is one loaded function: its trigger, its outputs, and what the trigger needs at run time.
type function struct {
	name     string
	trigger  *binding
	outputs  []*binding
	blob     *blobPattern   // blobTrigger
	schedule *Schedule      // timerTrigger
	route    *routeTemplate // httpTrigger
	methods  []string       // httpTrigger, upper case; empty means any
}

// id is the function id the real host uses in poison messages: Host.Functions.<Name>.
func (f *function) id() string { return "Host.Functions." + f.name }

// isType compares a binding type case-insensitively, as the host does.
func (b *binding) isType(t string) bool { return strings.EqualFold(b.Type, t) }

// findFunctionFiles lists function.json files in the deployed layout (root/<Name>/function.json) or,
// when there are none, in the repository layout (root/functions/<Name>/function.json).
func findFunctionFiles(root string) ([]string, error) {
	for _, pattern := range []string{"*/function.json", "functions/*/function.json"} {
		files, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return nil, fmt.Errorf("listing functions: %w", err)
		}
		if len(files) > 0 {
			sort.Strings(files)
			return files, nil
		}
	}
	return nil, nil
}

// loadFunction reads one function.json. A nil function with a nil error means the function is disabled.
func (a *app) loadFunction(path string) (*function, error) {
	name := filepath.Base(filepath.Dir(path))
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading function.json: %w", err)
	}
	var fj functionJSON
	if err := json.Unmarshal(raw, &fj); err != nil {
		return nil, fmt.Errorf("parsing function.json: %w", err)
	}
	if v, _ := lookupSetting(a.settings, "AzureWebJobs."+name+".Disabled"); fj.Disabled || isTrue(v) {
		return nil, nil
	}
	fn := &function{name: name}
	for i := range fj.Bindings {
		b := &binding{bindingJSON: fj.Bindings[i]}
		if err := a.addBinding(fn, b); err != nil {
			return nil, fmt.Errorf("binding %q: %w", b.Name, err)
		}
	}
	if fn.trigger == nil {
		return nil, errors.New("no trigger binding")
	}
	return fn, nil
}

func isTrue(s string) bool { return strings.EqualFold(s, "true") || s == "1" }

// addBinding sorts a binding into trigger or output and validates it.
func (a *app) addBinding(fn *function, b *binding) error {
	if b.Name == "" || b.Type == "" {
		return errors.New("name and type are required")
	}
	isTrigger := strings.HasSuffix(strings.ToLower(b.Type), "trigger")
	switch {
	case isTrigger && fn.trigger != nil:
		return errors.New("a function has exactly one trigger")
	case isTrigger:
		fn.trigger = b
		return a.prepareTrigger(fn, b)
	case strings.EqualFold(b.Direction, "out"):
		if !b.isType("queue") && !b.isType("blob") && !b.isType("http") {
			a.warnf("%s: output binding type %q is not supported by the local host; it is ignored", fn.name, b.Type)
			return nil
		}
		fn.outputs = append(fn.outputs, b)
		return a.prepareOutput(b)
	default:
		a.warnf("%s: input binding %q (type %q) is not supported by the local host; it is ignored", fn.name, b.Name, b.Type)
		return nil
	}
}

// prepareTrigger resolves and validates the trigger's properties.
func (a *app) prepareTrigger(fn *function, b *binding) error {
	var err error
	switch {
	case b.isType("queueTrigger"):
		if b.QueueName, err = a.resolveQueueName(b.QueueName); err != nil {
			return err
		}
		b.acct, err = a.accountFor(b.Connection)
	case b.isType("blobTrigger"):
		if err := checkBlobSource(b.Source); err != nil {
			return err
		}
		if b.Path, err = resolveSettingRefs(b.Path, a.settings); err != nil {
			return err
		}
		if fn.blob, err = parseBlobPattern(b.Path); err != nil {
			return err
		}
		b.acct, err = a.accountFor(b.Connection)
	case b.isType("timerTrigger"):
		if b.Schedule, err = resolveSettingRefs(b.Schedule, a.settings); err != nil {
			return err
		}
		fn.schedule, err = ParseSchedule(b.Schedule)
	case b.isType("httpTrigger"):
		route := b.Route
		if route == "" {
			route = fn.name
		}
		if fn.route, err = parseRoute(route, func(msg string) { a.warnf("%s: %s", fn.name, msg) }); err != nil {
			return err
		}
		for _, m := range b.Methods {
			fn.methods = append(fn.methods, strings.ToUpper(m))
		}
	default:
		err = fmt.Errorf("trigger type %q is not supported by the local host", b.Type)
	}
	return err
}

// prepareOutput resolves a queue or blob output's %Setting% references and opens its account.
// {binding} expressions in queueName and path are resolved per invocation.
func (a *app) prepareOutput(b *binding) error {
	var err error
	switch {
	case b.isType("queue"):
		if b.QueueName, err = resolveSettingRefs(b.QueueName, a.settings); err != nil {
			return err
		}
		b.QueueName = strings.ToLower(b.QueueName)
		b.acct, err = a.accountFor(b.Connection)
	case b.isType("blob"):
		if b.Path, err = resolveSettingRefs(b.Path, a.settings); err != nil {
			return err
		}
		if !strings.Contains(b.Path, "/") {
			return fmt.Errorf("blob path %q must be container/blob", b.Path)
		}
		b.acct, err = a.accountFor(b.Connection)
	}
	return err
}

// Blob trigger sources (the blob extension's BlobTriggerSource): the default polls storage logs and
// scans the container; EventGrid, the only choice on Flex Consumption, reacts to the Event Grid
// subscription that infra/ creates on the container. Locally both are served by listing the container
// (blob.go), so one function.json runs in Azure and here.
const (
	blobSourceScan      = "LogsAndContainerScan"
	blobSourceEventGrid = "EventGrid"
)

// checkBlobSource rejects a source the real host would fail to index.
func checkBlobSource(source string) error {
	switch {
	case source == "", strings.EqualFold(source, blobSourceScan), strings.EqualFold(source, blobSourceEventGrid):
		return nil
	}
	return fmt.Errorf("blob trigger source %q is not %s or %s", source, blobSourceScan, blobSourceEventGrid)
}

var queueNameRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)

// resolveQueueName resolves %Setting% references, lower-cases the name as the host does, and checks the
// storage naming rules (3-63 characters, lowercase letters, digits, single dashes).
func (a *app) resolveQueueName(name string) (string, error) {
	name, err := resolveSettingRefs(name, a.settings)
	if err != nil {
		return "", err
	}
	name = strings.ToLower(name)
	if !queueNameRE.MatchString(name) {
		return "", fmt.Errorf("queue name %q is not a valid storage queue name", name)
	}
	return name, nil
}

// triggerSummary describes a function's trigger for the startup summary.
func (f *function) triggerSummary(baseURL string, qs queueSettings, blobScan string) string {
	t := f.trigger
	switch {
	case t.isType("queueTrigger"):
		enc := "base64"
		if !qs.base64 {
			enc = "none"
		}
		return fmt.Sprintf("queueTrigger %s (encoding %s, batch %d, maxDequeueCount %d)", t.QueueName, enc, qs.batchSize, qs.maxDequeueCount)
	case t.isType("blobTrigger"):
		src := ""
		if strings.EqualFold(t.Source, blobSourceEventGrid) {
			src = ", standing in for source EventGrid"
		}
		return fmt.Sprintf("blobTrigger %s (container listed every %s%s)", t.Path, blobScan, src)
	case t.isType("timerTrigger"):
		return fmt.Sprintf("timerTrigger %q (runOnStartup %t)", t.Schedule, t.RunOnStartup)
	default:
		methods := "any method"
		if len(f.methods) > 0 {
			methods = strings.Join(f.methods, ",")
		}
		return fmt.Sprintf("httpTrigger %s %s/%s", methods, baseURL, f.route.raw)
	}
}

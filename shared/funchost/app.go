package funchost

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// app is a loaded function app: host.json, settings and the functions that loaded without error.
type app struct {
	root      string
	host      *hostSettings
	settings  map[string]string
	hostID    string
	port      int
	functions []*function
	accounts  map[string]*account // by connection string
	warnings  []string
	problems  []string // functions that failed to load, with the reason
	disabled  []string
}

// loadApp reads host.json, the settings and every function.json. A function with an error is reported
// and skipped, as the real host keeps running the others; a bad host.json is fatal.
func loadApp(cfg Config) (*app, error) {
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("resolving root: %w", err)
	}
	hs, err := readHostJSON(root)
	if err != nil {
		return nil, err
	}
	ls, err := readLocalSettings(cfg)
	if err != nil {
		return nil, err
	}
	a := &app{root: root, host: hs, settings: mergeSettings(ls, cfg.Settings), accounts: map[string]*account{}}
	a.hostID = hostIDFor(root, a.settings)
	a.port = cfg.Port
	if a.port == 0 {
		a.port = ls.Host.LocalHTTPPort
	}
	if a.port == 0 {
		a.port = DefaultPort
	}
	files, err := findFunctionFiles(root)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no function.json under %s (looked for */function.json and functions/*/function.json)", root)
	}
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f))
		fn, err := a.loadFunction(f)
		switch {
		case err != nil:
			a.problems = append(a.problems, fmt.Sprintf("%s: %v", name, err))
		case fn == nil:
			a.disabled = append(a.disabled, name)
		default:
			a.functions = append(a.functions, fn)
		}
	}
	return a, nil
}

// warnf records a startup warning; each distinct warning is printed once.
func (a *app) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, w := range a.warnings {
		if w == msg {
			return
		}
	}
	a.warnings = append(a.warnings, msg)
}

// accountFor resolves a binding's connection property: the name of an app setting holding a storage
// connection string (AzureWebJobsStorage when empty; "AzureWebJobs"+name is tried too, as the host does).
// Identity-based connections (<name>__serviceUri) need Azure AD and are not supported locally.
func (a *app) accountFor(connection string) (*account, error) {
	name := connection
	if name == "" {
		name = "AzureWebJobsStorage"
	}
	cs, ok := lookupSetting(a.settings, name)
	if !ok || cs == "" {
		cs, ok = lookupSetting(a.settings, "AzureWebJobs"+name)
	}
	if !ok || cs == "" {
		if _, id := lookupSetting(a.settings, name+"__serviceUri"); id {
			return nil, fmt.Errorf("connection %q is identity-based; the local host needs a connection string", name)
		}
		return nil, fmt.Errorf("connection setting %q is missing or empty", name)
	}
	if acct, ok := a.accounts[cs]; ok {
		return acct, nil
	}
	acct, err := newAccount(name, cs)
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", name, err)
	}
	a.accounts[cs] = acct
	return acct, nil
}

// hostAccount is the AzureWebJobsStorage account that holds receipts and timer status.
func (a *app) hostAccount() (*account, error) {
	acct, err := a.accountFor("AzureWebJobsStorage")
	if err != nil {
		return nil, fmt.Errorf("the host's own storage: %w", err)
	}
	return acct, nil
}

// errNoFunctions is returned when every function failed to load or is disabled.
var errNoFunctions = errors.New("no function loaded")

// describeProblems joins the load problems for an error message.
func (a *app) describeProblems() string {
	if len(a.problems) == 0 {
		return "every function is disabled"
	}
	return strings.Join(a.problems, "; ")
}

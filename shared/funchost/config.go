// Package funchost is the project's local Azure Functions host. It stands in for Azure Functions Core
// Tools, which cannot be installed here: it reads host.json and every function.json, starts the
// custom handler, and fires queue, blob, timer and HTTP triggers against Azurite with the real host's
// payload shape (strings encoded twice, scalar metadata as strings, binary content as base64) and its
// retry and poison semantics (maxDequeueCount, <queue>-poison, blob receipts, webjobs-blobtrigger-poison).
//
// Deliberate differences from the real host, each explained next to its code: blob triggers find new
// blobs by listing the container (standing in for Event Grid delivery) and count failures in the blob
// receipt's metadata rather than on an internal queue; receipt and timer-status paths use the function
// name where the real host uses its function id; a function timeout fails the invocation but does not
// restart the whole host; queue messages get one processing lease of functionTimeout+30s instead of a
// renewed 10-minute one; functions with a load error are skipped while the others run; storage must be
// reached through connection strings (no identity-based connections), and authLevel keys are not checked.
package funchost

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultPort is the HTTP port Core Tools listen on when neither a flag nor local.settings.json names one.
const DefaultPort = 7071

// Config says where the function app lives and how to run it. The zero value of each optional field
// means the default documented on it.
type Config struct {
	// Root is the function app folder: it holds host.json and either <Name>/function.json folders
	// (deployed layout) or functions/<Name>/function.json (repository layout).
	Root string
	// SettingsFile is a local.settings.json file ({"IsEncrypted":false,"Values":{...}}); empty means
	// Root/local.settings.json when it exists. Process environment variables override its Values, as
	// Core Tools do ("already defined in current environment variables").
	SettingsFile string
	// Settings override both local.settings.json and the environment. Tests use them; they are also
	// passed to the handler's environment.
	Settings map[string]string
	// Port is the HTTP listen port on 127.0.0.1; 0 means local.settings.json Host.LocalHttpPort, else 7071.
	Port int
	// Handler overrides host.json customHandler.description.defaultExecutablePath.
	Handler string
	// Log receives the host's and the handler's output; nil means os.Stderr.
	Log io.Writer
	// BlobScanInterval is how often blob-triggered containers are listed; 0 means 1 s. The real host
	// receives Event Grid notifications (or scans logs); locally a container listing stands in for both.
	BlobScanInterval time.Duration
	// ShutdownTimeout bounds the wait for in-flight invocations on shutdown; 0 means 30 s.
	ShutdownTimeout time.Duration
	// StartTimeout bounds the wait for the handler to accept connections at start; 0 means 60 s.
	StartTimeout time.Duration
}

// withDefaults fills the optional fields.
func (c Config) withDefaults() Config {
	if c.Log == nil {
		c.Log = os.Stderr
	}
	if c.BlobScanInterval <= 0 {
		c.BlobScanInterval = time.Second
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 60 * time.Second
	}
	return c
}

// localSettings is the shape of local.settings.json.
type localSettings struct {
	IsEncrypted bool              `json:"IsEncrypted"`
	Values      map[string]string `json:"Values"`
	Host        struct {
		LocalHTTPPort int `json:"LocalHttpPort"`
	} `json:"Host"`
}

// readLocalSettings reads the settings file; a missing default file is not an error.
func readLocalSettings(cfg Config) (*localSettings, error) {
	path, explicit := cfg.SettingsFile, cfg.SettingsFile != ""
	if !explicit {
		path = filepath.Join(cfg.Root, "local.settings.json")
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return &localSettings{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading settings: %w", err)
	}
	var ls localSettings
	if err := json.Unmarshal(raw, &ls); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	if ls.IsEncrypted {
		return nil, fmt.Errorf("%s: encrypted settings are not supported locally; set IsEncrypted to false", path)
	}
	return &ls, nil
}

// mergeSettings builds the effective app settings: local.settings.json Values, overridden by the process
// environment, overridden by Config.Settings.
func mergeSettings(ls *localSettings, overrides map[string]string) map[string]string {
	out := make(map[string]string, len(ls.Values)+len(overrides))
	for k, v := range ls.Values {
		out[k] = v
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			out[k] = v
		}
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out
}

// lookupSetting finds an app setting; setting names are case-insensitive in Azure, so an exact match
// wins and a case-insensitive one is the fallback.
func lookupSetting(settings map[string]string, name string) (string, bool) {
	if v, ok := settings[name]; ok {
		return v, true
	}
	for k, v := range settings {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// resolveSettingRefs replaces each %Name% in s with the app setting Name, as the host does for
// auto-resolved binding properties (queueName, path, schedule).
func resolveSettingRefs(s string, settings map[string]string) (string, error) {
	var b strings.Builder
	for {
		start := strings.IndexByte(s, '%')
		if start < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		end := strings.IndexByte(s[start+1:], '%')
		if end < 0 {
			return "", fmt.Errorf("%q: unbalanced %% in setting reference", s)
		}
		name := s[start+1 : start+1+end]
		v, ok := lookupSetting(settings, name)
		if !ok {
			return "", fmt.Errorf("'%%%s%%' does not resolve to a value: app setting %q is missing", name, name)
		}
		b.WriteString(s[:start])
		b.WriteString(v)
		s = s[start+end+2:]
	}
}

// hostIDFor returns the host id used in receipt and timer-status paths: the AzureFunctionsWebHost__hostid
// setting, or the root folder's name sanitized like the real host sanitizes the site name (lowercase
// letters, digits and dashes, at most 32 characters), so it is stable across restarts.
func hostIDFor(root string, settings map[string]string) string {
	if v, ok := lookupSetting(settings, "AzureFunctionsWebHost__hostid"); ok && v != "" {
		return v
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = root
	}
	var b strings.Builder
	for _, r := range strings.ToLower(filepath.Base(abs)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	id := strings.Trim(b.String(), "-")
	if len(id) > 32 {
		id = strings.TrimRight(id[:32], "-")
	}
	if id == "" {
		id = "localhost"
	}
	return id
}

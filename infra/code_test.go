package infra

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// What the code uses, read from the Go sources and functions/*/function.json, for the contract tests.

// goPackage is one package of this module.
type goPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
}

// modulePackages lists this module's packages that pattern builds (with -deps: its dependencies too).
func modulePackages(t *testing.T, deps bool, pattern string) []goPackage {
	t.Helper()
	args := []string{"list", "-json"}
	if deps {
		args = append(args, "-deps")
	}
	cmd := exec.Command("go", append(args, pattern)...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pattern, err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.ImportPath == "t2t" || strings.HasPrefix(p.ImportPath, "t2t/") {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

// goFset holds the positions of every file goFiles parses.
var goFset = token.NewFileSet()

// goFiles parses the non-test Go files of pkgs.
func goFiles(t *testing.T, pkgs []goPackage) map[string]*ast.File {
	t.Helper()
	files := map[string]*ast.File{}
	for _, p := range pkgs {
		for _, name := range p.GoFiles {
			path := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(goFset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files[path] = f
		}
	}
	return files
}

// settingNameRE matches the names of app settings (environment variables) the Functions platform
// and t2t use.
var settingNameRE = regexp.MustCompile(`^(T2T_[A-Z0-9_]+|AzureWebJobs[A-Za-z0-9_]*|AZURE_[A-Z0-9_]+|FUNCTIONS_[A-Z0-9_]+|APPLICATIONINSIGHTS_[A-Z0-9_]+|WEBSITE_[A-Z0-9_]+)$`)

// handlerSettings returns the app settings the deployed handler's Go code reads: every string
// literal shaped like a setting name in the packages cmd/handler is built from, with the file that
// names it.
func handlerSettings(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for path, f := range goFiles(t, modulePackages(t, true, "./cmd/handler")) {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && settingNameRE.MatchString(s) {
				out[s] = filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
			}
			return true
		})
	}
	return out
}

// storageNameConstRE: string constants named like WavesContainer, LedgerTable or blobPoisonQueue are
// storage names (the convention the storage contract relies on; keep it when adding a table).
var storageNameConstRE = regexp.MustCompile(`(?i)(container|queue|table)$`)

// codeStorageNames returns the container, queue and table names declared as constants in the
// module's non-test code, by kind ("container", "queue", "table"). The simulator, the local stack
// and testdata are not Azure storage and are left out.
func codeStorageNames(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{"container": {}, "queue": {}, "table": {}}
	var pkgs []goPackage
	for _, p := range modulePackages(t, false, "./...") {
		if strings.Contains(p.ImportPath, "/simulator") || strings.HasSuffix(p.ImportPath, "/localstack") || strings.Contains(p.ImportPath, "testdata") {
			continue
		}
		pkgs = append(pkgs, p)
	}
	for path, f := range goFiles(t, pkgs) {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					m := storageNameConstRE.FindStringSubmatch(name.Name)
					if m == nil || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					out[strings.ToLower(m[1])][v] = name.Name + " in " + filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
				}
			}
		}
	}
	return out
}

// binding is one entry of a function.json "bindings".
type binding map[string]any

func (b binding) str(key string) string {
	s, _ := b[key].(string)
	return s
}

// functionApp is host.json plus every functions/<Name>/function.json.
type functionApp struct {
	host      map[string]any
	functions map[string][]binding
}

func loadFunctionApp(t *testing.T) *functionApp {
	t.Helper()
	fa := &functionApp{functions: map[string][]binding{}}
	raw, err := os.ReadFile(filepath.Join("..", "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &fa.host); err != nil {
		t.Fatalf("host.json: %v", err)
	}
	paths, err := filepath.Glob(filepath.Join("..", "functions", "*", "function.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no functions/*/function.json: %v", err)
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var fj struct{ Bindings []binding }
		if err := json.Unmarshal(raw, &fj); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		fa.functions[filepath.Base(filepath.Dir(p))] = fj.Bindings
	}
	return fa
}

// names returns the function names, sorted.
func (fa *functionApp) names() []string {
	var out []string
	for n := range fa.functions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var settingRefRE = regexp.MustCompile(`%([^%]+)%`)

// settingRefs returns the %Name% app setting references in every string of every binding, and the
// storage connection names (connection properties; empty means AzureWebJobsStorage).
func (fa *functionApp) settingRefs() (refs, connections map[string]string) {
	refs, connections = map[string]string{}, map[string]string{}
	for fn, bs := range fa.functions {
		for _, b := range bs {
			for key, v := range b {
				s, ok := v.(string)
				if !ok {
					continue
				}
				for _, m := range settingRefRE.FindAllStringSubmatch(s, -1) {
					refs[m[1]] = fn + "." + key
				}
			}
			switch typ := strings.ToLower(b.str("type")); typ {
			case "queue", "queuetrigger", "blob", "blobtrigger", "table":
				c := b.str("connection")
				if c == "" {
					c = "AzureWebJobsStorage"
				}
				connections[c] = fn
			}
		}
	}
	return refs, connections
}

// storageNames returns the queues and containers function.json names (queue triggers also imply
// their <queue>-poison queue, where the host moves messages after maxDequeueCount failures).
func (fa *functionApp) storageNames(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{"container": {}, "queue": {}, "table": {}}
	for fn, bs := range fa.functions {
		for _, b := range bs {
			switch strings.ToLower(b.str("type")) {
			case "queuetrigger":
				q := strings.ToLower(b.str("queueName"))
				out["queue"][q] = fn
				if !strings.HasSuffix(q, "-poison") {
					out["queue"][q+"-poison"] = fn + " (poison queue)"
				}
			case "queue":
				out["queue"][strings.ToLower(b.str("queueName"))] = fn
			case "blob", "blobtrigger":
				container, _, _ := strings.Cut(b.str("path"), "/")
				out["container"][container] = fn
			case "table":
				out["table"][b.str("tableName")] = fn
			}
		}
	}
	for kind, names := range out {
		for n := range names {
			if strings.Contains(n, "%") || strings.Contains(n, "{") {
				t.Errorf("%s name %q is computed; the contract tests need literal names", kind, n)
			}
		}
	}
	return out
}

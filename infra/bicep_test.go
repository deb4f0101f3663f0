package infra

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// node is one node of the compact syntax tree printed by tools/bicep/parse.cjs.
type node struct {
	Type     string  `json:"t"`
	Field    string  `json:"f"`
	Leaf     string  `json:"s"` // source text of a node without named children
	Text     string  `json:"x"` // source text of a short inner node
	Line     int     `json:"r"`
	Children []*node `json:"c"`
}

// bicepFile is one parsed file.
type bicepFile struct {
	File       string   `json:"file"`
	Extensions []string `json:"extensions"`
	Errors     []struct {
		Line   int    `json:"line"`
		Column int    `json:"column"`
		Kind   string `json:"kind"`
		Text   string `json:"text"`
	} `json:"errors"`
	Tree *node `json:"tree"`
}

// parseBicep runs tools/bicep/parse.cjs on paths (tree-sitter-bicep, installed by `make tools`).
func parseBicep(t *testing.T, paths ...string) []*bicepFile {
	t.Helper()
	script := filepath.Join("..", "tools", "bicep", "parse.cjs")
	if _, err := os.Stat(filepath.Join("..", "tools", "bicep", "node_modules", "tree-sitter-bicep")); err != nil {
		t.Fatalf("tree-sitter-bicep is not installed: run `make tools` (npm ci in tools/bicep): %v", err)
	}
	out, err := exec.Command("node", append([]string{script}, paths...)...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node %s: %v\n%s", script, err, stderr)
	}
	var files []*bicepFile
	if err := json.Unmarshal(out, &files); err != nil {
		t.Fatalf("decoding parser output: %v", err)
	}
	return files
}

var (
	infraOnce  sync.Once
	infraFiles map[string]*bicepFile
	infraErr   error
)

// bicepFiles lists every .bicep file under infra/.
func bicepFiles(t *testing.T) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".bicep") {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	return paths
}

// infra returns the parsed file at path (relative to infra/), parsing all files once per test run.
func infra(t *testing.T, path string) *bicepFile {
	t.Helper()
	infraOnce.Do(func() {
		infraFiles = map[string]*bicepFile{}
		for _, f := range parseBicep(t, bicepFiles(t)...) {
			if len(f.Errors) > 0 {
				infraErr = fmt.Errorf("%s has syntax errors: %+v", f.File, f.Errors)
			}
			infraFiles[filepath.ToSlash(f.File)] = f
		}
	})
	if infraErr != nil {
		t.Fatal(infraErr)
	}
	f, ok := infraFiles[path]
	if !ok {
		t.Fatalf("no Bicep file %s", path)
	}
	return f
}

// TestBicepParses: every .bicep file parses with tree-sitter-bicep, without ERROR or MISSING nodes.
func TestBicepParses(t *testing.T) {
	paths := bicepFiles(t)
	if len(paths) < 7 {
		t.Fatalf("found %d .bicep files: %v", len(paths), paths)
	}
	for _, f := range parseBicep(t, paths...) {
		for _, e := range f.Errors {
			t.Errorf("%s:%d:%d: %s %q", f.File, e.Line, e.Column, e.Kind, e.Text)
		}
	}
}

// TestBicepParserReportsErrors keeps the check honest: broken Bicep is reported, with its line.
func TestBicepParserReportsErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		src  string
		line int
	}{
		"unclosed.bicep": {"param a string\nvar b = {\n  c: 'd'\n", 2},
		"garbage.bicep":  {"param a string\nresource r 'X@1' = { name: }\n", 2},
		"keyword.bicep":  {"param a string\n\nparam = 3\n", 3},
	}
	var paths []string
	for name, c := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, f := range parseBicep(t, paths...) {
		c := cases[filepath.Base(f.File)]
		found := false
		for _, e := range f.Errors {
			found = found || e.Line == c.line
		}
		if !found {
			t.Errorf("%s: errors %+v, want one on line %d", filepath.Base(f.File), f.Errors, c.line)
		}
	}
}

// --- tree helpers ---

// kids returns the named children of n of type typ (all when typ is "").
func (n *node) kids(typ string) []*node {
	var out []*node
	for _, c := range n.Children {
		if typ == "" || c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

// walk calls fn for n and every descendant, depth first.
func (n *node) walk(fn func(*node)) {
	fn(n)
	for _, c := range n.Children {
		c.walk(fn)
	}
}

// stringValue returns the content of a string literal without interpolation, and whether it is one.
func (n *node) stringValue() (string, bool) {
	if n == nil || n.Type != "string" {
		return "", false
	}
	var b strings.Builder
	for _, c := range n.Children {
		if c.Type != "string_content" && c.Type != "escape_sequence" {
			return "", false
		}
		b.WriteString(c.Leaf)
	}
	return b.String(), true
}

// name of a declaration (param, var, resource, module, output): its first identifier.
func (n *node) name() string {
	if ids := n.kids("identifier"); len(ids) > 0 {
		return ids[0].Leaf
	}
	return ""
}

// declaration finds the top-level declaration of kind (variable_declaration, parameter_declaration,
// resource_declaration, module_declaration, output_declaration) named name.
func (f *bicepFile) declaration(kind, name string) *node {
	for _, d := range f.Tree.kids(kind) {
		if d.name() == name {
			return d
		}
	}
	return nil
}

// find returns the first declaration of kind (resource_declaration or module_declaration), at any
// depth, whose type (or module path) starts with prefix; nil when there is none.
func (f *bicepFile) find(kind, prefix string) *node {
	var found *node
	f.Tree.walk(func(n *node) {
		if found == nil && n.Type == kind && strings.HasPrefix(n.resourceType(), prefix) {
			found = n
		}
	})
	return found
}

// value is the expression of a var, or the default of a param (nil when it has none).
func (n *node) value() *node {
	var last *node
	for _, c := range n.Children {
		if c.Type != "identifier" && c.Type != "type" && c.Type != "decorators" {
			last = c
		}
	}
	return last
}

// resourceType returns the type string of a resource or the path of a module declaration.
func (n *node) resourceType() string {
	if s := n.kids("string"); len(s) > 0 {
		v, _ := s[0].stringValue()
		return v
	}
	return ""
}

// body is the object of a resource or module (through a condition or a loop).
func (n *node) body() *node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		switch c.Type {
		case "object":
			return c
		case "if_statement":
			return c.kids("object")[0]
		case "for_statement":
			b := c.forBody()
			if b.Type == "if_statement" {
				return b.kids("object")[0]
			}
			return b
		}
	}
	return nil
}

// loop returns the for_statement of a resource or module declared with a loop, or nil.
func (n *node) loop() *node {
	if l := n.kids("for_statement"); len(l) > 0 {
		return l[0]
	}
	return nil
}

// forIterable is the expression a for_statement iterates over; forBody its body; forVar its item
// variable.
func (n *node) forIterable() *node {
	for _, c := range n.Children {
		if c.Field == "" && c.Type != "for_loop_parameters" {
			return c
		}
	}
	return nil
}

func (n *node) forBody() *node {
	for _, c := range n.Children {
		if c.Field == "body" {
			return c
		}
	}
	return nil
}

func (n *node) forVar() string {
	for _, c := range n.Children {
		switch {
		case c.Field == "initializer":
			return c.Leaf
		case c.Type == "for_loop_parameters":
			return c.Children[0].Leaf
		}
	}
	return ""
}

// prop returns the value of an object's property key.
func (n *node) prop(key string) *node {
	if n == nil || n.Type != "object" {
		return nil
	}
	for _, p := range n.kids("object_property") {
		if len(p.Children) == 2 && propKey(p.Children[0]) == key {
			return p.Children[1]
		}
	}
	return nil
}

// path follows nested object properties.
func (n *node) path(keys ...string) *node {
	for _, k := range keys {
		n = n.prop(k)
	}
	return n
}

func propKey(k *node) string {
	if v, ok := k.stringValue(); ok {
		return v
	}
	return k.Leaf
}

// objectKeys resolves an expression to the keys of the object(s) it can evaluate to: object literals,
// variables, union(...) and both branches of a condition.
func (f *bicepFile) objectKeys(t *testing.T, n *node) []string {
	t.Helper()
	switch n.Type {
	case "object":
		var keys []string
		for _, p := range n.kids("object_property") {
			keys = append(keys, propKey(p.Children[0]))
		}
		return keys
	case "identifier":
		d := f.declaration("variable_declaration", n.Leaf)
		if d == nil {
			t.Fatalf("%s: %s is not a variable", f.File, n.Leaf)
		}
		return f.objectKeys(t, d.value())
	case "parenthesized_expression":
		return f.objectKeys(t, n.Children[0])
	case "ternary_expression":
		return append(f.objectKeys(t, n.Children[1]), f.objectKeys(t, n.Children[2])...)
	case "call_expression":
		if n.Children[0].Leaf == "union" {
			var keys []string
			for _, a := range n.kids("arguments")[0].Children {
				keys = append(keys, f.objectKeys(t, a)...)
			}
			return keys
		}
	}
	t.Fatalf("%s:%d: cannot tell the keys of %s %q", f.File, n.Line, n.Type, n.Text)
	return nil
}

// stringValues resolves an expression to the string literals it can evaluate to: strings, variables,
// arrays of those, and a for expression whose body is {name: <loop variable>} over such an array.
func (f *bicepFile) stringValues(t *testing.T, n *node) []string {
	t.Helper()
	switch n.Type {
	case "string":
		v, ok := n.stringValue()
		if !ok {
			t.Fatalf("%s:%d: %s is not a plain string", f.File, n.Line, n.Text)
		}
		return []string{v}
	case "identifier":
		d := f.declaration("variable_declaration", n.Leaf)
		if d == nil {
			t.Fatalf("%s:%d: %s is not a variable", f.File, n.Line, n.Leaf)
		}
		return f.stringValues(t, d.value())
	case "array":
		var out []string
		for _, e := range n.Children {
			out = append(out, f.stringValues(t, e)...)
		}
		return out
	case "for_statement":
		loopVar := n.forVar()
		if v := n.forBody().prop("name"); v == nil || v.Type != "identifier" || v.Leaf != loopVar {
			t.Fatalf("%s:%d: loop body must be {name: %s}: %s", f.File, n.Line, loopVar, n.Text)
		}
		return f.stringValues(t, n.forIterable())
	}
	t.Fatalf("%s:%d: cannot tell the strings of %s %q", f.File, n.Line, n.Type, n.Text)
	return nil
}

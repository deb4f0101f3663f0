package csvout

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryCSVWriterDefuses: no package of the module writes CSV with encoding/csv directly; they all
// go through this package's Writer, so no column can miss the formula-injection defusing.
func TestEveryCSVWriterDefuses(t *testing.T) {
	// Files being moved to csvout by other work in flight; keep this list empty once they are.
	exempt := map[string]string{
		"cmd/t2t-lab/sample.go": "writes generated sample mapping files (input for t2t, not one of its outputs)",
	}
	root := "../.."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && rel != "." && (rel == "tools" || rel == "bin" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || rel == filepath.Join("shared", "csvout", "csvout.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(data), "csv.NewWriter(") {
			if _, ok := exempt[filepath.ToSlash(rel)]; !ok {
				t.Errorf("%s writes CSV with encoding/csv; use csvout.NewWriter so every cell is defused", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package csvout

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
)

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"plain":                 "plain",
		"=HYPERLINK(\"x\")":     "'=HYPERLINK(\"x\")",
		"+1":                    "'+1",
		"-2+3":                  "'-2+3",
		"@SUM(A1)":              "'@SUM(A1)",
		"\tcmd":                 "'\tcmd",
		"\rcmd":                 "'\rcmd",
		"a=b":                   "a=b",
		"'already":              "'already",
		" =leading space":       " =leading space",
		"<img src=x onerror=1>": "<img src=x onerror=1>",
	} {
		if got := Defuse(in); got != want {
			t.Errorf("Defuse(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWriterDefusesEveryCell: a reader of the file gets back every cell, the dangerous ones quoted,
// and the caller's record is left as it was.
func TestWriterDefusesEveryCell(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	rec := []string{"=1+1", "ok", "@x", "-5", "a,b\n\"c\""}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rec, []string{"=1+1", "ok", "@x", "-5", "a,b\n\"c\""}) {
		t.Errorf("record modified: %q", rec)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"'=1+1", "ok", "'@x", "'-5", "a,b\n\"c\""}
	if len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("read back %q, want %q", got, want)
	}
}

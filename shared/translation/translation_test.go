package translation

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestWriterWritesCSVAndJSON(t *testing.T) {
	var c, j bytes.Buffer
	w, err := NewWriter("pilot", &c, &j)
	if err != nil {
		t.Fatal(err)
	}
	// SIDs computed independently (python3 uuid.bytes_le + struct.unpack('<4I')); see cloudsid's test.
	if err := w.Add(User, "ana@contoso.example", "ana@fabrikam.example", "73d664e4-0886-4a73-b745-c694da45ddb4",
		"01234567-89ab-cdef-0123-456789abcdef"); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(Group, "=Sales", "=Sales", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(User, "x", "y", "not-a-guid", "00000000-0000-0000-0000-000000000000"); !errors.Is(err, ErrBadID) {
		t.Error("a non-GUID id was accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wantCSV := "type,sourceName,targetName,sourceId,targetId,sourceSid,targetSid\n" +
		"user,ana@contoso.example,ana@fabrikam.example,73d664e4-0886-4a73-b745-c694da45ddb4,01234567-89ab-cdef-0123-456789abcdef," +
		"S-1-12-1-1943430372-1249052806-2496021943-3034400218,S-1-12-1-19088743-3455027627-1732584193-4023233417\n" +
		"group,'=Sales,'=Sales,00000000-0000-0000-0000-000000000000,ffffffff-ffff-ffff-ffff-ffffffffffff," +
		"S-1-12-1-0-0-0-0,S-1-12-1-4294967295-4294967295-4294967295-4294967295\n"
	if c.String() != wantCSV {
		t.Errorf("csv:\n%s\nwant:\n%s", c.String(), wantCSV)
	}
	var doc struct {
		Wave    string  `json:"wave"`
		Entries []Entry `json:"entries"`
	}
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil {
		t.Fatalf("json %q: %v", j.String(), err)
	}
	if doc.Wave != "pilot" || len(doc.Entries) != 2 || doc.Entries[1].TargetSID != "S-1-12-1-4294967295-4294967295-4294967295-4294967295" ||
		!strings.HasPrefix(doc.Entries[0].SourceSID, "S-1-12-1-1943430372") || doc.Entries[1].SourceName != "=Sales" {
		t.Errorf("json: %+v", doc)
	}
}

package jsonschema

import (
	"os"
	"strings"
	"testing"
)

func progressSchema(t *testing.T) *Schema {
	t.Helper()
	data, err := os.ReadFile("../../docs/progress-events.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestProgressSchema pins what docs/progress-events.schema.json accepts and refuses.
func TestProgressSchema(t *testing.T) {
	s := progressSchema(t)
	const base = `"schema":"t2t.progress/v1","wave":"wave-1","version":"0123456789ab","utc":"2026-12-03T08:00:00.123Z"`
	const counts = `"counts":{"created":1,"matched":2,"skipped":0,"pending":0,"failed":3}`
	for _, c := range []struct {
		doc   string
		valid bool
		why   string
	}{
		{`{` + base + `,"kind":"wave.started"}`, true, ""},
		{`{` + base + `,"kind":"phase.started","phase":"users"}`, true, ""},
		{`{` + base + `,"kind":"chunk.settled","phase":"users","chunk":4,` + counts + `}`, true, ""},
		{`{` + base + `,"kind":"chunk.settled","phase":"users",` + counts + `}`, true, "chunk 0 is absent"},
		{`{` + base + `,"kind":"phase.settled","phase":"someFuturePhase"}`, true, "phases are open"},
		{`{` + base + `,"kind":"wave.completed","status":"CompletedWithErrors",` + counts + `}`, true, ""},
		{`{` + base + `,"kind":"wave.started","newField":{"x":1}}`, true, "unknown fields are allowed"},
		{`{"schema":"t2t.progress/v1","kind":"delta.completed","wave":"","version":"","migration":"s_t","status":"retry",` + counts + `,"utc":"2026-12-03T08:00:00Z"}`, true, "a delta run names no wave"},
		{`{"schema":"t2t.progress/v1","kind":"delta.completed","wave":"","version":"","status":"completed",` + counts + `,"utc":"2026-12-03T08:00:00Z"}`, false, "a delta run without its migration"},
		{`{"schema":"t2t.progress/v1","kind":"delta.completed","wave":"","version":"","migration":"s_t","status":"Completed",` + counts + `,"utc":"2026-12-03T08:00:00Z"}`, false, "a wave status on a delta run"},
		{`{"schema":"t2t.progress/v1","kind":"wave.started","wave":"","version":"","utc":"2026-12-03T08:00:00Z"}`, false, "a wave event without its wave"},
		{`{` + base + `,"kind":"wave.completed","status":"completed",` + counts + `}`, false, "a delta status on a wave"},
		{`{"wave":"w","version":"0123456789ab","utc":"2026-12-03T08:00:00Z","kind":"wave.started"}`, false, "no schema"},
		{`{` + strings.Replace(base, "v1", "v2", 1) + `,"kind":"wave.started"}`, false, "another major version"},
		{`{` + base + `,"kind":"wave.exploded"}`, false, "unknown kind"},
		{`{` + base + `,"kind":"chunk.settled","phase":"users","chunk":4}`, false, "no counts"},
		{`{` + base + `,"kind":"phase.started"}`, false, "no phase"},
		{`{` + base + `,"kind":"wave.completed","phase":"users","status":"Completed",` + counts + `}`, false, "a phase on a wave event"},
		{`{` + base + `,"kind":"wave.completed",` + counts + `}`, false, "no status"},
		{`{` + base + `,"kind":"chunk.settled","phase":"users","chunk":1.5,` + counts + `}`, false, "fractional chunk"},
		{`{` + base + `,"kind":"chunk.settled","phase":"users",` + strings.Replace(counts, `"failed":3`, `"failed":-1`, 1) + `}`, false, "negative count"},
		{`{` + strings.Replace(base, "2026-12-03T08:00:00.123Z", "yesterday", 1) + `,"kind":"wave.started"}`, false, "bad time"},
		{`{` + strings.Replace(base, "wave-1", "Wave 1", 1) + `,"kind":"wave.started"}`, false, "bad wave id"},
	} {
		errs := s.Validate([]byte(c.doc))
		if (len(errs) == 0) != c.valid {
			t.Errorf("%s (%s): errors %v, want valid=%t", c.doc, c.why, errs, c.valid)
		}
	}
}

func TestParseRefusesUncheckedKeywords(t *testing.T) {
	if _, err := Parse([]byte(`{"type":"object","properties":{"a":{"type":"string","maxLength":3}}}`)); err == nil {
		t.Error("a schema with maxLength (not checked) was accepted")
	}
}

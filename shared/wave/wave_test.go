package wave

import (
	"errors"
	"fmt"
	"testing"

	"t2t/shared/mapping"
)

func TestIDFromBlob(t *testing.T) {
	cases := map[string]string{
		"wave1.csv":            "wave1",
		"Wave 1 - Sales.CSV":   "wave-1-sales",
		"sub/folder/pilot.csv": "pilot",
		"ÉTÉ_2026.csv":         "t-2026",
		"__weird__name__.csv":  "weird-name",
		"usermapping.v2.csv":   "usermapping-v2",
	}
	for in, want := range cases {
		got, err := IDFromBlob(in)
		if err != nil || got != want {
			t.Errorf("IDFromBlob(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := IDFromBlob("___.csv"); !errors.Is(err, ErrBadID) {
		t.Errorf("IDFromBlob(___.csv) err = %v, want ErrBadID", err)
	}
}

func TestExportStepsCoverChunksOfTwenty(t *testing.T) {
	var rows []mapping.Row
	for i := 0; i < 245; i++ {
		rows = append(rows, mapping.Row{Line: i + 2, Source: fmt.Sprintf("u%d@s.example", i), Destination: fmt.Sprintf("u%d@t.example", i)})
	}
	steps := ExportSteps("w", "abc", rows)
	if len(steps) != 3 || len(steps[0].Rows) != 100 || len(steps[2].Rows) != 45 {
		t.Fatalf("export steps: %d, sizes %d/%d", len(steps), len(steps[0].Rows), len(steps[len(steps)-1].Rows))
	}
	seen := map[int]int{}
	for i, s := range steps {
		if s.Chunk != i*ExportChunks || s.Chunks != 13 || s.Version != "abc" {
			t.Errorf("step %d = chunk %d of %d, version %s", i, s.Chunk, s.Chunks, s.Version)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("step %d invalid: %v", i, err)
		}
		for c, part := range s.SplitRows() {
			if len(part) > ChunkSize {
				t.Errorf("chunk %d has %d rows", c, len(part))
			}
			seen[c] += len(part)
		}
	}
	if len(seen) != 13 || seen[12] != 5 || seen[0] != 20 {
		t.Errorf("chunks covered: %v", seen)
	}
	bad := []Step{
		{Wave: "w", Phase: "nope"},
		{Wave: "W!", Phase: PhaseFinalize},
		{Wave: "w", Phase: PhaseExportUsers},
		{Wave: "w", Phase: PhaseImportUsers, Chunk: 3, Chunks: 3},
	}
	for _, s := range bad {
		if s.Validate() == nil {
			t.Errorf("Validate accepted %+v", s)
		}
	}
}

func TestProgressApplyCountsEachChunkOnce(t *testing.T) {
	var p Progress
	events := []Event{
		{Kind: EventWaveStarted, Wave: "w", Version: "v1", Chunks: 2},
		{Kind: EventChunkDone, Wave: "w", Version: "v1", Phase: PhaseImportUsers, Chunk: 0, Chunks: 2, Counts: Counts{Created: 18, Matched: 1, Failed: 1}},
		{Kind: EventChunkDone, Wave: "w", Version: "v1", Phase: PhaseImportUsers, Chunk: 0, Chunks: 2, Counts: Counts{Created: 18, Matched: 1, Failed: 1}},
		{Kind: EventWaveStarted, Wave: "w", Version: "v1", Chunks: 2},                                                              // late redelivery: must not reset
		{Kind: EventChunkDone, Wave: "w", Version: "v0", Phase: PhaseImportUsers, Chunk: 1, Chunks: 2, Counts: Counts{Created: 9}}, // older file
		{Kind: EventChunkDone, Wave: "w", Version: "v1", Phase: PhaseImportUsers, Chunk: 1, Chunks: 2, Counts: Counts{Created: 5}},
	}
	changed := 0
	for _, ev := range events {
		if p.Apply(ev) {
			changed++
		}
	}
	if changed != 3 {
		t.Errorf("%d events changed the summary, want 3 (one duplicate)", changed)
	}
	if p.ChunksDone != 2 || p.Users != (Counts{Created: 23, Matched: 1, Failed: 1}) {
		t.Errorf("progress = %+v", p)
	}
	if !p.Apply(Event{Kind: EventWaveCompleted, Wave: "w", Version: "v1", Counts: p.Users}) || !p.Completed {
		t.Error("wave.completed did not complete the summary")
	}
	if !p.Apply(Event{Kind: EventWaveStarted, Wave: "w", Version: "v2", Chunks: 1}) || p.Completed || p.ChunksDone != 0 || p.Version != "v2" {
		t.Errorf("a new version's start should begin a new summary: %+v", p)
	}
}

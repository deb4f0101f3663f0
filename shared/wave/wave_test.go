package wave

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"time"
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

func TestStepValidate(t *testing.T) {
	good := []Step{
		{Wave: "w", Version: "v", Op: OpStart, Phase: "users"},
		{Wave: "w", Version: "v", Op: OpExport, Phase: "users", Part: 3},
		{Wave: "w", Version: "v", Op: OpImport, Phase: "groups", Chunk: 17},
		{Wave: "w", Version: "v", Op: OpFinalize},
		{Wave: "w", Op: OpRollback},
	}
	for _, s := range good {
		if err := s.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", s, err)
		}
	}
	bad := []Step{
		{Wave: "w", Version: "v", Op: "nope", Phase: "users"},
		{Wave: "W!", Version: "v", Op: OpFinalize},
		{Wave: "w", Version: "v", Op: OpImport},
		{Wave: "w", Op: OpImport, Phase: "users"},
		{Wave: "w", Version: "v", Op: OpImport, Phase: "users", Chunk: -1},
		{Wave: "w", Op: OpFinalize},
	}
	for _, s := range bad {
		if s.Validate() == nil {
			t.Errorf("Validate accepted %+v", s)
		}
	}
	if Parts(245) != 3 || Chunks(245) != 13 || Parts(0) != 0 {
		t.Errorf("Parts(245)=%d Chunks(245)=%d", Parts(245), Chunks(245))
	}
}

// TestSummarizeIsOrderProof delivers a wave's facts shuffled, duplicated and partly missing, and
// checks that the summary always equals the one derived from the facts once each, in order.
func TestSummarizeIsOrderProof(t *testing.T) {
	facts := []Fact{{Phase: "users", Kind: FactPlan, Parts: 2}}
	want := Counts{}
	for part := 0; part < 2; part++ {
		facts = append(facts, Fact{Phase: "users", Kind: FactPart, Index: part, Chunks: 5})
		for c := 0; c < 5; c++ {
			n := Counts{Created: 18 - c, Matched: c, Failed: 2}
			want = want.Add(n)
			facts = append(facts, Fact{Phase: "users", Kind: FactChunk, Index: part*5 + c, Counts: n})
		}
	}
	facts = append(facts, Fact{Phase: "groups", Kind: FactPlan, Parts: 0})
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		var got []Fact
		for _, f := range facts {
			for n := rng.IntN(3) + 1; n > 0; n-- { // each fact delivered one to three times
				got = append(got, f)
			}
		}
		rng.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		sum := Summarize(got)
		u := sum["users"]
		if u == nil || !u.Complete() || u.Counts != want || u.ChunksDone != 10 || u.Chunks != 10 || u.PartsDone != 2 {
			t.Fatalf("trial %d: users = %+v, want complete with %+v", trial, u, want)
		}
		if g := sum["groups"]; g == nil || !g.Complete() {
			t.Fatalf("trial %d: an empty phase must be complete: %+v", trial, g)
		}
		// Losing any one chunk fact leaves the phase incomplete, never counted twice.
		drop := rng.IntN(len(facts)-1) + 1
		var lossy []Fact
		for _, f := range got {
			if f != facts[drop] {
				lossy = append(lossy, f)
			}
		}
		if l := Summarize(lossy)["users"]; facts[drop].Phase == "users" && l != nil && l.Complete() {
			t.Fatalf("trial %d: lost fact %+v but the phase looks complete: %+v", trial, facts[drop], l)
		}
	}
}

// TestSummarizeFromBuckets checks that bucket facts stand in for a phase's chunk facts when those are
// not read, and are ignored when they are (never counted twice).
func TestSummarizeFromBuckets(t *testing.T) {
	plan := []Fact{{Phase: "users", Kind: FactPlan, Parts: 1}, {Phase: "users", Kind: FactPart, Chunks: 130}}
	var chunks []Fact
	buckets := map[int]*Fact{}
	want := Counts{}
	for c := 0; c < 130; c++ {
		n := Counts{Created: c % 7, Failed: c % 3}
		want = want.Add(n)
		chunks = append(chunks, Fact{Phase: "users", Kind: FactChunk, Index: c, Counts: n, Writes: 2})
		b := buckets[BucketOf(c)]
		if b == nil {
			b = &Fact{Phase: "users", Kind: FactBucket, Index: BucketOf(c)}
			buckets[BucketOf(c)] = b
		}
		b.Chunks++
		b.Counts = b.Counts.Add(n)
		b.Writes += 2
	}
	summary := plan
	for _, b := range buckets {
		summary = append(summary, *b)
	}
	if len(buckets) != 3 {
		t.Fatalf("130 chunks make %d buckets, want 3", len(buckets))
	}
	for name, facts := range map[string][]Fact{"buckets only": summary, "buckets and chunks": append(append([]Fact{}, summary...), chunks...)} {
		u := Summarize(facts)["users"]
		if u == nil || !u.Complete() || u.Counts != want || u.ChunksDone != 130 || u.Writes != 260 {
			t.Errorf("%s: users = %+v, want complete with %+v and 260 writes", name, u, want)
		}
	}
	short := append([]Fact{}, plan...)
	for _, b := range buckets {
		if b.Index == 1 {
			b.Chunks-- // a bucket not yet recounted after its last chunk
		}
		short = append(short, *b)
	}
	if u := Summarize(short)["users"]; u.Complete() {
		t.Errorf("a bucket one chunk short must leave the phase incomplete: %+v", u)
	}
}

func TestParseOptions(t *testing.T) {
	meta := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	known := []string{"users", "groups", "conditionalAccess"}
	o, err := ParseOptions(meta(map[string]string{PhasesMetadataKey: "groups, users,groups", CAStateMetadataKey: "reportOnly",
		DomainsMetadataKey: "Contoso.example=Fabrikam.example"}), "x.example=y.example", known)
	if err != nil || len(o.Phases) != 2 || o.Phases[0] != "groups" || o.CAState != CAReportOnly ||
		o.DomainMap["contoso.example"] != "fabrikam.example" || len(o.DomainMap) != 1 {
		t.Errorf("options = %+v, %v", o, err)
	}
	if !o.Runs("users") || o.Runs("conditionalAccess") {
		t.Errorf("Runs: %+v", o)
	}
	o, err = ParseOptions(meta(nil), "a.example=b.example", known)
	if err != nil || o.CAState != CADisabled || o.DomainMap["a.example"] != "b.example" || !o.Runs("conditionalAccess") {
		t.Errorf("defaults = %+v, %v", o, err)
	}
	for _, bad := range []map[string]string{
		{PhasesMetadataKey: "users,mailboxes"},
		{CAStateMetadataKey: "enabled"},
		{DomainsMetadataKey: "contoso.example"},
	} {
		if _, err := ParseOptions(meta(bad), "", known); err == nil {
			t.Errorf("ParseOptions(%v) accepted", bad)
		}
	}
}

func TestParseOptionsModeAndCutoverTime(t *testing.T) {
	meta := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	o, err := ParseOptions(meta(map[string]string{ModeMetadataKey: "Coexistence", CutoverMetadataKey: "2026-12-05T23:00:00+01:00"}), "", nil)
	if err != nil || !o.Coexistence() || o.CutoverUtc == nil || o.CutoverUtc.Format(time.RFC3339) != "2026-12-05T22:00:00Z" {
		t.Fatalf("options = %+v, %v", o, err)
	}
	if o.CutoverDue(time.Date(2026, 12, 5, 21, 59, 59, 0, time.UTC)) || !o.CutoverDue(time.Date(2026, 12, 5, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("CutoverDue around %v is wrong", o.CutoverUtc)
	}
	if o, err := ParseOptions(meta(nil), "", nil); err != nil || o.Coexistence() || o.CutoverUtc != nil || o.CutoverDue(time.Now()) {
		t.Errorf("defaults = %+v, %v", o, err)
	}
	for _, bad := range []map[string]string{{ModeMetadataKey: "hybrid"}, {CutoverMetadataKey: "tomorrow"}, {CutoverMetadataKey: "2026-12-05 22:00"}} {
		if _, err := ParseOptions(meta(bad), "", nil); err == nil {
			t.Errorf("ParseOptions(%v) accepted", bad)
		}
	}
}

func TestSummarizeAddsChunkCostsOnce(t *testing.T) {
	chunk := Fact{Phase: "users", Kind: FactChunk, Index: 3, Writes: 20, Throttled: 2, Retried: 5}
	other := Fact{Phase: "users", Kind: FactChunk, Index: 4, Writes: 19, Retried: 1}
	p := Summarize([]Fact{chunk, other, chunk})["users"] // the same fact twice counts once
	if p.Writes != 39 || p.Throttled != 2 || p.Retried != 6 {
		t.Errorf("writes %d, throttled %d, retried %d; want 39, 2, 6", p.Writes, p.Throttled, p.Retried)
	}
	// Live progress reads bucket facts instead of chunk facts: they carry the same costs.
	bucket := Fact{Phase: "users", Kind: FactBucket, Index: 0, Chunks: 2, Writes: 39, Throttled: 2, Retried: 6}
	if p := Summarize([]Fact{bucket})["users"]; p.ChunksDone != 2 || p.Writes != 39 || p.Throttled != 2 || p.Retried != 6 {
		t.Errorf("from a bucket: %+v", p)
	}
}

// TestEventCarriesItsSchema: every event is written with its schema version, whoever built it.
func TestEventCarriesItsSchema(t *testing.T) {
	data, err := json.Marshal(Event{Kind: EventPhaseStarted, Wave: "w", Version: "abc", Phase: "users",
		Utc: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"schema":"t2t.progress/v1","kind":"phase.started","wave":"w","version":"abc","phase":"users","utc":"2026-01-02T03:04:05Z"}`
	if string(data) != want {
		t.Errorf("event = %s, want %s", data, want)
	}
}

package handlers

import (
	"math/rand/v2"
	"testing"
	"time"

	"t2t/shared/state"
	"t2t/shared/wave"
)

// TestProgressSurvivesShuffledDuplicatedAndLostEvents records a wave's facts as its steps do, then
// delivers its progress events to ProgressSink shuffled, some twice and some never, through the
// handler's HTTP surface against Azurite. progress.json must equal the summary derived from the
// facts, whatever arrived.
func TestProgressSurvivesShuffledDuplicatedAndLostEvents(t *testing.T) {
	ctx, store, url := storageApp(t)
	const id, version = "pg", "abc000000000"
	m := wave.Manifest{Wave: id, ContentSHA256: version, Status: wave.StatusRunning}
	for path, doc := range map[string]any{wave.ManifestPath(id): m, wave.CurrentPath(id): wave.Current{Version: version}} {
		if _, err := store.PutJSON(ctx, path, doc, state.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	var events []wave.Event
	want := map[string]wave.Counts{}
	for _, phase := range []string{"users", "groups"} {
		facts := []wave.Fact{{Phase: phase, Kind: wave.FactPlan, Parts: 2}}
		events = append(events, wave.Event{Kind: wave.EventPhaseStarted, Wave: id, Version: version, Phase: phase})
		for part := range 2 {
			facts = append(facts, wave.Fact{Phase: phase, Kind: wave.FactPart, Index: part, Chunks: 3})
			for c := range 3 {
				n := wave.Counts{Created: 10 + c, Matched: part, Failed: 1}
				want[phase] = want[phase].Add(n)
				facts = append(facts, wave.Fact{Phase: phase, Kind: wave.FactChunk, Index: part*3 + c, Counts: n})
				events = append(events, wave.Event{Kind: wave.EventChunkSettled, Wave: id, Version: version, Phase: phase, Chunk: part*3 + c, Counts: &n})
			}
		}
		for _, f := range facts { // as the steps record them: each chunk's fact, then its bucket's recount
			if err := store.PutFact(ctx, id, version, f); err != nil {
				t.Fatal(err)
			}
			if f.Kind == wave.FactChunk {
				if err := store.SettleBucket(ctx, id, version, phase, wave.BucketOf(f.Index)); err != nil {
					t.Fatal(err)
				}
			}
		}
		events = append(events, wave.Event{Kind: wave.EventPhaseSettled, Wave: id, Version: version, Phase: phase})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var delivered []wave.Event
	for i, ev := range events {
		switch {
		case i%5 == 1: // lost
		case i%3 == 0:
			delivered = append(delivered, ev, ev)
		default:
			delivered = append(delivered, ev)
		}
	}
	rng.Shuffle(len(delivered), func(i, j int) { delivered[i], delivered[j] = delivered[j], delivered[i] })
	// The closing event comes last, as finalize sends it after every fact is recorded.
	delivered = append(delivered, wave.Event{Kind: wave.EventPhaseSettled, Wave: id, Version: version, Phase: "groups", Utc: time.Now()})
	for _, ev := range delivered {
		if status, out := invokeQueue(t, url, "ProgressSink", ev); status != 200 {
			t.Fatalf("ProgressSink answered %d: %v", status, out.Logs)
		}
	}
	var p wave.Progress
	if _, err := store.GetJSON(ctx, wave.ProgressPath(id), &p); err != nil {
		t.Fatal(err)
	}
	for phase, c := range want {
		got := p.Phases[phase]
		if got == nil || got.Counts != c || !got.Complete() || got.ChunksDone != 6 {
			t.Errorf("progress of %s = %+v, want complete with %+v", phase, got, c)
		}
	}
	if p.Totals != want["users"].Add(want["groups"]) {
		t.Errorf("totals %+v, want %+v", p.Totals, want["users"].Add(want["groups"]))
	}
}

package state

import (
	"context"
	"strings"
	"sync"
	"testing"

	"t2t/shared/wave"
)

// TestBucketsCountEveryChunkWhenSettledConcurrently settles 150 chunks of a phase from 10 concurrent
// settlers, each writing its chunk's fact and then recounting its bucket, as Registry.Settle does.
// The summary partition alone must then equal the chunk facts: every chunk counted once, whatever
// the interleaving.
func TestBucketsCountEveryChunkWhenSettledConcurrently(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	waveID, version := strings.ToLower(t.Name()), "v1"
	const chunks = 150
	if err := s.PutFact(ctx, waveID, version, wave.Fact{Phase: "users", Kind: wave.FactPlan, Parts: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFact(ctx, waveID, version, wave.Fact{Phase: "users", Kind: wave.FactPart, Chunks: chunks}); err != nil {
		t.Fatal(err)
	}
	want := wave.Counts{}
	for c := 0; c < chunks; c++ {
		want = want.Add(wave.Counts{Created: c % 5, Failed: c % 2})
	}
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, chunks)
	for w := 0; w < 10; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				f := wave.Fact{Phase: "users", Kind: wave.FactChunk, Index: c, Counts: wave.Counts{Created: c % 5, Failed: c % 2}, Writes: 1,
					Throttled: c % 2, Retried: 1}
				if err := s.PutFact(ctx, waveID, version, f); err != nil {
					errs <- err
					continue
				}
				errs <- s.SettleBucket(ctx, waveID, version, "users", wave.BucketOf(c))
			}
		}()
	}
	for c := chunks - 1; c >= 0; c-- {
		work <- c
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	summary, err := s.Summary(ctx, waveID, version)
	if err != nil {
		t.Fatal(err)
	}
	if len(summary) != 2+3 {
		t.Errorf("summary partition holds %d facts, want a plan, a part and 3 buckets", len(summary))
	}
	u := wave.Summarize(summary)["users"]
	if u == nil || !u.Complete() || u.ChunksDone != chunks || u.Counts != want || u.Writes != chunks || u.Throttled != chunks/2 ||
		u.Retried != chunks {
		t.Fatalf("users from buckets = %+v, want complete with %d chunks, %+v", u, chunks, want)
	}
	all, err := s.Facts(ctx, waveID, version)
	if err != nil {
		t.Fatal(err)
	}
	if got := wave.Summarize(all)["users"]; *got != *u {
		t.Errorf("summary from chunk facts %+v differs from buckets %+v", got, u)
	}
	// Recounting a full bucket again (a redelivered chunk) changes nothing.
	if err := s.SettleBucket(ctx, waveID, version, "users", 0); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Summary(ctx, waveID, version); *wave.Summarize(again)["users"] != *u {
		t.Errorf("a repeated recount changed the summary")
	}
	got, err := s.PhaseChunks(ctx, waveID, version, "users")
	if err != nil || len(got) != chunks || got[0] != 0 || got[chunks-1] != chunks-1 {
		t.Errorf("PhaseChunks = %d chunks (%v), want 0..%d", len(got), err, chunks-1)
	}
}

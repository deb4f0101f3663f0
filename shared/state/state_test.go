package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"t2t/shared/localstack"
)

var testConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { testConn = conn })
}

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), testConn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestDocumentsHonourETagsAndTranslateErrors(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	var v map[string]int
	if _, err := s.GetJSON(ctx, "nope/wave.json", &v); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing document: err = %v, want ErrNotFound", err)
	}
	etag, err := s.PutJSON(ctx, "w1/doc.json", map[string]int{"a": 1}, Cond{IfNoneExists: true})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := s.PutJSON(ctx, "w1/doc.json", map[string]int{"a": 2}, Cond{IfNoneExists: true}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create: err = %v, want ErrConflict", err)
	}
	if _, err := s.PutJSON(ctx, "w1/doc.json", map[string]int{"a": 3}, Cond{IfMatch: etag}); err != nil {
		t.Fatalf("conditional write: %v", err)
	}
	if _, err := s.PutJSON(ctx, "w1/doc.json", map[string]int{"a": 4}, Cond{IfMatch: etag}); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale write: err = %v, want ErrConflict", err)
	}
	if _, err := s.GetJSON(ctx, "w1/doc.json", &v); err != nil || v["a"] != 3 {
		t.Fatalf("read back %v, %v; want a=3", v, err)
	}
}

func TestUpdateConvergesUnderContention(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	type counter struct{ Seen map[int]bool }
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- Update(ctx, s, "w2/counter.json",
				func() *counter { return &counter{Seen: map[int]bool{}} },
				func(c *counter) bool { c.Seen[i] = true; return true })
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	}
	var c counter
	if _, err := s.GetJSON(ctx, "w2/counter.json", &c); err != nil || len(c.Seen) != 10 {
		t.Fatalf("after 10 concurrent updates: %v entries, err %v; want 10", len(c.Seen), err)
	}
}

func TestLedgerAndIDMapRoundTripWithGuestKeys(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	guest := "ann_example.com#EXT#@contoso.onmicrosoft.com"
	for i, key := range []string{guest, "bob@contoso.example"} {
		if err := s.PutLedger(ctx, LedgerEntry{Wave: "w3", Version: "v1", Phase: "users", Chunk: i, Key: key, Line: i + 2, Status: "Created", Attempts: 1}); err != nil {
			t.Fatalf("PutLedger(%s): %v", key, err)
		}
	}
	sc := Scope{Wave: "w3", Version: "v1", Phase: "users", Chunk: 0}
	got, err := s.GetLedger(ctx, sc, guest)
	if err != nil || got.Key != guest || got.Line != 2 {
		t.Fatalf("GetLedger = %+v, %v", got, err)
	}
	if _, err := s.GetLedger(ctx, sc, "nobody@x.example"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing ledger entry: err = %v, want ErrNotFound", err)
	}
	n := 0
	// Another version and another wave whose id extends this one's stay out of the listing.
	for _, other := range []LedgerEntry{{Wave: "w3", Version: "v2", Phase: "users", Key: "x@y.example"},
		{Wave: "w3-b", Version: "v1", Phase: "users", Key: "z@y.example"}} {
		if err := s.PutLedger(ctx, other); err != nil {
			t.Fatal(err)
		}
	}
	for e, err := range s.Ledger(ctx, "w3", "v1", "users") {
		if err != nil {
			t.Fatalf("Ledger: %v", err)
		}
		if e.Status != "Created" {
			t.Errorf("entry %+v", e)
		}
		n++
	}
	if n != 2 {
		t.Errorf("listed %d entries, want 2", n)
	}
	if err := s.PutIDMap(ctx, IDMapping{Migration: "m", Type: "users", SourceID: "s1", TargetID: "t1", Created: true}); err != nil {
		t.Fatalf("PutIDMap: %v", err)
	}
	m, err := s.GetIDMap(ctx, "m", "users", "s1")
	if err != nil || m.TargetID != "t1" || !m.Created {
		t.Fatalf("GetIDMap = %+v, %v", m, err)
	}
}

func TestBatchedLedgerAndIDMapOperations(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	var entries []LedgerEntry
	var keys []string
	for i := 0; i < 130; i++ { // more than one transaction and more than one query
		key := fmt.Sprintf("user%03d@contoso.example", i)
		if i == 7 {
			key = "o'brien#EXT#@contoso.example"
		}
		keys = append(keys, key)
		entries = append(entries, LedgerEntry{Wave: "wb", Version: "v", Phase: "users", Key: key, Line: i + 2, Status: "Creating"})
	}
	entries = append(entries, LedgerEntry{Wave: "wb", Version: "v", Phase: "users", Key: keys[0], Line: 2, Status: "Created"}) // same key twice
	if err := s.PutLedgers(ctx, entries); err != nil {
		t.Fatalf("PutLedgers: %v", err)
	}
	got, err := s.GetLedgers(ctx, Scope{Wave: "wb", Version: "v", Phase: "users"}, append(keys, "absent@contoso.example"))
	if err != nil {
		t.Fatalf("GetLedgers: %v", err)
	}
	if len(got) != 130 || got[keys[0]].Status != "Created" || got[keys[7]].Line != 9 {
		t.Fatalf("read %d entries; first %+v; quoted %+v", len(got), got[keys[0]], got[keys[7]])
	}
	if err := s.PutIDMaps(ctx, []IDMapping{{Migration: "mb", Type: "users", SourceID: "s1", TargetID: "t1"},
		{Migration: "mb", Type: "users", SourceID: "s2", TargetID: "t2", Created: true}}); err != nil {
		t.Fatalf("PutIDMaps: %v", err)
	}
	maps, err := s.GetIDMaps(ctx, "mb", "users", []string{"s1", "s2", "s3"})
	if err != nil || len(maps) != 2 || !maps["s2"].Created || maps["s1"].TargetID != "t1" {
		t.Fatalf("GetIDMaps = %+v, %v", maps, err)
	}
}

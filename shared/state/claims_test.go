package state

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestClaimIsOneAtATimeAndTakenOverWhenStale: one caller gets a claim; another gets it only once the
// holder's claim is stale (its holder died) or released (its holder failed).
func TestClaimIsOneAtATimeAndTakenOverWhenStale(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	path := "claims-test/finalize.claim"
	if ok, err := s.Claim(ctx, path, "a", time.Minute); err != nil || !ok {
		t.Fatalf("first claim: %t, %v", ok, err)
	}
	if ok, err := s.Claim(ctx, path, "b", time.Minute); err != nil || ok {
		t.Fatalf("a second caller took a fresh claim: %t, %v", ok, err)
	}
	time.Sleep(20 * time.Millisecond)
	if ok, err := s.Claim(ctx, path, "b", 10*time.Millisecond); err != nil || !ok {
		t.Fatalf("a stale claim was not taken over: %t, %v", ok, err)
	}
	if err := s.Release(ctx, path); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Claim(ctx, path, "c", time.Minute); err != nil || !ok {
		t.Fatalf("a released claim was not given at once: %t, %v", ok, err)
	}
}

// TestClaimKeysGivesEachKeyToOneOwner: a key goes to the first owner; the same owner asking again
// (a redelivered export part) gets the same answer, another owner never gets it.
func TestClaimKeysGivesEachKeyToOneOwner(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	scope := "claimkeys_" + strings.ToLower(t.Name())
	mine, err := s.ClaimKeys(ctx, scope, []string{"g1", "g2"}, "part-0")
	if err != nil || strings.Join(mine, ",") != "g1,g2" {
		t.Fatalf("part-0 claimed %v, %v", mine, err)
	}
	mine, err = s.ClaimKeys(ctx, scope, []string{"g2", "g3"}, "part-1")
	if err != nil || strings.Join(mine, ",") != "g3" {
		t.Fatalf("part-1 claimed %v, %v; g2 is part-0's", mine, err)
	}
	mine, err = s.ClaimKeys(ctx, scope, []string{"g1", "g2", "g3"}, "part-0")
	if err != nil || strings.Join(mine, ",") != "g1,g2" {
		t.Fatalf("part-0 again claimed %v, %v; want its own g1,g2", mine, err)
	}
}

// TestStreamWritesWholeDocumentOrNothing: a streamed document of several blocks reads back whole; an
// aborted one is not there.
func TestStreamWritesWholeDocumentOrNothing(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	line := strings.Repeat("x", 1023) + "\n"
	err := s.PutStream(ctx, "claims-test/big.csv", "text/csv", func(w io.Writer) error {
		for range 3 * 1024 { // 3 MiB: three blocks
			if _, err := io.WriteString(w, line); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := s.GetBytes(ctx, "claims-test/big.csv")
	if err != nil || len(data) != 3*1024*1024 {
		t.Fatalf("streamed document: %d bytes, %v", len(data), err)
	}
	st := s.OpenStream(ctx, "claims-test/aborted.csv", "text/csv")
	_, _ = io.WriteString(st, "partial")
	st.Abort(io.ErrUnexpectedEOF)
	if _, _, err := s.GetBytes(ctx, "claims-test/aborted.csv"); !isNotFound(err) {
		t.Errorf("an aborted stream left a document: %v", err)
	}
}

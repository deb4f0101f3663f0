package state

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestLeaseIsOneAtATimeAndRenewed: a second holder is refused while the first holds the lease, also
// past the lease's term (it is renewed), and gets it at once after Release. The lease lives in the
// delta container, apart from the waves.
func TestLeaseIsOneAtATimeAndRenewed(t *testing.T) {
	ctx := context.Background()
	s := open(t).Delta()
	path := "lease-test/" + t.Name()
	first, err := s.AcquireLease(ctx, path, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcquireLease(ctx, path, 15*time.Second); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second lease while the first is held: %v, want ErrConflict", err)
	}
	time.Sleep(16 * time.Second) // past the term: only renewal keeps it
	if _, err := s.AcquireLease(ctx, path, 15*time.Second); !errors.Is(err, ErrConflict) {
		t.Fatalf("after the lease's term: %v, want ErrConflict (the holder renews it)", err)
	}
	if err := first.Lost(); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := s.AcquireLease(ctx, path, 15*time.Second)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	_ = second.Release(ctx)
	if ids, err := open(t).Waves(ctx); err != nil || slices.Contains(ids, "lease-test") {
		t.Errorf("the lease blob shows among the waves: %v %v", ids, err)
	}
}

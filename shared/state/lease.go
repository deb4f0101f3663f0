package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
)

// DeltaContainer holds the delta sync's documents (delta links, run reports, the run lock), apart
// from the waves container so that they are never listed as a wave.
const DeltaContainer = "delta"

// Delta returns the same store with its documents in the delta container: GetJSON, PutJSON, Update,
// Claim and Lease act there; the tables are shared.
func (s *Store) Delta() *Store {
	d := *s
	d.waves = s.delta
	return &d
}

// Lease is a held blob lease: while it is held, no other caller of AcquireLease gets the same blob.
// A lease that is neither renewed nor released expires after its duration (a crashed holder).
type Lease struct {
	client *lease.BlobClient
	path   string
	mu     sync.Mutex
	lost   error
	stop   chan struct{}
	done   chan struct{}
}

// AcquireLease takes a blob lease of d (15 to 60 seconds) on path, creating the (empty) blob if
// needed, and keeps renewing it every third of d until Release. It returns ErrConflict when another
// holder has it.
func (s *Store) AcquireLease(ctx context.Context, path string, d time.Duration) (*Lease, error) {
	bc := s.waves.NewBlockBlobClient(path)
	if _, err := s.PutBytes(ctx, path, nil, "application/octet-stream", Cond{IfNoneExists: true}); err != nil && !isConflict(err) {
		return nil, err
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	leaseID := formatLeaseID(id)
	lc, err := lease.NewBlobClient(bc, &lease.BlobClientOptions{LeaseID: &leaseID})
	if err != nil {
		return nil, fmt.Errorf("lease client for %s: %w", path, err)
	}
	if _, err := lc.AcquireLease(ctx, int32(d/time.Second), nil); err != nil {
		return nil, fmt.Errorf("leasing %s: %w", path, translate(err))
	}
	l := &Lease{client: lc, path: path, stop: make(chan struct{}), done: make(chan struct{})}
	go l.renew(d / 3)
	return l, nil
}

// formatLeaseID renders 16 random bytes as the GUID a lease id must be.
func formatLeaseID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (l *Lease) renew(every time.Duration) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			_, err := l.client.RenewLease(ctx, nil)
			cancel()
			if err != nil {
				l.mu.Lock()
				l.lost = fmt.Errorf("renewing the lease of %s: %w", l.path, translate(err))
				l.mu.Unlock()
			}
		}
	}
}

// Lost returns the error of a failed renewal (the lease may have passed to another holder), or nil.
func (l *Lease) Lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Release stops renewing and gives the lease up, so that the next AcquireLease succeeds at once.
func (l *Lease) Release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	if _, err := l.client.ReleaseLease(ctx, nil); err != nil {
		return fmt.Errorf("releasing the lease of %s: %w", l.path, translate(err))
	}
	return nil
}

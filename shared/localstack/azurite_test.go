package localstack

import (
	"context"
	"testing"
	"time"
)

func TestStartAzuriteServesAllThreePorts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	a, err := StartAzurite(ctx, nil)
	if err != nil {
		t.Fatalf("StartAzurite: %v", err)
	}
	for _, p := range []int{a.BlobPort, a.QueuePort, a.TablePort} {
		if err := WaitPort(ctx, p, time.Second); err != nil {
			t.Errorf("port %d: %v", p, err)
		}
	}
	a.Stop()
	if err := WaitPort(ctx, a.BlobPort, 300*time.Millisecond); err == nil {
		t.Errorf("blob port %d still open after Stop", a.BlobPort)
	}
}

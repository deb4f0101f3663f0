// Package portwait waits for a local process to listen on a TCP port: the local stack waits for
// Azurite and the Functions host, the Functions host for its handler.
package portwait

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"
)

// ErrExited is returned when the process that should listen exited first.
var ErrExited = errors.New("process exited before it listened")

// Wait dials 127.0.0.1:port until it accepts a connection (nil), exited is closed (ErrExited; nil
// exited never closes), or ctx ends (its error).
func Wait(ctx context.Context, port int, exited <-chan struct{}) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return ErrExited
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

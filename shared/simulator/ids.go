package simulator

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
)

// newGUID returns a random (version 4) GUID, as the directory assigns to new objects.
func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Errorf("crypto/rand failed: %w", err)) // crypto/rand does not fail on supported platforms
	}
	return formatGUID(b, 4)
}

// derivedGUID returns a stable GUID (version 5 layout) derived from parts, for objects that must keep
// their id across restarts without state: seeded users, service principals.
func derivedGUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	var b [16]byte
	copy(b[:], sum[:16])
	return formatGUID(b, 5)
}

func formatGUID(b [16]byte, version byte) string {
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

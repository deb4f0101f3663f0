package handlers

import (
	"context"
	"sync"

	"t2t/shared/state"
	"t2t/shared/wave"
)

// manifestCacheSize bounds the cache: a handler serves a few waves at a time.
const manifestCacheSize = 64

// manifestCache keeps, per wave version, the manifest its steps read for the version's options,
// parts and chunks. Those never change within a version: the version is a digest of the file and its
// options, and a changed file or option is a new version (see fileDigest). So every step after the
// first reads no manifest blob. What does change in a manifest (its status, closed phases) is read
// fresh by the one step that needs it, finalize.
type manifestCache struct {
	mu sync.Mutex
	m  map[string]*wave.Manifest
}

// get returns the manifest of waveID as its version version saw it, reading it once per process.
// A manifest that holds another version (the file was replaced) is returned uncached: the step
// belongs to a replaced version and the caller decides what to do.
func (c *manifestCache) get(ctx context.Context, store *state.Store, waveID, version string) (*wave.Manifest, error) {
	key := waveID + "/" + version
	c.mu.Lock()
	m, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return m, nil
	}
	m = &wave.Manifest{}
	if _, err := store.GetJSON(ctx, wave.ManifestPath(waveID), m); err != nil {
		return m, err
	}
	if wave.VersionOf(m) != version {
		return m, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= manifestCacheSize {
		c.m = map[string]*wave.Manifest{}
	}
	c.m[key] = m
	return m, nil
}

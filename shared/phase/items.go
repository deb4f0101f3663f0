package phase

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"t2t/shared/wave"
)

// Item is one source object of a tenant-scoped phase (named locations, custom roles, conditional
// access) in its export snapshot: the object as Graph rendered it (graph.Marshal), keyed by its source
// id and display name.
type Item struct {
	SourceID string          `json:"sourceId"`
	Name     string          `json:"displayName"`
	Object   json.RawMessage `json:"object"`
	// Universal lists ids the object references that are the same in every tenant and pass through
	// unchanged (built-in role template ids, Microsoft first-party appIds), as found at export.
	Universal []string `json:"universal,omitempty"`
}

// Key is the item's ledger key: the source id, named by display name.
func (it Item) Key() Key {
	return Key{Key: it.SourceID, Name: it.Name, SourceID: it.SourceID, TargetKey: it.Name}
}

// Items is one chunk of a tenant-scoped phase's export snapshot.
type Items struct {
	Items []Item `json:"items"`
}

// ExportItems writes a tenant-scoped phase's whole export as snapshot chunks of wave.ChunkSize items,
// in source id order (the same source gives the same chunks), and returns the chunk numbers.
func ExportItems(ctx context.Context, env *Env, phase string, items []Item) ([]int, error) {
	items = slices.Clone(items)
	slices.SortFunc(items, func(a, b Item) int { return strings.Compare(a.SourceID, b.SourceID) })
	var chunks []int
	for start := 0; start < len(items); start += wave.ChunkSize {
		chunk := start / wave.ChunkSize
		if err := env.PutSnapshot(ctx, phase, chunk, Items{Items: items[start:min(start+wave.ChunkSize, len(items))]}); err != nil {
			return nil, err
		}
		chunks = append(chunks, chunk)
	}
	env.logf("wave %s %s: exported %d objects in %d chunks", env.Wave, phase, len(items), len(chunks))
	return chunks, nil
}

// ReadItems reads one chunk of a tenant-scoped phase's export snapshot.
func ReadItems(ctx context.Context, env *Env, phase string, chunk int) ([]Item, error) {
	var snap Items
	if err := env.GetSnapshot(ctx, phase, chunk, &snap); err != nil {
		return nil, err
	}
	return snap.Items, nil
}

// ItemKeys reads the ledger keys of one chunk of a tenant-scoped phase (phase.ChunkKeyed).
func ItemKeys(ctx context.Context, env *Env, phase string, chunk int) ([]Key, error) {
	items, err := ReadItems(ctx, env, phase, chunk)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, len(items))
	for i, it := range items {
		keys[i] = it.Key()
	}
	return keys, nil
}

package state

import (
	"context"
	"time"

	"t2t/shared/wave"
)

// Progress derives a wave's live summary from its manifest and the facts of its current version:
// always correct, whatever order progress events arrived in (one blob read and one small table query).
func (s *Store) Progress(ctx context.Context, waveID string) (*wave.Manifest, *wave.Progress, error) {
	var m wave.Manifest
	if _, err := s.GetJSON(ctx, wave.ManifestPath(waveID), &m); err != nil {
		return nil, nil, err
	}
	facts, err := s.Summary(ctx, waveID, wave.VersionOf(&m))
	if err != nil {
		return &m, nil, err
	}
	return &m, wave.NewProgress(&m, facts, time.Now().UTC()), nil
}

package wave

import (
	"fmt"
	"time"
)

// Progress is waves/<wave>/progress.json: the live summary that `t2t watch` and WaveStatus read.
// One document per wave, updated once per chunk event (not per object), deduplicated by chunk so that
// a redelivered event counts once.
type Progress struct {
	Wave       string            `json:"wave"`
	Version    string            `json:"version"`
	Chunks     int               `json:"chunks"`
	ChunksDone int               `json:"chunksDone"`
	Users      Counts            `json:"users"`
	Completed  bool              `json:"completed"`
	UpdatedUtc time.Time         `json:"updatedUtc"`
	Done       map[string]Counts `json:"done,omitempty"`
}

// Apply folds one event of the wave's current version into the summary; it reports false when the
// event changes nothing (a duplicate or late delivery), so the caller can skip the write. An event of
// another version than the summary's starts the summary over only when it is that version's start.
func (p *Progress) Apply(ev Event) bool {
	if p.Done == nil {
		p.Done = map[string]Counts{}
	}
	if ev.Version != p.Version {
		if ev.Kind != EventWaveStarted {
			return false
		}
		*p = Progress{Wave: ev.Wave, Version: ev.Version, Chunks: ev.Chunks, Done: map[string]Counts{}, UpdatedUtc: ev.Utc}
		return true
	}
	switch ev.Kind {
	case EventWaveStarted:
		return false // a redelivered or late start of this version: keep what was counted since
	case EventChunkDone:
		key := fmt.Sprintf("%s-%05d", ev.Phase, ev.Chunk)
		if _, seen := p.Done[key]; seen {
			return false
		}
		p.Done[key] = ev.Counts
		p.ChunksDone = len(p.Done)
		p.Users = p.Users.Add(ev.Counts)
		if ev.Chunks > 0 {
			p.Chunks = ev.Chunks
		}
	case EventWaveCompleted:
		if p.Completed && p.Users == ev.Counts {
			return false
		}
		p.Completed, p.Users = true, ev.Counts
	default:
		return false
	}
	p.UpdatedUtc = ev.Utc
	return true
}

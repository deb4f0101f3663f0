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
	Chunks     int               `json:"chunks"`
	ChunksDone int               `json:"chunksDone"`
	Users      Counts            `json:"users"`
	Completed  bool              `json:"completed"`
	UpdatedUtc time.Time         `json:"updatedUtc"`
	Done       map[string]Counts `json:"done,omitempty"`
}

// Apply folds one event into the summary; it reports false when the event changes nothing (a
// duplicate delivery), so the caller can skip the write.
func (p *Progress) Apply(ev Event) bool {
	if p.Done == nil {
		p.Done = map[string]Counts{}
	}
	switch ev.Kind {
	case EventWaveStarted:
		if p.Chunks == ev.Chunks && !p.Completed && len(p.Done) == 0 {
			return false
		}
		*p = Progress{Wave: ev.Wave, Chunks: ev.Chunks, Done: map[string]Counts{}}
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

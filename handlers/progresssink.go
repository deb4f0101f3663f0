package handlers

import (
	"context"
	"fmt"
	"time"

	"t2t/shared/state"
	"t2t/shared/wave"
)

// Progress is waves/<wave>/progress.json: the live summary that `t2t watch` and WaveStatus read.
// One document per wave, updated once per chunk event (not per object), deduplicated by chunk so that
// a redelivered event counts once.
type Progress struct {
	Wave       string                 `json:"wave"`
	Chunks     int                    `json:"chunks"`
	ChunksDone int                    `json:"chunksDone"`
	Users      wave.Counts            `json:"users"`
	Completed  bool                   `json:"completed"`
	UpdatedUtc time.Time              `json:"updatedUtc"`
	Done       map[string]wave.Counts `json:"done"`
}

// ProgressSink folds progress events into the wave's progress.json.
func (a *App) ProgressSink(ctx context.Context, inv *invocation) error {
	var ev wave.Event
	if err := inv.req.JSON("item", &ev); err != nil {
		return fmt.Errorf("malformed progress event: %w", err)
	}
	if err := wave.CheckID(ev.Wave); err != nil {
		return fmt.Errorf("progress event: %w", err)
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	err = state.Update(ctx, store, wave.ProgressPath(ev.Wave),
		func() *Progress { return &Progress{Wave: ev.Wave, Done: map[string]wave.Counts{}} },
		func(p *Progress) bool { return apply(p, ev) })
	if err != nil {
		return err
	}
	inv.logf("wave %s: %s", ev.Wave, ev.Kind)
	return nil
}

// apply folds one event into the summary; it reports false when the event changes nothing.
func apply(p *Progress, ev wave.Event) bool {
	if p.Done == nil {
		p.Done = map[string]wave.Counts{}
	}
	switch ev.Kind {
	case wave.EventWaveStarted:
		if p.Chunks == ev.Chunks && !p.Completed && len(p.Done) == 0 {
			return false
		}
		*p = Progress{Wave: ev.Wave, Chunks: ev.Chunks, Done: map[string]wave.Counts{}}
	case wave.EventChunkDone:
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
	case wave.EventWaveCompleted:
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

package phase_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"t2t/shared/localstack"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

// countingPhase has parts export parts; part p writes p%3 chunks (some parts write none), numbered
// 10p, 10p+1; each chunk's import counts one created object per delivery that runs it.
type countingPhase struct {
	name    string
	parts   int
	mu      sync.Mutex
	exports map[int]int
	imports map[int]int
}

func (c *countingPhase) Name() string                                                { return c.name }
func (c *countingPhase) After() []string                                             { return nil }
func (c *countingPhase) Parts(context.Context, *phase.Env) (int, error)              { return c.parts, nil }
func (c *countingPhase) Rollback(context.Context, *phase.Env, state.IDMapping) error { return nil }
func (c *countingPhase) Export(_ context.Context, _ *phase.Env, part int) ([]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exports[part]++
	var out []int
	for i := range part % 3 {
		out = append(out, 10*part+i)
	}
	return out, nil
}
func (c *countingPhase) Import(_ context.Context, _ *phase.Env, chunk int) (wave.Counts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.imports[chunk]++
	return wave.Counts{Created: 1}, nil
}
func (c *countingPhase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return c.Import(ctx, env, chunk)
}

// TestExportWindowRunsEveryPartOnceWithAShortQueue drives a phase of 40 export parts through the
// registry as the queue would, delivering steps in random order and some of them twice: every part
// is exported and every chunk imported exactly once, the phase settles and queues the finalize, and
// the queue never holds more than the export window's worth of steps.
func TestExportWindowRunsEveryPartOnceWithAShortQueue(t *testing.T) {
	ctx := context.Background()
	store, err := state.Open(ctx, storageConn)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingPhase{name: "things", parts: 40, exports: map[int]int{}, imports: map[int]int{}}
	reg := phase.Registry{p}
	waveID := strings.ToLower(t.Name())
	var queue []wave.Step
	var finalized int
	emit := func(q string, v any) {
		if s, ok := v.(wave.Step); ok && q == "steps" {
			if s.Op == wave.OpFinalize {
				finalized++
				return
			}
			queue = append(queue, s)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	longest, deliveries := 0, 0
	start := wave.Step{Wave: waveID, Version: "v1", Op: wave.OpStart, Phase: p.name}
	queue = append(queue, start)
	for len(queue) > 0 {
		longest = max(longest, len(queue))
		i := rng.IntN(len(queue))
		s := queue[i]
		if rng.IntN(4) > 0 { // a quarter of the deliveries come again later
			queue = append(queue[:i], queue[i+1:]...)
		}
		deliveries++
		env := &phase.Env{Store: store, Wave: waveID, Version: "v1", Owner: fmt.Sprint(rng.Int())}
		switch s.Op {
		case wave.OpStart:
			err = reg.Start(ctx, env, p, emit)
		case wave.OpExport:
			err = reg.Export(ctx, env, p, s, emit)
		case wave.OpImport:
			err = reg.Import(ctx, env, p, s, emit)
		}
		if err != nil {
			t.Fatalf("%s step %+v: %v", s.Op, s, err)
		}
	}
	chunks := 0
	for part := range p.parts {
		chunks += part % 3
		if p.exports[part] != 1 {
			t.Errorf("part %d exported %d times, want once", part, p.exports[part])
		}
		for i := range part % 3 {
			if n := p.imports[10*part+i]; n != 1 {
				t.Errorf("chunk %d imported %d times, want once", 10*part+i, n)
			}
		}
	}
	if finalized == 0 {
		t.Error("the phase settled without queueing the finalize")
	}
	if limit := wave.ExportWindow*3 + 3; longest > limit {
		t.Errorf("the queue held %d steps at once, want at most %d (the export window)", longest, limit)
	}
	facts, err := store.Summary(ctx, waveID, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if got := wave.Summarize(facts)[p.name]; got == nil || !got.Complete() || got.Counts.Created != chunks {
		t.Errorf("summary = %+v, want complete with %d created (one per chunk)", got, chunks)
	}
	t.Logf("%d deliveries, longest queue %d", deliveries, longest)
}

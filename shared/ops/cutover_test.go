package ops_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"t2t/shared/localstack"
	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// TestStartDueCutovers: a finished wave whose planned cutover time has come gets one cutover step,
// however often the schedule is checked; a wave planned later, one still running, one without a plan
// and a dry run get none. A new planned time starts again.
func TestStartDueCutovers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	az, err := localstack.StartAzurite(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer az.Stop()
	store, err := state.Open(ctx, az.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 22, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	for _, m := range []wave.Manifest{
		{Wave: "due", Status: wave.StatusCompleted, Options: wave.Options{CutoverUtc: &past}},
		{Wave: "later", Status: wave.StatusCompleted, Options: wave.Options{CutoverUtc: &future}},
		{Wave: "running", Status: wave.StatusRunning, Options: wave.Options{CutoverUtc: &past}},
		{Wave: "unplanned", Status: wave.StatusCompletedWithErrors},
		{Wave: "rehearsal", Status: wave.StatusCompleted, DryRun: true, Options: wave.Options{CutoverUtc: &past}},
	} {
		if _, err := store.PutJSON(ctx, wave.ManifestPath(m.Wave), m, state.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		started, err := ops.StartDueCutovers(ctx, az.ConnectionString(), store, now.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[i == 0]; len(started) != want || i == 0 && started["due"] == "" {
			t.Errorf("check %d started %v", i, started)
		}
	}
	steps := receiveSteps(ctx, t, az.ConnectionString())
	if len(steps) != 1 || steps[0].Wave != "due" || steps[0].Op != wave.OpCutover || steps[0].Validate() != nil || steps[0].DryRun {
		t.Fatalf("queued steps %+v, want one cutover of wave due", steps)
	}
	// A new planned time (the upload's option changed) is a new cutover.
	moved := now.Add(30 * time.Second)
	if _, err := store.PutJSON(ctx, wave.ManifestPath("due"), wave.Manifest{Wave: "due", Status: wave.StatusCompleted,
		Options: wave.Options{CutoverUtc: &moved}}, state.Cond{}); err != nil {
		t.Fatal(err)
	}
	if started, err := ops.StartDueCutovers(ctx, az.ConnectionString(), store, now.Add(time.Minute)); err != nil || len(started) != 1 {
		t.Errorf("after a new planned time: %v, %v", started, err)
	}
}

func receiveSteps(ctx context.Context, t *testing.T, conn string) []wave.Step {
	qc, err := azqueue.NewQueueClientFromConnectionString(conn, "steps", nil)
	if err != nil {
		t.Fatal(err)
	}
	n := int32(32)
	resp, err := qc.DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{NumberOfMessages: &n})
	if err != nil {
		t.Fatal(err)
	}
	var out []wave.Step
	for _, m := range resp.Messages {
		data, err := base64.StdEncoding.DecodeString(*m.MessageText)
		if err != nil {
			t.Fatal(err)
		}
		var s wave.Step
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"t2t/shared/funcproto"
	"t2t/shared/localstack"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// TestStepsOfAReplacedFileVersionStop checks that an import step queued for a file version that has
// since been replaced ends before touching storage or Graph (no Graph is configured here: reaching it
// would fail the invocation).
func TestStepsOfAReplacedFileVersionStop(t *testing.T) {
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
	if _, err := store.PutJSON(ctx, wave.CurrentPath("sv"), wave.Current{Version: "new000000000"}, state.Cond{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewApp(Settings{Storage: az.ConnectionString(), MigrationID: "m"}).Handler())
	defer srv.Close()
	for _, fn := range []string{"StepRun", "ProgressSink"} {
		var item any = wave.Step{Wave: "sv", Version: "old000000000", Phase: wave.PhaseImportUsers, Chunk: 0, Chunks: 1}
		if fn == "ProgressSink" {
			item = wave.Event{Kind: wave.EventWaveStarted, Wave: "sv", Version: "old000000000", Chunks: 1}
		}
		msg, _ := json.Marshal(item)
		body, _ := json.Marshal(funcproto.InvokeRequest{Data: map[string]json.RawMessage{"item": funcproto.EncodeTwice(string(msg))}})
		resp, err := http.Post(srv.URL+"/"+fn, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var out funcproto.InvokeResponse
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(out.Outputs) != 0 {
			t.Errorf("%s of a replaced version: %d, outputs %v, logs %v; want 200 and nothing done", fn, resp.StatusCode, out.Outputs, out.Logs)
		}
	}
	if _, err := store.GetJSON(ctx, wave.ProgressPath("sv"), &wave.Progress{}); !isNotFound(err) {
		t.Errorf("an old version's event reached progress.json: %v", err)
	}
}

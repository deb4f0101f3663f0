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
)

// storageApp starts Azurite and the handler's HTTP surface on it, with no Graph configured (a test
// whose function reaches Graph fails), for one test.
func storageApp(t *testing.T) (context.Context, *state.Store, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	az, err := localstack.StartAzurite(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(az.Stop)
	store, err := state.Open(ctx, az.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewApp(Settings{Storage: az.ConnectionString(), MigrationID: "m"}).Handler())
	t.Cleanup(srv.Close)
	return ctx, store, srv.URL
}

// invokeQueue posts a queue-triggered invocation of fn shaped like the real host's (the message text
// encoded twice, DequeueCount as a string) and decodes the answer.
func invokeQueue(t *testing.T, baseURL, fn string, item any) (int, funcproto.InvokeResponse) {
	t.Helper()
	msg, _ := json.Marshal(item)
	body, _ := json.Marshal(funcproto.InvokeRequest{
		Data:     map[string]json.RawMessage{"item": funcproto.EncodeTwice(string(msg))},
		Metadata: map[string]json.RawMessage{"DequeueCount": json.RawMessage(`"1"`)},
	})
	resp, err := http.Post(baseURL+"/"+fn, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out funcproto.InvokeResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s answered %d with no invocation response: %v", fn, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

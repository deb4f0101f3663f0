package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"t2t/shared/funcproto"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// invokeCutover posts a Cutover invocation for wave id with body and decodes the answer.
func invokeCutover(t *testing.T, baseURL, id, body string, query map[string]string) (funcproto.HTTPResponse, []any) {
	t.Helper()
	req := funcproto.HTTPRequest{Method: "POST", Params: map[string]string{"wave": id}, Query: query}
	if body != "" {
		req.Body = json.RawMessage(body)
	}
	raw, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(funcproto.InvokeRequest{Data: map[string]json.RawMessage{"req": raw}})
	resp, err := http.Post(baseURL+"/Cutover", "application/json", bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Outputs struct {
			Res   funcproto.HTTPResponse `json:"res"`
			Steps []any                  `json:"steps"`
		} `json:"Outputs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Cutover answered %d: %v", resp.StatusCode, err)
	}
	return out.Outputs.Res, out.Outputs.Steps
}

// TestCutoverFunctionChecksTheWave: the HTTP function queues a cutover only for a wave that finished
// a real run, and says why not otherwise; dryRun comes from the body or the query.
func TestCutoverFunctionChecksTheWave(t *testing.T) {
	ctx, store, url := storageApp(t)
	for _, m := range []wave.Manifest{
		{Wave: "done", Status: wave.StatusCompleted},
		{Wave: "busy", Status: wave.StatusRunning},
		{Wave: "rehearsal", Status: wave.StatusCompleted, DryRun: true},
	} {
		if _, err := store.PutJSON(ctx, wave.ManifestPath(m.Wave), m, state.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		id, body string
		query    map[string]string
		status   int
		dryRun   bool
	}{
		{"done", `{"dryRun": true}`, nil, http.StatusAccepted, true},
		{"done", "", map[string]string{"dryRun": "true"}, http.StatusAccepted, true},
		{"done", "", nil, http.StatusAccepted, false},
		{"done", `"not json"`, nil, http.StatusBadRequest, false}, // a non-JSON body, as the host passes it
		{"done", "", map[string]string{"dryRun": "perhaps"}, http.StatusBadRequest, false},
		{"busy", "", nil, http.StatusConflict, false},
		{"rehearsal", "", nil, http.StatusConflict, false},
		{"nowhere", "", nil, http.StatusNotFound, false},
		{"Bad Id", "", nil, http.StatusBadRequest, false},
	} {
		res, steps := invokeCutover(t, url, tc.id, tc.body, tc.query)
		if res.StatusCode != tc.status {
			t.Errorf("%s %q %v: status %d %s, want %d", tc.id, tc.body, tc.query, res.StatusCode, res.Body, tc.status)
			continue
		}
		if tc.status != http.StatusAccepted {
			if len(steps) != 0 {
				t.Errorf("%s: refused but queued %v", tc.id, steps)
			}
			continue
		}
		data, _ := json.Marshal(steps)
		var got []wave.Step
		if err := json.Unmarshal(data, &got); err != nil || len(got) != 1 || got[0].Op != wave.OpCutover || got[0].Wave != tc.id ||
			got[0].DryRun != tc.dryRun || got[0].Validate() != nil {
			t.Errorf("%s %q: queued %s", tc.id, tc.body, data)
		}
	}
}

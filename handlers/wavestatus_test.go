package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"t2t/shared/funcproto"
	"t2t/shared/report"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// invokeHTTP posts an httpTrigger invocation of WaveStatus shaped like the real host's and returns the
// http output.
func invokeHTTP(t *testing.T, baseURL, path string, query map[string]string, accept string, params map[string]string) funcproto.HTTPResponse {
	t.Helper()
	req, _ := json.Marshal(funcproto.HTTPRequest{URL: "http://localhost:7071" + path, Method: "GET", Query: query,
		Headers: map[string][]string{"Accept": {accept}}, Params: params})
	body, _ := json.Marshal(funcproto.InvokeRequest{Data: map[string]json.RawMessage{"req": req}, Metadata: map[string]json.RawMessage{}})
	resp, err := http.Post(baseURL+"/WaveStatus", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Outputs struct {
			Res funcproto.HTTPResponse `json:"res"`
		}
		Logs []string
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("WaveStatus answered %d: %v", resp.StatusCode, err)
	}
	return out.Outputs.Res
}

// TestWaveStatusPageShowsWavesEscaped: the HTML page lists the waves with their phases and counts
// (whatever the phases are called), the page of one finished wave shows its failures with reasons
// and its manual steps, every value is escaped, the page refreshes itself and loads nothing from
// elsewhere; JSON callers still get JSON.
func TestWaveStatusPageShowsWavesEscaped(t *testing.T) {
	ctx, store, url := storageApp(t)
	const hostile = `<img src=x onerror=alert(1)>`
	created := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)
	m := &wave.Manifest{Wave: "w1", Status: wave.StatusCompletedWithErrors, CreatedUtc: created, UpdatedUtc: created,
		TotalRows: 3, ValidRows: 3, BlobETag: "e", ContentSHA256: "abcdef0123456789"}
	if _, err := store.PutJSON(ctx, wave.ManifestPath("w1"), m, state.Cond{}); err != nil {
		t.Fatal(err)
	}
	v := wave.VersionOf(m)
	for _, f := range []wave.Fact{{Phase: "zeta", Kind: wave.FactPlan, Parts: 1}, {Phase: "zeta", Kind: wave.FactPart, Chunks: 1},
		{Phase: "zeta", Kind: wave.FactChunk, Counts: wave.Counts{Created: 2, Failed: 1}, Writes: 3}} {
		if err := store.PutFact(ctx, "w1", v, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SettleBucket(ctx, "w1", v, "zeta", 0); err != nil { // as a settling chunk does
		t.Fatal(err)
	}
	r := &report.Report{Wave: "w1", Version: v, Status: m.Status, PhaseOrder: []string{"zeta"},
		Phases: map[string]wave.Counts{"zeta": {Created: 2, Failed: 1}}, Totals: wave.Counts{Created: 2, Failed: 1}, FailuresTotal: 1,
		Failures:    []report.Failure{{Phase: "zeta", Row: 4, Source: "a@s", Name: hostile, Reason: "refused: " + hostile, Attempts: 5}},
		ManualSteps: []string{"Consent " + hostile}, Files: report.Files{Failures: "w1/failures.csv"}}
	if _, err := store.PutJSON(ctx, wave.ReportPath("w1"), r, state.Cond{}); err != nil {
		t.Fatal(err)
	}

	list := invokeHTTP(t, url, "/api/waves", map[string]string{"code": "k&y"}, "text/html,application/xhtml+xml", nil)
	one := invokeHTTP(t, url, "/api/waves/w1", map[string]string{"format": "html"}, "*/*", map[string]string{"wave": "w1"})
	for name, res := range map[string]funcproto.HTTPResponse{"list": list, "one": one} {
		if res.StatusCode != 200 || !strings.HasPrefix(res.Headers["Content-Type"], "text/html") {
			t.Fatalf("%s page: %d %v", name, res.StatusCode, res.Headers)
		}
		page := res.Body
		for _, want := range []string{`<meta http-equiv="refresh" content="10">`, `<th scope="row">zeta ✓</th>`,
			`2 created, 0 matched, 0 skipped, 0 pending, 1 failed`, `CompletedWithErrors`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s page lacks %s:\n%s", name, want, page)
			}
		}
		if strings.Contains(page, "<img") || strings.Contains(page, "<script") || strings.Contains(page, `src="http`) {
			t.Errorf("%s page has markup from a value or an external asset:\n%s", name, page)
		}
	}
	if !strings.Contains(list.Body, `<a href="/api/waves/w1?code=k%26y&amp;format=html">w1</a>`) {
		t.Errorf("list page does not link the wave with its function key:\n%s", list.Body)
	}
	for _, want := range []string{`<td class="reason">refused: &lt;img src=x onerror=alert(1)&gt;</td>`,
		`<li>Consent &lt;img src=x onerror=alert(1)&gt;</li>`, `1 failed, 0 pending`} {
		if !strings.Contains(one.Body, want) {
			t.Errorf("wave page lacks %s:\n%s", want, one.Body)
		}
	}
	js := invokeHTTP(t, url, "/api/waves", nil, "application/json", nil)
	if js.Headers["Content-Type"] != "application/json" || js.Body != `{"delta":null,"waves":["w1"]}` {
		t.Errorf("JSON list = %v %s", js.Headers, js.Body)
	}
	missing := invokeHTTP(t, url, "/api/waves/nope", map[string]string{"format": "html"}, "", map[string]string{"wave": "nope"})
	if missing.StatusCode != 404 || !strings.Contains(missing.Body, "no wave nope") {
		t.Errorf("missing wave page: %d %s", missing.StatusCode, missing.Body)
	}
}

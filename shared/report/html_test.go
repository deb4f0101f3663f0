package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"t2t/shared/state"
	"t2t/shared/wave"
)

const hostile = `<img src=x onerror=alert(1)>`

func hostileReport(t *testing.T, failed int) (*Report, []Listed) {
	t.Helper()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	done := start.Add(90 * time.Second)
	m := &wave.Manifest{Wave: "w", TotalRows: failed + 1, ValidRows: failed + 1, CreatedUtc: start}
	var entries []state.LedgerEntry
	entries = append(entries, state.LedgerEntry{Key: "ok@s", Line: 2, Chunk: 0, Status: wave.ObjCreated})
	for i := range failed {
		entries = append(entries, state.LedgerEntry{Key: fmt.Sprintf("u%06d@s", i), Name: hostile, Line: 3 + i, Chunk: (i + 1) / 20,
			Status: wave.ObjFailed, LastError: "=HYPERLINK(\"http://evil\") " + hostile, Attempts: 5})
	}
	b := NewBuilder(m, done, &bytes.Buffer{}, nil)
	b.StartPhase("alpha")
	for _, e := range entries {
		b.Add(e)
	}
	b.EndPhase([]string{"Assign licences by hand: " + hostile})
	r, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	r.Writes = map[string]int{"alpha": 7}
	r.Times = map[string]Span{"alpha": {StartedUtc: start, SettledUtc: done}}
	return r, b.Shown()
}

// TestHTMLEscapesEveryValue: a hostile display name, reason and manual step appear as text, never as
// markup, and the page loads nothing from elsewhere.
func TestHTMLEscapesEveryValue(t *testing.T) {
	r, shown := hostileReport(t, 3)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r, shown, r.CompletedUtc); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<img") {
		t.Errorf("hostile markup rendered as markup:\n%s", page)
	}
	if n := strings.Count(page, "&lt;img src=x onerror=alert(1)&gt;"); n < 7 { // 3 names, 3 reasons, 1 manual step
		t.Errorf("escaped hostile text appears %d times, want at least 7", n)
	}
	for _, external := range []string{"<script", "<link", "src=\"http", "href=\"http", "@import", "url("} {
		if strings.Contains(page, external) {
			t.Errorf("page refers to %q: not self-contained", external)
		}
	}
	for _, want := range []string{`<strong id="status" class="status-CompletedWithErrors">CompletedWithErrors</strong>`,
		`<td class="n">1</td><td class="n">0</td><td class="n">0</td><td class="n">0</td><td class="n">3</td><td class="n">7</td><td>03:04:05Z</td><td>1m30s</td>`,
		`<rect class="failed" x="25.00" y="0" width="75.00" height="14"><title>3 failed</title></rect>`,
		"Failures and pending objects (3)"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestHTMLCapsTheFailuresTable: 2,500 failures list the first 1,000 and point to failures.csv.
func TestHTMLCapsTheFailuresTable(t *testing.T) {
	r, shown := hostileReport(t, 2500)
	if len(shown) != 1000 {
		t.Fatalf("builder kept %d failures for the page, want 1000", len(shown))
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r, shown, r.CompletedUtc); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(page, `<td class="reason">`); n != 1000 {
		t.Errorf("%d failure rows, want 1000", n)
	}
	if !strings.Contains(page, `<p id="more">1500 more are not shown here; every one is in w/failures.csv.</p>`) {
		t.Errorf("page does not point to failures.csv for the rest")
	}
}

func TestReportCSVPerPhaseCountsDefused(t *testing.T) {
	r := &Report{PhaseOrder: []string{"alpha", "=cmd"}, Phases: map[string]wave.Counts{
		"alpha": {Created: 1, Matched: 2, Skipped: 3, Pending: 4, Failed: 5}, "=cmd": {Created: 1}},
		Totals: wave.Counts{Created: 2, Matched: 2, Skipped: 3, Pending: 4, Failed: 5}, Writes: map[string]int{"alpha": 9}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"phase", "created", "matched", "skipped", "pending", "failed", "total", "writes"},
		{"alpha", "1", "2", "3", "4", "5", "15", "9"}, {"'=cmd", "1", "0", "0", "0", "0", "1", "0"},
		{"total", "2", "2", "3", "4", "5", "16", "9"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("report.csv = %q, want %q", got, want)
	}
}

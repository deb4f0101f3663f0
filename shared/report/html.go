package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"

	"t2t/shared/csvout"
	"t2t/shared/wave"
)

// MaxShown bounds the failures table of report.html: a wave of 100,000 failed objects still makes a
// page a browser opens; failures.csv has every one.
const MaxShown = 1000

// Listed is one failed or pending object in report.html's table, with its ledger status.
type Listed struct {
	Failure
	Status string
}

// Segment is one coloured part of a phase's bar: a count and its share of the phase in percent.
type Segment struct {
	Label   string
	Count   int
	Percent float64 // width, 0-100
	Offset  float64 // left edge, 0-100
	Class   string  // CSS class: created, matched, skipped, pending, failed
}

// Segments splits a tally into the bar's segments, in a fixed order; empty ones are left out.
func Segments(c wave.Counts) []Segment {
	total := c.Total()
	var out []Segment
	offset := 0.0
	for _, s := range []struct {
		label string
		n     int
	}{{"created", c.Created}, {"matched", c.Matched}, {"skipped", c.Skipped}, {"pending", c.Pending}, {"failed", c.Failed}} {
		if s.n == 0 || total == 0 {
			continue
		}
		pct := float64(s.n) * 100 / float64(total)
		out = append(out, Segment{Label: s.label, Count: s.n, Percent: pct, Offset: offset, Class: s.label})
		offset += pct
	}
	return out
}

// Style is the CSS of t2t's HTML pages (report.html and WaveStatus's page): inline, no external asset.
const Style = template.CSS(`
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1b1b;background:#fff}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.4em 0 .4em}
table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:block}.created{fill:#2e7d32;background:#2e7d32}.matched{fill:#1565c0;background:#1565c0}
.skipped{fill:#9e9e9e;background:#9e9e9e}.pending{fill:#f9a825;background:#f9a825}.failed{fill:#c62828;background:#c62828}
.key span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em;vertical-align:middle}
.status-Completed{color:#2e7d32}.status-CompletedWithErrors,.status-Rejected{color:#c62828}.status-Running{color:#1565c0}
.muted{color:#666}ul.manual li{margin:.3em 0}
#failures,table.failures{width:100%}#failures td,table.failures td{overflow-wrap:anywhere}td.reason{min-width:24em}
#failures td:first-child,table.failures td:first-child,#failures td:nth-child(6){white-space:nowrap;overflow-wrap:normal}
`)

// phaseRow is one line of the per-phase table.
type phaseRow struct {
	Name              string
	Counts            wave.Counts
	Total, Writes     int
	Segments          []Segment
	Started, Duration string
}

// htmlReport is what the report template sees.
type htmlReport struct {
	R                *Report
	Style            template.CSS
	Phases           []phaseRow
	Shown            []Listed
	More             int // failed and pending objects not in the table
	Duration         string
	Generated        string
	FailuresListable int
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"pct": pct}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>t2t wave {{.R.Wave}}</title><style>{{.Style}}</style></head><body>
<h1>Wave {{.R.Wave}}{{if .R.DryRun}} (dry run){{end}}</h1>
<p>Status <strong id="status" class="status-{{.R.Status}}">{{.R.Status}}</strong> · version {{.R.Version}} ·
started {{.R.StartedUtc.Format "2006-01-02 15:04:05Z"}} · took {{.Duration}} · generated {{.Generated}}</p>
<p>Rows: {{.R.Rows.Total}} in the file, {{.R.Rows.Valid}} valid, {{.R.Rows.Invalid}} invalid{{if .R.Rows.Invalid}} (see {{.R.Files.Errors}}){{end}}.
Objects: {{.R.Totals.Created}} created, {{.R.Totals.Matched}} matched, {{.R.Totals.Skipped}} skipped, {{.R.Totals.Pending}} pending, {{.R.Totals.Failed}} failed.</p>
<h2>Phases</h2>
<p class="key"><span class="created"></span>created<span class="matched"></span>matched<span class="skipped"></span>skipped<span class="pending"></span>pending<span class="failed"></span>failed</p>
<table id="phases"><thead><tr><th>phase</th><th>objects</th><th style="width:16em">outcome</th><th>created</th><th>matched</th><th>skipped</th><th>pending</th><th>failed</th><th>Graph writes</th><th>started</th><th>took</th></tr></thead><tbody>
{{range .Phases}}<tr><th scope="row">{{.Name}}</th><td class="n">{{.Total}}</td>
<td><svg class="bar" width="100%" height="14" viewBox="0 0 100 14" preserveAspectRatio="none" role="img" aria-label="{{.Name}}: {{.Counts.Created}} created, {{.Counts.Matched}} matched, {{.Counts.Skipped}} skipped, {{.Counts.Pending}} pending, {{.Counts.Failed}} failed"><rect x="0" y="0" width="100" height="14" fill="#eee"/>{{range .Segments}}<rect class="{{.Class}}" x="{{pct .Offset}}" y="0" width="{{pct .Percent}}" height="14"><title>{{.Count}} {{.Label}}</title></rect>{{end}}</svg></td>
<td class="n">{{.Counts.Created}}</td><td class="n">{{.Counts.Matched}}</td><td class="n">{{.Counts.Skipped}}</td><td class="n">{{.Counts.Pending}}</td><td class="n">{{.Counts.Failed}}</td><td class="n">{{.Writes}}</td><td>{{.Started}}</td><td>{{.Duration}}</td></tr>
{{else}}<tr><td colspan="11" class="muted">No phase ran.</td></tr>{{end}}</tbody></table>
<h2>Failures and pending objects ({{.FailuresListable}})</h2>
{{if .Shown}}<table id="failures"><thead><tr><th>phase</th><th>row</th><th>source</th><th>name</th><th>destination</th><th>status</th><th>reason</th><th>attempts</th></tr></thead><tbody>
{{range .Shown}}<tr><td>{{.Phase}}</td><td class="n">{{if .Row}}{{.Row}}{{end}}</td><td>{{.Source}}</td><td>{{.Name}}</td><td>{{.Destination}}</td><td>{{.Status}}</td><td class="reason">{{.Reason}}</td><td class="n">{{.Attempts}}</td></tr>
{{end}}</tbody></table>
{{if .More}}<p id="more">{{.More}} more are not shown here; every one is in {{.R.Files.Failures}}.</p>{{end}}
{{else}}<p class="muted">None.</p>{{end}}
<h2>Manual steps</h2>
{{if .R.ManualSteps}}<ul class="manual" id="manual">{{range .R.ManualSteps}}<li>{{.}}</li>{{end}}</ul>{{else}}<p class="muted">None.</p>{{end}}
<h2>Files</h2>
<p class="muted">In the waves container: {{.R.Files.Manifest}}, {{.R.Files.Errors}}, {{.R.Files.Failures}}, {{.R.Files.MigrationState}}{{if .R.Files.WhatIf}}, {{.R.Files.WhatIf}}{{end}}.</p>
</body></html>
`))

func pct(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// WriteHTML renders report.html: one self-contained page (inline CSS and SVG, no script, no external
// asset) with per-phase bars, timings, the first MaxShown failures of shown and the manual steps.
// Every value goes through html/template, so a display name like <img src=x onerror=...> is text.
func WriteHTML(w io.Writer, r *Report, shown []Listed, now time.Time) error {
	v := htmlReport{R: r, Style: Style, Generated: now.UTC().Format("2006-01-02 15:04:05Z"),
		Duration: since(r.StartedUtc, r.CompletedUtc), FailuresListable: r.FailuresTotal + r.PendingTotal}
	if len(shown) > MaxShown {
		shown = shown[:MaxShown]
	}
	v.Shown, v.More = shown, v.FailuresListable-len(shown)
	for _, name := range r.PhaseOrder {
		c := r.Phases[name]
		row := phaseRow{Name: name, Counts: c, Total: c.Total(), Writes: r.Writes[name], Segments: Segments(c)}
		if span, ok := r.Times[name]; ok && !span.StartedUtc.IsZero() {
			row.Started = span.StartedUtc.UTC().Format("15:04:05Z")
			row.Duration = since(span.StartedUtc, span.SettledUtc)
		}
		v.Phases = append(v.Phases, row)
	}
	if err := reportTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("rendering report.html: %w", err)
	}
	return nil
}

// since formats the time from start to end for a person, to the second.
func since(start, end time.Time) string {
	if start.IsZero() || end.Before(start) {
		return ""
	}
	return end.Sub(start).Round(time.Second).String()
}

// WriteCSV renders report.csv: one line per phase that ran (in order) and a total line, with the
// counts and Graph writes; cells defused like every CSV t2t writes.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csvout.NewWriter(w)
	_ = cw.Write([]string{"phase", "created", "matched", "skipped", "pending", "failed", "total", "writes"})
	line := func(name string, c wave.Counts, writes int) {
		_ = cw.Write([]string{name, strconv.Itoa(c.Created), strconv.Itoa(c.Matched), strconv.Itoa(c.Skipped),
			strconv.Itoa(c.Pending), strconv.Itoa(c.Failed), strconv.Itoa(c.Total()), strconv.Itoa(writes)})
	}
	writes := 0
	for _, name := range r.PhaseOrder {
		line(name, r.Phases[name], r.Writes[name])
		writes += r.Writes[name]
	}
	line("total", r.Totals, writes)
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing report.csv: %w", err)
	}
	return nil
}

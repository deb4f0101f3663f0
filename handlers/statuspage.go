package handlers

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"t2t/shared/funcproto"
	"t2t/shared/report"
	"t2t/shared/wave"
)

// statusRefresh is how often the status page reloads itself (meta refresh).
const statusRefresh = 10

// maxListedWaves bounds the waves the list page reads and shows (each costs a blob read and a query).
const maxListedWaves = 100

// wantsHTML reports whether a WaveStatus request asks for the page for a person: ?format=html, or a
// browser's Accept header (text/html) without ?format=json. Tools that send Accept: application/json
// or */* (curl, the CLI) keep getting JSON.
func wantsHTML(req *funcproto.HTTPRequest) bool {
	switch strings.ToLower(queryValue(req, "format")) {
	case "html":
		return true
	case "json":
		return false
	}
	for k, vs := range req.Headers {
		if strings.EqualFold(k, "Accept") {
			for _, v := range vs {
				if strings.Contains(strings.ToLower(v), "text/html") {
					return true
				}
			}
		}
	}
	return false
}

func queryValue(req *funcproto.HTTPRequest, key string) string {
	for k, v := range req.Query {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// statusWave is one wave as the page shows it.
type statusWave struct {
	ID, Status, Reason string
	Link               template.URL
	DryRun             bool
	Created, Updated   string
	Rows               report.RowCounts
	Totals             wave.Counts
	Phases             []statusPhase
	Report             *report.Report // once finished
	Failures           []report.Failure
	Error              string // the wave could not be read
}

// statusPhase is one phase's line: how far it got and its tallies.
type statusPhase struct {
	Name                   string
	PartsDone, Parts       int
	ChunksDone, Chunks     int
	Complete               bool
	Counts                 wave.Counts
	Writes                 int
	Segments               []report.Segment
	Started, Took, Percent string
}

// statusPageData is what the page template sees.
type statusPageData struct {
	Style     template.CSS
	Refresh   int
	Title     string
	Generated string
	Home      template.URL // the list of waves
	Waves     []statusWave
	One       bool // the page of one wave: failures and manual steps shown
}

// newStatusWave builds one wave's view from its manifest, live progress and report (nil while it runs).
func newStatusWave(m *wave.Manifest, p *wave.Progress, r *report.Report, order []string, link template.URL) statusWave {
	w := statusWave{ID: m.Wave, Status: m.Status, Reason: m.Reason, DryRun: m.DryRun, Link: link,
		Created: stamp(m.CreatedUtc), Updated: stamp(m.UpdatedUtc),
		Rows: report.RowCounts{Total: m.TotalRows, Invalid: m.InvalidRows, Valid: m.ValidRows}, Report: r}
	if p != nil {
		w.Totals = p.Totals
		for _, name := range p.PhaseNames(order) {
			ph := p.Phases[name]
			sp := statusPhase{Name: name, PartsDone: ph.PartsDone, Parts: ph.Parts, ChunksDone: ph.ChunksDone, Chunks: ph.Chunks,
				Complete: ph.Complete(), Counts: ph.Counts, Writes: ph.Writes, Segments: report.Segments(ph.Counts)}
			if !ph.FirstUtc.IsZero() {
				sp.Started = ph.FirstUtc.UTC().Format("15:04:05Z")
				sp.Took = ph.LastUtc.Sub(ph.FirstUtc).Round(time.Second).String()
			}
			if ph.Chunks > 0 {
				sp.Percent = fmt.Sprintf("%d%%", ph.ChunksDone*100/ph.Chunks)
			}
			w.Phases = append(w.Phases, sp)
		}
	}
	if r != nil {
		w.Totals = r.Totals
		w.Failures = append(append(w.Failures, r.Failures...), r.Pending...)
	}
	return w
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// waveLink is the page of one wave (or, for id "", the list), as an absolute path under the route
// the request came in on, keeping the function key (?code=) the page was opened with so that links
// work on a deployed app.
func waveLink(req *funcproto.HTTPRequest, id string) template.URL {
	base := "/api/waves"
	if u, err := url.Parse(req.URL); err == nil {
		if i := strings.LastIndex(u.Path, "/waves"); i >= 0 {
			base = u.Path[:i] + "/waves"
		}
	}
	q := url.Values{"format": {"html"}}
	if code := queryValue(req, "code"); code != "" {
		q.Set("code", code)
	}
	if id != "" {
		base += "/" + url.PathEscape(id)
	}
	return template.URL(base + "?" + q.Encode())
}

var statusTemplate = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{{.Refresh}}">
<title>{{.Title}}</title><style>{{.Style}}</style></head><body>
<h1>{{.Title}}</h1>
<p class="muted">Refreshes every {{.Refresh}} s · {{.Generated}}{{if .One}} · <a href="{{.Home}}">all waves</a>{{end}}</p>
{{if not .Waves}}<p id="nowaves">No wave yet: upload a mapping file to the mappings container.</p>{{end}}
{{range .Waves}}<section class="wave" id="wave-{{.ID}}">
<h2>{{if $.One}}{{.ID}}{{else}}<a href="{{.Link}}">{{.ID}}</a>{{end}} <span class="status-{{.Status}}">{{.Status}}</span>{{if .DryRun}} (dry run){{end}}</h2>
{{if .Error}}<p class="failed-text">Cannot read this wave: {{.Error}}</p>{{end}}
{{if .Reason}}<p>Reason: {{.Reason}}</p>{{end}}
<p>Started {{.Created}} · updated {{.Updated}} · rows {{.Rows.Total}} ({{.Rows.Valid}} valid, {{.Rows.Invalid}} invalid) ·
<span class="totals">{{.Totals.Created}} created, {{.Totals.Matched}} matched, {{.Totals.Skipped}} skipped, {{.Totals.Pending}} pending, {{.Totals.Failed}} failed</span></p>
{{if .Phases}}<table class="phases"><thead><tr><th>phase</th><th>chunks</th><th style="width:14em">outcome</th><th>created</th><th>matched</th><th>skipped</th><th>pending</th><th>failed</th><th>Graph writes</th><th>started</th><th>took</th></tr></thead><tbody>
{{range .Phases}}<tr><th scope="row">{{.Name}}{{if .Complete}} ✓{{end}}</th><td class="n">{{.ChunksDone}}/{{.Chunks}}{{if .Percent}} ({{.Percent}}){{end}}</td>
<td><svg class="bar" width="100%" height="12" viewBox="0 0 100 12" preserveAspectRatio="none"><rect x="0" y="0" width="100" height="12" fill="#eee"/>{{range .Segments}}<rect class="{{.Class}}" x="{{printf "%.2f" .Offset}}" y="0" width="{{printf "%.2f" .Percent}}" height="12"><title>{{.Count}} {{.Label}}</title></rect>{{end}}</svg></td>
<td class="n">{{.Counts.Created}}</td><td class="n">{{.Counts.Matched}}</td><td class="n">{{.Counts.Skipped}}</td><td class="n">{{.Counts.Pending}}</td><td class="n">{{.Counts.Failed}}</td><td class="n">{{.Writes}}</td><td>{{.Started}}</td><td>{{.Took}}</td></tr>
{{end}}</tbody></table>{{end}}
{{if $.One}}{{with .Report}}
<h3>Failures and pending objects ({{.FailuresTotal}} failed, {{.PendingTotal}} pending)</h3>{{end}}
{{if .Failures}}<table class="failures"><thead><tr><th>phase</th><th>row</th><th>source</th><th>name</th><th>destination</th><th>reason</th><th>attempts</th></tr></thead><tbody>
{{range .Failures}}<tr><td>{{.Phase}}</td><td class="n">{{if .Row}}{{.Row}}{{end}}</td><td>{{.Source}}</td><td>{{.Name}}</td><td>{{.Destination}}</td><td class="reason">{{.Reason}}</td><td class="n">{{.Attempts}}</td></tr>
{{end}}</tbody></table>{{with .Report}}<p class="muted">Every one is in {{.Files.Failures}}; the full report is {{.Wave}}/report.html.</p>{{end}}{{end}}
{{with .Report}}<h3>Manual steps</h3>
{{if .ManualSteps}}<ul class="manual">{{range .ManualSteps}}<li>{{.}}</li>{{end}}</ul>{{else}}<p class="muted">None.</p>{{end}}
{{else}}<p class="muted">Failures and manual steps are listed here when the wave finishes.</p>{{end}}
{{end}}</section>
{{end}}</body></html>
`))

// renderStatus renders the status page.
func renderStatus(d statusPageData) (string, error) {
	d.Style, d.Refresh, d.Generated = report.Style, statusRefresh, stamp(time.Now())
	var buf bytes.Buffer
	if err := statusTemplate.Execute(&buf, d); err != nil {
		return "", fmt.Errorf("rendering the status page: %w", err)
	}
	return buf.String(), nil
}

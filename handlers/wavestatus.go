package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"t2t/shared/funcproto"
	"t2t/shared/logfields"
	"t2t/shared/report"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// WaveStatus answers GET /api/waves (the list of waves) and GET /api/waves/{wave} (manifest status,
// live progress and, once finished, the report) as JSON, and as a self-contained HTML page for a
// person with ?format=html or a browser's Accept: text/html (see wantsHTML): the waves, their phases
// with counts and bars, failures with reasons and manual steps, refreshing itself.
func (a *App) WaveStatus(ctx context.Context, inv *invocation) error {
	req, err := inv.req.HTTP("req")
	if err != nil {
		return err
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	html := wantsHTML(req)
	id := req.Params["wave"]
	if id == "" {
		ids, err := store.Waves(ctx)
		if err != nil {
			return err
		}
		if html {
			return a.wavesPage(ctx, inv, req, store, ids)
		}
		return respond(inv, http.StatusOK, map[string]any{"waves": ids, "delta": a.latestDelta(ctx, store)})
	}
	if err := wave.CheckID(id); err != nil {
		return respondAs(inv, html, http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
	inv.with(logfields.Wave, id)
	m, p, err := store.Progress(ctx, id)
	if isNotFound(err) {
		return respondAs(inv, html, http.StatusNotFound, map[string]string{"error": "no wave " + id})
	}
	if err != nil {
		return err
	}
	r, err := readReport(ctx, store, id, m)
	if err != nil {
		return err
	}
	if html {
		w := newStatusWave(m, p, r, a.Phases.Names(), waveLink(req, id))
		return respondHTML(inv, http.StatusOK, statusPageData{Title: "t2t wave " + id, Home: waveLink(req, ""), Waves: []statusWave{w}, One: true})
	}
	out := map[string]any{"wave": id, "status": m.Status, "createdUtc": m.CreatedUtc, "updatedUtc": m.UpdatedUtc,
		"totalRows": m.TotalRows, "invalidRows": m.InvalidRows, "chunks": m.Chunks, "phases": m.Phases,
		"options": m.Options, "progress": p}
	if r != nil {
		out["report"] = r
	}
	return respond(inv, http.StatusOK, out)
}

// readReport returns the wave's report.json, or nil while it has none.
func readReport(ctx context.Context, store *state.Store, id string, m *wave.Manifest) (*report.Report, error) {
	var r report.Report
	if _, err := store.GetJSON(ctx, wave.ReportPath(id), &r); err == nil {
		if r.Version != "" && r.Version != wave.VersionOf(m) {
			return nil, nil // the report of a replaced file; the current version runs
		}
		return &r, nil
	} else if !isNotFound(err) {
		return nil, err
	}
	return nil, nil
}

// wavesPage renders every wave (newest first, at most maxListedWaves) with its phases and counts.
func (a *App) wavesPage(ctx context.Context, inv *invocation, req *funcproto.HTTPRequest, store *state.Store, ids []string) error {
	var waves []statusWave
	for _, id := range ids {
		m, p, err := store.Progress(ctx, id)
		if err != nil {
			if !isNotFound(err) {
				waves = append(waves, statusWave{ID: id, Link: waveLink(req, id), Error: err.Error()})
			}
			continue
		}
		r, err := readReport(ctx, store, id, m)
		if err != nil {
			return err
		}
		waves = append(waves, newStatusWave(m, p, r, a.Phases.Names(), waveLink(req, id)))
	}
	slices.SortStableFunc(waves, func(x, y statusWave) int {
		switch {
		case x.Created > y.Created:
			return -1
		case x.Created < y.Created:
			return 1
		}
		return 0
	})
	if len(waves) > maxListedWaves {
		waves = waves[:maxListedWaves]
	}
	return respondHTML(inv, http.StatusOK, statusPageData{Title: "t2t waves", Home: waveLink(req, ""), Waves: waves})
}

func respond(inv *invocation, status int, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	inv.outputs["res"] = funcproto.HTTPResponse{StatusCode: status, Body: string(data),
		Headers: map[string]string{"Content-Type": "application/json"}}
	return nil
}

// respondAs answers an error as JSON, or as a page saying it when the caller asked for HTML.
func respondAs(inv *invocation, html bool, status int, body map[string]string) error {
	if !html {
		return respond(inv, status, body)
	}
	return respondHTML(inv, status, statusPageData{Title: body["error"], Home: "/api/waves?format=html", One: true})
}

func respondHTML(inv *invocation, status int, d statusPageData) error {
	page, err := renderStatus(d)
	if err != nil {
		return err
	}
	inv.outputs["res"] = funcproto.HTTPResponse{StatusCode: status, Body: page,
		Headers: map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
			"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"}}
	return nil
}

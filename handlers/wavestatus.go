package handlers

import (
	"context"
	"encoding/json"
	"net/http"

	"t2t/shared/funcproto"
	"t2t/shared/report"
	"t2t/shared/wave"
)

// WaveStatus answers GET /api/waves (the list of waves) and GET /api/waves/{wave} (manifest status,
// live progress and, once finished, the report).
func (a *App) WaveStatus(ctx context.Context, inv *invocation) error {
	req, err := inv.req.HTTP("req")
	if err != nil {
		return err
	}
	store, err := a.storeFor(ctx)
	if err != nil {
		return err
	}
	id := req.Params["wave"]
	if id == "" {
		ids, err := store.Waves(ctx)
		if err != nil {
			return err
		}
		return respond(inv, http.StatusOK, map[string]any{"waves": ids, "delta": a.latestDelta(ctx, store)})
	}
	if err := wave.CheckID(id); err != nil {
		return respond(inv, http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
	m, p, err := store.Progress(ctx, id)
	if isNotFound(err) {
		return respond(inv, http.StatusNotFound, map[string]string{"error": "no wave " + id})
	}
	if err != nil {
		return err
	}
	out := map[string]any{"wave": id, "status": m.Status, "createdUtc": m.CreatedUtc, "updatedUtc": m.UpdatedUtc,
		"totalRows": m.TotalRows, "invalidRows": m.InvalidRows, "chunks": m.Chunks, "phases": m.Phases,
		"options": m.Options, "progress": p}
	var r report.Report
	if _, err := store.GetJSON(ctx, wave.ReportPath(id), &r); err == nil {
		out["report"] = r
	} else if !isNotFound(err) {
		return err
	}
	return respond(inv, http.StatusOK, out)
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

package simulator

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// serveAdminControls serves the runtime controls under /_sim/ (segs are the path segments after
// "_sim"). It reports false for paths it does not own.
//
//	GET  /_sim/settings                 every setting
//	PUT  /_sim/settings                 merge a partial Settings document (PATCH is accepted too)
//	GET  /_sim/settings/{part}          one part: throttling, faults, replicationLag, timeScale
//	PUT  /_sim/settings/{part}          replace fields of that part, e.g. {"enabled": true} for
//	                                    throttling, {"fabrikam": "2s"} or {"*": "1s"} for replicationLag,
//	                                    {"timeScale": 10} for timeScale
//	POST /_sim/reset-throttling         refill every throttling bucket
//	POST /_sim/reset                    reset counters and throttling buckets
//
// Changes are validated as a whole (400 with the reason, nothing changed), then saved in the state
// folder when the server has one.
func (s *Server) serveAdminControls(w http.ResponseWriter, r *http.Request, segs []string) bool {
	if len(segs) == 0 {
		return false
	}
	switch {
	case segs[0] == "settings" && len(segs) <= 2:
		part := ""
		if len(segs) == 2 {
			part = segs[1]
		}
		s.serveSettings(w, r, part)
	case segs[0] == "reset-throttling" && len(segs) == 1 && r.Method == http.MethodPost:
		s.controls.limiter.reset()
		w.WriteHeader(http.StatusNoContent)
	case segs[0] == "reset" && len(segs) == 1 && r.Method == http.MethodPost:
		s.controls.limiter.reset()
		s.counters.reset()
		w.WriteHeader(http.StatusNoContent)
	default:
		return false
	}
	return true
}

// settingsParts maps each part's path segment (case-insensitive) to its JSON field in Settings.
var settingsParts = map[string]string{
	"throttling": "throttling", "faults": "faults", "replicationlag": "replicationLag", "lag": "replicationLag",
	"timescale": "timeScale",
}

func (s *Server) serveSettings(w http.ResponseWriter, r *http.Request, part string) {
	field := ""
	if part != "" {
		if field = settingsParts[strings.ToLower(part)]; field == "" {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no settings part " + part})
			return
		}
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut, http.MethodPatch:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		patch, err := wrapSettingsPatch(field, body)
		if err == nil {
			_, err = s.updateSettings(patch)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET or PUT"})
		return
	}
	writeJSON(w, http.StatusOK, settingsPart(s.currentSettings(), field))
}

// wrapSettingsPatch turns a part's document into a Settings document.
func wrapSettingsPatch(field string, body []byte) ([]byte, error) {
	switch field {
	case "":
		return body, nil
	case "timeScale":
		var v struct {
			TimeScale *float64 `json:"timeScale"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.TimeScale == nil {
			return nil, errors.New(`expected {"timeScale": <number>}`)
		}
		return json.Marshal(map[string]any{"throttling": map[string]any{"timeScale": *v.TimeScale}})
	default:
		return json.Marshal(map[string]json.RawMessage{field: body})
	}
}

// settingsPart renders all settings or one part.
func settingsPart(st Settings, field string) any {
	switch field {
	case "throttling":
		return st.Throttling
	case "faults":
		return st.Faults
	case "replicationLag":
		return st.ReplicationLag
	case "timeScale":
		return map[string]float64{"timeScale": st.Throttling.scale()}
	}
	return st
}

package simulator

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Power Platform tenant-to-tenant environment move. Microsoft documents it as PowerShell cmdlets
// only (TenantToTenant-SubmitMigrationRequest, -ViewMigrationRequest, -ManageMigrationRequest,
// -GenerateResourceStorage (SAS), -PrepareMigration, -MigratePowerAppEnvironment,
// -GetMigrationStatus: https://learn.microsoft.com/power-platform/admin/move-environment-tenant); the
// REST calls behind them are not documented. The simulator serves them under /bap (the real host is
// api.bap.microsoft.com) as t2t calls them, and is strict where nothing is documented:
//
//	POST /bap/providers/Microsoft.BusinessAppPlatform/environments/{env}/tenantToTenantMigration  (source)
//	GET  /bap/providers/Microsoft.BusinessAppPlatform/tenantToTenantMigrations                    (either tenant)
//	GET  /bap/providers/Microsoft.BusinessAppPlatform/tenantToTenantMigrations/{id}               (either tenant)
//	POST .../tenantToTenantMigrations/{id}/approve | reject                                       (target)
//	POST .../tenantToTenantMigrations/{id}/resourceStorage -> {"sasUri"}                          (source)
//	PUT  {sasUri with /usermapping.csv}                                                            (no token: the SAS)
//	POST .../tenantToTenantMigrations/{id}/prepare | migrate                                      (source)
//
// A request goes PendingApproval -> Approved -> Preparing -> Prepared -> Migrating -> Completed
// (Preparing and Migrating end on the next read), or Rejected, or PrepareFailed when the mapping
// file names a user that is not an enabled user of its tenant. A request not completed 7 days after
// it was submitted is Expired, as the documented requests are; POST /_sim/bap/advance?hours=N moves
// this service's clock on.

// powerAppsResource is the audience the Power Platform admin API accepts.
const powerAppsResource = "https://service.powerapps.com"

// bapPrefix is where the simulator serves it.
const bapPrefix = "/bap/providers/Microsoft.BusinessAppPlatform"

// ppRequestLifetime is how long a request stays usable.
const ppRequestLifetime = 7 * 24 * time.Hour

// Power Platform request states.
const (
	ppPending   = "PendingApproval"
	ppApproved  = "Approved"
	ppRejected  = "Rejected"
	ppPreparing = "Preparing"
	ppPrepared  = "Prepared"
	ppFailed    = "PrepareFailed"
	ppMigrating = "Migrating"
	ppCompleted = "Completed"
	ppExpired   = "Expired"
)

// EnvironmentConfig is a Power Platform environment a seeded tenant owns.
type EnvironmentConfig struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// Type is Production, Sandbox, Default, Developer, Trial or Teams; only Production and Sandbox
	// can move (documented).
	Type string `json:"type"`
}

type ppRequest struct {
	ID, Environment, Source, Target string
	Status, Error                   string
	Submitted                       time.Time
	sig                             string // the SAS signature of its resource storage
	mapping                         []byte
}

type powerPlatform struct {
	mu       sync.Mutex
	offset   time.Duration
	requests map[string]*ppRequest
	owner    map[string]EnvironmentConfig // environment id -> config, with its tenant in owners
	owners   map[string]string
}

func newPowerPlatform(cfg *Config) *powerPlatform {
	p := &powerPlatform{requests: map[string]*ppRequest{}, owner: map[string]EnvironmentConfig{}, owners: map[string]string{}}
	for _, tc := range cfg.Tenants {
		for _, e := range tc.Environments {
			p.owner[strings.ToLower(e.ID)], p.owners[strings.ToLower(e.ID)] = e, strings.ToLower(tc.ID)
		}
	}
	return p
}

func (p *powerPlatform) render(r *ppRequest, now time.Time) map[string]any {
	if now.After(r.Submitted.Add(ppRequestLifetime)) && r.Status != ppCompleted && r.Status != ppRejected {
		r.Status = ppExpired
	}
	switch r.Status { // long-running steps end on the next read
	case ppPreparing:
		r.Status = ppPrepared
	case ppMigrating:
		r.Status = ppCompleted
		p.owners[strings.ToLower(r.Environment)] = r.Target
	}
	out := map[string]any{"migrationId": r.ID, "environmentName": r.Environment, "sourceTenantId": r.Source,
		"targetTenantId": r.Target, "status": r.Status, "submittedDateTime": r.Submitted.Format(time.RFC3339),
		"expirationDateTime": r.Submitted.Add(ppRequestLifetime).Format(time.RFC3339), "userMappingUploaded": r.mapping != nil}
	if r.Error != "" {
		out["error"] = map[string]any{"code": "UserMappingInvalid", "message": r.Error}
	}
	return out
}

// servePowerPlatform serves the /bap routes above.
func (s *Server) servePowerPlatform(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/bap-storage/") {
		s.ppUpload(w, r)
		return
	}
	tenant, ok := s.ppTenant(w, r)
	if !ok {
		return
	}
	rest, found := strings.CutPrefix(r.URL.Path, bapPrefix)
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	p := s.pp
	p.mu.Lock()
	defer p.mu.Unlock()
	now := s.now().Add(p.offset)
	switch {
	case !found:
		ppError(w, http.StatusNotFound, "NotFound", "no route "+r.URL.Path)
	case r.Method == http.MethodPost && len(segs) == 3 && segs[0] == "environments" && segs[2] == "tenantToTenantMigration":
		s.ppSubmit(w, r, tenant, strings.ToLower(segs[1]), now)
	case r.Method == http.MethodGet && len(segs) == 1 && segs[0] == "tenantToTenantMigrations":
		var list []map[string]any
		for _, q := range p.requests {
			if q.Source == tenant || q.Target == tenant {
				list = append(list, p.render(q, now))
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"value": list})
	case len(segs) >= 2 && segs[0] == "tenantToTenantMigrations":
		q := p.requests[strings.ToLower(segs[1])]
		if q == nil || (q.Source != tenant && q.Target != tenant) {
			ppError(w, http.StatusNotFound, "MigrationRequestNotFound", "no tenant-to-tenant migration request "+segs[1])
			return
		}
		p.render(q, now)
		s.ppAct(w, r, q, tenant, segs[2:], now)
	default:
		ppError(w, http.StatusNotFound, "NotFound", "no route "+r.Method+" "+r.URL.Path)
	}
}

func ppError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// ppTenant authenticates a Power Platform call: a token of this simulator for the Power Apps
// resource.
func (s *Server) ppTenant(w http.ResponseWriter, r *http.Request) (string, bool) {
	raw, ok := bearer(r)
	if !ok {
		ppError(w, http.StatusUnauthorized, "MissingAuthorization", "The request has no bearer token.")
		return "", false
	}
	claims, err := s.signer.verify(raw, s.now())
	if err != nil || claims.Aud != powerAppsResource {
		ppError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid or not for "+powerAppsResource+".")
		return "", false
	}
	if v := r.URL.Query().Get("api-version"); v == "" {
		ppError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter is required.")
		return "", false
	}
	return strings.ToLower(claims.Tid), true
}

func (s *Server) ppSubmit(w http.ResponseWriter, r *http.Request, tenant, env string, now time.Time) {
	p := s.pp
	var in struct {
		TargetTenantID string `json:"targetTenantId"`
	}
	data, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	cfg, known := p.owner[env]
	switch {
	case !known || p.owners[env] != tenant:
		ppError(w, http.StatusNotFound, "EnvironmentNotFound", "environment "+env+" is not in this tenant")
		return
	case cfg.Type != "Production" && cfg.Type != "Sandbox":
		ppError(w, http.StatusBadRequest, "EnvironmentTypeNotSupported", "only production and sandbox environments can move to another tenant; "+env+" is "+cfg.Type)
		return
	case json.Unmarshal(data, &in) != nil || s.store.byID[strings.ToLower(in.TargetTenantID)] == nil || strings.EqualFold(in.TargetTenantID, tenant):
		ppError(w, http.StatusBadRequest, "InvalidTargetTenant", "targetTenantId must name another tenant")
		return
	}
	for _, q := range p.requests {
		if q.Environment == env && q.Status != ppExpired && q.Status != ppRejected && q.Status != ppCompleted {
			ppError(w, http.StatusConflict, "MigrationRequestAlreadyExists", "environment "+env+" already has request "+q.ID)
			return
		}
	}
	q := &ppRequest{ID: newGUID(), Environment: env, Source: tenant, Target: strings.ToLower(in.TargetTenantID), Status: ppPending, Submitted: now}
	p.requests[q.ID] = q
	writeJSON(w, http.StatusCreated, p.render(q, now))
}

// ppAct runs one action on a request (none: read it).
func (s *Server) ppAct(w http.ResponseWriter, r *http.Request, q *ppRequest, tenant string, action []string, now time.Time) {
	p := s.pp
	want := func(method, side, status string) bool {
		switch {
		case r.Method != method:
			ppError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed here")
		case side != tenant:
			ppError(w, http.StatusForbidden, "Forbidden", "this step belongs to the other tenant of the request")
		case q.Status == ppExpired:
			ppError(w, http.StatusConflict, "MigrationRequestExpired", "request "+q.ID+" expired; submit a new one")
		case q.Status != status:
			ppError(w, http.StatusConflict, "InvalidMigrationState", "request "+q.ID+" is "+q.Status+", not "+status)
		default:
			return true
		}
		return false
	}
	switch strings.Join(action, "/") {
	case "":
		writeJSON(w, http.StatusOK, p.render(q, now))
		return
	case "approve", "reject":
		if !want(http.MethodPost, q.Target, ppPending) {
			return
		}
		q.Status = map[string]string{"approve": ppApproved, "reject": ppRejected}[action[0]]
	case "resourceStorage":
		if !want(http.MethodPost, q.Source, ppApproved) {
			return
		}
		q.sig = newGUID()
		u := s.graphURL + "/bap-storage/" + q.ID + "?" + url.Values{"sig": {q.sig}, "se": {now.Add(time.Hour).Format(time.RFC3339)}}.Encode()
		writeJSON(w, http.StatusOK, map[string]any{"sasUri": u})
		return
	case "prepare":
		if !want(http.MethodPost, q.Source, ppApproved) {
			return
		}
		if q.mapping == nil {
			ppError(w, http.StatusBadRequest, "UserMappingMissing", "upload usermapping.csv to the resource storage first")
			return
		}
		if err := s.checkMapping(q); err != nil {
			q.Status, q.Error = ppFailed, err.Error()
		} else {
			q.Status = ppPreparing
		}
	case "migrate":
		if !want(http.MethodPost, q.Source, ppPrepared) {
			return
		}
		q.Status = ppMigrating
	default:
		ppError(w, http.StatusNotFound, "NotFound", "no action "+strings.Join(action, "/"))
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"migrationId": q.ID, "status": q.Status})
}

// ppUpload takes usermapping.csv through the SAS URI: a blob PUT, checked against the signature.
func (s *Server) ppUpload(w http.ResponseWriter, r *http.Request) {
	p := s.pp
	p.mu.Lock()
	defer p.mu.Unlock()
	id, file, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bap-storage/"), "/")
	q := p.requests[id]
	switch {
	case q == nil || q.sig == "" || r.URL.Query().Get("sig") != q.sig:
		w.WriteHeader(http.StatusForbidden) // Blob storage: AuthenticationFailed
	case r.Method != http.MethodPut || file != "usermapping.csv" || r.Header.Get("x-ms-blob-type") != "BlockBlob":
		w.WriteHeader(http.StatusBadRequest)
	default:
		q.mapping, _ = io.ReadAll(io.LimitReader(r.Body, 8<<20))
		w.WriteHeader(http.StatusCreated)
	}
}

// checkMapping validates the uploaded file: a Source,Destination header, then one line per user,
// each Source an enabled user of the source tenant and each Destination one of the target.
func (s *Server) checkMapping(q *ppRequest) error {
	rows, err := csv.NewReader(bytes.NewReader(q.mapping)).ReadAll()
	if err != nil || len(rows) < 2 || len(rows[0]) != 2 || !strings.EqualFold(rows[0][0], "Source") || !strings.EqualFold(rows[0][1], "Destination") {
		return errors.New("usermapping.csv must be a Source,Destination header and at least one user")
	}
	src, tgt := s.store.byID[q.Source], s.store.byID[q.Target]
	for i, row := range rows[1:] {
		for side, t := range map[int]*Tenant{0: src, 1: tgt} {
			t.mu.RLock()
			u := t.users.get(row[side])
			t.mu.RUnlock()
			if u == nil || !u.AccountEnabled {
				return fmt.Errorf("line %s: %s is not an enabled user of tenant %s", strconv.Itoa(i+2), row[side], t.Name)
			}
		}
	}
	return nil
}

// advance moves the service's clock on (POST /_sim/bap/advance?hours=N).
func (p *powerPlatform) advance(hours int) {
	p.mu.Lock()
	p.offset += time.Duration(hours) * time.Hour
	p.mu.Unlock()
}

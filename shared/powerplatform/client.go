package powerplatform

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"t2t/shared/graph"
)

// The Power Platform admin API's tenant-to-tenant calls. Microsoft documents only the PowerShell
// cmdlets that make them (https://learn.microsoft.com/power-platform/admin/move-environment-tenant);
// the paths below are the module's, unversioned by any public contract: that is why the phase runs
// only when the T2T_POWER_PLATFORM app setting says enabled.
const (
	// resource is the audience of the admin API's tokens.
	resource   = "https://service.powerapps.com"
	apiVersion = "2021-04-01"
	provider   = "/providers/Microsoft.BusinessAppPlatform"
)

// Request states the service reports.
const (
	statusPending   = "PendingApproval"
	statusApproved  = "Approved"
	statusRejected  = "Rejected"
	statusPreparing = "Preparing"
	statusPrepared  = "Prepared"
	statusFailed    = "PrepareFailed"
	statusMigrating = "Migrating"
	statusCompleted = "Completed"
	statusExpired   = "Expired"
)

// request is a tenant-to-tenant migration request as the service returns it.
type request struct {
	ID             string `json:"migrationId"`
	Environment    string `json:"environmentName"`
	SourceTenantID string `json:"sourceTenantId"`
	TargetTenantID string `json:"targetTenantId"`
	Status         string `json:"status"`
	Submitted      string `json:"submittedDateTime"`
	Expires        string `json:"expirationDateTime"`
	Uploaded       bool   `json:"userMappingUploaded"`
	Error          *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// api is the admin API seen from both tenants: submitting and preparing are the source's steps,
// approving the target's.
type api struct {
	source, target *graph.Service
}

func newAPI(src, tgt *graph.Client, baseURL string) *api {
	return &api{source: src.Service(resource, baseURL), target: tgt.Service(resource, baseURL)}
}

func path(p string) string { return provider + p + "?api-version=" + apiVersion }

// find returns the newest request for env addressed to target, nil when there is none.
func (a *api) find(ctx context.Context, env, target string) (*request, error) {
	var list struct {
		Value []request `json:"value"`
	}
	if _, err := a.source.Do(ctx, http.MethodGet, path("/tenantToTenantMigrations"), nil, &list); err != nil {
		return nil, fmt.Errorf("listing tenant-to-tenant requests: %w", err)
	}
	var mine []request
	for _, r := range list.Value {
		if strings.EqualFold(r.Environment, env) && strings.EqualFold(r.TargetTenantID, target) {
			mine = append(mine, r)
		}
	}
	if len(mine) == 0 {
		return nil, nil
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].Submitted > mine[j].Submitted })
	return &mine[0], nil
}

func (a *api) get(ctx context.Context, id string) (*request, error) {
	var r request
	if _, err := a.source.Do(ctx, http.MethodGet, path("/tenantToTenantMigrations/"+id), nil, &r); err != nil {
		return nil, fmt.Errorf("reading request %s: %w", id, err)
	}
	return &r, nil
}

func (a *api) submit(ctx context.Context, env, target string) (*request, error) {
	var r request
	body := map[string]string{"targetTenantId": target}
	if _, err := a.source.Do(ctx, http.MethodPost, path("/environments/"+env+"/tenantToTenantMigration"), body, &r); err != nil {
		return nil, fmt.Errorf("submitting the move of environment %s: %w", env, err)
	}
	return &r, nil
}

// act runs a step of a request: approve (the target's), prepare or migrate (the source's).
func (a *api) act(ctx context.Context, id, action string) error {
	svc := a.source
	if action == "approve" {
		svc = a.target
	}
	if _, err := svc.Do(ctx, http.MethodPost, path("/tenantToTenantMigrations/"+id+"/"+action), map[string]string{}, nil); err != nil {
		return fmt.Errorf("%s of request %s: %w", action, id, err)
	}
	return nil
}

// upload puts usermapping.csv into the request's resource storage through a fresh SAS URI. The SAS
// is a secret: it lives in this call only, never in a log, the ledger or a blob.
func (a *api) upload(ctx context.Context, id string, csv []byte) error {
	var storage struct {
		SasURI string `json:"sasUri"`
	}
	if _, err := a.source.Do(ctx, http.MethodPost, path("/tenantToTenantMigrations/"+id+"/resourceStorage"), map[string]string{}, &storage); err != nil {
		return fmt.Errorf("resource storage of request %s: %w", id, err)
	}
	u, err := url.Parse(storage.SasURI)
	if err != nil || u.Host == "" {
		return fmt.Errorf("resource storage of request %s: the answer holds no SAS URI", id)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/usermapping.csv"
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(csv))
	if err != nil {
		return fmt.Errorf("uploading usermapping.csv of request %s: %w", id, err)
	}
	req.Header.Set("x-ms-blob-type", "BlockBlob")
	req.Header.Set("Content-Type", "text/csv")
	resp, err := a.source.HTTP().Do(req)
	if err != nil {
		return fmt.Errorf("uploading usermapping.csv of request %s: %s", id, redact(err.Error(), u))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return &graph.ServiceError{Status: resp.StatusCode, Code: "UploadFailed", Message: "the resource storage refused usermapping.csv"}
	}
	return nil
}

// redact removes a SAS URI's query (its signature) from a message.
func redact(msg string, u *url.URL) string {
	if u.RawQuery == "" {
		return msg
	}
	return strings.ReplaceAll(strings.ReplaceAll(msg, u.RawQuery, "(SAS redacted)"), url.QueryEscape(u.RawQuery), "(SAS redacted)")
}

// pollEvery is how often a step waits on a long-running request state.
var pollEvery = time.Second

// Package applications migrates app registrations: each source app is created in the target by
// uniqueName upsert (a deterministic name, so a repeated create finds the first), with its redirect
// URIs, required resource access, app roles and permission scopes (their ids kept, so assignments and
// consents keep meaning the same), optional claims and tags. identifierUris are rewritten to target
// domains, or to api://<new appId>. Secrets and certificates are never copied: they are manual steps.
package applications

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	graphapps "github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// Type is the phase name and the id map type (source object id -> target object id).
const Type = "applications"

// AppIDType is the id map type translating a source appId to the target appId (conditional access
// and required resource access name apps by appId).
const AppIDType = "appIds"

// Phase is the applications phase.
type Phase struct{}

var (
	_ phase.Phase       = Phase{}
	_ phase.ChunkKeyed  = Phase{}
	_ phase.ManualSteps = Phase{}
)

// SourceApp is one exported app registration: the Graph object as JSON (every property, so nothing
// is lost between export and import), and what is never copied.
type SourceApp struct {
	ID           string          `json:"id"`
	AppID        string          `json:"appId"`
	DisplayName  string          `json:"displayName"`
	Body         json.RawMessage `json:"body"`
	Secrets      []string        `json:"secrets,omitempty"`      // display names of client secrets
	Certificates []string        `json:"certificates,omitempty"` // display names of certificates
}

// Snapshot is one chunk of the export. SourceAppIDs lists every app registration of the source, so
// that import can tell an app of the same tenant (remapped) from a multi-tenant app of another
// publisher (same appId everywhere).
type Snapshot struct {
	Chunk        int         `json:"chunk"`
	Apps         []SourceApp `json:"apps"`
	SourceAppIDs []string    `json:"sourceAppIds"`
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: owners are users.
func (Phase) After() []string { return []string{users.Type} }

// Parts implements phase.Phase: tenant-scoped, one export part.
func (Phase) Parts(context.Context, *phase.Env) (int, error) { return 1, nil }

// Export implements phase.Phase: every app registration of the source, in chunks.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	list, err := graph.All(ctx,
		func(ctx context.Context) (models.ApplicationCollectionResponseable, error) {
			return env.Source.Applications().Get(ctx, &graphapps.ApplicationsRequestBuilderGetRequestConfiguration{
				QueryParameters: &graphapps.ApplicationsRequestBuilderGetQueryParameters{Top: ptr(int32(100))}})
		},
		func(ctx context.Context, next string) (models.ApplicationCollectionResponseable, error) {
			return env.Source.Applications().WithUrl(next).Get(ctx, nil)
		})
	if err != nil {
		return nil, fmt.Errorf("listing source applications: %w", err)
	}
	var apps []SourceApp
	var ids []string
	for _, a := range list {
		sa, err := fromModel(a)
		if err != nil {
			return nil, err
		}
		apps = append(apps, sa)
		ids = append(ids, strings.ToLower(sa.AppID))
	}
	var chunks []int
	for i := 0; i < len(apps); i += wave.ChunkSize {
		chunk := i / wave.ChunkSize
		snap := Snapshot{Chunk: chunk, Apps: apps[i:min(i+wave.ChunkSize, len(apps))], SourceAppIDs: ids}
		if err := env.PutSnapshot(ctx, Type, chunk, snap); err != nil {
			return nil, err
		}
		chunks = append(chunks, chunk)
	}
	return chunks, nil
}

func fromModel(a models.Applicationable) (SourceApp, error) {
	body, err := serialization.SerializeToJson(a)
	if err != nil {
		return SourceApp{}, fmt.Errorf("encoding application %s: %w", deref(a.GetId()), err)
	}
	sa := SourceApp{ID: deref(a.GetId()), AppID: deref(a.GetAppId()), DisplayName: deref(a.GetDisplayName()), Body: body}
	for _, p := range a.GetPasswordCredentials() {
		sa.Secrets = append(sa.Secrets, firstNonEmpty(deref(p.GetDisplayName()), deref(p.GetHint())+"…"))
	}
	for _, k := range a.GetKeyCredentials() {
		sa.Certificates = append(sa.Certificates, firstNonEmpty(deref(k.GetDisplayName()), "certificate"))
	}
	return sa, nil
}

func snapshot(ctx context.Context, env *phase.Env, chunk int) (*Snapshot, error) {
	return phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
}

// ChunkKeys implements phase.ChunkKeyed.
func (Phase) ChunkKeys(ctx context.Context, env *phase.Env, chunk int) ([]phase.Key, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return nil, err
	}
	return keys(env, snap), nil
}

func keys(env *phase.Env, snap *Snapshot) []phase.Key {
	out := make([]phase.Key, len(snap.Apps))
	for i, a := range snap.Apps {
		out[i] = phase.Key{Key: a.ID, Name: a.DisplayName, SourceID: a.ID, TargetKey: phase.UniqueName(env, Type, a.ID)}
	}
	return out
}

// ManualSteps implements phase.ManualSteps.
func (Phase) ManualSteps(env *phase.Env, counts wave.Counts) []string {
	if counts.Created+counts.Matched == 0 {
		return nil
	}
	return []string{
		"App registrations were created without client secrets or certificates (never copied): create new credentials in the target and update each app's configuration (the report lists the apps that had them).",
		"Apps identified by api://<appId> have a new appId in the target: update clients that request tokens for them.",
	}
}

// Rollback implements phase.Phase: the app registration is deleted (restorable from deleted items
// for 30 days), unless it was renamed since t2t created it.
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	item := env.Target.Applications().ByApplicationId(m.TargetID)
	return phase.DeleteUnlessChanged(ctx, m, "application", func(ctx context.Context) (string, error) {
		a, err := item.Get(ctx, nil)
		if err != nil {
			return "", err
		}
		return deref(a.GetDisplayName()), nil
	}, func(ctx context.Context) error { return item.Delete(ctx, nil) })
}

func ptr[T any](v T) *T { return &v }

func deref(p *string) string { return phase.Str(p) }

func firstNonEmpty(a, b string) string { return phase.FirstNonEmpty(a, b) }

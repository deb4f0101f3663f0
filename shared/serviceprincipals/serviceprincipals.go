// Package serviceprincipals migrates enterprise apps: the service principals of the migrated app
// registrations and of other publishers' multi-tenant apps (instantiated in the target by appId), with
// appRoleAssignmentRequired, tags and the single sign-on mode copied, and their app role assignments
// to users and groups remapped. Admin consent grants are listed as manual steps, never granted.
package serviceprincipals

import (
	"context"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphsps "github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"t2t/shared/applications"
	"t2t/shared/graph"
	"t2t/shared/groups"
	"t2t/shared/guests"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Type is the phase name and the id map type: source service principal id -> target id, and the app
// role assignments t2t added to service principals it did not create in that wave ("assignment|...").
const Type = "servicePrincipals"

// microsoftTenant owns Microsoft's first-party apps, whose service principals exist in every tenant.
const microsoftTenant = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

// Phase is the enterprise apps phase.
type Phase struct{}

var (
	_ phase.Phase       = Phase{}
	_ phase.ChunkKeyed  = Phase{}
	_ phase.ManualSteps = Phase{}
)

// SourceSP is one exported service principal.
type SourceSP struct {
	ID                        string       `json:"id"`
	AppID                     string       `json:"appId"`
	DisplayName               string       `json:"displayName"`
	Own                       bool         `json:"own"` // an app registration of the source tenant
	AppRoleAssignmentRequired bool         `json:"appRoleAssignmentRequired"`
	Tags                      []string     `json:"tags,omitempty"`
	PreferredSingleSignOnMode string       `json:"preferredSingleSignOnMode,omitempty"`
	Notes                     string       `json:"notes,omitempty"`
	AssignedTo                []Assignment `json:"assignedTo,omitempty"`
	// Grants are the application permissions the app was granted (admin consent): manual steps.
	Grants []string `json:"grants,omitempty"`
}

// Assignment is an app role assigned to a user or group.
type Assignment struct {
	PrincipalID   string `json:"principalId"`
	PrincipalType string `json:"principalType"` // User or Group
	PrincipalName string `json:"principalName,omitempty"`
	AppRoleID     string `json:"appRoleId"`
}

// Snapshot is one chunk of the export.
type Snapshot struct {
	Chunk int        `json:"chunk"`
	SPs   []SourceSP `json:"servicePrincipals"`
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: the apps, and the users and groups assignments name.
func (Phase) After() []string { return []string{applications.Type, groups.Type, guests.Type} }

// Parts implements phase.Phase: tenant-scoped, one export part.
func (Phase) Parts(context.Context, *phase.Env) (int, error) { return 1, nil }

// Export implements phase.Phase: the source's service principals other than Microsoft's own and
// managed identities, with their assignments and grants.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	m, err := env.Manifest(ctx)
	if err != nil {
		return nil, err
	}
	list, err := graph.All(ctx,
		func(ctx context.Context) (models.ServicePrincipalCollectionResponseable, error) {
			return env.Source.ServicePrincipals().Get(ctx, nil)
		},
		func(ctx context.Context, next string) (models.ServicePrincipalCollectionResponseable, error) {
			return env.Source.ServicePrincipals().WithUrl(next).Get(ctx, nil)
		})
	if err != nil {
		return nil, fmt.Errorf("listing source service principals: %w", err)
	}
	var sps []SourceSP
	for _, sp := range list {
		owner := strings.ToLower(idString(sp.GetAppOwnerOrganizationId()))
		if owner == microsoftTenant || strings.EqualFold(deref(sp.GetServicePrincipalType()), "ManagedIdentity") ||
			strings.EqualFold(deref(sp.GetAppId()), env.ClientID) {
			continue
		}
		sps = append(sps, fromModel(sp, strings.EqualFold(owner, m.SourceTenantID)))
	}
	err = phase.Parallel(len(sps), 4, func(i int) error { return readAssignments(ctx, env, &sps[i]) })
	if err != nil {
		return nil, err
	}
	var chunks []int
	for i := 0; i < len(sps); i += wave.ChunkSize {
		chunk := i / wave.ChunkSize
		if err := env.PutSnapshot(ctx, Type, chunk, Snapshot{Chunk: chunk, SPs: sps[i:min(i+wave.ChunkSize, len(sps))]}); err != nil {
			return nil, err
		}
		chunks = append(chunks, chunk)
	}
	return chunks, nil
}

func fromModel(sp models.ServicePrincipalable, own bool) SourceSP {
	b := sp.GetAppRoleAssignmentRequired()
	return SourceSP{ID: deref(sp.GetId()), AppID: strings.ToLower(deref(sp.GetAppId())), DisplayName: deref(sp.GetDisplayName()),
		Own: own, AppRoleAssignmentRequired: b != nil && *b, Tags: sp.GetTags(),
		PreferredSingleSignOnMode: deref(sp.GetPreferredSingleSignOnMode()), Notes: deref(sp.GetNotes())}
}

// readAssignments reads who the app's roles are assigned to, and what the app was granted.
func readAssignments(ctx context.Context, env *phase.Env, sp *SourceSP) error {
	to, err := env.Source.ServicePrincipals().ByServicePrincipalId(sp.ID).AppRoleAssignedTo().Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("reading the assignments of %s: %w", sp.DisplayName, err)
	}
	for _, a := range to.GetValue() {
		sp.AssignedTo = append(sp.AssignedTo, Assignment{PrincipalID: idString(a.GetPrincipalId()), PrincipalType: deref(a.GetPrincipalType()),
			PrincipalName: deref(a.GetPrincipalDisplayName()), AppRoleID: idString(a.GetAppRoleId())})
	}
	granted, err := env.Source.ServicePrincipals().ByServicePrincipalId(sp.ID).AppRoleAssignments().Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("reading the grants of %s: %w", sp.DisplayName, err)
	}
	for _, g := range granted.GetValue() {
		sp.Grants = append(sp.Grants, fmt.Sprintf("%s role %s", deref(g.GetResourceDisplayName()), idString(g.GetAppRoleId())))
	}
	return nil
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
	return keys(snap), nil
}

func keys(snap *Snapshot) []phase.Key {
	out := make([]phase.Key, len(snap.SPs))
	for i, sp := range snap.SPs {
		out[i] = phase.Key{Key: sp.ID, Name: sp.DisplayName, SourceID: sp.ID, TargetKey: sp.AppID}
	}
	return out
}

// ManualSteps implements phase.ManualSteps.
func (Phase) ManualSteps(env *phase.Env, counts wave.Counts) []string {
	if counts.Total() == 0 {
		return nil
	}
	return []string{"Admin consent is never granted by t2t: for each enterprise app the report lists the permissions it held in the source; grant them in the target (admin consent URL https://login.microsoftonline.com/<target tenant>/adminconsent?client_id=<appId>)."}
}

// Rollback implements phase.Phase: an app role assignment t2t added, or a service principal it
// created (unless renamed since).
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	if rest, ok := strings.CutPrefix(m.TargetID, "assignment|"); ok {
		spID, id, _ := strings.Cut(rest, "|")
		err := env.Target.ServicePrincipals().ByServicePrincipalId(spID).AppRoleAssignedTo().ByAppRoleAssignmentId(id).Delete(ctx, nil)
		if err != nil && !phase.IsGone(err) {
			return fmt.Errorf("removing app role assignment %s: %w", id, err)
		}
		return nil
	}
	item := env.Target.ServicePrincipals().ByServicePrincipalId(m.TargetID)
	return phase.DeleteUnlessChanged(ctx, m, "service principal", func(ctx context.Context) (string, error) {
		sp, err := item.Get(ctx, &graphsps.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphsps.ServicePrincipalItemRequestBuilderGetQueryParameters{Select: []string{"id", "displayName"}}})
		if err != nil {
			return "", err
		}
		return deref(sp.GetDisplayName()), nil
	}, func(ctx context.Context) error { return item.Delete(ctx, nil) })
}

func deref(p *string) string { return phase.Str(p) }

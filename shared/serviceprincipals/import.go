package serviceprincipals

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/applications"
	"t2t/shared/graph"
	"t2t/shared/groups"
	"t2t/shared/guests"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// lagDeadline bounds the wait for a just-created service principal or principal to be assignable.
const lagDeadline = 30 * time.Second

type work struct {
	snap       *Snapshot
	ledger     *phase.Chunk
	appIDs     map[string]string // source appId -> target appId, for the source's own apps
	principals map[string]string // source user or group id -> target id
	mapped     map[string]state.IDMapping
}

func prepare(ctx context.Context, env *phase.Env, chunk int) (*work, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return nil, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys(snap))
	if err != nil {
		return nil, err
	}
	w := &work{snap: snap, ledger: ledger, principals: map[string]string{}}
	var appIDs, ids, uids, gids []string
	for _, sp := range snap.SPs {
		ids = append(ids, sp.ID)
		if sp.Own {
			appIDs = append(appIDs, sp.AppID)
		}
		for _, a := range sp.AssignedTo {
			if a.PrincipalType == "Group" {
				gids = append(gids, a.PrincipalID)
			} else {
				uids = append(uids, a.PrincipalID)
			}
		}
	}
	if w.appIDs, err = env.Resolve(ctx, applications.AppIDType, appIDs); err != nil {
		return nil, err
	}
	for typ, list := range map[string][]string{users.Type: uids, guests.Type: uids, groups.Type: gids} {
		got, err := env.Resolve(ctx, typ, list)
		if err != nil {
			return nil, err
		}
		for k, v := range got {
			w.principals[k] = v
		}
	}
	if w.mapped, err = env.Mapped(ctx, Type, ids); err != nil {
		return nil, err
	}
	return w, nil
}

// targetAppID is the appId the service principal has in the target: the migrated app's new one, or
// the same for another publisher's multi-tenant app. "" when the app registration was not migrated.
func (w *work) targetAppID(sp SourceSP) string {
	if sp.Own {
		return w.appIDs[sp.AppID]
	}
	return sp.AppID
}

// Import implements phase.Phase: per service principal, one create (or a match by appId) and one
// write per app role assignment the target lacks.
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	w, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	var todo []SourceSP
	for _, sp := range w.snap.SPs {
		switch {
		case w.ledger.Done(sp.ID):
		case w.targetAppID(sp) == "":
			w.ledger.Set(sp.ID, wave.ObjSkipped, "", "its app registration was not migrated (see the applications phase)")
		default:
			w.ledger.Intend(sp.ID)
			todo = append(todo, sp)
		}
	}
	if err := w.ledger.Flush(ctx); err != nil {
		return wave.Counts{}, err
	}
	type outcome struct {
		id, status, note string
		maps             []state.IDMapping
		err              error
	}
	results := make([]outcome, len(todo))
	_ = phase.Parallel(len(todo), 4, func(i int) error {
		sp := todo[i]
		id, created, err := w.ensure(ctx, env, sp)
		if err != nil {
			results[i].err = err
			return nil
		}
		r := &results[i]
		r.id, r.status = id, wave.ObjMatched
		if !sp.Own {
			// Another publisher's multi-tenant app has the same appId in every tenant: say so in the id
			// map, so that conditional access resolves it like a migrated app.
			r.maps = append(r.maps, state.IDMapping{Type: applications.AppIDType, SourceID: sp.AppID, TargetID: sp.AppID, TargetKey: sp.DisplayName})
		}
		if created {
			r.status = wave.ObjCreated
			r.maps = append(r.maps, state.IDMapping{Type: Type, SourceID: sp.ID, TargetID: id, Created: true, TargetKey: sp.AppID, Fingerprint: sp.DisplayName})
		} else if m, ok := w.mapped[sp.ID]; ok && m.Created && m.Wave == env.Wave {
			r.status = wave.ObjCreated
		}
		added, pending, err := w.assign(ctx, env, sp, id, created || r.status == wave.ObjCreated)
		r.maps = append(r.maps, added...)
		r.err = err
		r.note = note(sp, pending)
		if len(pending) > 0 {
			r.status = wave.ObjPending
		}
		return nil
	})
	var maps []state.IDMapping
	retry := 0
	for i, r := range results {
		maps = append(maps, r.maps...)
		if r.err != nil {
			if w.ledger.Fail(todo[i].ID, r.err) {
				retry++
			}
			continue
		}
		w.ledger.Set(todo[i].ID, r.status, r.id, r.note)
	}
	if err := env.Map(ctx, maps); err != nil {
		return wave.Counts{}, err
	}
	return w.ledger.Finish(ctx, retry)
}

// ensure finds or creates the service principal; created reports whether t2t created it now (or in
// an earlier attempt whose answer was lost).
func (w *work) ensure(ctx context.Context, env *phase.Env, sp SourceSP) (string, bool, error) {
	if m, ok := w.mapped[sp.ID]; ok {
		return m.TargetID, false, nil
	}
	appID := w.targetAppID(sp)
	if w.ledger.Entry(sp.ID).Attempts <= 1 {
		body := models.NewServicePrincipal()
		body.SetAppId(&appID)
		required := sp.AppRoleAssignmentRequired
		body.SetAppRoleAssignmentRequired(&required)
		if len(sp.Tags) > 0 {
			body.SetTags(sp.Tags)
		}
		if sp.PreferredSingleSignOnMode != "" {
			mode := sp.PreferredSingleSignOnMode
			body.SetPreferredSingleSignOnMode(&mode)
		}
		var got models.ServicePrincipalable
		err := phase.RetryLag(ctx, lagDeadline, func(ctx context.Context) error {
			var err error
			got, err = env.Target.ServicePrincipals().Post(ctx, body, nil)
			return err
		})
		if err == nil {
			return deref(got.GetId()), true, nil
		}
		info, _ := graph.Inspect(err)
		switch {
		case graph.IsConflict(err) || strings.Contains(info.Message, "already in use"):
			// It exists: an administrator's, or ours from an attempt whose answer was lost (below).
		case info.Status == 400 && !sp.Own:
			return "", false, phase.Permanent{Reason: fmt.Sprintf("the target cannot instantiate %s (%s): have an administrator consent at https://login.microsoftonline.com/%s/adminconsent?client_id=%s",
				sp.DisplayName, graph.Describe(err), env.Target.TenantID, appID)}
		default:
			return "", false, fmt.Errorf("creating the service principal of %s: %w", sp.DisplayName, err)
		}
	}
	got, err := env.Target.ServicePrincipalsWithAppId(&appID).Get(ctx, nil)
	if err != nil {
		return "", false, fmt.Errorf("reading the service principal of %s: %w", sp.DisplayName, err)
	}
	// A retry of our own create finds it; the id map then records it as ours.
	return deref(got.GetId()), w.ledger.Entry(sp.ID).Attempts > 1, nil
}

// assign adds the app role assignments the target lacks; principals not migrated yet are pending.
func (w *work) assign(ctx context.Context, env *phase.Env, sp SourceSP, spID string, fresh bool) ([]state.IDMapping, []string, error) {
	have := map[string]bool{}
	if !fresh && len(sp.AssignedTo) > 0 {
		resp, err := env.Target.ServicePrincipals().ByServicePrincipalId(spID).AppRoleAssignedTo().Get(ctx, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the assignments of %s in the target: %w", sp.DisplayName, err)
		}
		for _, a := range resp.GetValue() {
			have[strings.ToLower(idString(a.GetPrincipalId())+"|"+idString(a.GetAppRoleId()))] = true
		}
	}
	var maps []state.IDMapping
	var pending []string
	for _, a := range sp.AssignedTo {
		principal, ok := w.principals[a.PrincipalID]
		if !ok {
			pending = append(pending, strings.ToLower(a.PrincipalType)+" "+firstNonEmpty(a.PrincipalName, a.PrincipalID))
			continue
		}
		if have[strings.ToLower(principal+"|"+a.AppRoleID)] {
			continue
		}
		body := models.NewAppRoleAssignment()
		pid, rid, role := uuid.MustParse(principal), uuid.MustParse(spID), uuid.MustParse(a.AppRoleID)
		body.SetPrincipalId(&pid)
		body.SetResourceId(&rid)
		body.SetAppRoleId(&role)
		var got models.AppRoleAssignmentable
		err := phase.RetryLag(ctx, lagDeadline, func(ctx context.Context) error {
			var err error
			got, err = env.Target.ServicePrincipals().ByServicePrincipalId(spID).AppRoleAssignedTo().Post(ctx, body, nil)
			return err
		})
		if err != nil && !strings.Contains(graph.Describe(err), "already exists") {
			return maps, pending, fmt.Errorf("assigning %s to %s: %w", a.PrincipalName, sp.DisplayName, err)
		}
		if err == nil && !fresh {
			maps = append(maps, state.IDMapping{Type: Type, SourceID: "assignment|" + sp.ID + "|" + a.PrincipalID + "|" + a.AppRoleID,
				TargetID: "assignment|" + spID + "|" + deref(got.GetId()), Created: true, TargetKey: sp.DisplayName})
		}
	}
	return maps, pending, nil
}

func note(sp SourceSP, pending []string) string {
	var parts []string
	if len(pending) > 0 {
		parts = append(parts, fmt.Sprintf("%d assignments wait for principals not migrated yet: %s", len(pending), strings.Join(pending, "; ")))
	}
	if len(sp.Grants) > 0 {
		parts = append(parts, "admin consent to grant by hand: "+strings.Join(sp.Grants, "; "))
	}
	return strings.Join(parts, "; ")
}

// Plan implements phase.Phase: the verdict per service principal; nothing is written.
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	w, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	for _, sp := range w.snap.SPs {
		appID := w.targetAppID(sp)
		var pending []string
		for _, a := range sp.AssignedTo {
			if _, ok := w.principals[a.PrincipalID]; !ok {
				pending = append(pending, strings.ToLower(a.PrincipalType)+" "+firstNonEmpty(a.PrincipalName, a.PrincipalID))
			}
		}
		switch {
		case appID == "":
			w.ledger.Set(sp.ID, wave.ObjSkipped, "", "its app registration would not be migrated")
		case w.mapped[sp.ID].TargetID != "":
			w.ledger.Set(sp.ID, wave.ObjWouldMatch, w.mapped[sp.ID].TargetID, note(sp, pending))
		case len(pending) > 0:
			w.ledger.Set(sp.ID, wave.ObjPending, "", note(sp, pending))
		default:
			w.ledger.Set(sp.ID, wave.ObjWouldCreate, "", note(sp, nil))
		}
	}
	return w.ledger.Finish(ctx, 0)
}

func idString(u *uuid.UUID) string {
	if u == nil {
		return ""
	}
	return u.String()
}

func firstNonEmpty(a, b string) string { return phase.FirstNonEmpty(a, b) }

package applications

import (
	"context"
	"fmt"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithuniquename"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// lagDeadline bounds the wait for a just-created app to be writable for its second write.
const lagDeadline = 30 * time.Second

// work is what an import or plan of a chunk resolved before any write.
type work struct {
	snap   *Snapshot
	ledger *phase.Chunk
	// appIDs translates the appIds of the source's own apps that are migrated already.
	appIDs map[string]string
	own    map[string]bool // the source's own appIds (lower case)
}

func prepare(ctx context.Context, env *phase.Env, chunk int) (*work, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return nil, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys(env, snap))
	if err != nil {
		return nil, err
	}
	w := &work{snap: snap, ledger: ledger, own: map[string]bool{}}
	for _, id := range snap.SourceAppIDs {
		w.own[id] = true
	}
	if w.appIDs, err = env.Resolve(ctx, AppIDType, snap.SourceAppIDs); err != nil {
		return nil, err
	}
	ids := make([]string, len(snap.Apps))
	for i, a := range snap.Apps {
		ids[i] = a.ID
	}
	mapped, err := env.Mapped(ctx, Type, ids)
	if err != nil {
		return nil, err
	}
	ledger.SettleMapped(mapped)
	return w, nil
}

// Import implements phase.Phase: one upsert per app, plus one update when Graph demands it (an
// identifierUri or a required resource that names the app's own new appId).
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	w, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	var todo []SourceApp
	retry := 0
	for _, a := range w.snap.Apps {
		if w.ledger.Done(a.ID) {
			continue
		}
		if missing := w.missingResources(a); len(missing) > 0 {
			// Another app of the source this one needs is not migrated yet (another chunk is on it):
			// its appId is unknown until then. Retried on the next delivery.
			w.ledger.Intend(a.ID)
			if w.ledger.Fail(a.ID, phase.Lagging("required resource apps not migrated yet: "+strings.Join(missing, ", "))) {
				retry++
			}
			continue
		}
		w.ledger.Intend(a.ID)
		todo = append(todo, a)
	}
	if err := w.ledger.Flush(ctx); err != nil {
		return wave.Counts{}, err
	}
	results := make([]result, len(todo))
	_ = phase.Parallel(len(todo), 4, func(i int) error {
		results[i] = w.upsert(ctx, env, todo[i])
		return nil
	})
	var maps []state.IDMapping
	for i, r := range results {
		a := todo[i]
		if r.err != nil {
			if w.ledger.Fail(a.ID, r.err) {
				retry++
			}
			continue
		}
		w.ledger.Set(a.ID, wave.ObjCreated, r.id, r.note)
		maps = append(maps,
			state.IDMapping{Type: Type, SourceID: a.ID, TargetID: r.id, Created: true, TargetKey: phase.UniqueName(env, Type, a.ID), Fingerprint: a.DisplayName},
			state.IDMapping{Type: AppIDType, SourceID: strings.ToLower(a.AppID), TargetID: r.appID, Created: true, TargetKey: a.DisplayName})
	}
	if err := env.Map(ctx, maps); err != nil {
		return wave.Counts{}, err
	}
	return w.ledger.Finish(ctx, retry)
}

// missingResources lists the source's own apps a's required resource access names (other than a
// itself) that have no target appId yet.
func (w *work) missingResources(a SourceApp) []string {
	app, err := decode(a)
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range app.GetRequiredResourceAccess() {
		id := strings.ToLower(deref(r.GetResourceAppId()))
		if w.own[id] && id != strings.ToLower(a.AppID) && w.appIDs[id] == "" {
			out = append(out, id)
		}
	}
	return out
}

func decode(a SourceApp) (models.Applicationable, error) {
	p, err := serialization.DeserializeFromJson(a.Body, models.CreateApplicationFromDiscriminatorValue)
	if err != nil {
		return nil, fmt.Errorf("decoding exported application %s: %w", a.ID, err)
	}
	return p.(models.Applicationable), nil
}

type result struct {
	id, appID, note string
	err             error
}

// upsert creates the app by its uniqueName (or finds the one an earlier attempt created), then, when
// the app names its own appId (api://<appId>, or its own API among required resources), sets those
// with the new appId in a second write.
func (w *work) upsert(ctx context.Context, env *phase.Env, a SourceApp) result {
	src, err := decode(a)
	if err != nil {
		return result{err: phase.Permanent{Reason: err.Error()}}
	}
	name := phase.UniqueName(env, Type, a.ID)
	body, plan := w.targetApp(src, a, name, env.Options.DomainMap)
	by := env.Target.ApplicationsWithUniqueName(&name)
	var got models.Applicationable
	if w.ledger.Entry(a.ID).Attempts > 1 {
		got, err = by.Get(ctx, nil)
		if err != nil && !graph.IsNotFound(err) {
			return result{err: fmt.Errorf("looking up application %s: %w", name, err)}
		}
	}
	if got == nil {
		headers := abstractions.NewRequestHeaders()
		headers.Add("Prefer", "create-if-missing")
		got, err = by.Patch(ctx, body, &applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilderPatchRequestConfiguration{Headers: headers})
		if err == nil && got == nil { // 204: it existed (our earlier create whose answer was lost)
			got, err = by.Get(ctx, nil)
		}
		if err != nil {
			if graph.IsConflict(err) {
				return result{err: phase.Permanent{Reason: "collision in the target: " + graph.Describe(err)}}
			}
			return result{err: fmt.Errorf("creating application %q: %w", a.DisplayName, err)}
		}
	}
	r := result{id: deref(got.GetId()), appID: deref(got.GetAppId()), note: plan.note(a)}
	if upd := plan.selfRefs(src, a.AppID, r.appID); upd != nil {
		err := phase.RetryLag(ctx, lagDeadline, func(ctx context.Context) error {
			_, err := env.Target.Applications().ByApplicationId(r.id).Patch(ctx, upd, nil)
			return err
		})
		if err != nil {
			return result{err: fmt.Errorf("setting the new appId on application %q: %w", a.DisplayName, err)}
		}
	}
	return r
}

// Plan implements phase.Phase: the verdict per app (create, or match the copy an earlier run made)
// from the id map and a read by uniqueName; nothing is written to the target.
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	w, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	var planned []state.IDMapping
	for _, a := range w.snap.Apps {
		if e := w.ledger.Entry(a.ID); w.ledger.Done(a.ID) {
			w.ledger.Set(a.ID, wave.ObjWouldMatch, e.TargetID, "already migrated")
			continue
		}
		name := phase.UniqueName(env, Type, a.ID)
		got, err := env.Target.ApplicationsWithUniqueName(&name).Get(ctx, nil)
		switch {
		case err == nil:
			w.ledger.Set(a.ID, wave.ObjWouldMatch, deref(got.GetId()), "t2t created it before (uniqueName "+name+")")
			planned = append(planned, state.IDMapping{Type: AppIDType, SourceID: strings.ToLower(a.AppID), TargetID: deref(got.GetAppId())})
		case phase.IsGone(err):
			src, derr := decode(a)
			if derr != nil {
				w.ledger.Set(a.ID, wave.ObjFailed, "", derr.Error())
				continue
			}
			_, plan := w.targetApp(src, a, name, env.Options.DomainMap)
			w.ledger.Set(a.ID, wave.ObjWouldCreate, "", plan.note(a))
			planned = append(planned, state.IDMapping{Type: AppIDType, SourceID: strings.ToLower(a.AppID), TargetID: phase.PlannedID, Created: true})
		default:
			return wave.Counts{}, fmt.Errorf("looking up application %s: %w", name, err)
		}
	}
	if err := env.Map(ctx, planned); err != nil {
		return wave.Counts{}, err
	}
	return w.ledger.Finish(ctx, 0)
}

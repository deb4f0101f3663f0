package licenses

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// Import implements phase.Phase: each user gets the mapped target SKUs it lacks, in one
// assignLicense call.
func (p Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return p.run(ctx, env, chunk, false)
}

// Plan implements phase.Phase: which SKUs each user would get; nothing is assigned.
func (p Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return p.run(ctx, env, chunk, true)
}

func (p Phase) run(ctx context.Context, env *phase.Env, chunk int, plan bool) (wave.Counts, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys(env, snap))
	if err != nil {
		return wave.Counts{}, err
	}
	ids := make([]string, len(snap.Users))
	for i, u := range snap.Users {
		ids[i] = u.SourceID
	}
	targets, err := env.Resolve(ctx, users.Type, ids)
	if err != nil {
		return wave.Counts{}, err
	}
	skus, err := skuNames(ctx, env.Target)
	if err != nil {
		return wave.Counts{}, err
	}
	byName := map[string]string{}
	for id, name := range skus {
		byName[name] = id
	}
	stamped, err := p.stamped(ctx, env)
	if err != nil {
		return wave.Counts{}, err
	}
	var links []state.IDMapping
	retry := 0
	for _, u := range snap.Users {
		want := mapped(env, u)
		if len(want) == 0 || ledger.Done(u.UPN) && ledger.Entry(u.UPN).Status != wave.ObjPending {
			continue
		}
		if stamped != nil && !stamped[strings.ToLower(u.UPN)] {
			ledger.Set(u.UPN, wave.ObjPending, targets[u.SourceID], "not licensed: its mailbox-move stamps are not in place (see "+strings.Join(p.RunsAfter, ", ")+"); a licence before them provisions an empty mailbox that blocks the move")
			continue
		}
		o := converge(ctx, env, u.SourceID, targets[u.SourceID], want, byName, plan)
		if o.err != nil {
			if ledger.Fail(u.UPN, o.err) {
				retry++
			}
			continue
		}
		ledger.Set(u.UPN, o.status, targets[u.SourceID], o.note)
		if o.link != nil {
			links = append(links, *o.link)
		}
	}
	if err := env.Map(ctx, links); err != nil {
		return wave.Counts{}, err
	}
	return ledger.Finish(ctx, retry)
}

// stamped lists, when the wave moves mailboxes, the users whose mail users carry the mailbox-move
// stamps (settled Created or Matched by the phases licences run after); nil when nothing is to wait for.
func (p Phase) stamped(ctx context.Context, env *phase.Env) (map[string]bool, error) {
	if !slices.Contains(env.Options.Workloads, "Exchange") || len(p.RunsAfter) == 0 {
		return nil, nil
	}
	out := map[string]bool{}
	for _, name := range p.RunsAfter {
		for e, err := range env.Store.Ledger(ctx, env.Wave, env.Version, name) {
			if err != nil {
				return nil, err
			}
			if e.Status == wave.ObjCreated || e.Status == wave.ObjMatched || e.Status == wave.ObjWouldCreate || e.Status == wave.ObjWouldMatch {
				out[strings.ToLower(e.Key)] = true
			}
		}
	}
	return out, nil
}

type outcome struct {
	status, note string
	link         *state.IDMapping
	err          error
}

// converge assigns one user's missing SKUs (in a plan, says which it would).
func converge(ctx context.Context, env *phase.Env, source, target string, want []string, byName map[string]string, plan bool) outcome {
	if target == "" {
		return outcome{status: wave.ObjSkipped, note: "the user was not migrated (see the users phase); no licence was assigned"}
	}
	var ids, absent []string
	for _, name := range want {
		if id, ok := byName[name]; ok {
			ids = append(ids, id)
		} else {
			absent = append(absent, name)
		}
	}
	if len(absent) > 0 {
		return outcome{err: phase.Permanent{Reason: "the target tenant has no subscription " + strings.Join(absent, ", ") + " (see the licence map)"}}
	}
	if target == phase.PlannedID {
		return outcome{status: wave.ObjWouldCreate, note: "would assign " + strings.Join(want, ", ")}
	}
	have, location, err := current(ctx, env.Target, target)
	if err != nil {
		return outcome{err: err}
	}
	var add []string
	for _, id := range ids {
		if !slices.Contains(have, id) {
			add = append(add, id)
		}
	}
	switch {
	case len(add) == 0 && plan:
		return outcome{status: wave.ObjWouldMatch, note: "already holds " + strings.Join(want, ", ")}
	case len(add) == 0:
		return outcome{status: wave.ObjMatched, note: "already holds " + strings.Join(want, ", ")}
	case location == "":
		return outcome{err: phase.Permanent{Reason: "the target user has no usageLocation, which a licence needs: set it, then run the wave again"}}
	case plan:
		return outcome{status: wave.ObjWouldCreate, note: "would assign " + names(add, byName)}
	}
	if err := assign(ctx, env.Target, target, add, nil); err != nil {
		return outcome{err: err}
	}
	return outcome{status: wave.ObjCreated, note: "assigned " + names(add, byName),
		link: &state.IDMapping{Type: Type, SourceID: source, TargetID: target, Created: true, Fingerprint: strings.Join(add, ",")}}
}

func names(ids []string, byName map[string]string) string {
	var out []string
	for name, id := range byName {
		if slices.Contains(ids, id) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// current reads a target user's SKU ids and usage location.
func current(ctx context.Context, c *graph.Client, id string) ([]string, string, error) {
	u, err := c.Users().ByUserId(id).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "assignedLicenses", "usageLocation"}}})
	if err != nil {
		return nil, "", fmt.Errorf("reading the licences of target user %s: %w", id, err)
	}
	return skuIDs(u.GetAssignedLicenses()), deref(u.GetUsageLocation()), nil
}

// assign adds and removes SKUs of one user. Graph's 400 for a SKU with no unit left is permanent
// until someone buys more; its message is the reason recorded.
func assign(ctx context.Context, c *graph.Client, user string, add, remove []string) error {
	body := graphusers.NewItemAssignLicensePostRequestBody()
	adds := make([]models.AssignedLicenseable, 0, len(add))
	for _, id := range add {
		sku, err := uuid.Parse(id)
		if err != nil {
			return phase.Permanent{Reason: "SKU id " + id + " is not a GUID"}
		}
		l := models.NewAssignedLicense()
		l.SetSkuId(&sku)
		l.SetDisabledPlans([]uuid.UUID{})
		adds = append(adds, l)
	}
	removes := make([]uuid.UUID, 0, len(remove))
	for _, id := range remove {
		if sku, err := uuid.Parse(id); err == nil {
			removes = append(removes, sku)
		}
	}
	body.SetAddLicenses(adds)
	body.SetRemoveLicenses(removes)
	if _, err := c.Users().ByUserId(user).AssignLicense().Post(ctx, body, nil); err != nil {
		return fmt.Errorf("assigning licences to %s: %w", user, err)
	}
	return nil
}

// Rollback implements phase.Phase: it removes the SKUs t2t assigned that the user still holds.
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	have, _, err := current(ctx, env.Target, m.TargetID)
	if phase.IsGone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var remove []string
	for _, id := range strings.Split(m.Fingerprint, ",") {
		if slices.Contains(have, id) {
			remove = append(remove, id)
		}
	}
	if len(remove) == 0 {
		return nil
	}
	return assign(ctx, env.Target, m.TargetID, nil, remove)
}

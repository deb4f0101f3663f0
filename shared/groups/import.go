package groups

import (
	"context"
	"fmt"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/groupswithuniquename"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// writeWidth is how many group creates of one chunk are in flight.
const writeWidth = 4

// chunkWork is what prepare resolved for a chunk before any write.
type chunkWork struct {
	snap   *Snapshot
	ledger *phase.Chunk
	owners map[string]string // source user id -> target id
	ids    map[string]string // source id -> target id, for the ids dynamic rules name
	todo   []int             // indexes of the groups to create
}

// Import implements phase.Phase: each group is settled from the id map, skipped (Graph cannot create
// it), pending (its rule names objects not migrated yet) or upserted by its uniqueName with its
// owners bound in the create. One write per group; none on a rerun.
func (p Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	w, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	for _, g := range w.snap.Groups {
		if w.ledger.Done(g.ID) {
			continue
		}
		if !settle(w, env, g) {
			w.ledger.Intend(g.ID)
			w.todo = append(w.todo, indexOf(w.snap, g.ID))
		}
	}
	// Intent first: a retry after a crash knows a create may have happened.
	if err := w.ledger.Flush(ctx); err != nil {
		return wave.Counts{}, err
	}
	results := make([]createResult, len(w.todo))
	_ = phase.Parallel(len(w.todo), writeWidth, func(i int) error {
		g := w.snap.Groups[w.todo[i]]
		results[i] = upsert(ctx, env, g, w.ledger.Entry(g.ID), w.owners, w.ids)
		return nil
	})
	var maps []state.IDMapping
	retry := 0
	for i, r := range results {
		g := w.snap.Groups[w.todo[i]]
		if r.err != nil {
			if w.ledger.Fail(g.ID, r.err) {
				retry++
			}
			continue
		}
		w.ledger.Set(g.ID, wave.ObjCreated, r.id, r.note)
		maps = append(maps, state.IDMapping{Type: Type, SourceID: g.ID, TargetID: r.id, Created: true,
			TargetKey: phase.UniqueName(env, Type, g.ID), Fingerprint: g.DisplayName})
	}
	// The id map first: once it holds a group, a rerun never writes it again.
	if err := env.Map(ctx, maps); err != nil {
		return wave.Counts{}, err
	}
	return w.ledger.Finish(ctx, retry)
}

// prepare reads the chunk's snapshot, ledger and id mappings, and resolves owners and rule ids.
func prepare(ctx context.Context, env *phase.Env, chunk int) (*chunkWork, error) {
	var snap Snapshot
	if err := env.GetSnapshot(ctx, Type, chunk, &snap); err != nil {
		return nil, err
	}
	keys := make([]phase.Key, len(snap.Groups))
	var owners, ruleIDs []string
	for i, g := range snap.Groups {
		keys[i] = phase.Key{Key: g.ID, Name: g.DisplayName, SourceID: g.ID, TargetKey: phase.UniqueName(env, Type, g.ID)}
		for _, o := range g.Owners {
			if o.Type == "user" {
				owners = append(owners, o.ID)
			}
		}
		ruleIDs = append(ruleIDs, RuleIDs(g.MembershipRule)...)
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys)
	if err != nil {
		return nil, err
	}
	w := &chunkWork{snap: &snap, ledger: ledger, ids: map[string]string{}}
	if w.owners, err = env.Resolve(ctx, users.Type, owners); err != nil {
		return nil, err
	}
	for _, typ := range []string{users.Type, Type} {
		got, err := env.Resolve(ctx, typ, ruleIDs)
		if err != nil {
			return nil, err
		}
		for k, v := range got {
			w.ids[k] = v
		}
	}
	ids := make([]string, len(snap.Groups))
	for i, g := range snap.Groups {
		ids[i] = g.ID
	}
	mapped, err := env.Mapped(ctx, Type, ids)
	if err != nil {
		return nil, err
	}
	ledger.SettleMapped(mapped)
	return w, nil
}

// settle decides the groups that need no write: already done, not creatable, or waiting for
// objects their rule names. It reports whether the group is settled.
func settle(w *chunkWork, env *phase.Env, g SourceGroup) bool {
	if w.ledger.Done(g.ID) {
		return true
	}
	if !g.Creatable() {
		w.ledger.Set(g.ID, wave.ObjSkipped, "", manualReason(g))
		return true
	}
	if _, missing := RewriteRule(g.MembershipRule, env.Options.DomainMap, w.ids); len(missing) > 0 {
		w.ledger.Set(g.ID, wave.ObjPending, "", fmt.Sprintf("the membership rule names %d objects not migrated yet (%s); a later wave creates the group once they are",
			len(missing), strings.Join(missing, ", ")))
		return true
	}
	return false
}

func indexOf(s *Snapshot, id string) int {
	for i, g := range s.Groups {
		if g.ID == id {
			return i
		}
	}
	return -1
}

// manualReason is the manual step of a group Graph cannot create, with its members.
func manualReason(g SourceGroup) string {
	names := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		n := m.Name
		if n == "" {
			n = m.ID
		}
		names = append(names, n)
	}
	return fmt.Sprintf("a %s cannot be created through Microsoft Graph: create %q (alias %s) in Exchange Online with its %d members: %s",
		g.Kind(), g.DisplayName, g.MailNickname, len(names), strings.Join(names, "; "))
}

type createResult struct {
	id   string
	note string
	err  error
}

// upsert creates the group by its uniqueName (PATCH /groups(uniqueName='…') with Prefer:
// create-if-missing) with its owners bound, or, when an earlier attempt may have created it, finds
// it by that name first (the uniqueName is ours, so a group holding it is ours).
func upsert(ctx context.Context, env *phase.Env, g SourceGroup, e *state.LedgerEntry, owners, ids map[string]string) createResult {
	name := phase.UniqueName(env, Type, g.ID)
	by := env.Target.GroupsWithUniqueName(&name)
	if e.Attempts > 1 {
		got, err := by.Get(ctx, &groupswithuniquename.GroupsWithUniqueNameRequestBuilderGetRequestConfiguration{
			QueryParameters: &groupswithuniquename.GroupsWithUniqueNameRequestBuilderGetQueryParameters{Select: []string{"id"}}})
		if err == nil {
			return createResult{id: deref(got.GetId())}
		}
		if !graph.IsNotFound(err) {
			return createResult{err: fmt.Errorf("looking up group %s: %w", name, err)}
		}
	}
	body, note := newTargetGroup(g, name, owners, ids, env.Options.DomainMap)
	headers := abstractions.NewRequestHeaders()
	headers.Add("Prefer", "create-if-missing")
	got, err := by.Patch(ctx, body, &groupswithuniquename.GroupsWithUniqueNameRequestBuilderPatchRequestConfiguration{Headers: headers})
	if graph.IsAlreadyThere(err) {
		// The group exists with these owners: a concurrent or lost create of ours. Read it below.
		got, err = nil, nil
	}
	switch {
	case err != nil && graph.IsConflict(err):
		return createResult{err: phase.Permanent{Reason: fmt.Sprintf("collision in the target: %s (mail nickname %q); rename it in the source or the target and run `t2t retry`",
			graph.Describe(err), g.MailNickname)}}
	case err != nil:
		return createResult{err: fmt.Errorf("creating group %q: %w", g.DisplayName, err)}
	case got != nil && got.GetId() != nil:
		return createResult{id: *got.GetId(), note: note}
	}
	// 204: the group existed (our own earlier create whose answer was lost) and was updated.
	got, err = by.Get(ctx, nil)
	if err != nil {
		return createResult{err: fmt.Errorf("reading group %s after the upsert: %w", name, err)}
	}
	return createResult{id: deref(got.GetId()), note: note}
}

// newTargetGroup is the create body: the source's properties, the rewritten rule, and the owners
// that are migrated (bound in the create, so they cost no write of their own).
func newTargetGroup(g SourceGroup, uniqueName string, owners, ids map[string]string, domains map[string]string) (models.Groupable, string) {
	t := models.NewGroup()
	display, nick := g.DisplayName, g.MailNickname
	t.SetDisplayName(&display)
	t.SetMailNickname(&nick)
	t.SetUniqueName(&uniqueName)
	mail, sec := g.MailEnabled, g.SecurityEnabled
	t.SetMailEnabled(&mail)
	t.SetSecurityEnabled(&sec)
	if g.Description != "" {
		d := g.Description
		t.SetDescription(&d)
	}
	if len(g.GroupTypes) > 0 {
		t.SetGroupTypes(g.GroupTypes)
	}
	if g.Visibility != "" {
		v := g.Visibility
		t.SetVisibility(&v)
	}
	if g.IsAssignableToRole {
		yes := true
		t.SetIsAssignableToRole(&yes)
	}
	if g.Dynamic() {
		rule, _ := RewriteRule(g.MembershipRule, domains, ids)
		state := "On"
		if g.MembershipRuleProcessingState != "" {
			state = g.MembershipRuleProcessingState
		}
		t.SetMembershipRule(&rule)
		t.SetMembershipRuleProcessingState(&state)
	}
	var binds []string
	var unmapped []string
	for _, o := range g.Owners {
		if id, ok := owners[o.ID]; ok && o.Type == "user" && id != phase.PlannedID && len(binds) < 20 {
			binds = append(binds, graph.DirectoryObjectURL(id))
		} else {
			unmapped = append(unmapped, firstNonEmpty(o.Name, o.ID))
		}
	}
	if len(binds) > 0 {
		t.SetAdditionalData(map[string]any{"owners@odata.bind": binds})
	}
	note := ""
	if len(unmapped) > 0 {
		note = fmt.Sprintf("owners not migrated (add them by hand once they are): %s", strings.Join(unmapped, "; "))
	}
	return t, note
}

func firstNonEmpty(a, b string) string { return phase.FirstNonEmpty(a, b) }

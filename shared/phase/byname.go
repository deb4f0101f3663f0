package phase

import (
	"context"
	"fmt"
	"strings"
	"time"

	"t2t/shared/graph"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Objects without an alternate key (named locations, custom role definitions, conditional access
// policies: Graph gives them no uniqueName) are found in the target by display name. A create is
// preceded by an intent in the ledger; when a later delivery finds an object of that name created
// after the intent, it is the earlier attempt's (its answer was lost) and counts as ours, not as a
// second object to create (DESIGN section 6).

// Found is a target object as name matching sees it.
type Found struct {
	ID   string
	Name string
	// Created is when the directory created it; zero for types without a creation time (role
	// definitions), which are then recognised as ours by Fingerprint.
	Created time.Time
	// Fingerprint is Fingerprint of the object as Graph renders it (see fingerprint.go).
	Fingerprint string
}

// Named is one object of a chunk to converge by display name.
type Named struct {
	// Key is its ledger key: Key.Key and Key.SourceID the source id, Key.Name the display name.
	Key Key
	// Fingerprint is what the object will look like once created: an object of this name without a
	// creation time counts as ours after an intent only when its fingerprint is this one.
	Fingerprint string
	// Blocked, when set, keeps an object that does not exist in the target Pending with this reason
	// (references that do not resolve yet); a later run creates it.
	Blocked string
	// Create creates the object in the target and returns it as Graph answered. It is called only
	// after the object's intent is in the ledger, never in a dry run.
	Create func(ctx context.Context) (Found, error)
}

// intentSkew is how much earlier than our recorded intent the directory may date our own create.
const intentSkew = 5 * time.Second

// ByName converges one chunk of objects of type typ (the phase name and the id map type) by display
// name, and returns the chunk's tallies:
//   - an object the id map knows is settled (Created when this wave created it, Matched otherwise);
//   - an object whose name exists in the target is Matched to it (never modified), unless this
//     object's intent came first and the target object after it: then it is ours, Created;
//   - a Blocked object is Pending with its reason;
//   - anything else is created, after its intent is recorded.
//
// list reads the target's objects of the type, once per chunk and only when some object is not
// mapped yet. In a dry run the verdicts are WouldCreate, WouldMatch or Pending, the target is only
// read, and the objects go into the dry run's own id map so that later phases plan against them.
func ByName(ctx context.Context, env *Env, typ string, chunk int, objs []Named, list func(context.Context) ([]Found, error)) (wave.Counts, error) {
	keys := make([]Key, len(objs))
	ids := make([]string, len(objs))
	for i, o := range objs {
		keys[i], ids[i] = o.Key, o.Key.SourceID
	}
	c, err := OpenChunk(ctx, env, typ, chunk, keys)
	if err != nil {
		return wave.Counts{}, err
	}
	mapped, err := env.Mapped(ctx, typ, ids)
	if err != nil {
		return wave.Counts{}, err
	}
	existing, err := byLowerName(ctx, objs, mapped, list)
	if err != nil {
		return wave.Counts{}, fmt.Errorf("listing the target's %s: %w", typ, err)
	}
	r := &byName{env: env, typ: typ, c: c}
	var todo []Named
	for _, o := range objs {
		if m, ok := mapped[o.Key.SourceID]; ok {
			r.settleMapped(o, m)
			continue
		}
		if r.decide(o, existing[lowerName(o.Key.Name)]) {
			todo = append(todo, o)
		}
	}
	retry, err := r.createAll(ctx, todo)
	if err != nil {
		return wave.Counts{}, err
	}
	// The id map first: once it holds an object, a rerun never creates that object again.
	if err := env.Map(ctx, r.maps); err != nil {
		return wave.Counts{}, err
	}
	return c.Finish(ctx, retry)
}

// byName is one ByName run: the chunk's ledger and the id mappings it makes.
type byName struct {
	env  *Env
	typ  string
	c    *Chunk
	maps []state.IDMapping
}

func lowerName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// byLowerName lists the target's objects by lower-case display name, unless every object is mapped.
func byLowerName(ctx context.Context, objs []Named, mapped map[string]state.IDMapping, list func(context.Context) ([]Found, error)) (map[string][]Found, error) {
	need := false
	for _, o := range objs {
		_, ok := mapped[o.Key.SourceID]
		need = need || !ok
	}
	out := map[string][]Found{}
	if !need {
		return out, nil
	}
	found, err := list(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range found {
		out[lowerName(f.Name)] = append(out[lowerName(f.Name)], f)
	}
	return out, nil
}

// settleMapped settles an object the id map already knows: created by this wave (a redelivered
// step) or by an earlier one (then it counts as matched here).
func (r *byName) settleMapped(o Named, m state.IDMapping) {
	switch {
	case r.env.DryRun:
		r.c.Set(o.Key.Key, wave.ObjWouldMatch, m.TargetID, "already migrated (wave "+m.Wave+")")
	case m.Created && m.Wave == r.env.Wave:
		r.c.Set(o.Key.Key, wave.ObjCreated, m.TargetID, "")
	default:
		r.c.Set(o.Key.Key, wave.ObjMatched, m.TargetID, "already migrated (wave "+m.Wave+")")
	}
}

// decide settles an object that is not mapped, or reports that it must be created.
func (r *byName) decide(o Named, candidates []Found) (create bool) {
	k := o.Key.Key
	if len(candidates) > 0 {
		f, ours := candidates[0], false
		if e := r.c.Entry(k); !r.env.DryRun && e.Status == wave.ObjCreating && !e.IntentUtc.IsZero() {
			for _, cand := range candidates {
				if isOurs(cand, o, e.IntentUtc) {
					f, ours = cand, true
					break
				}
			}
		}
		switch {
		case r.env.DryRun:
			r.c.Set(k, wave.ObjWouldMatch, f.ID, "an object with this display name exists in the target")
		case ours:
			r.c.Set(k, wave.ObjCreated, f.ID, "")
		default:
			r.c.Set(k, wave.ObjMatched, f.ID, "an object with this display name exists in the target; left as it is")
		}
		r.mapTo(o, f, ours)
		return false
	}
	switch {
	case o.Blocked != "":
		r.c.Set(k, wave.ObjPending, "", o.Blocked)
	case r.env.DryRun:
		r.c.Set(k, wave.ObjWouldCreate, "", "")
		r.mapTo(o, Found{ID: PlannedID, Name: o.Key.Name}, true)
	default:
		return true
	}
	return false
}

// isOurs reports whether a target object of the right name is the one an earlier attempt created
// after recording its intent at intent: created no earlier than the intent (less clock skew), or,
// for types without a creation time, exactly what t2t would create.
func isOurs(f Found, o Named, intent time.Time) bool {
	if !f.Created.IsZero() {
		return !f.Created.Before(intent.Add(-intentSkew))
	}
	return o.Fingerprint != "" && f.Fingerprint == o.Fingerprint
}

func (r *byName) mapTo(o Named, f Found, created bool) {
	r.maps = append(r.maps, state.IDMapping{Type: r.typ, SourceID: o.Key.SourceID, TargetID: f.ID, Created: created,
		TargetKey: TargetKey(f.Name, f.Fingerprint)})
}

// createAll records the intents of todo in one transaction, then creates the objects one by one
// (the transport paces them) and returns how many should be tried again on a later delivery.
func (r *byName) createAll(ctx context.Context, todo []Named) (retry int, err error) {
	if len(todo) == 0 {
		return 0, nil
	}
	for _, o := range todo {
		r.c.Intend(o.Key.Key)
	}
	if err := r.c.Flush(ctx); err != nil {
		return 0, err
	}
	for _, o := range todo {
		f, err := o.Create(ctx)
		if err == nil {
			r.c.Set(o.Key.Key, wave.ObjCreated, f.ID, "")
			r.mapTo(o, f, true)
			continue
		}
		if graph.IsConflict(err) {
			// The name is taken although the list did not show it: an object still replicating
			// (perhaps our own). The next delivery lists again and matches it.
			err = Lagging(fmt.Sprintf("creating %s %q: %s", r.typ, o.Key.Name, Describe(err)))
		}
		if r.c.Fail(o.Key.Key, err) {
			retry++
		}
	}
	return retry, nil
}

// TargetKey is the id map's TargetKey of a name-matched object: its display name and, after a "#",
// the fingerprint rollback compares (SplitTargetKey reads it back).
func TargetKey(name, fingerprint string) string {
	if fingerprint == "" {
		return name
	}
	return name + "#" + fingerprint
}

// SplitTargetKey splits a TargetKey into display name and fingerprint ("" when it has none).
func SplitTargetKey(key string) (name, fingerprint string) {
	i := strings.LastIndexByte(key, '#')
	if i < 0 || len(key)-i-1 != fingerprintLen {
		return key, ""
	}
	return key[:i], key[i+1:]
}

// RollbackCreated deletes a name-matched object t2t created (m.Created), unless it changed since:
// its display name or fingerprint differ from the ones recorded when it was created (ErrChanged).
// read returns the object as it is now; an object already gone (404) counts as deleted.
func RollbackCreated(ctx context.Context, m state.IDMapping, read func(context.Context) (Found, error), del func(context.Context) error) error {
	name, fp := SplitTargetKey(m.TargetKey)
	f, err := read(ctx)
	if IsGone(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s %q: %w", m.Type, name, err)
	}
	if f.Name != name || fp != "" && f.Fingerprint != fp {
		return fmt.Errorf("%s %q (now %q) was modified in the target: %w", m.Type, name, f.Name, ErrChanged)
	}
	if err := del(ctx); err != nil && !IsGone(err) {
		return fmt.Errorf("deleting %s %q: %w", m.Type, name, err)
	}
	return nil
}

package tenantconfig

import (
	"context"
	"fmt"
	"slices"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// work is what prepare read and decided for the chunk before any write.
type work struct {
	target *Settings
	source string // the source tenant id, when the wave asks for a partner configuration
	ledger *phase.Chunk
}

// prepare reads the snapshot and the target's settings, opens the ledger and settles every compared
// setting, domain and partner configuration (a dry run records Matched as WouldMatch).
func prepare(ctx context.Context, env *phase.Env, chunk int) (*work, error) {
	snap, err := phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
	if err != nil {
		return nil, err
	}
	tgt, err := Read(ctx, env.Target)
	if err != nil {
		return nil, fmt.Errorf("target tenant: %w", err)
	}
	verdicts := Compare(&snap.Source, tgt, env.Options.DomainMap)
	keys := make([]phase.Key, 0, len(verdicts)+1)
	for _, v := range verdicts {
		keys = append(keys, phase.Key{Key: v.Key, Name: v.Name})
	}
	w := &work{target: tgt}
	if env.Options.Partner {
		if w.source, err = sourceTenant(ctx, env, snap); err != nil {
			return nil, err
		}
		keys = append(keys, partnerKey(w.source))
	}
	if w.ledger, err = phase.OpenChunk(ctx, env, Type, chunk, keys); err != nil {
		return nil, err
	}
	for _, v := range verdicts {
		if w.ledger.Done(v.Key) {
			continue
		}
		status := v.Status
		if env.DryRun && status == wave.ObjMatched {
			status = wave.ObjWouldMatch
		}
		w.ledger.Set(v.Key, status, "", v.Reason)
	}
	return w, nil
}

// Import implements phase.Phase: the comparison is recorded (nothing tenant-wide is changed), and,
// when the wave asks for it, the source's partner configuration is ensured in the target: at most
// one write, none on a rerun.
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	w, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	retry := 0
	if env.Options.Partner && !w.ledger.Done(partnerPrefix+w.source) {
		if retry, err = ensurePartner(ctx, env, w); err != nil {
			return wave.Counts{}, err
		}
	}
	return w.ledger.Finish(ctx, retry)
}

// Plan implements phase.Phase: the same verdicts, and whether the partner configuration would be
// created or is there already; nothing is written to the target.
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	w, err := prepare(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	if env.Options.Partner {
		key := partnerPrefix + w.source
		if w.hasPartner() {
			w.ledger.Set(key, wave.ObjWouldMatch, w.source, "a partner configuration for the source tenant exists: t2t leaves it as it is")
		} else {
			w.ledger.Set(key, wave.ObjWouldCreate, "", "t2t would create a partner configuration for the source tenant "+w.source+
				" (every setting inherited from the default)")
		}
	}
	return w.ledger.Finish(ctx, 0)
}

// hasPartner reports whether the target has a partner configuration for the source tenant.
func (w *work) hasPartner() bool {
	return slices.ContainsFunc(w.target.Partners, func(p Partner) bool { return p.TenantID == w.source })
}

// ensurePartner converges the source's partner configuration in the target and returns how many
// objects should be retried later. An existing configuration is t2t's when the id map says so, or
// when an earlier delivery recorded its intent to create it (its answer was lost); otherwise it is
// someone else's, matched and never modified.
func ensurePartner(ctx context.Context, env *phase.Env, w *work) (int, error) {
	key := partnerPrefix + w.source
	prior := w.ledger.Entry(key).Status == wave.ObjCreating
	mapped, err := env.Mapped(ctx, Type, []string{w.source})
	if err != nil {
		return 0, err
	}
	m, known := mapped[w.source]
	ours := known && m.Created
	switch {
	case w.hasPartner() && ours && m.Wave == env.Wave:
		w.ledger.Set(key, wave.ObjCreated, w.source, "")
		return 0, nil
	case w.hasPartner() && ours:
		w.ledger.Set(key, wave.ObjMatched, w.source, "created by t2t in wave "+m.Wave)
		return 0, nil
	case w.hasPartner() && prior:
		return 0, created(ctx, env, w, "created by an earlier attempt of this step, whose answer was lost")
	case w.hasPartner():
		return 0, matched(ctx, env, w, known)
	}
	// Intent first: a retry after a crash knows a create may have happened.
	w.ledger.Intend(key)
	if err := w.ledger.Flush(ctx); err != nil {
		return 0, err
	}
	body := models.NewCrossTenantAccessPolicyConfigurationPartner()
	body.SetTenantId(&w.source)
	_, err = env.Target.Policies().CrossTenantAccessPolicy().Partners().Post(ctx, body, nil)
	switch {
	case err == nil:
		return 0, created(ctx, env, w, "")
	case graph.IsConflict(err) && (prior || ours):
		// The read above did not see it yet (replication lag), the write did: ours, from an earlier attempt.
		return 0, created(ctx, env, w, "created by an earlier attempt of this step, whose answer was lost")
	case graph.IsConflict(err):
		return 0, matched(ctx, env, w, known)
	case graph.IsForbidden(err):
		err = phase.Permanent{Reason: "creating the partner configuration needs Policy.ReadWrite.CrossTenantAccess in the target: " + graph.Describe(err)}
	default:
		err = fmt.Errorf("creating the partner configuration for the source tenant %s: %w", w.source, err)
	}
	if w.ledger.Fail(key, err) {
		return 1, nil
	}
	return 0, nil
}

// created records the partner configuration as t2t's: in the id map (so that rollback may delete it)
// before the ledger.
func created(ctx context.Context, env *phase.Env, w *work, reason string) error {
	if err := env.Map(ctx, []state.IDMapping{{Type: Type, SourceID: w.source, TargetID: w.source, Created: true,
		TargetKey: partnerPath(w.source), Fingerprint: createdFingerprint}}); err != nil {
		return err
	}
	w.ledger.Set(partnerPrefix+w.source, wave.ObjCreated, w.source, reason)
	return nil
}

// matched records a partner configuration someone else made: the id map holds it as not created by
// t2t (rollback leaves it), unless it holds it already.
func matched(ctx context.Context, env *phase.Env, w *work, known bool) error {
	if !known {
		if err := env.Map(ctx, []state.IDMapping{{Type: Type, SourceID: w.source, TargetID: w.source,
			TargetKey: partnerPath(w.source)}}); err != nil {
			return err
		}
	}
	w.ledger.Set(partnerPrefix+w.source, wave.ObjMatched, w.source,
		"a partner configuration for the source tenant exists already: t2t leaves it as it is")
	return nil
}

// Package tenantconfig is the tenantConfig phase: it exports the source tenant's organization
// (display name, verified domains, country, preferred language), authorization policy and cross-tenant
// access settings, and compares them with the target's. t2t never changes a tenant default: every
// setting that differs is recorded as Skipped with both values, a manual step for the administrator,
// and so is every source verified domain the target has not verified (domains move at cutover).
//
// The one write it may make is asked for by the wave (wave.Options.Partner): a cross-tenant access
// partner configuration for the source tenant in the target, which B2B reach-back and conversion need
// later. It is created only when missing, recorded in the id map as t2t's, and a configuration that
// already existed is matched and never modified. Rollback deletes it only if t2t created it and it
// was not changed since.
package tenantconfig

import (
	"context"
	"fmt"
	"strings"

	"t2t/shared/phase"
	"t2t/shared/state"
)

// Type is the phase name and the id map type (source tenant id → the partner configuration t2t
// ensured for it in the target, keyed by the same tenant id).
const Type = "tenantConfig"

// Phase is the tenantConfig phase: tenant-scoped, one export part, one import chunk.
type Phase struct{}

var (
	_ phase.Phase       = Phase{}
	_ phase.ChunkKeyed  = Phase{}
	_ phase.ManualSteps = Phase{}
)

// Snapshot is the phase's only export chunk: the source's settings.
type Snapshot struct {
	Source Settings `json:"source"`
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: tenant settings depend on nothing t2t migrates.
func (Phase) After() []string { return nil }

// Parts implements phase.Phase: one export part for the whole tenant.
func (Phase) Parts(context.Context, *phase.Env) (int, error) { return 1, nil }

// Export implements phase.Phase: the source's settings into chunk 0 (reads only).
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	s, err := Read(ctx, env.Source)
	if err != nil {
		return nil, fmt.Errorf("source tenant: %w", err)
	}
	if err := env.PutSnapshot(ctx, Type, 0, Snapshot{Source: *s}); err != nil {
		return nil, err
	}
	env.Logf("wave %s tenantConfig: exported %d settings, %d verified domains, %d partner configurations of the source",
		env.Wave, len(s.Values), len(s.VerifiedDomains), len(s.Partners))
	return []int{0}, nil
}

// ChunkKeys implements phase.ChunkKeyed: every setting, domain and partner configuration the snapshot
// names, and the source's partner configuration when the wave asks for it.
func (Phase) ChunkKeys(ctx context.Context, env *phase.Env, chunk int) ([]phase.Key, error) {
	snap, err := phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
	if err != nil {
		return nil, err
	}
	var keys []phase.Key
	for _, name := range sortedKeys(snap.Source.Values) {
		keys = append(keys, phase.Key{Key: settingPrefix + name, Name: name})
	}
	for _, d := range snap.Source.VerifiedDomains {
		if !d.IsInitial {
			keys = append(keys, phase.Key{Key: domainPrefix + d.Name, Name: d.Name})
		}
	}
	for _, p := range snap.Source.Partners {
		keys = append(keys, phase.Key{Key: partnerPrefix + p.TenantID, Name: "cross-tenant access partner " + p.TenantID})
	}
	if env.Options.Partner {
		src, err := sourceTenant(ctx, env, snap)
		if err != nil {
			return nil, err
		}
		keys = append(keys, partnerKey(src))
	}
	return keys, nil
}

// sourceTenant is the source tenant's id: the wave manifest's, else the one the export read.
func sourceTenant(ctx context.Context, env *phase.Env, snap *Snapshot) (string, error) {
	if env.Manifest != nil {
		m, err := env.Manifest(ctx)
		if err != nil {
			return "", err
		}
		if m.SourceTenantID != "" {
			return strings.ToLower(m.SourceTenantID), nil
		}
	}
	if snap.Source.TenantID == "" {
		return "", phase.Terminal(fmt.Errorf("the source tenant id is unknown"))
	}
	return snap.Source.TenantID, nil
}

// partnerKey is the ledger key of the partner configuration t2t ensures for the source tenant.
func partnerKey(source string) phase.Key {
	return phase.Key{Key: partnerPrefix + source, Name: "cross-tenant access partner for the source tenant",
		SourceID: source, TargetKey: partnerPath(source)}
}

func partnerPath(tenantID string) string {
	return "policies/crossTenantAccessPolicy/partners/" + tenantID
}

// Rollback implements phase.Phase: the partner configuration t2t created is deleted, unless its
// settings changed since (someone configured it for coexistence: it is kept and reported).
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	item := env.Target.Policies().CrossTenantAccessPolicy().Partners().ByCrossTenantAccessPolicyConfigurationPartnerTenantId(m.TargetID)
	return phase.DeleteUnlessChanged(ctx, m, "cross-tenant access partner configuration", func(ctx context.Context) (string, error) {
		p, err := item.Get(ctx, nil)
		if err != nil {
			return "", err
		}
		v := map[string]string{"isServiceProvider": boolText(p.GetIsServiceProvider(), notSet)}
		accessValues("", p, inherits, true, v)
		return fingerprint(v), nil
	}, func(ctx context.Context) error { return item.Delete(ctx, nil) })
}

// fingerprint describes a partner configuration's settings for the id map: rollback compares it with
// the configuration's current one.
func fingerprint(values map[string]string) string {
	return "settings: " + configured(values)
}

// createdFingerprint is the fingerprint of the configuration t2t creates: the tenant id only, every
// setting inherited from the default.
var createdFingerprint = fingerprint(nil)

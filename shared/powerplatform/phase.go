// Package powerplatform moves the Power Platform environments a wave names (wave option t2tppenvs,
// `t2t start --power-platform-env`) to the target tenant, as the documented tenant-to-tenant
// procedure does with PowerShell: submit the request in the source, approve it in the target,
// upload usermapping.csv (the wave's migrated users, Source,Destination) to the request's resource
// storage, prepare, migrate at the wave's cutover, and poll until it completes. A request expires 7
// days after it was submitted; an expired one is submitted again. The admin API behind the cmdlets
// is not documented, so the phase runs only when the T2T_POWER_PLATFORM app setting says enabled.
package powerplatform

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"t2t/shared/csvout"
	"t2t/shared/mapping"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// Type is the phase name.
const Type = "powerPlatform"

// App settings the phase reads.
const (
	// SettingEnabled must be "enabled" for the phase to call the admin API.
	SettingEnabled = "T2T_POWER_PLATFORM"
	// SettingURL is the admin API's base URL (https://api.bap.microsoft.com).
	SettingURL = "T2T_POWER_PLATFORM_URL"
)

// Phase is the Power Platform environment move phase.
type Phase struct{}

var (
	_ phase.Phase       = Phase{}
	_ phase.ChunkKeyed  = Phase{}
	_ phase.ManualSteps = Phase{}
	_ phase.BothTenants = Phase{}
)

// ImportsInBothTenants implements phase.BothTenants: requests are submitted in the source and
// approved in the target.
func (Phase) ImportsInBothTenants() {}

// Snapshot is the phase's one chunk: the environments the wave moves.
type Snapshot struct {
	Environments []string `json:"environments"`
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: the mapping file lists the wave's migrated users.
func (Phase) After() []string { return []string{users.Type} }

// Parts implements phase.Phase: one part when the wave names environments.
func (Phase) Parts(_ context.Context, env *phase.Env) (int, error) {
	if len(env.Options.PowerPlatformEnvironments) == 0 {
		return 0, nil
	}
	return 1, nil
}

// Export implements phase.Phase: the environments, from the wave's options.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	if err := env.PutSnapshot(ctx, Type, 0, Snapshot{Environments: env.Options.PowerPlatformEnvironments}); err != nil {
		return nil, err
	}
	return []int{0}, nil
}

// ChunkKeys implements phase.ChunkKeyed.
func (Phase) ChunkKeys(ctx context.Context, env *phase.Env, chunk int) ([]phase.Key, error) {
	snap, err := phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
	if err != nil {
		return nil, err
	}
	return keys(snap), nil
}

func keys(snap *Snapshot) []phase.Key {
	out := make([]phase.Key, len(snap.Environments))
	for i, e := range snap.Environments {
		out[i] = phase.Key{Key: e, Name: "environment " + e, SourceID: e}
	}
	return out
}

// enabled says why the phase may not call the admin API, or "".
func enabled(env *phase.Env) string {
	if !strings.EqualFold(env.SettingOf(SettingEnabled), "enabled") {
		return "the app setting " + SettingEnabled + " is not 'enabled': the Power Platform admin API this move calls is not documented by Microsoft, so t2t calls it only when an administrator says so"
	}
	if env.SettingOf(SettingURL) == "" {
		return "the app setting " + SettingURL + " is empty"
	}
	return ""
}

// MappingFile is usermapping.csv for the environment move: a Source,Destination header and the
// wave's users t2t created or matched, checked with the same parser as a wave's own mapping file.
func MappingFile(ctx context.Context, env *phase.Env) ([]byte, int, error) {
	var buf bytes.Buffer
	w := csvout.NewWriter(&buf)
	if err := w.Write([]string{"Source", "Destination"}); err != nil {
		return nil, 0, err
	}
	migrated, err := users.Migrated(ctx, env)
	if err != nil {
		return nil, 0, err
	}
	for _, e := range migrated {
		if err := w.Write([]string{e.Key, e.TargetKey}); err != nil {
			return nil, 0, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, 0, err
	}
	rows, bad, err := mapping.Parse(buf.Bytes())
	switch {
	case err != nil:
		return nil, 0, fmt.Errorf("usermapping.csv for the environment move: %w", err)
	case len(bad) > 0:
		return nil, 0, phase.Permanent{Reason: "usermapping.csv for the environment move: " + bad[0].Error()}
	case len(rows) == 0:
		return nil, 0, phase.Permanent{Reason: "the wave migrated no user, so the environment move has no user to map"}
	}
	return buf.Bytes(), len(rows), nil
}

// ManualSteps implements phase.ManualSteps: what the admin API cannot do.
func (Phase) ManualSteps(env *phase.Env, counts wave.Counts) []string {
	if counts == (wave.Counts{}) {
		return nil
	}
	return []string{
		"Power Platform: register the migration app as a Power Platform management application in both tenants (New-PowerAppManagementApp -ApplicationId <app id>), or the admin API refuses it.",
		"Power Platform: export canvas apps, Power Automate flows, custom connectors, connections and gateways before the move and import or reconfigure them after it; the move does not carry them (https://learn.microsoft.com/power-platform/admin/move-environment-tenant).",
		"Power Platform: a moved environment cannot be moved back by rollback; moving it back is a new tenant-to-tenant request from the target.",
	}
}

// Rollback implements phase.Phase: nothing t2t can undo (a move is not reversible through the API);
// ManualSteps says so.
func (Phase) Rollback(context.Context, *phase.Env, state.IDMapping) error { return nil }

// Package exchangeprereqs prepares the wave's users for cross-tenant mailbox moves: it reads each
// source mailbox's ExchangeGuid, ArchiveGuid, LegacyExchangeDN and x500 addresses, stamps them on
// the user's target mail user (enabled with the target primary address when it is not one yet),
// puts the source mailbox in the mail-enabled security group that scopes the organization
// relationship, and refuses, with the reason, a target user that already holds an Exchange licence
// (licensing it early provisions an empty mailbox that blocks the move). It runs when the wave moves
// the Exchange workload and the T2T_EXCHANGE app setting says enabled: the Exchange admin API it
// calls is not documented by Microsoft. The organization relationships and the migration endpoint
// are manual steps, listed with their settings.
package exchangeprereqs

import (
	"context"
	"slices"
	"strings"

	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// Type is the phase name.
const Type = "exchangePrereqs"

// App settings the phase reads.
const (
	SettingEnabled    = "T2T_EXCHANGE"
	SettingURL        = "T2T_EXCHANGE_URL"
	SettingScopeGroup = "T2T_EXCHANGE_SCOPE_GROUP"
)

// Phase is the mailbox-move prerequisites phase.
type Phase struct{}

var (
	_ phase.Phase       = Phase{}
	_ phase.ChunkKeyed  = Phase{}
	_ phase.BothTenants = Phase{}
	_ phase.ManualSteps = Phase{}
)

// ImportsInBothTenants implements phase.BothTenants: the scope group is the source's.
func (Phase) ImportsInBothTenants() {}

// User is one of the wave's users with its source mailbox (nil when it has none).
type User struct {
	SourceUPN string   `json:"sourceUpn"`
	TargetID  string   `json:"targetId"`
	TargetUPN string   `json:"targetUpn"`
	Mailbox   *Mailbox `json:"mailbox,omitempty"`
}

// Snapshot is one chunk of the export.
type Snapshot struct {
	Chunk int    `json:"chunk"`
	Users []User `json:"users"`
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase.
func (Phase) After() []string { return []string{users.Type} }

// Parts implements phase.Phase: one part when the wave moves mailboxes.
func (Phase) Parts(_ context.Context, env *phase.Env) (int, error) {
	if !slices.Contains(env.Options.Workloads, "Exchange") {
		return 0, nil
	}
	return 1, nil
}

// enabled says why the phase may not call the Exchange admin API, or "".
func enabled(env *phase.Env) string {
	if !strings.EqualFold(env.SettingOf(SettingEnabled), "enabled") || env.SettingOf(SettingURL) == "" {
		return "the app setting " + SettingEnabled + " is not 'enabled': the Exchange Online admin API the mailbox-move prerequisites need is not documented by Microsoft, so t2t calls it only when an administrator says so"
	}
	return ""
}

// Export implements phase.Phase: the wave's migrated users (from the users ledger) with their
// source mailboxes, in chunks of wave.ChunkSize.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	migrated, err := users.Migrated(ctx, env)
	if err != nil {
		return nil, err
	}
	list := make([]User, len(migrated))
	for i, e := range migrated {
		list[i] = User{SourceUPN: e.Key, TargetID: e.TargetID, TargetUPN: e.TargetKey}
	}
	if enabled(env) == "" {
		boxes, err := newExo(env.Source, env.SettingOf(SettingURL)).mailboxes(ctx)
		if err != nil {
			return nil, err
		}
		for i, u := range list {
			if m, ok := boxes[strings.ToLower(u.SourceUPN)]; ok {
				list[i].Mailbox = &m
			}
		}
	}
	var chunks []int
	for c := 0; c*wave.ChunkSize < len(list); c++ {
		snap := Snapshot{Chunk: c, Users: list[c*wave.ChunkSize : min((c+1)*wave.ChunkSize, len(list))]}
		if err := env.PutSnapshot(ctx, Type, c, snap); err != nil {
			return nil, err
		}
		chunks = append(chunks, c)
	}
	return chunks, nil
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
	out := make([]phase.Key, len(snap.Users))
	for i, u := range snap.Users {
		out[i] = phase.Key{Key: u.SourceUPN, Name: u.SourceUPN, TargetKey: u.TargetUPN}
	}
	return out
}

// Rollback implements phase.Phase: stamped mail users stay (they are the user's own object; the
// stamps do no harm without a move); nothing is recorded for rollback.
func (Phase) Rollback(context.Context, *phase.Env, state.IDMapping) error { return nil }

// ManualSteps implements phase.ManualSteps: the organization relationships and the migration
// endpoint, with the settings cross-tenant mailbox migration documents
// (https://learn.microsoft.com/microsoft-365/enterprise/cross-tenant-mailbox-migration).
func (Phase) ManualSteps(env *phase.Env, counts wave.Counts) []string {
	if counts == (wave.Counts{}) {
		return nil
	}
	group := env.SettingOf(SettingScopeGroup)
	if group == "" {
		group = "<mail-enabled security group of the mailboxes to move>"
	}
	return []string{
		"Exchange (target): New-MigrationEndpoint -RemoteServer outlook.office.com -RemoteTenant <source>.onmicrosoft.com -Credentials <app id and secret of the mailbox migration app> -ExchangeRemoteMove:$true -Name T2TMigrationEndpoint -ApplicationId <app id>",
		"Exchange (target): New-OrganizationRelationship -Name T2TSource -Enabled:$true -MailboxMoveEnabled:$true -MailboxMoveCapability Inbound -DomainNames <source tenant id>",
		"Exchange (source): New-OrganizationRelationship -Name T2TTarget -Enabled:$true -MailboxMoveEnabled:$true -MailboxMoveCapability RemoteOutbound -DomainNames <target tenant id> -OAuthApplicationId <app id> -MailboxMovePublishedScopes " + group,
		"Exchange: the Exchange admin API t2t used for the MailUser stamps is not documented by Microsoft; check a few stamps (Get-MailUser <upn> | fl ExchangeGuid,ArchiveGuid,EmailAddresses) before the move.",
		"Licences: assign Exchange licences in the target only after the mailbox moved; a licence given earlier provisions an empty mailbox that blocks the move.",
	}
}

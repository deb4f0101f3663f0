package tenantconfig

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// manualReadTimeout bounds the ledger read of ManualSteps (one partition: the phase's one chunk).
const manualReadTimeout = 30 * time.Second

// ManualSteps implements phase.ManualSteps: the differing settings with both values, the domains to
// move at cutover and the partner configurations to review, read from the phase's ledger (the report
// lists Skipped objects only as counts, and phase.ManualSteps passes no context: the read is one
// partition, bounded by manualReadTimeout). When the ledger cannot be read, a summary of the counts.
func (Phase) ManualSteps(env *phase.Env, counts wave.Counts) []string {
	ctx, cancel := context.WithTimeout(context.Background(), manualReadTimeout)
	defer cancel()
	var entries []state.LedgerEntry
	for e, err := range env.Store.Ledger(ctx, env.Wave, env.Version, Type) {
		if err != nil {
			if counts.Skipped == 0 {
				return nil
			}
			return []string{fmt.Sprintf("%d tenant-wide settings, domains or partner configurations differ between source and target "+
				"(t2t never changes them): see the tenantConfig entries with status Skipped in MigrationState.json.", counts.Skipped)}
		}
		entries = append(entries, e)
	}
	return manualSteps(entries)
}

// manualSteps summarises the Skipped entries by kind, and notes a partner configuration t2t created.
func manualSteps(entries []state.LedgerEntry) []string {
	sort.Slice(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
	var settings, partners, steps []string
	for _, e := range entries {
		switch {
		case e.Status == wave.ObjCreated && e.Key == partnerPrefix+e.SourceID:
			steps = append(steps, "A cross-tenant access partner configuration for the source tenant "+e.SourceID+
				" was created in the target with every setting inherited from the default: set its inbound trust and B2B settings for coexistence as needed (a rollback deletes it unless it was changed).")
		case e.Status != wave.ObjSkipped:
		case strings.HasPrefix(e.Key, settingPrefix):
			settings = append(settings, e.Name+": "+strings.TrimSuffix(e.LastError, ": review and change by hand if wanted"))
		case strings.HasPrefix(e.Key, domainPrefix):
			steps = append(steps, "Domain "+e.Name+" is "+e.LastError+".")
		case strings.HasPrefix(e.Key, partnerPrefix):
			partners = append(partners, e.Name+": "+e.LastError)
		}
	}
	if len(settings) > 0 {
		steps = append([]string{fmt.Sprintf("%d tenant-wide settings differ between source and target; t2t never changes tenant defaults, review each and change it by hand in the target if wanted: %s.",
			len(settings), strings.Join(settings, "; "))}, steps...)
	}
	if len(partners) > 0 {
		steps = append(steps, "Cross-tenant access partner configurations of the source differ in the target: "+strings.Join(partners, " | ")+".")
	}
	return steps
}

package report

import (
	"time"

	"t2t/shared/wave"
)

// MigrationState is waves/<wave>/MigrationState.json in the seed's shape.
type MigrationState struct {
	MigrationID         string                       `json:"MigrationId"`
	SourceTenantID      string                       `json:"SourceTenantId"`
	DestinationTenantID string                       `json:"DestinationTenantId"`
	StartedUtc          time.Time                    `json:"StartedUtc"`
	Options             map[string]any               `json:"Options"`
	Phases              map[string]*PhaseState       `json:"Phases"`
	IDMappings          map[string]map[string]string `json:"IdMappings"`
	RollbackManifest    []RollbackItem               `json:"RollbackManifest"`
}

// PhaseState is one phase with its objects.
type PhaseState struct {
	Status       string                  `json:"Status"`
	StartedUtc   time.Time               `json:"StartedUtc"`
	CompletedUtc *time.Time              `json:"CompletedUtc"`
	Counts       wave.Counts             `json:"Counts"`
	Objects      map[string]*ObjectState `json:"Objects"`
}

// ObjectState is one object's outcome.
type ObjectState struct {
	SourceID  string `json:"SourceId"`
	TargetID  string `json:"TargetId"`
	Status    string `json:"Status"`
	Attempts  int    `json:"Attempts"`
	LastError string `json:"LastError"`
}

// RollbackItem is an object t2t created (and so may delete on rollback); matched objects never are.
type RollbackItem struct {
	Type     string `json:"Type"`
	SourceID string `json:"SourceId"`
	TargetID string `json:"TargetId"`
	Key      string `json:"Key"`
}

// BuildState makes MigrationState.json from the manifest and every phase's ledger entries.
func BuildState(m *wave.Manifest, phases []PhaseLedger, now time.Time) *MigrationState {
	ms := &MigrationState{
		MigrationID: m.MigrationID, SourceTenantID: m.SourceTenantID, DestinationTenantID: m.TargetTenantID,
		StartedUtc: m.CreatedUtc, Options: map[string]any{"DryRun": m.DryRun, "Phases": m.Options.Phases,
			"DomainMap": m.Options.DomainMap, "ConditionalAccessState": m.Options.CAState},
		Phases: map[string]*PhaseState{}, IDMappings: map[string]map[string]string{},
	}
	for _, ph := range phases {
		st := &PhaseState{Status: wave.StatusCompleted, StartedUtc: m.CreatedUtc, Objects: map[string]*ObjectState{}}
		if p := m.Phases[ph.Name]; p != nil {
			st.Status, st.StartedUtc, st.CompletedUtc = p.Status, p.StartedUtc, p.CompletedUtc
		}
		ids := map[string]string{}
		for _, e := range ph.Entries {
			st.Counts = st.Counts.With(e.Status)
			st.Objects[e.Key] = &ObjectState{SourceID: e.SourceID, TargetID: e.TargetID, Status: e.Status, Attempts: e.Attempts, LastError: e.LastError}
			if e.SourceID != "" && e.TargetID != "" && !m.DryRun {
				ids[e.SourceID] = e.TargetID
			}
			if e.Status == wave.ObjCreated {
				ms.RollbackManifest = append(ms.RollbackManifest, RollbackItem{Type: ph.Name, SourceID: e.SourceID, TargetID: e.TargetID, Key: e.TargetKey})
			}
		}
		if st.CompletedUtc == nil {
			done := now
			st.CompletedUtc = &done
		}
		ms.Phases[ph.Name] = st
		ms.IDMappings[ph.Name] = ids
	}
	return ms
}

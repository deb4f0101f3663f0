package report

import (
	"time"

	"t2t/shared/state"
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

// BuildState makes MigrationState.json from the manifest and the wave's user ledger entries.
func BuildState(m *wave.Manifest, entries []state.LedgerEntry, status string, now time.Time) *MigrationState {
	ms := &MigrationState{
		MigrationID: m.MigrationID, SourceTenantID: m.SourceTenantID, DestinationTenantID: m.TargetTenantID,
		StartedUtc: m.CreatedUtc, Options: map[string]any{"DryRun": m.DryRun},
		Phases:     map[string]*PhaseState{},
		IDMappings: map[string]map[string]string{"users": {}},
	}
	done := now
	users := &PhaseState{Status: status, StartedUtc: m.CreatedUtc, CompletedUtc: &done, Objects: map[string]*ObjectState{}}
	for _, e := range entries {
		users.Objects[e.Key] = &ObjectState{SourceID: e.SourceID, TargetID: e.TargetID, Status: e.Status, Attempts: e.Attempts, LastError: e.LastError}
		if e.SourceID != "" && e.TargetID != "" {
			ms.IDMappings["users"][e.SourceID] = e.TargetID
		}
		if e.Status == wave.ObjCreated {
			ms.RollbackManifest = append(ms.RollbackManifest, RollbackItem{Type: "users", SourceID: e.SourceID, TargetID: e.TargetID, Key: e.TargetKey})
		}
	}
	ms.Phases["users"] = users
	return ms
}

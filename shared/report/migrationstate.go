package report

import (
	"encoding/json"
	"io"
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

// LedgerReader reads one phase's ledger entries in order; WriteState calls it once per pass.
type LedgerReader func(phase string, fn func(state.LedgerEntry) error) error

// WriteState streams MigrationState.json (the shape of MigrationState) for the phases, reading each
// phase's ledger three times (objects, id mappings, rollback manifest) instead of holding it: memory
// stays flat whatever the wave's size.
func WriteState(w io.Writer, m *wave.Manifest, phases []string, read LedgerReader, now time.Time) error {
	sw := &stateWriter{w: w}
	sw.raw("{")
	sw.field("MigrationId", m.MigrationID, true)
	sw.field("SourceTenantId", m.SourceTenantID, true)
	sw.field("DestinationTenantId", m.TargetTenantID, true)
	sw.field("StartedUtc", m.CreatedUtc, true)
	sw.field("Options", map[string]any{"DryRun": m.DryRun, "Phases": m.Options.Phases,
		"DomainMap": m.Options.DomainMap, "ConditionalAccessState": m.Options.CAState}, true)
	sw.raw(`"Phases":{`)
	for i, name := range phases {
		st := PhaseState{Status: wave.StatusCompleted, StartedUtc: m.CreatedUtc, CompletedUtc: &now}
		if p := m.Phases[name]; p != nil {
			st.Status, st.StartedUtc = p.Status, p.StartedUtc
			if p.CompletedUtc != nil {
				st.CompletedUtc = p.CompletedUtc
			}
		}
		sw.key(name, i > 0)
		sw.raw("{")
		sw.field("Status", st.Status, true)
		sw.field("StartedUtc", st.StartedUtc, true)
		sw.field("CompletedUtc", st.CompletedUtc, true)
		sw.raw(`"Objects":{`)
		var counts wave.Counts
		n := 0
		sw.fail(read(name, func(e state.LedgerEntry) error {
			counts = counts.With(e.Status)
			if n > 0 {
				sw.raw(",")
			}
			sw.field(e.Key, ObjectState{SourceID: e.SourceID, TargetID: e.TargetID, Status: e.Status, Attempts: e.Attempts, LastError: e.LastError}, false)
			n++
			return sw.err
		}))
		sw.raw("},")
		sw.field("Counts", counts, false)
		sw.raw("}")
	}
	sw.raw(`},"IdMappings":{`)
	for i, name := range phases {
		sw.key(name, i > 0)
		sw.raw("{")
		n := 0
		if !m.DryRun {
			sw.fail(read(name, func(e state.LedgerEntry) error {
				if e.SourceID != "" && e.TargetID != "" {
					if n > 0 {
						sw.raw(",")
					}
					sw.field(e.SourceID, e.TargetID, false)
					n++
				}
				return sw.err
			}))
		}
		sw.raw("}")
	}
	sw.raw(`},"RollbackManifest":[`)
	n := 0
	for _, name := range phases {
		sw.fail(read(name, func(e state.LedgerEntry) error {
			if e.Status == wave.ObjCreated {
				if n > 0 {
					sw.raw(",")
				}
				sw.value(RollbackItem{Type: name, SourceID: e.SourceID, TargetID: e.TargetID, Key: e.TargetKey})
				n++
			}
			return sw.err
		}))
	}
	sw.raw("]}")
	return sw.err
}

// stateWriter writes JSON piece by piece, keeping the first error.
type stateWriter struct {
	w   io.Writer
	err error
}

func (s *stateWriter) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

func (s *stateWriter) raw(v string) {
	if s.err == nil {
		_, s.err = io.WriteString(s.w, v)
	}
}

func (s *stateWriter) value(v any) {
	if s.err != nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		s.err = err
		return
	}
	_, s.err = s.w.Write(data)
}

func (s *stateWriter) key(k string, comma bool) {
	if comma {
		s.raw(",")
	}
	s.value(k)
	s.raw(":")
}

// field writes "k":v and, when comma is true, the comma that ends it.
func (s *stateWriter) field(k string, v any, comma bool) {
	s.key(k, false)
	s.value(v)
	if comma {
		s.raw(",")
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"t2t/shared/state"
	"t2t/shared/wave"
)

func TestBuildCountsPerPhaseFailuresAndManualSteps(t *testing.T) {
	m := &wave.Manifest{Wave: "w", MigrationID: "m", SourceTenantID: "s", TargetTenantID: "t",
		TotalRows: 5, InvalidRows: 1, ValidRows: 4, CreatedUtc: time.Unix(0, 0).UTC()}
	users := []state.LedgerEntry{
		{Key: "a@s", Line: 4, Status: wave.ObjCreated, SourceID: "1", TargetID: "t1", TargetKey: "a@t"},
		{Key: "b@s", Line: 2, Status: wave.ObjMatched, SourceID: "2", TargetID: "t2", TargetKey: "b@t"},
		{Key: "c@s", Line: 5, Status: wave.ObjFailed, LastError: "boom", Attempts: 5, TargetKey: "c@t"},
		{Key: "d@s", Line: 3, Status: wave.ObjCreating, Attempts: 1, TargetKey: "d@t"},
	}
	groups := []state.LedgerEntry{
		{Key: "g1", Name: "Sales", Status: wave.ObjCreated, SourceID: "g1", TargetID: "tg1"},
		{Key: "g2", Name: "Ops", Status: wave.ObjPending, LastError: "2 members not migrated yet"},
	}
	phases := []PhaseLedger{{Name: "users", Entries: users, ManualSteps: []string{"licences"}}, {Name: "groups", Entries: groups}}
	r := Build(m, phases, time.Now())
	if r.Phases["users"] != (wave.Counts{Created: 1, Matched: 1, Failed: 2}) || r.Phases["groups"] != (wave.Counts{Created: 1, Pending: 1}) {
		t.Errorf("phases %+v", r.Phases)
	}
	if r.Totals != (wave.Counts{Created: 2, Matched: 1, Pending: 1, Failed: 2}) || r.Status != wave.StatusCompletedWithErrors {
		t.Errorf("totals %+v status %s", r.Totals, r.Status)
	}
	if strings.Join(r.PhaseOrder, ",") != "users,groups" {
		t.Errorf("phase order %v", r.PhaseOrder)
	}
	if len(r.Failures) != 2 || r.Failures[0].Row != 3 || !strings.Contains(r.Failures[0].Reason, "not finished") || r.Failures[1].Reason != "boom" {
		t.Errorf("failures = %+v (want rows 3 then 5, each with a reason)", r.Failures)
	}
	if len(r.Pending) != 1 || r.Pending[0].Phase != "groups" || r.Pending[0].Name != "Ops" {
		t.Errorf("pending = %+v", r.Pending)
	}
	if len(r.ManualSteps) != 1 || r.ManualSteps[0] != "licences" {
		t.Errorf("manual steps = %v", r.ManualSteps)
	}
	ms := BuildState(m, phases, time.Now())
	if len(ms.RollbackManifest) != 2 || ms.RollbackManifest[0].TargetID != "t1" || ms.RollbackManifest[1].Type != "groups" {
		t.Errorf("rollback manifest = %+v; only created objects may be rolled back", ms.RollbackManifest)
	}
	if len(ms.IDMappings["users"]) != 2 || len(ms.Phases["users"].Objects) != 4 || len(ms.IDMappings["groups"]) != 1 {
		t.Errorf("state: %d mappings, %d objects", len(ms.IDMappings["users"]), len(ms.Phases["users"].Objects))
	}
}

func TestCleanWaveIsCompleted(t *testing.T) {
	m := &wave.Manifest{Wave: "w", TotalRows: 1, ValidRows: 1}
	r := Build(m, []PhaseLedger{{Name: "users", Entries: []state.LedgerEntry{{Status: wave.ObjCreated}}}}, time.Now())
	if r.Status != wave.StatusCompleted || len(r.Failures) != 0 {
		t.Errorf("status %s failures %v", r.Status, r.Failures)
	}
}

func TestDryRunReportAndWhatIf(t *testing.T) {
	m := &wave.Manifest{Wave: "w", DryRun: true, TotalRows: 3, ValidRows: 3}
	users := []state.LedgerEntry{
		{Key: "c@s", Line: 4, Status: wave.ObjFailed, LastError: "disabled", TargetKey: "c@t"},
		{Key: "a@s", Line: 2, Status: wave.ObjWouldCreate, TargetKey: "=a@t"},
		{Key: "b@s", Line: 3, Status: wave.ObjWouldMatch, TargetKey: "b@t", LastError: "exists"},
	}
	groups := []state.LedgerEntry{{Key: "g1", Name: "@Sales", Status: wave.ObjWouldCreate, TargetKey: "t2t-groups-x"}}
	phases := []PhaseLedger{{Name: "users", Entries: users}, {Name: "groups", Entries: groups}}
	r := Build(m, phases, time.Now())
	if !r.DryRun || r.Phases["users"] != (wave.Counts{Created: 1, Matched: 1, Failed: 1}) || len(r.Failures) != 1 {
		t.Errorf("dry-run report = %+v", r)
	}
	if len(r.ManualSteps) != 1 || !strings.Contains(r.ManualSteps[0], "nothing was written") {
		t.Errorf("manual steps = %v", r.ManualSteps)
	}
	got := string(WhatIfCSV(phases))
	want := "phase,row,source,destination,action,reason\n" +
		"users,2,a@s,'=a@t,create,\nusers,3,b@s,b@t,match,exists\nusers,4,c@s,c@t,refuse,disabled\n" +
		"groups,,'@Sales (g1),t2t-groups-x,create,\n"
	if got != want {
		t.Errorf("whatif.csv =\n%s\nwant\n%s", got, want)
	}
	if ms := BuildState(m, phases, time.Now()); ms.Options["DryRun"] != true || len(ms.RollbackManifest) != 0 {
		t.Errorf("state of a dry run: options %v, rollback %v", ms.Options, ms.RollbackManifest)
	}
}

// TestWriteStateStreamsWhatBuildStateBuilds: the streamed MigrationState.json decodes to the same
// document BuildState makes in memory.
func TestWriteStateStreamsWhatBuildStateBuilds(t *testing.T) {
	now := time.Unix(100, 0).UTC()
	m := &wave.Manifest{Wave: "w", MigrationID: "m", SourceTenantID: "s", TargetTenantID: "t", CreatedUtc: time.Unix(0, 0).UTC(),
		Phases: map[string]*wave.Phase{"users": {Status: wave.StatusCompleted, StartedUtc: time.Unix(1, 0).UTC(), CompletedUtc: &now}}}
	phases := []PhaseLedger{
		{Name: "users", Entries: []state.LedgerEntry{
			{Key: "a@s", Status: wave.ObjCreated, SourceID: "1", TargetID: "t1", TargetKey: "a@t", Attempts: 1},
			{Key: "b\"@s", Status: wave.ObjFailed, LastError: "boom <&>", Attempts: 5},
		}},
		{Name: "groups", Entries: []state.LedgerEntry{{Key: "g1", Status: wave.ObjMatched, SourceID: "g1", TargetID: "tg1"}}},
		{Name: "empty"},
	}
	var buf bytes.Buffer
	read := func(name string, fn func(state.LedgerEntry) error) error {
		for _, ph := range phases {
			if ph.Name == name {
				for _, e := range ph.Entries {
					if err := fn(e); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := WriteState(&buf, m, []string{"users", "groups", "empty"}, read, now); err != nil {
		t.Fatal(err)
	}
	var got MigrationState
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("streamed state is not JSON: %v\n%s", err, buf.String())
	}
	want := BuildState(m, phases, now)
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("streamed state\n%s\nwant\n%s", gotJSON, wantJSON)
	}
}

package report

import (
	"strings"
	"testing"
	"time"

	"t2t/shared/mapping"
	"t2t/shared/state"
	"t2t/shared/wave"
)

func TestBuildCountsFailuresAndManualSteps(t *testing.T) {
	m := &wave.Manifest{Wave: "w", MigrationID: "m", SourceTenantID: "s", TargetTenantID: "t",
		TotalRows: 5, InvalidRows: 1, Rows: make([]mapping.Row, 4), CreatedUtc: time.Unix(0, 0).UTC()}
	entries := []state.LedgerEntry{
		{Key: "a@s", Line: 4, Status: wave.ObjCreated, SourceID: "1", TargetID: "t1", TargetKey: "a@t"},
		{Key: "b@s", Line: 2, Status: wave.ObjMatched, SourceID: "2", TargetID: "t2", TargetKey: "b@t"},
		{Key: "c@s", Line: 5, Status: wave.ObjFailed, LastError: "boom", Attempts: 5, TargetKey: "c@t"},
		{Key: "d@s", Line: 3, Status: wave.ObjCreating, Attempts: 1, TargetKey: "d@t"},
	}
	r := Build(m, entries, true, time.Now())
	if r.Users != (wave.Counts{Created: 1, Matched: 1, Failed: 2}) || r.Status != wave.StatusCompletedWithErrors {
		t.Errorf("users %+v status %s", r.Users, r.Status)
	}
	if len(r.Failures) != 2 || r.Failures[0].Row != 3 || !strings.Contains(r.Failures[0].Reason, "not finished") || r.Failures[1].Reason != "boom" {
		t.Errorf("failures = %+v (want rows 3 then 5, each with a reason)", r.Failures)
	}
	if !strings.Contains(strings.Join(r.ManualSteps, " "), "Key Vault") {
		t.Errorf("manual steps do not say where temporary passwords are: %v", r.ManualSteps)
	}
	if r2 := Build(m, entries, false, time.Now()); !strings.Contains(strings.Join(r2.ManualSteps, " "), "reset their passwords") {
		t.Errorf("without a vault the report must ask for password resets: %v", r2.ManualSteps)
	}
	ms := BuildState(m, entries, r.Status, time.Now())
	if len(ms.RollbackManifest) != 1 || ms.RollbackManifest[0].TargetID != "t1" {
		t.Errorf("rollback manifest = %+v; only created objects may be rolled back", ms.RollbackManifest)
	}
	if len(ms.IDMappings["users"]) != 2 || len(ms.Phases["users"].Objects) != 4 {
		t.Errorf("state: %d mappings, %d objects", len(ms.IDMappings["users"]), len(ms.Phases["users"].Objects))
	}
}

func TestCleanWaveIsCompleted(t *testing.T) {
	m := &wave.Manifest{Wave: "w", TotalRows: 1, Rows: make([]mapping.Row, 1)}
	r := Build(m, []state.LedgerEntry{{Status: wave.ObjCreated}}, true, time.Now())
	if r.Status != wave.StatusCompleted || len(r.Failures) != 0 {
		t.Errorf("status %s failures %v", r.Status, r.Failures)
	}
}

func TestDryRunReportAndWhatIf(t *testing.T) {
	m := &wave.Manifest{Wave: "w", DryRun: true, TotalRows: 3, Rows: make([]mapping.Row, 3)}
	entries := []state.LedgerEntry{
		{Key: "c@s", Line: 4, Status: wave.ObjFailed, LastError: "disabled", TargetKey: "c@t"},
		{Key: "a@s", Line: 2, Status: wave.ObjWouldCreate, TargetKey: "=a@t"},
		{Key: "b@s", Line: 3, Status: wave.ObjWouldMatch, TargetKey: "b@t", LastError: "exists"},
	}
	r := Build(m, entries, true, time.Now())
	if !r.DryRun || r.Users != (wave.Counts{Created: 1, Matched: 1, Failed: 1}) || len(r.Failures) != 1 {
		t.Errorf("dry-run report = %+v", r)
	}
	if len(r.ManualSteps) != 1 || !strings.Contains(r.ManualSteps[0], "nothing was written") {
		t.Errorf("manual steps = %v", r.ManualSteps)
	}
	got := string(WhatIfCSV(entries))
	want := "row,source,destination,action,reason\n2,a@s,'=a@t,create,\n3,b@s,b@t,match,exists\n4,c@s,c@t,refuse,disabled\n"
	if got != want {
		t.Errorf("whatif.csv =\n%s\nwant\n%s", got, want)
	}
	if ms := BuildState(m, entries, r.Status, time.Now()); ms.Options["DryRun"] != true || len(ms.RollbackManifest) != 0 {
		t.Errorf("state of a dry run: options %v, rollback %v", ms.Options, ms.RollbackManifest)
	}
}

package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// TestImmutableIDColumnSetsTheHybridLink: in an internal wave the ImmutableId column sets
// onPremisesImmutableId on the created account and on a matched cloud account, and is refused (the
// row fails with the reason) for a destination that directory sync already manages, whose anchor
// stays as it was. A synced destination without the column is matched as usual.
func TestImmutableIDColumnSetsTheHybridLink(t *testing.T) {
	s := startStackWith(t, demoTenantsWith(t, func(cfg map[string]any) {
		cfg["tenants"].([]any)[1].(map[string]any)["seed"].(map[string]any)["syncedUsers"] = 2
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var synced, cloud []b2bUser
	for _, u := range dumpB2B(t, s, s.TargetTenantID) {
		switch {
		case u.UserType != "Member" || u.ExternalUserState != "" || !u.AccountEnabled:
		case u.OnPremisesImmutableID != "":
			synced = append(synced, u)
		case len(cloud) == 0:
			cloud = append(cloud, u)
		}
	}
	var sources []b2bUser
	for _, u := range dumpB2B(t, s, s.SourceTenantID) {
		if u.UserType == "Member" && u.AccountEnabled && u.ExternalUserState == "" && strings.HasSuffix(u.UserPrincipalName, "@contoso.example") && len(sources) < 4 {
			sources = append(sources, u)
		}
	}
	if len(synced) != 2 || len(cloud) != 1 || len(sources) != 4 {
		t.Fatalf("seed: %d synced, %d cloud target members, %d sources", len(synced), len(cloud), len(sources))
	}
	newDest := "hybrid.new@fabrikam.example"
	rows := [][]string{
		{sources[0].UserPrincipalName, newDest, goodAnchor},                          // created with the anchor
		{sources[1].UserPrincipalName, cloud[0].UserPrincipalName, goodAnchor2},      // matched cloud account: anchor set
		{sources[2].UserPrincipalName, synced[0].UserPrincipalName, goodAnchorOther}, // synced: refused
		{sources[3].UserPrincipalName, synced[1].UserPrincipalName, ""},              // synced, no column: matched
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"Source", "Destination", "ImmutableId"})
	_ = w.WriteAll(rows)
	if err := ops.UploadWith(ctx, s.Azurite.ConnectionString(), "hybrid.csv", buf.Bytes(), &ops.UploadOptions{Phases: []string{"users"}}); err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(ctx, s.Azurite.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	st := waitDone(ctx, t, store, "hybrid")
	if c := st.Report.Totals; c.Created != 1 || c.Matched != 2 || c.Failed != 1 {
		t.Errorf("report totals %+v, want 1 created, 2 matched, 1 failed", c)
	}
	var m wave.Manifest
	if _, err := store.GetJSON(ctx, wave.ManifestPath("hybrid"), &m); err != nil {
		t.Fatal(err)
	}
	for e, err := range store.Ledger(ctx, "hybrid", wave.VersionOf(&m), users.Type) {
		if err != nil {
			t.Fatal(err)
		}
		refused := strings.EqualFold(e.TargetKey, synced[0].UserPrincipalName)
		if refused != (e.Status == wave.ObjFailed) || refused && !strings.Contains(e.LastError, "already synced") {
			t.Errorf("ledger %s -> %s: %s %q", e.Key, e.TargetKey, e.Status, e.LastError)
		}
	}
	after := map[string]b2bUser{}
	for _, u := range dumpB2B(t, s, s.TargetTenantID) {
		after[strings.ToLower(u.UserPrincipalName)] = u
	}
	for upn, want := range map[string]string{newDest: goodAnchor, cloud[0].UserPrincipalName: goodAnchor2,
		synced[0].UserPrincipalName: synced[0].OnPremisesImmutableID, synced[1].UserPrincipalName: synced[1].OnPremisesImmutableID} {
		if got := after[strings.ToLower(upn)].OnPremisesImmutableID; got != want {
			t.Errorf("%s: onPremisesImmutableId %q, want %q", upn, got, want)
		}
	}
}

// More valid anchors (base64 of 16 bytes).
const (
	goodAnchor2     = "AAECAwQFBgcICQoLDA0ODw=="
	goodAnchorOther = "EBESExQVFhcYGRobHB0eHw=="
)

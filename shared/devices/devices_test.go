package devices_test

// The device plan against the tenant simulator and Azurite: devices.csv lists the devices the wave's
// users own, joined with their Intune records, with each user's source and target UPN and cloud SID
// (checked against SIDs computed here from the documented layout, not by the code under test) and a
// suggested action; a second run writes the same file.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"t2t/shared/devices"
	"t2t/shared/localstack"
	"t2t/shared/mapping"
	"t2t/shared/phase/phasetest"
	"t2t/shared/simulator"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

var storageConn string

func TestMain(m *testing.M) {
	localstack.MainWithAzurite(m, func(conn string) { storageConn = conn })
}

// sid is a cloud-only object's SID: S-1-12-1 and the object id's 16 bytes in .NET GUID order (the
// first three groups little-endian) read as four little-endian 32-bit numbers.
func sid(t *testing.T, objectID string) string {
	t.Helper()
	raw, err := hex.DecodeString(strings.ReplaceAll(objectID, "-", ""))
	if err != nil || len(raw) != 16 {
		t.Fatalf("object id %q", objectID)
	}
	b := []byte{raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]}
	b = append(b, raw[8:]...)
	parts := make([]string, 4)
	for i := range 4 {
		parts[i] = fmt.Sprint(binary.LittleEndian.Uint32(b[i*4:]))
	}
	return "S-1-12-1-" + strings.Join(parts, "-")
}

func TestSIDLayoutMatchesTheDocumentedExample(t *testing.T) {
	// The example pair Microsoft's documentation of Entra cloud SIDs gives.
	if got := sid(t, "73d664e4-0886-4a73-b745-c694da45ddb4"); got != "S-1-12-1-1943430372-1249052806-2496021943-3034400218" {
		t.Fatalf("the test's own SID computation is wrong: %s", got)
	}
}

func TestDevicesCSVListsEachDeviceWithItsUsersSIDsAndAction(t *testing.T) {
	ctx := context.Background()
	cfg := simulator.ExampleConfig()
	cfg.Tenants[0].Seed.Devices = 9
	cfg.Tenants[0].Clients[0].Roles = append(cfg.Tenants[0].Clients[0].Roles, "Device.Read.All", "DeviceManagementManagedDevices.Read.All")
	s := phasetest.New(t, storageConn, cfg, nil)
	env := s.Env(t, "dev", false)
	env.Options.DevicePlan = true

	var members []map[string]any
	for _, u := range s.Objects(t, "contoso", "users") {
		if u["userType"] == "Member" && !strings.Contains(u["userPrincipalName"].(string), "#EXT#") {
			members = append(members, u)
		}
	}
	// The wave: the first ten members (owners of devices 0 to 3); the first three are migrated.
	var snap users.Snapshot
	var maps []state.IDMapping
	targets := map[string][2]string{}
	for i, u := range members[:10] {
		id, upn := u["id"].(string), u["userPrincipalName"].(string)
		snap.Users = append(snap.Users, users.Exported{Row: mapping.Row{Line: i + 2, Source: upn}, User: users.SourceUser{ID: id, UserPrincipalName: upn}})
		if i < 4 && i != 1 {
			dest := fmt.Sprintf("moved%d@fabrikam.example", i)
			tid := phasetest.CreateUser(ctx, t, s.Target, phasetest.NewUser(dest))
			maps = append(maps, state.IDMapping{Type: users.Type, SourceID: id, TargetID: tid, TargetKey: dest, Created: true})
			targets[upn] = [2]string{dest, tid}
		}
	}
	if err := env.PutSnapshot(ctx, users.Type, 0, snap); err != nil {
		t.Fatal(err)
	}
	if err := env.Map(ctx, maps); err != nil {
		t.Fatal(err)
	}
	for _, f := range []wave.Fact{{Phase: users.Type, Kind: wave.FactChunk, Index: 0}, {Phase: devices.Type, Kind: wave.FactChunk, Index: 0}} {
		if err := env.Store.PutFact(ctx, env.Wave, env.Version, f); err != nil {
			t.Fatal(err)
		}
	}

	writes := s.Writes(t, "fabrikam")
	counts, err := phasetest.Run(ctx, devices.Phase{}, env)
	if err != nil || counts.Pending != 4 || s.Writes(t, "fabrikam") != writes {
		t.Fatalf("run = %+v (%v), %d target writes; want 4 devices Pending and no write", counts, err, s.Writes(t, "fabrikam")-writes)
	}
	if err := (devices.Phase{}).WriteOutputs(ctx, env); err != nil {
		t.Fatal(err)
	}
	data, _, err := env.Store.GetBytes(ctx, devices.CSVPath(env.Wave))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("devices.csv: %d lines (%v), want a header and 4 devices:\n%s", len(rows), err, data)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	joins := map[string]int{}
	for _, r := range rows[1:] {
		joins[r[col["JoinType"]]]++
		if r[col["SourceSID"]] != sid(t, r[col["SourceObjectId"]]) {
			t.Errorf("%s: source SID %s, want %s", r[col["DeviceName"]], r[col["SourceSID"]], sid(t, r[col["SourceObjectId"]]))
		}
		want, migrated := targets[r[col["SourceUPN"]]]
		switch {
		case migrated && (r[col["TargetUPN"]] != want[0] || r[col["TargetSID"]] != sid(t, want[1])):
			t.Errorf("%s: target %s %s, want %s %s", r[col["DeviceName"]], r[col["TargetUPN"]], r[col["TargetSID"]], want[0], sid(t, want[1]))
		case !migrated && (r[col["TargetSID"]] != "" || !strings.HasPrefix(r[col["SuggestedAction"]], "wait")):
			t.Errorf("%s: a user without a target account: %v", r[col["DeviceName"]], r)
		case r[col["JoinType"]] != "Workplace" && r[col["IntuneManagedDeviceId"]] == "":
			t.Errorf("%s: a joined device without its Intune record", r[col["DeviceName"]])
		}
	}
	if joins["AzureAd"] != 2 || joins["ServerAd"] != 1 || joins["Workplace"] != 1 {
		t.Errorf("join types %v, want 2 Entra joined, 1 hybrid, 1 registered", joins)
	}
	if again, err := phasetest.Run(ctx, devices.Phase{}, env); err != nil || again != counts {
		t.Errorf("second run = %+v (%v), want %+v", again, err, counts)
	}
}

package devices

import (
	"context"
	"errors"
	"fmt"
	"io"

	"t2t/shared/cloudsid"
	"t2t/shared/csvout"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// Row is one line of devices.csv.
type Row struct {
	Device
	SourceSID string `json:"sourceSid"`
	TargetID  string `json:"targetId,omitempty"`
	TargetUPN string `json:"targetUpn,omitempty"`
	TargetSID string `json:"targetSid,omitempty"`
	Action    string `json:"action"`
}

// rowsPath is waves/<wave>/devices/<version>/<chunk>.json: one chunk's rows of devices.csv.
func rowsPath(waveID, version string, chunk int) string {
	return fmt.Sprintf("%s/devices/%s/%05d.json", waveID, version, chunk)
}

// CSVPath is waves/<wave>/devices.csv.
func CSVPath(waveID string) string { return waveID + "/devices.csv" }

// action suggests what to do with a device, by how it is joined and whether its user is migrated.
func action(d Device, migrated bool) string {
	switch {
	case !migrated:
		return "wait: the user has no target account yet (a later wave, or see the users phase)"
	case d.TrustType == "AzureAd":
		return "re-join to the target tenant with the migration agent, remapping the profile from the source SID to the target SID"
	case d.TrustType == "ServerAd":
		return "hybrid joined: move the computer object to the target's synced OU (or domain) so that it joins the target; the profile follows the on-premises account"
	case d.TrustType == "Workplace" && d.ManagedDeviceID != "":
		return "registered and Intune managed: retire it in the source Intune, then the user registers it with the target account"
	case d.TrustType == "Workplace":
		return "registered: the user removes the source work account and adds the target account"
	}
	return "review by hand: unknown join type " + d.TrustType
}

// Import implements phase.Phase: each device's row, with its user's translation and cloud SIDs.
// Nothing is written to either tenant: every device is Pending, with its action.
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return plan(ctx, env, chunk)
}

// Plan implements phase.Phase: the same rows (the phase never writes to a tenant).
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return plan(ctx, env, chunk)
}

func plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	snap, err := phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys(snap))
	if err != nil {
		return wave.Counts{}, err
	}
	ids := make([]string, len(snap.Devices))
	for i, d := range snap.Devices {
		ids[i] = d.UserID
	}
	mapped, err := env.Mapped(ctx, users.Type, ids)
	if err != nil {
		return wave.Counts{}, err
	}
	rows := make([]Row, 0, len(snap.Devices))
	for _, d := range snap.Devices {
		r := Row{Device: d}
		if r.SourceSID, err = cloudsid.FromObjectID(d.UserID); err != nil {
			return wave.Counts{}, err
		}
		m, ok := mapped[d.UserID]
		if ok {
			r.TargetID, r.TargetUPN = m.TargetID, m.TargetKey
			if r.TargetSID, err = cloudsid.FromObjectID(m.TargetID); err != nil {
				return wave.Counts{}, err
			}
		}
		r.Action = action(d, ok)
		rows = append(rows, r)
		ledger.Set(d.ObjectID, wave.ObjPending, r.TargetID, r.Action)
	}
	if _, err := env.Store.PutJSON(ctx, rowsPath(env.Wave, env.Version, chunk), rows, state.Cond{}); err != nil {
		return wave.Counts{}, err
	}
	return ledger.Finish(ctx, 0)
}

// Rollback implements phase.Phase: the phase changes nothing, so there is nothing to undo.
func (Phase) Rollback(context.Context, *phase.Env, state.IDMapping) error { return nil }

// Header is devices.csv's header.
var Header = []string{"DeviceName", "DeviceObjectId", "AzureADDeviceId", "OperatingSystem", "OSVersion", "JoinType",
	"Relationship", "SourceUPN", "SourceObjectId", "SourceSID", "TargetUPN", "TargetObjectId", "TargetSID",
	"IntuneManagedDeviceId", "Compliance", "SuggestedAction"}

// WriteOutputs implements phase.Outputs: devices.csv from every chunk's rows.
func (Phase) WriteOutputs(ctx context.Context, env *phase.Env) error {
	chunks, err := env.Store.PhaseChunks(ctx, env.Wave, env.Version, Type)
	if err != nil {
		return err
	}
	return env.Store.PutStream(ctx, CSVPath(env.Wave), "text/csv", func(w io.Writer) error {
		cw := csvout.NewWriter(w)
		if err := cw.Write(Header); err != nil {
			return err
		}
		for _, c := range chunks {
			var rows []Row
			if _, err := env.Store.GetJSON(ctx, rowsPath(env.Wave, env.Version, c), &rows); err != nil && !errors.Is(err, state.ErrNotFound) {
				return err
			}
			for _, r := range rows {
				if err := cw.Write([]string{r.Name, r.ObjectID, r.DeviceID, r.OS, r.OSVersion, r.TrustType, r.Relationship,
					r.UserUPN, r.UserID, r.SourceSID, r.TargetUPN, r.TargetID, r.TargetSID, r.ManagedDeviceID, r.Compliance, r.Action}); err != nil {
					return err
				}
			}
		}
		cw.Flush()
		return cw.Error()
	})
}

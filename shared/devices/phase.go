// Package devices writes the wave's device migration plan, devices.csv, for the tools that move
// devices between tenants (PowerSyncPro-style agents re-join a device and remap its profile by SID):
// the source's Entra devices owned or registered by the wave's users, joined with their Intune
// managed devices by azureADDeviceId, and with the translation of their users: source and target
// UPN and cloud SID, and a suggested action per device. t2t changes no device; every device is left
// Pending with its action, for a person or that tool.
package devices

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/users"
)

// Type is the phase name.
const Type = "devices"

// Phase is the device plan phase; it runs when the wave asks for it (wave.Options.DevicePlan).
type Phase struct{}

var (
	_ phase.Phase      = Phase{}
	_ phase.ChunkKeyed = Phase{}
	_ phase.Outputs    = Phase{}
)

// Device is one source device of one of the wave's users.
type Device struct {
	ObjectID        string `json:"objectId"`
	DeviceID        string `json:"deviceId"` // the azureADDeviceId managed devices join on
	Name            string `json:"name"`
	OS              string `json:"os"`
	OSVersion       string `json:"osVersion"`
	TrustType       string `json:"trustType"`
	Relationship    string `json:"relationship"` // owner, or user (registered)
	UserID          string `json:"userId"`       // the source user
	UserUPN         string `json:"userUpn"`
	ManagedDeviceID string `json:"managedDeviceId,omitempty"`
	Compliance      string `json:"compliance,omitempty"`
}

// Snapshot is one chunk of the export: the devices of one users chunk's users.
type Snapshot struct {
	Chunk   int      `json:"chunk"`
	Devices []Device `json:"devices"`
}

// Name implements phase.Phase.
func (Phase) Name() string { return Type }

// After implements phase.Phase: the plan names each user's target account.
func (Phase) After() []string { return []string{users.Type} }

// Parts implements phase.Phase: one part per users chunk, none unless the wave asks for the plan.
func (Phase) Parts(ctx context.Context, env *phase.Env) (int, error) {
	if !env.Options.DevicePlan {
		return 0, nil
	}
	cs, err := users.Chunks(ctx, env)
	return len(cs), err
}

// Export implements phase.Phase: the devices each user of one users chunk owns or registered, with
// their Intune records.
func (Phase) Export(ctx context.Context, env *phase.Env, part int) ([]int, error) {
	chunk, us, err := users.PartSnapshot(ctx, env, Type, part)
	if err != nil || us == nil {
		return nil, err // a poisoned users export part has no snapshot
	}
	found := make([][]Device, len(us.Users))
	err = phase.Parallel(len(us.Users), 4, func(i int) error {
		var err error
		found[i], err = userDevices(ctx, env.Source, us.Users[i].User.ID, us.Users[i].User.UserPrincipalName)
		return err
	})
	if err != nil {
		return nil, err
	}
	snap := Snapshot{Chunk: chunk, Devices: []Device{}}
	for _, list := range found {
		snap.Devices = append(snap.Devices, list...)
	}
	if err := env.PutSnapshot(ctx, Type, chunk, snap); err != nil {
		return nil, err
	}
	return []int{chunk}, nil
}

// userDevices reads one user's owned and registered devices and joins its managed devices to them.
func userDevices(ctx context.Context, c *graph.Client, id, upn string) ([]Device, error) {
	b := c.Users().ByUserId(id)
	owned, err := b.OwnedDevices().Get(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the devices %s owns: %w", upn, err)
	}
	registered, err := b.RegisteredDevices().Get(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the devices %s registered: %w", upn, err)
	}
	managed, err := b.ManagedDevices().Get(ctx, &graphusers.ItemManagedDevicesRequestBuilderGetRequestConfiguration{})
	if err != nil && !graph.IsForbidden(err) {
		return nil, fmt.Errorf("reading the managed devices of %s: %w", upn, err)
	}
	var out []Device
	seen := map[string]bool{}
	for _, rel := range []struct {
		name string
		list []models.DirectoryObjectable
	}{{"owner", owned.GetValue()}, {"user", registered.GetValue()}} {
		for _, o := range rel.list {
			d, ok := asDevice(o)
			if !ok || seen[d.ObjectID] {
				continue
			}
			seen[d.ObjectID] = true
			d.Relationship, d.UserID, d.UserUPN = rel.name, id, upn
			out = append(out, d)
		}
	}
	if managed != nil {
		for _, m := range managed.GetValue() {
			for i := range out {
				if m.GetAzureADDeviceId() != nil && strings.EqualFold(*m.GetAzureADDeviceId(), out[i].DeviceID) {
					out[i].ManagedDeviceID = deref(m.GetId())
					if m.GetComplianceState() != nil {
						out[i].Compliance = m.GetComplianceState().String()
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Device) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// asDevice reads a directory object that is a device.
func asDevice(o models.DirectoryObjectable) (Device, bool) {
	d, ok := o.(models.Deviceable)
	if !ok || d.GetId() == nil {
		return Device{}, false
	}
	return Device{ObjectID: *d.GetId(), DeviceID: deref(d.GetDeviceId()), Name: deref(d.GetDisplayName()),
		OS: deref(d.GetOperatingSystem()), OSVersion: deref(d.GetOperatingSystemVersion()), TrustType: deref(d.GetTrustType())}, true
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
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
	out := make([]phase.Key, len(snap.Devices))
	for i, d := range snap.Devices {
		out[i] = phase.Key{Key: d.ObjectID, Name: d.Name, SourceID: d.ObjectID, TargetKey: d.UserUPN}
	}
	return out
}

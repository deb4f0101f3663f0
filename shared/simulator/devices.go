package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Devices: Entra devices (https://learn.microsoft.com/graph/api/resources/device) with their
// registered owners and users (GET /users/{id}/ownedDevices and /registeredDevices), and Intune
// managed devices (https://learn.microsoft.com/graph/api/resources/intune-devices-manageddevice),
// joined to them by azureADDeviceId (GET /users/{id}/managedDevices, /deviceManagement/managedDevices).
// Seeded only (Seed.Devices); read-only here.

var (
	permDevicesRead = []string{"Device.Read.All", "Directory.Read.All", "Device.ReadWrite.All", "Directory.ReadWrite.All"}
	permManagedRead = []string{"DeviceManagementManagedDevices.Read.All", "DeviceManagementManagedDevices.ReadWrite.All"}
)

// Device is an Entra device.
type Device struct {
	ID                     string   `json:"id"`
	DeviceID               string   `json:"deviceId"`
	DisplayName            string   `json:"displayName"`
	OperatingSystem        string   `json:"operatingSystem"`
	OperatingSystemVersion string   `json:"operatingSystemVersion"`
	TrustType              string   `json:"trustType"` // AzureAd (joined), ServerAd (hybrid joined), Workplace (registered)
	AccountEnabled         bool     `json:"accountEnabled"`
	Owners                 []string `json:"-"`
	Users                  []string `json:"-"`
}

// ManagedDevice is an Intune managed device.
type ManagedDevice struct {
	ID                string `json:"id"`
	DeviceName        string `json:"deviceName"`
	AzureADDeviceID   string `json:"azureADDeviceId"`
	UserID            string `json:"userId"`
	UserPrincipalName string `json:"userPrincipalName"`
	OperatingSystem   string `json:"operatingSystem"`
	ComplianceState   string `json:"complianceState"`
	ManagementAgent   string `json:"managementAgent"`
}

func (s *Server) addDeviceRoutes(rt *router) {
	rt.add(http.MethodGet, "/users/{id}/ownedDevices", permDevicesRead, userDevices(true))
	rt.add(http.MethodGet, "/users/{id}/registeredDevices", permDevicesRead, userDevices(false))
	rt.add(http.MethodGet, "/users/{id}/managedDevices", permManagedRead, userManagedDevices)
}

// seedDevicesLocked gives every third internal member a device: Entra joined, hybrid joined and
// registered in turn; joined ones (and every other registered one) are Intune managed.
func (t *Tenant) seedDevicesLocked(tc *TenantConfig) {
	var members []*User
	for _, u := range t.users.list() {
		if u.UserType == "Member" && !u.isExternal() {
			members = append(members, u)
		}
	}
	trust := []string{"AzureAd", "ServerAd", "Workplace"}
	for i := 0; i < tc.Seed.Devices && len(members) > 0; i++ {
		owner := members[(i*3)%len(members)]
		d := &Device{ID: derivedGUID(t.ID, "device", fmt.Sprint(i)), DeviceID: derivedGUID(t.ID, "deviceId", fmt.Sprint(i)),
			DisplayName: fmt.Sprintf("%s-PC%03d", strings.ToUpper(t.Name[:3]), i), OperatingSystem: "Windows",
			OperatingSystemVersion: "10.0.22631.4460", TrustType: trust[i%3], AccountEnabled: true,
			Owners: []string{owner.ID}, Users: []string{owner.ID}}
		if d.TrustType == "Workplace" {
			d.DisplayName, d.OperatingSystem, d.OperatingSystemVersion = fmt.Sprintf("iPhone-%03d", i), "iOS", "17.5"
		}
		t.devices = append(t.devices, d)
		if d.TrustType != "Workplace" || i%2 == 0 {
			t.managed = append(t.managed, &ManagedDevice{ID: derivedGUID(t.ID, "managedDevice", fmt.Sprint(i)), DeviceName: d.DisplayName,
				AzureADDeviceID: d.DeviceID, UserID: owner.ID, UserPrincipalName: owner.UserPrincipalName,
				OperatingSystem: d.OperatingSystem, ComplianceState: []string{"compliant", "noncompliant"}[i%2], ManagementAgent: "mdm"})
		}
	}
}

func userDevices(owned bool) handlerFunc {
	return func(c *call) *graphError {
		t := c.tenant
		t.mu.RLock()
		defer t.mu.RUnlock()
		u, gerr := userByIDLocked(c)
		if gerr != nil {
			return gerr
		}
		out := []map[string]any{}
		for _, d := range t.devices {
			if rel := d.Users; owned && slices.Contains(d.Owners, u.ID) || !owned && slices.Contains(rel, u.ID) {
				out = append(out, map[string]any{"@odata.type": "#microsoft.graph.device", "id": d.ID, "deviceId": d.DeviceID,
					"displayName": d.DisplayName, "operatingSystem": d.OperatingSystem, "operatingSystemVersion": d.OperatingSystemVersion,
					"trustType": d.TrustType, "accountEnabled": d.AccountEnabled})
			}
		}
		c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.root() + "/$metadata#directoryObjects", "value": out})
		return nil
	}
}

func userManagedDevices(c *call) *graphError {
	t := c.tenant
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, gerr := userByIDLocked(c)
	if gerr != nil {
		return gerr
	}
	out := []*ManagedDevice{}
	for _, m := range t.managed {
		if m.UserID == u.ID {
			out = append(out, m)
		}
	}
	c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.root() + "/$metadata#users('" + u.ID + "')/managedDevices", "value": out})
	return nil
}

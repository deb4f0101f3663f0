package simulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// Licences: the tenant's subscriptions (GET /subscribedSkus,
// https://learn.microsoft.com/graph/api/subscribedsku-list), a user's assignedLicenses, and
// POST /users/{id}/assignLicense (https://learn.microsoft.com/graph/api/user-assignlicense). Consumed
// units are counted from the users' assignments, so they never drift from them.

var (
	permSkusRead     = []string{"LicenseAssignment.Read.All", "Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"}
	permLicenseWrite = []string{"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
)

// SkuConfig is one subscription a seeded tenant holds.
type SkuConfig struct {
	SkuPartNumber string `json:"skuPartNumber"`
	// SkuID is the SKU's GUID (the same in every tenant, as Microsoft's are); "" derives one from the
	// part number.
	SkuID string `json:"skuId,omitempty"`
	// Units is prepaidUnits.enabled.
	Units int `json:"units"`
	// ServicePlans names the plans the SKU carries (EXCHANGE_S_ENTERPRISE, ...).
	ServicePlans []string `json:"servicePlans,omitempty"`
	// SeedAssigned gives the SKU to that many seeded internal members with a usage location, every
	// other one from the first (the others stay unlicensed).
	SeedAssigned int `json:"seedAssigned,omitempty"`
}

// id is the SKU's GUID.
func (s SkuConfig) id() string {
	if s.SkuID != "" {
		return strings.ToLower(s.SkuID)
	}
	return derivedGUID("sku", strings.ToUpper(s.SkuPartNumber))
}

// AssignedLicense is one of a user's assignedLicenses.
type AssignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

func (s *Server) addLicenseRoutes(rt *router) {
	rt.add(http.MethodGet, "/subscribedSkus", permSkusRead, listSkus)
	rt.add(http.MethodPost, "/users/{id}/assignLicense", permLicenseWrite, assignLicense)
}

func (t *Tenant) consumedLocked(skuID string) int {
	n := 0
	for _, u := range t.users.list() {
		for _, l := range u.AssignedLicenses {
			if l.SkuID == skuID {
				n++
			}
		}
	}
	return n
}

func listSkus(c *call) *graphError {
	t := c.tenant
	t.mu.RLock()
	out := make([]map[string]any, 0, len(t.skus))
	for _, s := range t.skus {
		plans := make([]map[string]any, len(s.ServicePlans))
		for i, p := range s.ServicePlans {
			plans[i] = map[string]any{"servicePlanId": derivedGUID("serviceplan", p), "servicePlanName": p,
				"provisioningStatus": "Success", "appliesTo": "User"}
		}
		out = append(out, map[string]any{"id": t.ID + "_" + s.id(), "skuId": s.id(), "skuPartNumber": s.SkuPartNumber,
			"capabilityStatus": "Enabled", "appliesTo": "User", "consumedUnits": t.consumedLocked(s.id()),
			"prepaidUnits": map[string]any{"enabled": s.Units, "suspended": 0, "warning": 0, "lockedOut": 0},
			"servicePlans": plans})
	}
	t.mu.RUnlock()
	c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.root() + "/$metadata#subscribedSkus", "value": out})
	return nil
}

type assignLicenseBody struct {
	AddLicenses    []AssignedLicense `json:"addLicenses"`
	RemoveLicenses []string          `json:"removeLicenses"`
}

// assignLicense adds and removes a user's licences in one call, refusing (400, as Graph does) an
// unknown SKU, a SKU with no unit left, and any licence for a user without a usage location.
func assignLicense(c *call) *graphError {
	raw, gerr := c.readBody()
	if gerr != nil {
		return gerr
	}
	var in assignLicenseBody
	if err := json.Unmarshal(raw, &in); err != nil || in.AddLicenses == nil || in.RemoveLicenses == nil {
		return errBadRequest("addLicenses and removeLicenses are both required (use [] for none).")
	}
	t := c.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	u, gerr := userByIDLocked(c)
	if gerr != nil {
		return gerr
	}
	next := *u
	next.AssignedLicenses = slices.Clone(u.AssignedLicenses)
	for _, id := range in.RemoveLicenses {
		next.AssignedLicenses = slices.DeleteFunc(next.AssignedLicenses, func(l AssignedLicense) bool { return strings.EqualFold(l.SkuID, id) })
	}
	for _, add := range in.AddLicenses {
		sku := t.skuLocked(add.SkuID)
		switch {
		case sku == nil:
			return errBadRequest("License %s does not correspond to a valid company License.", add.SkuID)
		case next.UsageLocation == "":
			return errBadRequest("License assignment cannot be done for user with invalid usage location.")
		}
		held := slices.ContainsFunc(u.AssignedLicenses, func(l AssignedLicense) bool { return l.SkuID == sku.id() })
		if !held && t.consumedLocked(sku.id()) >= sku.Units {
			return errBadRequest("Subscription %s does not have any available licenses.", sku.SkuPartNumber)
		}
		next.AssignedLicenses = slices.DeleteFunc(next.AssignedLicenses, func(l AssignedLicense) bool { return l.SkuID == sku.id() })
		plans := add.DisabledPlans
		if plans == nil {
			plans = []string{}
		}
		next.AssignedLicenses = append(next.AssignedLicenses, AssignedLicense{SkuID: sku.id(), DisabledPlans: plans})
	}
	t.replaceUserLocked(u, &next, c.srv.now().UTC())
	body := userSchema.project(&next, nil, c.version)
	body["@odata.context"] = c.root() + "/$metadata#users/$entity"
	c.writeJSON(http.StatusOK, body)
	return nil
}

func (t *Tenant) skuLocked(id string) *SkuConfig {
	for i := range t.skus {
		if strings.EqualFold(t.skus[i].id(), id) {
			return &t.skus[i]
		}
	}
	return nil
}

// assignedLicenses renders a user's assignedLicenses (always a list).
func assignedLicenses(u *User) any {
	if u.AssignedLicenses == nil {
		return []AssignedLicense{}
	}
	return u.AssignedLicenses
}

// seedLicensesLocked assigns each SKU to its SeedAssigned share of the seeded internal members.
func (t *Tenant) seedLicensesLocked() {
	for _, sku := range t.skus {
		n := 0
		for i, u := range t.users.list() {
			if n >= sku.SeedAssigned || n >= sku.Units {
				break
			}
			if i%2 == 1 || u.UserType != "Member" || u.isExternal() || u.UsageLocation == "" {
				continue
			}
			next := *u
			next.AssignedLicenses = append(slices.Clone(u.AssignedLicenses), AssignedLicense{SkuID: sku.id(), DisabledPlans: []string{}})
			t.users.remove(u)
			t.users.add(&next)
			n++
		}
	}
}

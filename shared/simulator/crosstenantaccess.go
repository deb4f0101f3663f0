package simulator

import (
	"net/http"
	"strings"
)

// Cross-tenant access settings (https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicy-overview):
// the policy, its default configuration and one partner configuration per external tenant, keyed by
// that tenant's id. The simulator serves the policy and the default read-only, and the partners
// read-write; identitySynchronization and tenantRestrictions are not modelled.

// CrossTenantAccessSettings are the inbound and outbound settings a default or partner configuration
// holds; nil means not configured (a partner then inherits the default).
type CrossTenantAccessSettings struct {
	InboundTrust                 *CrossTenantInboundTrust `json:"inboundTrust"`
	B2BCollaborationInbound      *CrossTenantB2BSetting   `json:"b2bCollaborationInbound"`
	B2BCollaborationOutbound     *CrossTenantB2BSetting   `json:"b2bCollaborationOutbound"`
	B2BDirectConnectInbound      *CrossTenantB2BSetting   `json:"b2bDirectConnectInbound"`
	B2BDirectConnectOutbound     *CrossTenantB2BSetting   `json:"b2bDirectConnectOutbound"`
	AutomaticUserConsentSettings *InboundOutboundPolicy   `json:"automaticUserConsentSettings"`
}

// CrossTenantInboundTrust is crossTenantAccessPolicyInboundTrust: the Conditional Access claims
// accepted from the other tenant.
type CrossTenantInboundTrust struct {
	IsMfaAccepted                       *bool `json:"isMfaAccepted"`
	IsCompliantDeviceAccepted           *bool `json:"isCompliantDeviceAccepted"`
	IsHybridAzureADJoinedDeviceAccepted *bool `json:"isHybridAzureADJoinedDeviceAccepted"`
}

// CrossTenantB2BSetting is crossTenantAccessPolicyB2BSetting: who and what a B2B setting applies to.
type CrossTenantB2BSetting struct {
	UsersAndGroups *CrossTenantTargetConfiguration `json:"usersAndGroups"`
	Applications   *CrossTenantTargetConfiguration `json:"applications"`
}

// CrossTenantTargetConfiguration is crossTenantAccessPolicyTargetConfiguration.
type CrossTenantTargetConfiguration struct {
	AccessType string              `json:"accessType"`
	Targets    []CrossTenantTarget `json:"targets"`
}

// CrossTenantTarget is crossTenantAccessPolicyTarget: a user, group or application id, or a keyword.
type CrossTenantTarget struct {
	Target     string `json:"target"`
	TargetType string `json:"targetType"`
}

// InboundOutboundPolicy is inboundOutboundPolicyConfiguration (automatic user consent).
type InboundOutboundPolicy struct {
	InboundAllowed  *bool `json:"inboundAllowed"`
	OutboundAllowed *bool `json:"outboundAllowed"`
}

// CrossTenantAccessDefault is crossTenantAccessPolicyConfigurationDefault.
type CrossTenantAccessDefault struct {
	IsServiceDefault bool `json:"isServiceDefault"`
	CrossTenantAccessSettings
}

// CrossTenantAccessPartner is crossTenantAccessPolicyConfigurationPartner; TenantID (lower case) is
// its key.
type CrossTenantAccessPartner struct {
	TenantID                    string `json:"tenantId"`
	IsServiceProvider           *bool  `json:"isServiceProvider"`
	IsInMultiTenantOrganization bool   `json:"isInMultiTenantOrganization"`
	CrossTenantAccessSettings
}

// partnerProps are the properties a POST or PATCH of a partner may set.
type partnerProps struct {
	TenantID          string `json:"tenantId"`
	IsServiceProvider *bool  `json:"isServiceProvider"`
	CrossTenantAccessSettings
}

func newPartnerSet() *objectSet[CrossTenantAccessPartner] {
	return newObjectSet(func(p *CrossTenantAccessPartner) string { return p.TenantID })
}

// allB2B is a B2B setting that applies to all users and all applications with one access type.
func allB2B(access string) *CrossTenantB2BSetting {
	return &CrossTenantB2BSetting{
		UsersAndGroups: &CrossTenantTargetConfiguration{AccessType: access, Targets: []CrossTenantTarget{{Target: "AllUsers", TargetType: "user"}}},
		Applications:   &CrossTenantTargetConfiguration{AccessType: access, Targets: []CrossTenantTarget{{Target: "AllApplications", TargetType: "application"}}},
	}
}

// serviceDefaultCrossTenantAccess is the system default configuration, as the documentation's GET
// example shows it: B2B collaboration allowed both ways, B2B direct connect blocked both ways, no
// inbound trust, no automatic user consent (always false in the default).
func serviceDefaultCrossTenantAccess() *CrossTenantAccessDefault {
	no := func() *bool { b := false; return &b }
	return &CrossTenantAccessDefault{IsServiceDefault: true, CrossTenantAccessSettings: CrossTenantAccessSettings{
		InboundTrust:                 &CrossTenantInboundTrust{IsMfaAccepted: no(), IsCompliantDeviceAccepted: no(), IsHybridAzureADJoinedDeviceAccepted: no()},
		B2BCollaborationInbound:      allB2B("allowed"),
		B2BCollaborationOutbound:     allB2B("allowed"),
		B2BDirectConnectInbound:      allB2B("blocked"),
		B2BDirectConnectOutbound:     allB2B("blocked"),
		AutomaticUserConsentSettings: &InboundOutboundPolicy{InboundAllowed: no(), OutboundAllowed: no()},
	}}
}

// mergeCrossTenantDefault applies a partial default configuration to cur: automatic user consent
// cannot be changed in the default (the documentation says it is always false), and the result is no
// longer the service default.
func mergeCrossTenantDefault(cur *CrossTenantAccessDefault, patch map[string]any) (*CrossTenantAccessDefault, *graphError) {
	if gerr := checkTopLevel(patch, "isServiceDefault", "automaticUserConsentSettings"); gerr != nil {
		return nil, gerr
	}
	var next CrossTenantAccessSettings
	if gerr := strictDecode(mergePatch(toJSONMap(cur.CrossTenantAccessSettings), patch), &next, "CrossTenantAccessPolicyConfigurationDefault"); gerr != nil {
		return nil, gerr
	}
	if gerr := next.validate(); gerr != nil {
		return nil, gerr
	}
	return &CrossTenantAccessDefault{IsServiceDefault: len(patch) == 0 && cur.IsServiceDefault, CrossTenantAccessSettings: next}, nil
}

// newPartner builds a partner configuration from a create body for a tenant whose own id is self.
func newPartner(self string, body map[string]any) (*CrossTenantAccessPartner, *graphError) {
	if gerr := checkTopLevel(body, "isInMultiTenantOrganization"); gerr != nil {
		return nil, gerr
	}
	var p partnerProps
	if gerr := strictDecode(body, &p, "CrossTenantAccessPolicyConfigurationPartner"); gerr != nil {
		return nil, gerr
	}
	id := strings.ToLower(strings.TrimSpace(p.TenantID))
	switch {
	case id == "":
		return nil, errRequired("tenantId")
	case !isGUID(id):
		return nil, errInvalidValue("tenantId", "CrossTenantAccessPolicyConfigurationPartner")
	case id == self:
		// Docs are silent; a tenant cannot be its own partner in the admin center, so refuse it.
		return nil, errBadRequest("A partner configuration cannot be created for the tenant's own id '%s'.", id)
	}
	if gerr := p.validate(); gerr != nil {
		return nil, gerr
	}
	p.normalize()
	return &CrossTenantAccessPartner{TenantID: id, IsServiceProvider: p.IsServiceProvider, CrossTenantAccessSettings: p.CrossTenantAccessSettings}, nil
}

// normalize drops an automatic user consent setting with neither direction configured.
func (s *CrossTenantAccessSettings) normalize() {
	if a := s.AutomaticUserConsentSettings; a != nil && a.InboundAllowed == nil && a.OutboundAllowed == nil {
		s.AutomaticUserConsentSettings = nil
	}
}

// validate checks the B2B settings: an access type of allowed or blocked and at least one target of
// the right kind in every configured part. The documentation lists the values; what it leaves open
// (empty target lists, a user target under applications) is refused, the stricter reading.
func (s *CrossTenantAccessSettings) validate() *graphError {
	for name, b := range map[string]*CrossTenantB2BSetting{
		"b2bCollaborationInbound": s.B2BCollaborationInbound, "b2bCollaborationOutbound": s.B2BCollaborationOutbound,
		"b2bDirectConnectInbound": s.B2BDirectConnectInbound, "b2bDirectConnectOutbound": s.B2BDirectConnectOutbound,
	} {
		if b == nil {
			continue
		}
		if gerr := b.UsersAndGroups.validate(name+".usersAndGroups", "user", "group"); gerr != nil {
			return gerr
		}
		if gerr := b.Applications.validate(name+".applications", "application"); gerr != nil {
			return gerr
		}
	}
	return nil
}

func (c *CrossTenantTargetConfiguration) validate(path string, types ...string) *graphError {
	if c == nil {
		return nil
	}
	if c.AccessType != "allowed" && c.AccessType != "blocked" {
		return errBadRequest("Invalid value '%s' for %s.accessType: it must be 'allowed' or 'blocked'.", c.AccessType, path)
	}
	if len(c.Targets) == 0 {
		return errBadRequest("%s.targets must name at least one target.", path)
	}
	for _, t := range c.Targets {
		ok := false
		for _, tp := range types {
			ok = ok || t.TargetType == tp
		}
		if !ok || !validTarget(t) {
			return errBadRequest("Invalid target '%s' of type '%s' in %s.", t.Target, t.TargetType, path)
		}
	}
	return nil
}

// validTarget: an object or application id (a GUID), or a documented keyword for the target type.
func validTarget(t CrossTenantTarget) bool {
	if isGUID(t.Target) {
		return true
	}
	switch t.TargetType {
	case "user":
		return t.Target == "AllUsers"
	case "application":
		return t.Target == "AllApplications" || t.Target == "AllMicrosoftApps" || t.Target == "Office365"
	}
	return false
}

// settingsProps are the schema properties of the inbound and outbound settings, shared by the default
// and partner configurations.
func settingsProps[T any](of func(*T) *CrossTenantAccessSettings) []prop[T] {
	return []prop[T]{
		{name: "inboundTrust", get: func(v *T) any { return of(v).InboundTrust }, v1Default: true},
		{name: "b2bCollaborationInbound", get: func(v *T) any { return of(v).B2BCollaborationInbound }, v1Default: true},
		{name: "b2bCollaborationOutbound", get: func(v *T) any { return of(v).B2BCollaborationOutbound }, v1Default: true},
		{name: "b2bDirectConnectInbound", get: func(v *T) any { return of(v).B2BDirectConnectInbound }, v1Default: true},
		{name: "b2bDirectConnectOutbound", get: func(v *T) any { return of(v).B2BDirectConnectOutbound }, v1Default: true},
		{name: "automaticUserConsentSettings", get: func(v *T) any {
			// Unless configured, both directions are null: they inherit the default (always false).
			if a := of(v).AutomaticUserConsentSettings; a != nil {
				return a
			}
			return &InboundOutboundPolicy{}
		}, v1Default: true},
	}
}

var crossTenantDefaultSchema = newSchema("CrossTenantAccessPolicyConfigurationDefault", "microsoft.graph.crossTenantAccessPolicyConfigurationDefault",
	append([]prop[CrossTenantAccessDefault]{
		{name: "isServiceDefault", get: func(d *CrossTenantAccessDefault) any { return d.IsServiceDefault }, v1Default: true},
	}, settingsProps(func(d *CrossTenantAccessDefault) *CrossTenantAccessSettings { return &d.CrossTenantAccessSettings })...))

var partnerSchema = newSchema("CrossTenantAccessPolicyConfigurationPartner", "microsoft.graph.crossTenantAccessPolicyConfigurationPartner",
	append([]prop[CrossTenantAccessPartner]{
		{name: "tenantId", get: func(p *CrossTenantAccessPartner) any { return p.TenantID }, v1Default: true, filter: filterEq},
		{name: "isServiceProvider", get: func(p *CrossTenantAccessPartner) any { return p.IsServiceProvider }, v1Default: true},
		{name: "isInMultiTenantOrganization", get: func(p *CrossTenantAccessPartner) any { return p.IsInMultiTenantOrganization }, v1Default: true},
	}, settingsProps(func(p *CrossTenantAccessPartner) *CrossTenantAccessSettings { return &p.CrossTenantAccessSettings })...))

// Permissions (https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-get and the default and
// partner pages): reading takes Policy.Read.All or Policy.ReadWrite.CrossTenantAccess; creating,
// updating and deleting a partner takes Policy.ReadWrite.CrossTenantAccess.
var (
	permCrossTenantRead  = []string{"Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess"}
	permCrossTenantWrite = []string{"Policy.ReadWrite.CrossTenantAccess"}
)

const partnerSet = "policies/crossTenantAccessPolicy/partners"

// partnerResource drives the generic handlers (collection_handlers.go) for partner configurations,
// keyed by tenant id.
var partnerResource = &resource[CrossTenantAccessPartner]{
	schema: partnerSchema, set: partnerSet, idOf: partnerLagKey,
	coll:     func(t *Tenant) *objectSet[CrossTenantAccessPartner] { return t.settings.partners },
	notFound: func(key string) *graphError { return errNotFound(key) },
}

// partnerLagKey is a partner's key in the replication model (lag.go): its tenant id, kept apart from
// directory object ids.
func partnerLagKey(p *CrossTenantAccessPartner) string {
	return "crossTenantAccessPartner:" + p.TenantID
}

func (s *Server) addCrossTenantAccessRoutes(rt *router) {
	rt.add(http.MethodGet, "/policies/crossTenantAccessPolicy", permCrossTenantRead, getCrossTenantAccessPolicy)
	rt.add(http.MethodGet, "/policies/crossTenantAccessPolicy/default", permCrossTenantRead,
		getSetting(crossTenantDefaultSchema, "policies/crossTenantAccessPolicy/default", func(s *tenantSettings) *CrossTenantAccessDefault { return s.ctaDefault }))
	rt.add(http.MethodGet, "/"+partnerSet, permCrossTenantRead, listPartners)
	rt.add(http.MethodPost, "/"+partnerSet, permCrossTenantWrite, createPartner)
	rt.add(http.MethodGet, "/"+partnerSet+"/{tenantId}", permCrossTenantRead, getPartner)
	rt.add(http.MethodPatch, "/"+partnerSet+"/{tenantId}", permCrossTenantWrite, updatePartner)
	rt.add(http.MethodDelete, "/"+partnerSet+"/{tenantId}", permCrossTenantWrite, deletePartner)
}

// getCrossTenantAccessPolicy implements GET /policies/crossTenantAccessPolicy: the base policy.
func getCrossTenantAccessPolicy(c *call) *graphError {
	if _, gerr := queryOptions(c); gerr != nil {
		return gerr
	}
	c.writeJSON(http.StatusOK, map[string]any{
		"@odata.context": contextURL(c, "policies/crossTenantAccessPolicy", nil, true),
		"displayName":    "CrossTenantAccessPolicy", "definition": []string{}, "allowedCloudEndpoints": []string{},
	})
	return nil
}

func listPartners(c *call) *graphError { return partnerResource.list(c) }

// partnerByTenantID is the finder for {tenantId}: the replicated partner configuration of that tenant.
func partnerByTenantID(c *call) (*CrossTenantAccessPartner, string) {
	key := c.param("tenantId")
	return visibleLocked(c.tenant, c.tenant.settings.partners.get(key), partnerLagKey), key
}

func getPartner(c *call) *graphError { return partnerResource.get(c, partnerByTenantID) }

// errPartnerExists is the answer to a second partner configuration for one tenant: 409
// Request_MultipleObjectsWithSameKeyValue, as the cross-tenant synchronization troubleshooting guide
// records it (https://learn.microsoft.com/entra/identity/multi-tenant-organizations/cross-tenant-synchronization-configure-graph#troubleshooting-tips).
func errPartnerExists() *graphError {
	return newGraphError(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue",
		"Another object with the same value for property tenantId already exists.").withDetail("tenantId", "ConflictingObjects")
}

// createPartner implements POST /policies/crossTenantAccessPolicy/partners: 201 with the
// configuration, 409 when the tenant has one already (even one still replicating: the directory
// enforces the key on write).
func createPartner(c *call) *graphError {
	body, gerr := parseEntityBody(c, "#microsoft.graph.crossTenantAccessPolicyConfigurationPartner")
	if gerr != nil {
		return gerr
	}
	t := c.tenant
	p, gerr := newPartner(t.ID, body)
	if gerr != nil {
		return gerr
	}
	t.mu.Lock()
	if t.settings.partners.get(p.TenantID) != nil {
		t.mu.Unlock()
		return errPartnerExists()
	}
	t.settings.partners.put(p)
	t.markCreated(partnerLagKey(p))
	t.touchLocked()
	t.mu.Unlock()
	writeCreated(c, partnerSchema.project(p, nil, c.version), partnerSet, "/"+partnerSet+"/"+p.TenantID)
	return nil
}

// updatePartner implements PATCH .../partners/{tenantId}: the body merges into the configuration
// (tenantId and isInMultiTenantOrganization are read-only); 204.
func updatePartner(c *call) *graphError {
	body, gerr := parseEntityBody(c, "#microsoft.graph.crossTenantAccessPolicyConfigurationPartner", "tenantId", "isInMultiTenantOrganization")
	if gerr != nil {
		return gerr
	}
	return partnerResource.patch(c, partnerByTenantID, func(t *Tenant, cur *CrossTenantAccessPartner) *graphError {
		merged := mergePatch(toJSONMap(partnerProps{IsServiceProvider: cur.IsServiceProvider, CrossTenantAccessSettings: cur.CrossTenantAccessSettings}), body)
		merged["tenantId"] = cur.TenantID
		next, gerr := newPartner(t.ID, merged)
		if gerr != nil {
			return gerr
		}
		next.IsInMultiTenantOrganization = cur.IsInMultiTenantOrganization
		t.settings.partners.put(next)
		return nil
	})
}

// deletePartner implements DELETE .../partners/{tenantId}: 204.
func deletePartner(c *call) *graphError {
	return partnerResource.remove(c, partnerByTenantID, func(t *Tenant, cur *CrossTenantAccessPartner) *graphError {
		t.settings.partners.remove(cur.TenantID)
		return nil
	})
}

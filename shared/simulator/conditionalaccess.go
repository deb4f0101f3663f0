package simulator

import (
	"net/http"
	"time"
)

// CAPolicy is a conditional access policy (https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy).
// It renders as stored: every list present ([] when empty), unset complex values null, as in the
// docs' example responses.
type CAPolicy struct {
	ID string `json:"id"`
	caProps
	CreatedDateTime  time.Time  `json:"createdDateTime"`
	ModifiedDateTime *time.Time `json:"modifiedDateTime"`
}

type caProps struct {
	DisplayName     string             `json:"displayName"`
	Description     *string            `json:"description"`
	State           string             `json:"state"`
	Conditions      caConditions       `json:"conditions"`
	GrantControls   *caGrantControls   `json:"grantControls"`
	SessionControls *caSessionControls `json:"sessionControls"`
}

type caConditions struct {
	Applications               *caApplications `json:"applications"`
	Users                      *caUsers        `json:"users"`
	ClientAppTypes             []string        `json:"clientAppTypes"`
	Platforms                  *caPlatforms    `json:"platforms"`
	Locations                  *caLocations    `json:"locations"`
	Devices                    *caDevices      `json:"devices"`
	SignInRiskLevels           []string        `json:"signInRiskLevels"`
	UserRiskLevels             []string        `json:"userRiskLevels"`
	ServicePrincipalRiskLevels []string        `json:"servicePrincipalRiskLevels"`
}

type caApplications struct {
	IncludeApplications                         []string `json:"includeApplications"`
	ExcludeApplications                         []string `json:"excludeApplications"`
	IncludeUserActions                          []string `json:"includeUserActions"`
	IncludeAuthenticationContextClassReferences []string `json:"includeAuthenticationContextClassReferences"`
}

type caUsers struct {
	IncludeUsers  []string `json:"includeUsers"`
	ExcludeUsers  []string `json:"excludeUsers"`
	IncludeGroups []string `json:"includeGroups"`
	ExcludeGroups []string `json:"excludeGroups"`
	IncludeRoles  []string `json:"includeRoles"`
	ExcludeRoles  []string `json:"excludeRoles"`
}

type caPlatforms struct {
	IncludePlatforms []string `json:"includePlatforms"`
	ExcludePlatforms []string `json:"excludePlatforms"`
}

type caLocations struct {
	IncludeLocations []string `json:"includeLocations"`
	ExcludeLocations []string `json:"excludeLocations"`
}

type caDevices struct {
	DeviceFilter *struct {
		Mode string `json:"mode"`
		Rule string `json:"rule"`
	} `json:"deviceFilter"`
}

type caGrantControls struct {
	Operator                    string   `json:"operator"`
	BuiltInControls             []string `json:"builtInControls"`
	CustomAuthenticationFactors []string `json:"customAuthenticationFactors"`
	TermsOfUse                  []string `json:"termsOfUse"`
}

type caSessionControls struct {
	ApplicationEnforcedRestrictions *caEnabled           `json:"applicationEnforcedRestrictions"`
	CloudAppSecurity                *caCloudAppSecurity  `json:"cloudAppSecurity"`
	PersistentBrowser               *caPersistentBrowser `json:"persistentBrowser"`
	SignInFrequency                 *caSignInFrequency   `json:"signInFrequency"`
	DisableResilienceDefaults       *bool                `json:"disableResilienceDefaults"`
}

type caEnabled struct {
	IsEnabled *bool `json:"isEnabled"`
}

type caCloudAppSecurity struct {
	IsEnabled            *bool   `json:"isEnabled"`
	CloudAppSecurityType *string `json:"cloudAppSecurityType"`
}

type caPersistentBrowser struct {
	IsEnabled *bool   `json:"isEnabled"`
	Mode      *string `json:"mode"`
}

type caSignInFrequency struct {
	IsEnabled          *bool   `json:"isEnabled"`
	Type               *string `json:"type"`
	Value              *int    `json:"value"`
	FrequencyInterval  *string `json:"frequencyInterval"`
	AuthenticationType *string `json:"authenticationType"`
}

// Special values of the conditions (https://learn.microsoft.com/graph/api/resources/conditionalaccessusers,
// conditionalaccessapplications, conditionalaccesslocations).
const (
	caAll                   = "All"
	caNone                  = "None"
	caGuestsOrExternalUsers = "GuestsOrExternalUsers"
	caAllTrusted            = "AllTrusted"
	caMFATrustedIPs         = "00000000-0000-0000-0000-000000000000" // the legacy "MFA trusted IPs" location
)

var (
	caStates        = []string{"enabled", "disabled", "enabledForReportingButNotEnforced"}
	caClientApps    = []string{"all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "easSupported", "other"}
	caPlatformNames = []string{"all", "android", "iOS", "windows", "windowsPhone", "macOS", "linux"}
	caRiskLevels    = []string{"low", "medium", "high", "hidden", "none"}
	caBuiltIns      = []string{"block", "mfa", "compliantDevice", "domainJoinedDevice", "approvedApplication", "compliantApplication", "passwordChange"}
	caAppSpecials   = []string{caAll, caNone, "Office365", "MicrosoftAdminPortals"}
	caUserActions   = []string{"urn:user:registersecurityinfo", "urn:user:registerdevice"}
)

const caPolicySet = "identity/conditionalAccess/policies"

func (s *Server) addConditionalAccessRoutes(rt *router) {
	rt.add(http.MethodGet, "/"+caPolicySet, permCARead, caPolicyResource.list)
	rt.add(http.MethodPost, "/"+caPolicySet, permCAWrite, createCAPolicy)
	rt.add(http.MethodGet, "/"+caPolicySet+"/{id}", permCARead, getCAPolicy)
	rt.add(http.MethodPatch, "/"+caPolicySet+"/{id}", permCAWrite, updateCAPolicy)
	rt.add(http.MethodDelete, "/"+caPolicySet+"/{id}", permCAWrite, deleteCAPolicy)
	s.addNamedLocationRoutes(rt)
}

// caWriteAllowed: creating or changing a policy takes Policy.ReadWrite.ConditionalAccess (checked by
// the route) and Policy.Read.All, or Application.Read.All as the docs' higher-privileged pair
// (https://learn.microsoft.com/graph/api/conditionalaccessroot-post-policies).
func caWriteAllowed(c *call) *graphError {
	return requireAlso(c, "Policy.Read.All", "Application.Read.All")
}

func caPolicyID(p *CAPolicy) string { return p.ID }

// caPolicySchema drives $select, $filter and $orderby.
var caPolicySchema = newSchema("ConditionalAccessPolicy", "microsoft.graph.conditionalAccessPolicy", []prop[CAPolicy]{
	{name: "id", get: func(p *CAPolicy) any { return p.ID }, v1Default: true, filter: filterEq},
	{name: "displayName", get: func(p *CAPolicy) any { return p.DisplayName }, v1Default: true, filter: filterEqStarts, orderBy: true},
	{name: "state", get: func(p *CAPolicy) any { return p.State }, v1Default: true, filter: filterEq},
	{name: "createdDateTime", get: func(p *CAPolicy) any { return p.CreatedDateTime }, v1Default: true, filter: filterEq},
	{name: "modifiedDateTime", get: func(p *CAPolicy) any { return timeOrZero(p.ModifiedDateTime) }, v1Default: true},
	{name: "conditions", get: func(p *CAPolicy) any { return p.Conditions }, v1Default: true},
	{name: "grantControls", get: func(p *CAPolicy) any { return p.GrantControls }, v1Default: true},
	{name: "sessionControls", get: func(p *CAPolicy) any { return p.SessionControls }, v1Default: true},
})

func (p *CAPolicy) render() map[string]any {
	out := toJSONMap(p)
	out["createdDateTime"] = jsonValue(p.CreatedDateTime)
	out["modifiedDateTime"] = jsonValue(timeOrZero(p.ModifiedDateTime))
	return out
}

// caPolicyResource drives the generic handlers (collection_handlers.go) for conditional access
// policies, rendered as stored without their @odata.type.
var caPolicyResource = &resource[CAPolicy]{
	schema: caPolicySchema, set: caPolicySet, idOf: caPolicyID,
	coll:     func(t *Tenant) *objectSet[CAPolicy] { return t.objs.policies },
	notFound: func(key string) *graphError { return errCANotFound("ConditionalAccessPolicy", key) },
	render: func(p *CAPolicy, sel []string) map[string]any {
		out := selectRendered(p.render(), sel)
		delete(out, "@odata.type")
		return out
	},
}

func getCAPolicy(c *call) *graphError { return caPolicyResource.get(c, caPolicyResource.byID) }

// parseCABody reads a policy body; its @odata.type is not checked.
func parseCABody(c *call) (map[string]any, *graphError) {
	return parseEntityBody(c, "", "id", "createdDateTime", "modifiedDateTime", "templateId")
}

// createCAPolicy implements POST /identity/conditionalAccess/policies: 201 with the policy.
func createCAPolicy(c *call) *graphError {
	if gerr := caWriteAllowed(c); gerr != nil {
		return gerr
	}
	body, gerr := parseCABody(c)
	if gerr != nil {
		return gerr
	}
	p, gerr := decodeCAPolicy(body)
	if gerr != nil {
		return gerr
	}
	pol := &CAPolicy{ID: newGUID(), caProps: *p, CreatedDateTime: c.srv.now().UTC()}
	t := c.tenant
	t.mu.Lock()
	if gerr = t.checkCAReferencesLocked(p); gerr == nil {
		t.objs.policies.put(pol)
		t.markCreated(pol.ID)
		t.touchLocked()
	}
	t.mu.Unlock()
	if gerr != nil {
		return gerr
	}
	writeCreated(c, pol.render(), "conditionalAccess/policies", "/"+caPolicySet+"/"+pol.ID)
	return nil
}

// updateCAPolicy implements PATCH (complex properties merge, as the docs' update examples rely on): 204.
func updateCAPolicy(c *call) *graphError {
	if gerr := caWriteAllowed(c); gerr != nil {
		return gerr
	}
	body, gerr := parseCABody(c)
	if gerr != nil {
		return gerr
	}
	return caPolicyResource.patch(c, caPolicyResource.byID, func(t *Tenant, cur *CAPolicy) *graphError {
		p, gerr := decodeCAPolicy(mergePatch(toJSONMap(cur.caProps), body))
		if gerr != nil {
			return gerr
		}
		if gerr := t.checkCAReferencesLocked(p); gerr != nil {
			return gerr
		}
		next := *cur
		next.caProps = *p
		now := c.srv.now().UTC()
		next.ModifiedDateTime = &now
		t.objs.policies.put(&next)
		return nil
	})
}

func deleteCAPolicy(c *call) *graphError {
	if gerr := caWriteAllowed(c); gerr != nil {
		return gerr
	}
	return caPolicyResource.remove(c, caPolicyResource.byID, func(t *Tenant, cur *CAPolicy) *graphError {
		t.objs.policies.remove(cur.ID)
		return nil
	})
}

package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Tenant-wide settings: the organization's profile beyond its name and domains, the authorization
// policy (authorizationpolicy.go) and the cross-tenant access policy with its partners
// (crosstenantaccess.go). Each tenant starts with the service defaults Microsoft documents; the
// tenants file may override them:
//
//	"organization": {"countryLetterCode": "DE", "preferredLanguage": "de"},
//	"policies": {"authorization": {"allowInvitesFrom": "adminsAndGuestInviters"},
//	             "crossTenantAccess": {"default": {"inboundTrust": {"isMfaAccepted": true}},
//	                                   "partners": [{"tenantId": "<guid>", "isServiceProvider": true}]}}
//
// Overrides use Graph's property names and are merged onto the defaults (objects key by key, arrays
// replace), then checked as the API would check them.

// OrganizationConfig sets organization properties beyond the display name and domains; empty fields
// keep the defaults (countryLetterCode US, preferredLanguage en, no technical notification mails).
type OrganizationConfig struct {
	CountryLetterCode          string   `json:"countryLetterCode,omitempty"`
	PreferredLanguage          string   `json:"preferredLanguage,omitempty"`
	TechnicalNotificationMails []string `json:"technicalNotificationMails,omitempty"`
}

// PoliciesConfig overrides a tenant's tenant-wide policies. Authorization is a partial
// authorizationPolicy; omitted properties keep the service defaults.
type PoliciesConfig struct {
	Authorization     map[string]any           `json:"authorization,omitempty"`
	CrossTenantAccess *CrossTenantAccessConfig `json:"crossTenantAccess,omitempty"`
}

// CrossTenantAccessConfig overrides the cross-tenant access policy: Default is a partial
// crossTenantAccessPolicyConfigurationDefault (isServiceDefault turns false when it is set), Partners
// are partner configurations as POST .../partners takes them.
type CrossTenantAccessConfig struct {
	Default  map[string]any   `json:"default,omitempty"`
	Partners []map[string]any `json:"partners,omitempty"`
}

// tenantSettings is a tenant's tenant-wide settings, guarded by Tenant.mu. Values are replaced, never
// mutated in place.
type tenantSettings struct {
	org           organizationProfile
	authorization *AuthorizationPolicy
	ctaDefault    *CrossTenantAccessDefault
	partners      *objectSet[CrossTenantAccessPartner]
}

// organizationProfile is the organization's configured profile.
type organizationProfile struct {
	CountryLetterCode          string
	PreferredLanguage          string
	TechnicalNotificationMails []string
}

// newTenantSettings builds a tenant's settings from its configuration: defaults, then overrides.
func newTenantSettings(tc *TenantConfig) (*tenantSettings, error) {
	s := &tenantSettings{
		org:           organizationProfile{CountryLetterCode: "US", PreferredLanguage: "en", TechnicalNotificationMails: []string{}},
		authorization: defaultAuthorizationPolicy(),
		ctaDefault:    serviceDefaultCrossTenantAccess(),
		partners:      newPartnerSet(),
	}
	if o := tc.Organization; o != nil {
		if o.CountryLetterCode != "" {
			if len(o.CountryLetterCode) != 2 || !strings.Contains(isoCountries, " "+o.CountryLetterCode+" ") {
				return nil, fmt.Errorf("organization.countryLetterCode %q is not an ISO 3166 alpha-2 code", o.CountryLetterCode)
			}
			s.org.CountryLetterCode = o.CountryLetterCode
		}
		if o.PreferredLanguage != "" {
			s.org.PreferredLanguage = o.PreferredLanguage
		}
		if o.TechnicalNotificationMails != nil {
			s.org.TechnicalNotificationMails = append([]string{}, o.TechnicalNotificationMails...)
		}
	}
	p := tc.Policies
	if p == nil {
		return s, nil
	}
	if p.Authorization != nil {
		ap, gerr := mergeAuthorizationPolicy(s.authorization, p.Authorization)
		if gerr != nil {
			return nil, fmt.Errorf("policies.authorization: %s", gerr.message)
		}
		s.authorization = ap
	}
	if cta := p.CrossTenantAccess; cta != nil {
		if cta.Default != nil {
			d, gerr := mergeCrossTenantDefault(s.ctaDefault, cta.Default)
			if gerr != nil {
				return nil, fmt.Errorf("policies.crossTenantAccess.default: %s", gerr.message)
			}
			s.ctaDefault = d
		}
		for i, body := range cta.Partners {
			partner, gerr := newPartner(strings.ToLower(tc.ID), body)
			if gerr == nil && s.partners.get(partner.TenantID) != nil {
				gerr = errPartnerExists()
			}
			if gerr != nil {
				return nil, fmt.Errorf("policies.crossTenantAccess.partners[%d]: %s", i, gerr.message)
			}
			s.partners.put(partner)
		}
	}
	return s, nil
}

// validateSettings checks the organization and policies overrides of a tenant.
func (t *TenantConfig) validateSettings() error {
	_, err := newTenantSettings(t)
	return err
}

// initSettings gives a new tenant its settings; the configuration was validated (Config.Validate).
func (t *Tenant) initSettings(tc *TenantConfig) {
	s, err := newTenantSettings(tc)
	if err != nil {
		panic(fmt.Errorf("tenant %s: %w", tc.Name, err)) // unreachable: New validates the configuration
	}
	t.settings = s
}

// organizationLocked renders the organization resource (https://learn.microsoft.com/graph/api/resources/organization)
// with the properties the simulator models; the rest are null or empty, as in a new tenant. The caller
// holds t.mu.
func (t *Tenant) organizationLocked() map[string]any {
	verified := []map[string]any{}
	for _, d := range t.domains {
		if d.IsVerified {
			verified = append(verified, map[string]any{
				"name": d.ID, "isDefault": d.IsDefault, "isInitial": d.IsInitial,
				"type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline",
			})
		}
	}
	o := t.settings.org
	return map[string]any{
		"id": t.ID, "displayName": t.DisplayName, "tenantType": "AAD", "deletedDateTime": nil,
		"createdDateTime": jsonValue(t.Created), "verifiedDomains": verified,
		"countryLetterCode": o.CountryLetterCode, "preferredLanguage": o.PreferredLanguage,
		"technicalNotificationMails": append([]string{}, o.TechnicalNotificationMails...),
		"businessPhones":             []string{}, "city": nil, "country": nil, "postalCode": nil, "state": nil, "street": nil,
		"marketingNotificationEmails": []string{}, "securityComplianceNotificationMails": []string{},
		"securityComplianceNotificationPhones": []string{}, "onPremisesSyncEnabled": nil, "onPremisesLastSyncDateTime": nil,
		"assignedPlans": []any{}, "provisionedPlans": []any{}, "privacyProfile": nil,
	}
}

// getOrganization implements GET /organization/{id}: the caller's own tenant only.
func getOrganization(c *call) *graphError {
	q, gerr := queryOptions(c, "$select")
	if gerr != nil {
		return gerr
	}
	t := c.tenant
	if !strings.EqualFold(c.param("id"), t.ID) {
		return errNotFound(c.param("id"))
	}
	t.mu.RLock()
	org := t.organizationLocked()
	t.mu.RUnlock()
	body, gerr := selectMap(org, q.Get("$select"), "microsoft.graph.organization")
	if gerr != nil {
		return gerr
	}
	body["@odata.context"] = contextURL(c, "organization", nil, true)
	c.writeJSON(http.StatusOK, body)
	return nil
}

// selectMap keeps the $select-ed properties of a rendered object (all of them when raw is empty);
// a name the object does not have is Graph's 400.
func selectMap(out map[string]any, raw, qualName string) (map[string]any, *graphError) {
	if raw == "" {
		return out, nil
	}
	kept := map[string]any{}
	for _, name := range strings.Split(raw, ",") {
		name = strings.TrimSpace(name)
		found := false
		for k, v := range out {
			if strings.EqualFold(k, name) {
				kept[k], found = v, true
			}
		}
		if !found {
			return nil, errBadRequest("Could not find a property named '%s' on type '%s'.", name, qualName)
		}
	}
	return kept, nil
}

// getSetting is the GET handler of a singleton setting at path (its @odata.context set): $select
// parsed against s, 200 with the tenant's current value.
func getSetting[T any](s *schema[T], path string, of func(*tenantSettings) *T) handlerFunc {
	return func(c *call) *graphError {
		sel, gerr := selectOnly(c, s)
		if gerr != nil {
			return gerr
		}
		c.tenant.mu.RLock()
		v := of(c.tenant.settings)
		c.tenant.mu.RUnlock()
		body := s.project(v, sel, c.version)
		body["@odata.context"] = contextURL(c, path, sel, true)
		c.writeJSON(http.StatusOK, body)
		return nil
	}
}

// addTenantSettingsRoutes registers the organization by id, the authorization policy and the
// cross-tenant access policy with its default and partner configurations.
func (s *Server) addTenantSettingsRoutes(rt *router) {
	rt.add(http.MethodGet, "/organization/{id}", permOrgRead, getOrganization)
	s.addAuthorizationPolicyRoutes(rt)
	s.addCrossTenantAccessRoutes(rt)
}

// settingsState is the persisted form of a tenant's settings that Graph or a seed file can change.
type settingsState struct {
	Authorization *AuthorizationPolicy        `json:"authorizationPolicy,omitempty"`
	Default       *CrossTenantAccessDefault   `json:"crossTenantAccessDefault,omitempty"`
	Partners      []*CrossTenantAccessPartner `json:"crossTenantAccessPartners"`
}

// settingsStateLocked snapshots the settings to save. The caller holds t.mu.
func (t *Tenant) settingsStateLocked() *settingsState {
	s := t.settings
	return &settingsState{Authorization: s.authorization, Default: s.ctaDefault, Partners: s.partners.list()}
}

// restoreSettingsLocked replaces the configured settings with saved ones; nil (a file saved before
// settings existed) keeps the configured ones. The caller holds t.mu.
func (t *Tenant) restoreSettingsLocked(st *settingsState) {
	if st == nil {
		return
	}
	s := *t.settings
	if st.Authorization != nil {
		s.authorization = st.Authorization
	}
	if st.Default != nil {
		s.ctaDefault = st.Default
	}
	s.partners = newPartnerSet()
	for _, p := range st.Partners {
		s.partners.put(p)
	}
	t.settings = &s
}

// dumpSettingsLocked renders the settings for the admin dump, as GET answers them. The caller holds
// t.mu.
func (t *Tenant) dumpSettingsLocked() map[string]any {
	s := t.settings
	partners := make([]map[string]any, 0, s.partners.len())
	for _, p := range s.partners.list() {
		partners = append(partners, partnerSchema.project(p, nil, "beta"))
	}
	return map[string]any{
		"authorizationPolicy":       renderAuthorizationPolicy(s.authorization, nil),
		"crossTenantAccessDefault":  crossTenantDefaultSchema.project(s.ctaDefault, nil, "beta"),
		"crossTenantAccessPartners": partners,
	}
}

// seedSetting loads a singleton setting from a seed file section: its annotations and the read-only
// properties dropped, the rest applied by set to a copy of the tenant's settings, which replaces them
// when set accepts it.
func seedSetting(set func(s *tenantSettings, m map[string]any) *graphError, readOnly ...string) func(t *Tenant, raw json.RawMessage) error {
	return func(t *Tenant, raw json.RawMessage) error {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		for _, k := range readOnly {
			delete(m, k)
		}
		s := *t.settings
		if gerr := set(&s, stripAnnotations(m).(map[string]any)); gerr != nil {
			return fmt.Errorf("%s", gerr.message)
		}
		t.settings = &s
		return nil
	}
}

// Seed file sections for the settings: a dump loads back (seed_file.go). Read-only properties in a
// dump (id, displayName, isServiceDefault...) are ignored; what is modelled is checked as the API would.
func init() {
	registerSeedSection("authorizationPolicy", seedSetting(func(s *tenantSettings, m map[string]any) *graphError {
		ap, gerr := mergeAuthorizationPolicy(defaultAuthorizationPolicy(), m)
		s.authorization = ap
		return gerr
	}, "id", "displayName", "description"))
	registerSeedSection("crossTenantAccessDefault", seedSetting(func(s *tenantSettings, m map[string]any) *graphError {
		d, gerr := mergeCrossTenantDefault(serviceDefaultCrossTenantAccess(), m)
		s.ctaDefault = d
		return gerr
	}, "isServiceDefault", "automaticUserConsentSettings"))
	registerSeedSection("crossTenantAccessPartners", func(t *Tenant, raw json.RawMessage) error {
		items, err := seedItems(raw)
		if err != nil {
			return err
		}
		s := *t.settings
		s.partners = newPartnerSet()
		for _, p := range t.settings.partners.list() {
			s.partners.put(p)
		}
		for _, m := range items {
			delete(m, "isInMultiTenantOrganization")
			p, gerr := newPartner(t.ID, stripAnnotations(m).(map[string]any))
			if gerr != nil {
				return fmt.Errorf("partner %v: %s", m["tenantId"], gerr.message)
			}
			s.partners.put(p)
		}
		t.settings = &s
		return nil
	})
}

package simulator

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// validate checks the writable properties on their own (the checks needing the tenant are in
// checkAppLocked). prev is the application being updated, or nil on create.
func (p *appProps) validate(prev *Application) *graphError {
	if strings.TrimSpace(p.DisplayName) == "" {
		return errRequired("displayName")
	}
	if utf8.RuneCountInString(p.DisplayName) > 256 {
		return errInvalidValue("displayName", "Application")
	}
	if !slices.Contains(signInAudiences, p.SignInAudience) {
		return errInvalidValue("signInAudience", "Application")
	}
	if p.UniqueName != nil && !uniqueNameRE.MatchString(*p.UniqueName) {
		return errInvalidValue("uniqueName", "Application")
	}
	if gerr := checkGroupMembershipClaims(p.GroupMembershipClaims); gerr != nil {
		return gerr
	}
	if gerr := validateAppRoles(p.AppRoles, p.API.OAuth2PermissionScopes); gerr != nil {
		return gerr
	}
	if gerr := validateRequiredResourceAccess(p.RequiredResourceAccess); gerr != nil {
		return gerr
	}
	if gerr := validateRedirects(p); gerr != nil {
		return gerr
	}
	if gerr := validateAPI(p); gerr != nil {
		return gerr
	}
	if len(p.PasswordCredentials) > 0 || len(p.KeyCredentials) > 0 {
		// https://learn.microsoft.com/graph/api/application-update: "Using PATCH to set
		// passwordCredential is not supported. Use the addPassword and removePassword methods".
		// Certificates (keyCredentials) are not simulated; refusing them is the stricter choice.
		return errBadRequest("Property 'passwordCredentials' and 'keyCredentials' cannot be set on an application; use addPassword.")
	}
	if prev != nil {
		return checkEnabledPermissionsKept(prev, p)
	}
	return nil
}

func checkGroupMembershipClaims(v *string) *graphError {
	if v == nil {
		return nil
	}
	for _, part := range strings.Split(*v, ",") {
		if !slices.Contains([]string{"None", "SecurityGroup", "All", "DirectoryRole", "ApplicationGroup"}, strings.TrimSpace(part)) {
			return errInvalidValue("groupMembershipClaims", "Application")
		}
	}
	return nil
}

// validateAppRoles checks ids, member types, names and that every value is unique across app roles
// and delegated scopes, as Entra requires.
func validateAppRoles(roles []AppRole, scopes []PermissionScope) *graphError {
	ids, values := map[string]bool{}, map[string]bool{}
	for _, r := range roles {
		bad := !isGUID(r.ID) || ids[strings.ToLower(r.ID)] || len(r.AllowedMemberTypes) == 0 ||
			strings.TrimSpace(r.DisplayName) == "" || strings.TrimSpace(r.Description) == ""
		for _, m := range r.AllowedMemberTypes {
			bad = bad || (m != "User" && m != "Application")
		}
		if r.Value != nil {
			bad = bad || !permissionValueRE.MatchString(*r.Value) || len(*r.Value) > 249 || values[strings.ToLower(*r.Value)]
			values[strings.ToLower(*r.Value)] = true
		}
		if bad {
			return errInvalidValue("appRoles", "Application")
		}
		ids[strings.ToLower(r.ID)] = true
	}
	for _, s := range scopes {
		bad := !isGUID(s.ID) || ids[strings.ToLower(s.ID)] || (s.Type != "User" && s.Type != "Admin") ||
			strings.TrimSpace(s.AdminConsentDisplayName) == "" || strings.TrimSpace(s.AdminConsentDescription) == ""
		if s.Value != nil {
			bad = bad || !permissionValueRE.MatchString(*s.Value) || len(*s.Value) > 120 || values[strings.ToLower(*s.Value)]
			values[strings.ToLower(*s.Value)] = true
		}
		if bad {
			return errInvalidValue("oauth2PermissionScopes", "Application")
		}
		ids[strings.ToLower(s.ID)] = true
	}
	return nil
}

func validateRequiredResourceAccess(list []RequiredResourceAccess) *graphError {
	seen := map[string]bool{}
	for _, r := range list {
		if !isGUID(r.ResourceAppID) || seen[strings.ToLower(r.ResourceAppID)] {
			return errInvalidValue("requiredResourceAccess", "Application")
		}
		seen[strings.ToLower(r.ResourceAppID)] = true
		for _, a := range r.ResourceAccess {
			if !isGUID(a.ID) || (a.Type != "Scope" && a.Type != "Role") {
				return errInvalidValue("requiredResourceAccess", "Application")
			}
		}
	}
	return nil
}

// validateRedirects applies the redirect URI restrictions
// (https://learn.microsoft.com/entra/identity-platform/reply-url): absolute, at most 256 characters,
// https except for localhost on web and spa; public clients may use custom schemes.
func validateRedirects(p *appProps) *graphError {
	check := func(uris []string, name string, custom bool) *graphError {
		seen := map[string]bool{}
		for _, raw := range uris {
			u, err := url.Parse(raw)
			ok := err == nil && u.Scheme != "" && len(raw) <= 256 && !seen[raw] && !strings.Contains(raw, "#")
			if ok && !custom {
				host := strings.ToLower(u.Hostname())
				ok = u.Host != "" && (u.Scheme == "https" || (u.Scheme == "http" && (host == "localhost" || host == "127.0.0.1")))
			}
			if !ok {
				return errInvalidValue(name, "Application")
			}
			seen[raw] = true
		}
		return nil
	}
	if gerr := check(p.Web.RedirectURIs, "web.redirectUris", false); gerr != nil {
		return gerr
	}
	if gerr := check(p.Spa.RedirectURIs, "spa.redirectUris", false); gerr != nil {
		return gerr
	}
	return check(p.PublicClient.RedirectURIs, "publicClient.redirectUris", true)
}

func validateAPI(p *appProps) *graphError {
	if v := p.API.RequestedAccessTokenVersion; v != nil && *v != 1 && *v != 2 {
		return errInvalidValue("api.requestedAccessTokenVersion", "Application")
	}
	personal := p.SignInAudience == "AzureADandPersonalMicrosoftAccount" || p.SignInAudience == "PersonalMicrosoftAccount"
	if personal && (p.API.RequestedAccessTokenVersion == nil || *p.API.RequestedAccessTokenVersion != 2) {
		// Apps that accept personal accounts must use v2 access tokens
		// (https://learn.microsoft.com/entra/identity-platform/reference-app-manifest#accesstokenacceptedversion-attribute).
		return errBadRequest("Property api.requestedAccessTokenVersion is invalid.").withDetail("api.requestedAccessTokenVersion", codeInvalidValue)
	}
	for _, id := range p.API.KnownClientApplications {
		if !isGUID(id) {
			return errInvalidValue("api.knownClientApplications", "Application")
		}
	}
	for _, pre := range p.API.PreAuthorizedApplications {
		if !isGUID(pre.AppID) {
			return errInvalidValue("api.preAuthorizedApplications", "Application")
		}
	}
	return nil
}

// checkEnabledPermissionsKept refuses to remove or rename an app role or scope that is still enabled:
// Entra answers "Permission (scope or role) cannot be deleted or updated unless disabled first."
func checkEnabledPermissionsKept(prev *Application, next *appProps) *graphError {
	const msg = "Permission (scope or role) cannot be deleted or updated unless disabled first."
	value := func(v *string) string { return strings.ToLower(strPtrOr(v, "")) }
	for _, old := range prev.AppRoles {
		if !old.IsEnabled {
			continue
		}
		var found *AppRole
		for i := range next.AppRoles {
			if strings.EqualFold(next.AppRoles[i].ID, old.ID) {
				found = &next.AppRoles[i]
			}
		}
		if found == nil || value(found.Value) != value(old.Value) {
			return errBadRequest(msg).withDetail("appRoles", "CannotDeleteOrUpdateEnabledEntitlement")
		}
	}
	for _, old := range prev.API.OAuth2PermissionScopes {
		if !old.IsEnabled {
			continue
		}
		var found *PermissionScope
		for i := range next.API.OAuth2PermissionScopes {
			if strings.EqualFold(next.API.OAuth2PermissionScopes[i].ID, old.ID) {
				found = &next.API.OAuth2PermissionScopes[i]
			}
		}
		if found == nil || value(found.Value) != value(old.Value) {
			return errBadRequest(msg).withDetail("oauth2PermissionScopes", "CannotDeleteOrUpdateEnabledEntitlement")
		}
	}
	return nil
}

func strPtrOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// identifierURIAllowedLocked applies the identifier URI restrictions
// (https://learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions): api://<appId>,
// api://<tenantId>/<string>, api://<string>/<appId>, or an api or https URI whose host is a verified
// domain of the tenant (initial domain included) or a subdomain of one. Other schemes are refused,
// as for new applications. The caller holds t.mu.
func (t *Tenant) identifierURIAllowedLocked(raw, appID string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || len(raw) > 255 {
		return false
	}
	host := strings.ToLower(u.Hostname())
	path := strings.Trim(u.Path, "/")
	switch strings.ToLower(u.Scheme) {
	case "api":
		switch {
		case strings.EqualFold(host, appID):
			return true
		case host == t.ID:
			return path != ""
		case strings.EqualFold(path, appID):
			return true
		}
		return path != "" && t.onVerifiedDomainLocked(host)
	case "https":
		return t.onVerifiedDomainLocked(host)
	}
	return false
}

// onVerifiedDomainLocked reports whether host is a verified domain of the tenant or a subdomain of one.
func (t *Tenant) onVerifiedDomainLocked(host string) bool {
	for _, d := range t.domains {
		if d.IsVerified && (strings.EqualFold(host, d.ID) || strings.HasSuffix(host, "."+strings.ToLower(d.ID))) {
			return true
		}
	}
	return false
}

// errHostNotVerified is Entra's answer to an identifier URI outside the tenant's verified domains.
func errHostNotVerified(uri string) *graphError {
	return newGraphError(400, "HostNameNotOnVerifiedDomain",
		"Values of identifierUris property must use a verified domain of the organization or its subdomain: '%s'", uri).
		withDetail("identifierUris", "HostNameNotOnVerifiedDomain")
}

// checkAppLocked enforces the rules that need the tenant: identifier URIs allowed and unused by
// another application, uniqueName unused. self is the application being replaced, or nil.
func (t *Tenant) checkAppLocked(a *Application, self *Application) *graphError {
	seen := map[string]bool{}
	for _, uri := range a.IdentifierURIs {
		if !t.identifierURIAllowedLocked(uri, a.AppID) {
			return errHostNotVerified(uri)
		}
		if seen[strings.ToLower(uri)] {
			return errInvalidValue("identifierUris", "Application")
		}
		seen[strings.ToLower(uri)] = true
	}
	for _, other := range t.objs.apps.list() {
		if self != nil && other.ID == self.ID {
			continue
		}
		for _, uri := range other.IdentifierURIs {
			if seen[strings.ToLower(uri)] {
				return errConflict("identifierUris")
			}
		}
		if a.UniqueName != nil && other.UniqueName != nil && strings.EqualFold(*a.UniqueName, *other.UniqueName) {
			return errConflict("uniqueName")
		}
	}
	return nil
}

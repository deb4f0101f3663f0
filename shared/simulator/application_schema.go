package simulator

// applicationSchema is the application resource
// (https://learn.microsoft.com/graph/api/resources/application#properties). v1.0 returns every
// property by default; properties the simulator does not model render with the values Graph gives a
// new app registration. Filter support follows the same page (appId, identifierUris, displayName,
// signInAudience, uniqueName, tags); passwordCredentials render metadata only, never a secret.
var applicationSchema = newSchema("Application", "microsoft.graph.application", []prop[Application]{
	appStr("id", func(a *Application) string { return a.ID }, filterEq),
	{name: "addIns", get: func(*Application) any { return []any{} }, v1Default: true},
	{name: "api", get: func(a *Application) any { return renderAPI(a.API) }, v1Default: true},
	appStr("appId", func(a *Application) string { return a.AppID }, filterEq),
	{name: "applicationTemplateId", get: func(*Application) any { return nil }, v1Default: true},
	{name: "appRoles", get: func(a *Application) any { return nonNil(a.AppRoles) }, v1Default: true},
	{name: "certification", get: func(*Application) any { return nil }, v1Default: true},
	{name: "createdDateTime", get: func(a *Application) any { return a.CreatedDateTime }, v1Default: true, filter: filterAdvancedOn},
	{name: "defaultRedirectUri", get: func(*Application) any { return nil }, v1Default: true},
	{name: "deletedDateTime", get: func(a *Application) any { return timeOrZero(a.DeletedDateTime) }, v1Default: true},
	{name: "description", get: func(a *Application) any { return strPtrOr(a.Description, "") }, v1Default: true, filter: filterEqStarts},
	{name: "disabledByMicrosoftStatus", get: func(*Application) any { return nil }, v1Default: true},
	{name: "displayName", get: func(a *Application) any { return a.DisplayName }, v1Default: true, filter: filterEqStarts, orderBy: true},
	{name: "groupMembershipClaims", get: func(a *Application) any { return strPtrOr(a.GroupMembershipClaims, "") }, v1Default: true},
	{name: "identifierUris", get: func(a *Application) any { return nonNil(a.IdentifierURIs) }, v1Default: true, filter: filterEqStarts},
	{name: "info", get: func(a *Application) any { return a.Info }, v1Default: true},
	{name: "isDeviceOnlyAuthSupported", get: func(*Application) any { return nil }, v1Default: true},
	{name: "isFallbackPublicClient", get: func(a *Application) any { return boolPtrValue(a.IsFallbackPublicClient) }, v1Default: true},
	{name: "keyCredentials", get: func(*Application) any { return []any{} }, v1Default: true},
	{name: "notes", get: func(a *Application) any { return strPtrOr(a.Notes, "") }, v1Default: true},
	{name: "oauth2RequirePostResponse", get: func(*Application) any { return false }, v1Default: true},
	{name: "optionalClaims", get: func(*Application) any { return nil }, v1Default: true},
	{name: "parentalControlSettings", get: func(*Application) any {
		return map[string]any{"countriesBlockedForMinors": []string{}, "legalAgeGroupRule": "Allow"}
	}, v1Default: true},
	{name: "passwordCredentials", get: func(a *Application) any {
		out := make([]map[string]any, len(a.Passwords))
		for i, p := range a.Passwords {
			out[i] = renderPassword(p)
		}
		return out
	}, v1Default: true},
	{name: "publicClient", get: func(a *Application) any { return RedirectURIs{RedirectURIs: nonNil(a.PublicClient.RedirectURIs)} }, v1Default: true},
	appStr("publisherDomain", func(a *Application) string { return a.PublisherDomain }, filterEq),
	{name: "requestSignatureVerification", get: func(*Application) any { return nil }, v1Default: true},
	{name: "requiredResourceAccess", get: func(a *Application) any { return nonNil(a.RequiredResourceAccess) }, v1Default: true},
	{name: "samlMetadataUrl", get: func(*Application) any { return nil }, v1Default: true},
	{name: "serviceManagementReference", get: func(a *Application) any { return strPtrOr(a.ServiceManagementReference, "") }, v1Default: true},
	{name: "servicePrincipalLockConfiguration", get: func(*Application) any { return nil }, v1Default: true},
	appStr("signInAudience", func(a *Application) string { return a.SignInAudience }, filterEq),
	{name: "spa", get: func(a *Application) any { return RedirectURIs{RedirectURIs: nonNil(a.Spa.RedirectURIs)} }, v1Default: true},
	{name: "tags", get: func(a *Application) any { return nonNil(a.Tags) }, v1Default: true, filter: filterEqStarts},
	{name: "tokenEncryptionKeyId", get: func(*Application) any { return nil }, v1Default: true},
	appStr("uniqueName", func(a *Application) string { return strPtrOr(a.UniqueName, "") }, filterEq),
	{name: "verifiedPublisher", get: func(*Application) any {
		return map[string]any{"displayName": nil, "verifiedPublisherId": nil, "addedDateTime": nil}
	}, v1Default: true},
	{name: "web", get: func(a *Application) any { return renderWeb(a.Web) }, v1Default: true},
})

func appStr(name string, get func(*Application) string, f filterSupport) prop[Application] {
	return prop[Application]{name: name, get: func(a *Application) any { return get(a) }, v1Default: true, filter: f}
}

func boolPtrValue(p *bool) any {
	if p == nil {
		return nil
	}
	return *p
}

// renderWeb adds redirectUriSettings, which Graph derives from redirectUris.
func renderWeb(w WebApplication) map[string]any {
	settings := make([]map[string]any, len(w.RedirectURIs))
	for i, u := range w.RedirectURIs {
		settings[i] = map[string]any{"uri": u, "index": nil}
	}
	return map[string]any{
		"homePageUrl": strPtrValue(w.HomePageURL), "logoutUrl": strPtrValue(w.LogoutURL),
		"redirectUris": nonNil(w.RedirectURIs), "implicitGrantSettings": w.ImplicitGrantSettings,
		"redirectUriSettings": settings,
	}
}

func renderAPI(a APIApplication) APIApplication {
	a.KnownClientApplications = nonNil(a.KnownClientApplications)
	a.OAuth2PermissionScopes = nonNil(a.OAuth2PermissionScopes)
	a.PreAuthorizedApplications = nonNil(a.PreAuthorizedApplications)
	return a
}

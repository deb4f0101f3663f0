package simulator

import (
	"regexp"
	"time"
)

// Application is an app registration (https://learn.microsoft.com/graph/api/resources/application).
// The writable properties are appProps, decoded strictly from POST and PATCH bodies; the rest is
// assigned by the service. The JSON form is the state file's; API answers are rendered by
// applicationSchema and never carry secret material.
type Application struct {
	ID    string `json:"id"`
	AppID string `json:"appId"`
	appProps
	PublisherDomain string     `json:"publisherDomain"`
	CreatedDateTime time.Time  `json:"createdDateTime"`
	DeletedDateTime *time.Time `json:"deletedDateTime,omitempty"`
	// Passwords are the client secrets added with addPassword: metadata and a salted hash, never the
	// secret itself.
	Passwords []appPassword `json:"passwords,omitempty"`
}

// appProps are the application properties a client may write.
type appProps struct {
	DisplayName                string                   `json:"displayName"`
	Description                *string                  `json:"description"`
	Notes                      *string                  `json:"notes"`
	UniqueName                 *string                  `json:"uniqueName"`
	SignInAudience             string                   `json:"signInAudience"`
	IdentifierURIs             []string                 `json:"identifierUris"`
	Tags                       []string                 `json:"tags"`
	GroupMembershipClaims      *string                  `json:"groupMembershipClaims"`
	IsFallbackPublicClient     *bool                    `json:"isFallbackPublicClient"`
	ServiceManagementReference *string                  `json:"serviceManagementReference"`
	AppRoles                   []AppRole                `json:"appRoles"`
	RequiredResourceAccess     []RequiredResourceAccess `json:"requiredResourceAccess"`
	Web                        WebApplication           `json:"web"`
	Spa                        RedirectURIs             `json:"spa"`
	PublicClient               RedirectURIs             `json:"publicClient"`
	API                        APIApplication           `json:"api"`
	Info                       InformationalURLs        `json:"info"`
	// Credentials are accepted only empty (a copy of an existing app's JSON): secrets are added with
	// addPassword, as the docs require (https://learn.microsoft.com/graph/api/application-update).
	PasswordCredentials []map[string]any `json:"passwordCredentials,omitempty"`
	KeyCredentials      []map[string]any `json:"keyCredentials,omitempty"`
}

// AppRole is an application role (https://learn.microsoft.com/graph/api/resources/approle).
type AppRole struct {
	ID                 string   `json:"id"`
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	Description        string   `json:"description"`
	DisplayName        string   `json:"displayName"`
	IsEnabled          bool     `json:"isEnabled"`
	Origin             string   `json:"origin,omitempty"`
	Value              *string  `json:"value"`
}

// RequiredResourceAccess is one API the app asks permissions of.
type RequiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is one requested scope (delegated) or role (application permission).
type ResourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// WebApplication is the web platform configuration.
type WebApplication struct {
	HomePageURL           *string               `json:"homePageUrl"`
	LogoutURL             *string               `json:"logoutUrl"`
	RedirectURIs          []string              `json:"redirectUris"`
	ImplicitGrantSettings ImplicitGrantSettings `json:"implicitGrantSettings"`
	// RedirectURISettings is read back as Graph renders it (from redirectUris); a value sent in a body
	// is accepted and ignored, so that a copied application round-trips.
	RedirectURISettings []map[string]any `json:"redirectUriSettings,omitempty"`
}

// ImplicitGrantSettings says which tokens the implicit flow may issue.
type ImplicitGrantSettings struct {
	EnableAccessTokenIssuance bool `json:"enableAccessTokenIssuance"`
	EnableIDTokenIssuance     bool `json:"enableIdTokenIssuance"`
}

// RedirectURIs is the spa and publicClient platform configuration.
type RedirectURIs struct {
	RedirectURIs []string `json:"redirectUris"`
}

// APIApplication is what the app exposes as an API.
type APIApplication struct {
	AcceptMappedClaims          *bool                      `json:"acceptMappedClaims"`
	KnownClientApplications     []string                   `json:"knownClientApplications"`
	OAuth2PermissionScopes      []PermissionScope          `json:"oauth2PermissionScopes"`
	PreAuthorizedApplications   []PreAuthorizedApplication `json:"preAuthorizedApplications"`
	RequestedAccessTokenVersion *int                       `json:"requestedAccessTokenVersion"`
}

// PermissionScope is a delegated permission the API exposes.
type PermissionScope struct {
	ID                      string  `json:"id"`
	AdminConsentDescription string  `json:"adminConsentDescription"`
	AdminConsentDisplayName string  `json:"adminConsentDisplayName"`
	IsEnabled               bool    `json:"isEnabled"`
	Type                    string  `json:"type"`
	UserConsentDescription  *string `json:"userConsentDescription"`
	UserConsentDisplayName  *string `json:"userConsentDisplayName"`
	Value                   *string `json:"value"`
	Origin                  string  `json:"origin,omitempty"`
}

// PreAuthorizedApplication is a client allowed the API's scopes without consent.
type PreAuthorizedApplication struct {
	AppID                  string   `json:"appId"`
	DelegatedPermissionIDs []string `json:"delegatedPermissionIds"`
}

// InformationalURLs are the app's marketing, privacy, support and terms pages.
type InformationalURLs struct {
	LogoURL             *string `json:"logoUrl"`
	MarketingURL        *string `json:"marketingUrl"`
	PrivacyStatementURL *string `json:"privacyStatementUrl"`
	SupportURL          *string `json:"supportUrl"`
	TermsOfServiceURL   *string `json:"termsOfServiceUrl"`
}

// appPassword is a client secret's metadata plus the salted hash of its value.
type appPassword struct {
	KeyID         string    `json:"keyId"`
	DisplayName   *string   `json:"displayName"`
	Hint          string    `json:"hint"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	Hash          string    `json:"hash"`
}

// Sign-in audiences (https://learn.microsoft.com/graph/api/resources/application#properties).
var signInAudiences = []string{"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"}

// isMultiTenant reports whether other tenants may create a service principal for the app.
func (a *Application) isMultiTenant() bool {
	return a.SignInAudience == "AzureADMultipleOrgs" || a.SignInAudience == "AzureADandPersonalMicrosoftAccount"
}

func strPtrValue(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// writable renders the writable properties of a for a PATCH merge.
func (a *Application) writable() appProps {
	p := a.appProps
	p.PasswordCredentials, p.KeyCredentials = nil, nil
	p.Web.RedirectURISettings = nil
	return p
}

// normalize gives nil lists and defaults the values Graph returns for an unset property.
func (p *appProps) normalize() {
	if p.SignInAudience == "" {
		p.SignInAudience = "AzureADMyOrg"
	}
	p.IdentifierURIs = nonNil(p.IdentifierURIs)
	p.Tags = nonNil(p.Tags)
	p.AppRoles = nonNil(p.AppRoles)
	for i := range p.AppRoles {
		p.AppRoles[i].AllowedMemberTypes = nonNil(p.AppRoles[i].AllowedMemberTypes)
		p.AppRoles[i].Origin = "Application"
	}
	p.RequiredResourceAccess = nonNil(p.RequiredResourceAccess)
	for i := range p.RequiredResourceAccess {
		p.RequiredResourceAccess[i].ResourceAccess = nonNil(p.RequiredResourceAccess[i].ResourceAccess)
	}
	p.Web.RedirectURIs = nonNil(p.Web.RedirectURIs)
	p.Web.RedirectURISettings = nil
	p.Spa.RedirectURIs = nonNil(p.Spa.RedirectURIs)
	p.PublicClient.RedirectURIs = nonNil(p.PublicClient.RedirectURIs)
	p.API.KnownClientApplications = nonNil(p.API.KnownClientApplications)
	p.API.OAuth2PermissionScopes = nonNil(p.API.OAuth2PermissionScopes)
	for i := range p.API.OAuth2PermissionScopes {
		p.API.OAuth2PermissionScopes[i].Origin = "Application"
	}
	p.API.PreAuthorizedApplications = nonNil(p.API.PreAuthorizedApplications)
	p.PasswordCredentials, p.KeyCredentials = nil, nil
}

var (
	// permissionValueRE: app role and scope values may not contain spaces and may not start with a dot.
	permissionValueRE = regexp.MustCompile(`^[^\s.][^\s]*$`)
	// uniqueNameRE is the simulator's rule for uniqueName; docs give none, so URL-safe characters only.
	uniqueNameRE = regexp.MustCompile(`^[A-Za-z0-9._~\-]{1,128}$`)
)

package graph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Client is a Graph client bound to one tenant.
type Client struct {
	*msgraphsdk.GraphServiceClient
	// TenantID is the tenant every call of this client acts on.
	TenantID string
	// cred and service serve the admin services beside Graph (service.go).
	cred    azcore.TokenCredential
	service http.RoundTripper
}

// New builds a Graph client for tenantID: credential, the retrying transport, and the SDK's request
// adapter pointed at cfg.GraphBaseURL. The SDK's own retry middleware is left out so that only one
// layer retries (STYLE principle 4).
func New(cfg Config, tenantID string) (*Client, error) {
	base, err := BaseTransport(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	cred, err := NewCredential(cfg, tenantID, base)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.GraphBaseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("graph base URL %q is not a URL", cfg.GraphBaseURL)
	}
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(
		cred, []string{"https://graph.microsoft.com/.default"}, []string{u.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph auth provider: %w", err)
	}
	opts := msgraphsdk.GetDefaultClientOptions()
	middleware := []khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&opts),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
	transport := NewTransport(base, cfg.MaxAttempts, cfg.WritesPerSecond).WithWriteBurst(cfg.WriteBurst).WithPolicyPacing(cfg.PolicyPerSecond)
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(transport, middleware...),
		Timeout:   100 * time.Second,
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, nil, nil, httpClient)
	if err != nil {
		return nil, fmt.Errorf("graph request adapter: %w", err)
	}
	adapter.SetBaseUrl(cfg.GraphBaseURL)
	return &Client{GraphServiceClient: msgraphsdk.NewGraphServiceClient(adapter), TenantID: tenantID,
		cred: cred, service: NewTransport(base, cfg.MaxAttempts, 0)}, nil
}

// NewCredential returns the app's credential in tenantID (the configured source or target tenant,
// never the managed identity's own): a client secret when one is configured (local simulator, or the
// Key Vault fallback), otherwise a federated assertion (DESIGN section 9), so no secret exists to
// rotate. The assertion is cfg.Assertion when set, else the managed identity's token for
// TokenExchangeAudience.
func NewCredential(cfg Config, tenantID string, transport http.RoundTripper) (azcore.TokenCredential, error) {
	copts := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.AuthorityHost},
		Transport: &http.Client{Transport: transport},
	}
	// Instance discovery asks login.microsoftonline.com about the authority; a local authority is unknown there.
	local := !strings.HasPrefix(cfg.AuthorityHost, PublicAuthorityHost)
	if cfg.ClientSecret != "" {
		cred, err := azidentity.NewClientSecretCredential(tenantID, cfg.ClientID, cfg.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: copts, DisableInstanceDiscovery: local})
		if err != nil {
			return nil, fmt.Errorf("client secret credential for tenant %s: %w", tenantID, err)
		}
		return cred, nil
	}
	assertion := cfg.Assertion
	if assertion == nil {
		var err error
		if assertion, err = ManagedIdentityAssertion(cfg.ManagedIdentityClientID, transport); err != nil {
			return nil, err
		}
	}
	cred, err := azidentity.NewClientAssertionCredential(tenantID, cfg.ClientID, assertion,
		&azidentity.ClientAssertionCredentialOptions{ClientOptions: copts, DisableInstanceDiscovery: local})
	if err != nil {
		return nil, fmt.Errorf("federated credential for tenant %s: %w", tenantID, err)
	}
	return cred, nil
}

// ManagedIdentityAssertion returns an assertion source that asks the platform's managed identity
// endpoint (IDENTITY_ENDPOINT on Functions; the simulator serves one too) for the identity's token
// for TokenExchangeAudience. clientID selects a user-assigned identity; empty means system-assigned.
// azidentity caches the token and refreshes it before it expires.
func ManagedIdentityAssertion(clientID string, transport http.RoundTripper) (func(context.Context) (string, error), error) {
	opts := &azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: transport}},
	}
	if clientID != "" {
		opts.ID = azidentity.ClientID(clientID)
	}
	mi, err := azidentity.NewManagedIdentityCredential(opts)
	if err != nil {
		return nil, fmt.Errorf("managed identity credential: %w", err)
	}
	return func(ctx context.Context) (string, error) {
		tok, err := mi.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{TokenExchangeAudience + "/.default"}})
		if err != nil {
			return "", fmt.Errorf("managed identity assertion: %w", err)
		}
		return tok.Token, nil
	}, nil
}

// BaseTransport is an HTTP transport trusting the system roots plus the PEM bundle in caFile (if any).
func BaseTransport(caFile string) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	if caFile == "" {
		return t, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA bundle: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caFile)
	}
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}

// Each calls fn for every directory object of a collection answer and of the pages after it
// (@odata.nextLink), stopping early when fn returns false.
func (c *Client) Each(ctx context.Context, first models.DirectoryObjectCollectionResponseable, fn func(models.DirectoryObjectable) bool) error {
	it, err := msgraphcore.NewPageIterator[models.DirectoryObjectable](first, c.GetAdapter(),
		models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return fmt.Errorf("paging: %w", err)
	}
	return it.Iterate(ctx, fn)
}

// ObjectType is the kind of a directory object from its @odata.type: "user", "group",
// "servicePrincipal", "device", "orgContact", ...
func ObjectType(o models.DirectoryObjectable) string {
	t := deref(o.GetOdataType())
	return strings.TrimPrefix(t, "#microsoft.graph.")
}

// DirectoryObjectURL is the reference URL of a directory object for @odata.bind and $ref bodies.
func DirectoryObjectURL(id string) string {
	return "https://graph.microsoft.com/v1.0/directoryObjects/" + id
}

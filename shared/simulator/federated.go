package simulator

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Workload identity federation: an app authenticates with a token issued by a trusted issuer instead
// of a secret (https://learn.microsoft.com/entra/workload-id/workload-identity-federation). In Azure
// the function app's user-assigned managed identity is that issuer: its token for
// api://AzureADTokenExchange is the client_assertion
// (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity).

// Assertion constants of the client credentials grant with a federated credential.
const (
	// ClientAssertionType is the only client_assertion_type Entra accepts for a JWT assertion (RFC 7523).
	ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// TokenExchangeAudience is the audience of a federated credential that trusts Entra-issued tokens,
	// managed identities included, and the resource a managed identity asks its token for.
	TokenExchangeAudience = "api://AzureADTokenExchange"
	// EntraAuthority is the public-cloud authority; issuers of Entra v2.0 tokens start with it.
	EntraAuthority = "https://login.microsoftonline.com/"
)

// FederatedCredentialConfig is one federatedIdentityCredential of an application
// (https://learn.microsoft.com/graph/api/resources/federatedidentitycredential). Entra matches the
// assertion's iss, sub and aud against it exactly (case-sensitively).
type FederatedCredentialConfig struct {
	Name      string   `json:"name"`
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

func (f *FederatedCredentialConfig) validate() error {
	u, err := url.Parse(f.Issuer)
	switch {
	case f.Name == "":
		return errors.New("federated credential has no name")
	case err != nil || u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("federated credential %s: issuer %q is not an https URL", f.Name, f.Issuer)
	case f.Subject == "":
		return fmt.Errorf("federated credential %s has no subject", f.Name)
	case len(f.Audiences) != 1:
		// Graph allows exactly one audience per federated credential today.
		return fmt.Errorf("federated credential %s must have exactly one audience", f.Name)
	}
	return nil
}

// EntraIssuer is the issuer of v2.0 tokens Entra signs for a tenant, managed identity tokens included:
// the issuer a federated credential trusting a managed identity names.
func EntraIssuer(tenantID string) string { return EntraAuthority + strings.ToLower(tenantID) + "/v2.0" }

// federatedApps collects every client's federated credentials by client id. Federated credentials
// belong to the application object in its home tenant but apply wherever the app has a service
// principal, so a tenants file may list them on any one tenant's client entry.
func federatedApps(cfg *Config) map[string][]FederatedCredentialConfig {
	out := map[string][]FederatedCredentialConfig{}
	for _, t := range cfg.Tenants {
		for _, c := range t.Clients {
			id := strings.ToLower(c.ClientID)
			out[id] = append(out[id], c.FederatedCredentials...)
		}
	}
	return out
}

// checkAssertion authenticates a client by a federated assertion the way Entra does: the form, then a
// federated credential of the app whose issuer, subject and audience match, then the issuer's signature
// and the assertion's lifetime. Each failure carries Entra's error code.
func (s *Server) checkAssertion(cl *client, assertionType, assertion string) *aadError {
	if assertionType != ClientAssertionType {
		return &aadError{400, "invalid_request", 90011, "Unexpected client assertion type."}
	}
	claims, err := peekClaims(assertion)
	if err != nil {
		return &aadError{400, "invalid_request", 50027, "JWT token is invalid or malformed."}
	}
	if aerr := matchFederated(s.federated[cl.ID], claims); aerr != nil {
		return aerr
	}
	if err := s.verifyFederated(assertion, claims.Iss); err != nil {
		if errors.Is(err, errTokenSignature) {
			return &aadError{401, "invalid_client", 7000272, fmt.Sprintf(
				"The certificate used to sign the federated credential could not be found in the metadata of identity provider %s. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.", claims.Iss)}
		}
		return &aadError{401, "invalid_client", 700024, fmt.Sprintf(
			"Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.",
			s.now().UTC().Format(time.RFC3339), time.Unix(claims.Nbf, 0).UTC().Format(time.RFC3339),
			time.Unix(claims.Exp, 0).UTC().Format(time.RFC3339))}
	}
	return nil
}

// matchFederated finds a federated credential for the assertion, narrowing by issuer, then subject,
// then audience, and answers the code of the first property nothing matches (AADSTS700211, 700213,
// 700212), or AADSTS70021 when the app has no federated credential at all.
func matchFederated(creds []FederatedCredentialConfig, c *tokenClaims) *aadError {
	const check = "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
	if len(creds) == 0 {
		return &aadError{401, "invalid_client", 70021, fmt.Sprintf(
			"No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'. %s",
			c.Iss, c.Sub, c.Aud, check)}
	}
	byIssuer := filterCreds(creds, func(f FederatedCredentialConfig) bool { return f.Issuer == c.Iss })
	if len(byIssuer) == 0 {
		return &aadError{401, "invalid_client", 700211, fmt.Sprintf(
			"No matching federated identity record found for presented assertion issuer '%s'. %s", c.Iss, check)}
	}
	bySubject := filterCreds(byIssuer, func(f FederatedCredentialConfig) bool { return f.Subject == c.Sub })
	if len(bySubject) == 0 {
		return &aadError{401, "invalid_client", 700213, fmt.Sprintf(
			"No matching federated identity record found for presented assertion subject '%s'. %s", c.Sub, check)}
	}
	byAudience := filterCreds(bySubject, func(f FederatedCredentialConfig) bool {
		for _, a := range f.Audiences {
			if a == c.Aud {
				return true
			}
		}
		return false
	})
	if len(byAudience) == 0 {
		return &aadError{401, "invalid_client", 700212, fmt.Sprintf(
			"No matching federated identity record found for presented assertion audience '%s'. %s", c.Aud, check)}
	}
	return nil
}

func filterCreds(in []FederatedCredentialConfig, keep func(FederatedCredentialConfig) bool) []FederatedCredentialConfig {
	var out []FederatedCredentialConfig
	for _, f := range in {
		if keep(f) {
			out = append(out, f)
		}
	}
	return out
}

// peekClaims decodes a JWT's claims without verifying it (matching comes before verification).
func peekClaims(token string) (*tokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errTokenMalformed
	}
	var c tokenClaims
	if err := decodeSegment(parts[1], &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// verifyFederated checks the assertion's signature against the issuer's keys and its lifetime. The
// simulator can only fetch keys for issuers it is: a simulated tenant's Entra issuer (as in a real
// managed identity token) or its own local issuer URL. Any other issuer's keys cannot be found.
func (s *Server) verifyFederated(assertion, issuer string) error {
	if !s.isOwnIssuer(issuer) {
		return errTokenSignature
	}
	_, err := s.signer.verify(assertion, s.now())
	return err
}

func (s *Server) isOwnIssuer(issuer string) bool {
	for _, t := range s.store.tenants {
		if issuer == EntraIssuer(t.ID) || issuer == s.graphURL+"/"+t.ID+"/v2.0" {
			return true
		}
	}
	return false
}

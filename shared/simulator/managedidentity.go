package simulator

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// The managed identity endpoint of App Service and Azure Functions (Flex Consumption included): the
// platform sets IDENTITY_ENDPOINT and IDENTITY_HEADER, and a client asks
// GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=...&client_id=... with the header
// X-IDENTITY-HEADER: $IDENTITY_HEADER
// (https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference).
// The simulator serves it at /msi/token so that azidentity's ManagedIdentityCredential runs its real
// code path; it issues only tokens for api://AzureADTokenExchange, the assertion of a federated
// credential, signed with the simulator's key and issued by the identity's tenant (EntraIssuer).

// ManagedIdentityPath is the path of the simulated managed identity endpoint (IDENTITY_ENDPOINT).
const ManagedIdentityPath = "/msi/token"

// ManagedIdentityConfig simulates the managed identity endpoint of a function app.
type ManagedIdentityConfig struct {
	// Header is the IDENTITY_HEADER value every request must carry as X-IDENTITY-HEADER.
	Header string `json:"header"`
	// Identities are the user-assigned identities attached to the app.
	Identities []ManagedIdentity `json:"identities"`
}

// ManagedIdentity is one user-assigned managed identity: a service principal of Tenant.
type ManagedIdentity struct {
	ClientID    string `json:"clientId"`
	PrincipalID string `json:"principalId"` // object id; the sub of its tokens
	Tenant      string `json:"tenant"`
}

func (m *ManagedIdentityConfig) validate(tenantIDs map[string]bool) error {
	if m.Header == "" {
		return errors.New("managedIdentity.header is empty")
	}
	for _, id := range m.Identities {
		if !guidRE.MatchString(id.ClientID) || !guidRE.MatchString(id.PrincipalID) {
			return fmt.Errorf("managed identity %q: clientId and principalId must be GUIDs", id.ClientID)
		}
		if !tenantIDs[strings.ToLower(id.Tenant)] {
			return fmt.Errorf("managed identity %s: tenant %q is not a configured tenant id", id.ClientID, id.Tenant)
		}
	}
	return nil
}

// serveManagedIdentity answers the App Service managed identity protocol (api-version 2019-08-01).
func (s *Server) serveManagedIdentity(w http.ResponseWriter, r *http.Request) {
	mi := s.managedIdentity
	fail := func(status int, msg string) {
		writeJSON(w, status, map[string]any{"statusCode": status, "message": msg})
	}
	switch {
	case r.Method != http.MethodGet:
		fail(http.StatusMethodNotAllowed, "Only GET is supported.")
		return
	case mi == nil || r.Header.Get("X-IDENTITY-HEADER") != mi.Header:
		fail(http.StatusUnauthorized, "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.")
		return
	}
	q := r.URL.Query()
	if q.Get("api-version") != "2019-08-01" {
		fail(http.StatusBadRequest, "api-version must be 2019-08-01.")
		return
	}
	resource := strings.TrimSuffix(q.Get("resource"), "/.default")
	if resource != TokenExchangeAudience {
		fail(http.StatusBadRequest, fmt.Sprintf("The simulator issues managed identity tokens for %s only, not %q.", TokenExchangeAudience, resource))
		return
	}
	id := mi.find(q.Get("client_id"), q.Get("principal_id"), q.Get("object_id"))
	if id == nil {
		fail(http.StatusBadRequest, "No user-assigned identity with that id is attached to this app.")
		return
	}
	now := s.now()
	exp := now.Add(tokenLifetime)
	tok, err := s.signer.sign(&tokenClaims{
		Aud: TokenExchangeAudience, Iss: EntraIssuer(id.Tenant), Iat: now.Unix(), Nbf: now.Unix(), Exp: exp.Unix(),
		AppID: strings.ToLower(id.ClientID), AppIDACR: "2", Azp: strings.ToLower(id.ClientID), IdTyp: "app",
		Oid: strings.ToLower(id.PrincipalID), Sub: strings.ToLower(id.PrincipalID), Tid: strings.ToLower(id.Tenant),
		Uti: newGUID(), Ver: "2.0",
	})
	if err != nil {
		fail(http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "expires_on": strconv.FormatInt(exp.Unix(), 10), "resource": resource,
		"token_type": "Bearer", "client_id": strings.ToLower(id.ClientID),
	})
}

// find returns the identity named by client id or principal (object) id; with no id, the only
// identity (a request without an id asks for the system-assigned identity, which a single attached
// identity stands in for).
func (m *ManagedIdentityConfig) find(clientID, principalID, objectID string) *ManagedIdentity {
	if principalID == "" {
		principalID = objectID
	}
	for i := range m.Identities {
		id := &m.Identities[i]
		switch {
		case clientID != "" && strings.EqualFold(id.ClientID, clientID),
			principalID != "" && strings.EqualFold(id.PrincipalID, principalID):
			return id
		}
	}
	if clientID == "" && principalID == "" && len(m.Identities) == 1 {
		return &m.Identities[0]
	}
	return nil
}

package simulator_test

// Domain removal and cross-tenant verification rules: a domain still referenced cannot be deleted
// (https://learn.microsoft.com/graph/api/domain-delete), a domain verified in one tenant cannot be
// verified in another until removed from the first, and verification waits for the DNS record.

import (
	"net/http"
	"testing"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

const domainRulesVanity = "rules.example"

func domainRulesConfig() *simulator.Config {
	cfg := simulator.ExampleConfig()
	cfg.Tenants[0].Domains = append(cfg.Tenants[0].Domains, simulator.DomainConfig{ID: domainRulesVanity, IsVerified: true})
	for ti := range cfg.Tenants {
		for i := range cfg.Tenants[ti].Clients {
			cfg.Tenants[ti].Clients[i].Roles = append(cfg.Tenants[ti].Clients[i].Roles, "Domain.ReadWrite.All", "User.ReadWrite.All")
		}
	}
	return cfg
}

func TestDomainDeleteAndCrossTenantVerify(t *testing.T) {
	e := newEnvWith(t, domainRulesConfig(), nil)
	src, tgt := e.migratorToken(simtest.ContosoID), e.migratorToken(simtest.FabrikamID)
	dom := e.graph + "/v1.0/domains/" + domainRulesVanity
	resp, user := e.do(http.MethodPost, e.graph+"/v1.0/users", src, map[string]any{
		"accountEnabled": true, "displayName": "Vip", "mailNickname": "vip", "userPrincipalName": "vip@" + domainRulesVanity,
		"passwordProfile": map[string]any{"password": "Xy7!long-enough-Passw0rd"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating the user: %d %v", resp.StatusCode, user)
	}
	if resp, body := e.do(http.MethodDelete, dom, src, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("delete while a user uses the domain: %d %v, want 400", resp.StatusCode, body)
	}
	if resp, body := e.do(http.MethodGet, dom+"/domainNameReferences", src, nil); resp.StatusCode != http.StatusOK ||
		len(body["value"].([]any)) != 1 {
		t.Fatalf("references: %d %v, want the user", resp.StatusCode, body)
	}

	if resp, body := e.do(http.MethodPost, e.graph+"/v1.0/domains", tgt, map[string]any{"id": domainRulesVanity}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("adding the domain (unverified) in the target: %d %v", resp.StatusCode, body)
	}
	if resp, body := e.do(http.MethodPost, dom+"/verify", tgt, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("verify while the source holds the domain: %d %v, want 400", resp.StatusCode, body)
	}
	if code := e.admin(http.MethodPost, "tenants/fabrikam/domains/"+domainRulesVanity+"/dns", "", nil); code >= 300 {
		t.Fatalf("publishing the DNS record: %d", code)
	}
	if resp, body := e.do(http.MethodPost, dom+"/verify", tgt, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("verify with the record published but the source still holding it: %d %v, want 400", resp.StatusCode, body)
	}

	if resp, body := e.do(http.MethodPatch, e.graph+"/v1.0/users/"+user["id"].(string), src,
		map[string]any{"userPrincipalName": "vip@contoso.onmicrosoft.com"}); resp.StatusCode >= 300 {
		t.Fatalf("freeing the user: %d %v", resp.StatusCode, body)
	}
	if resp, body := e.do(http.MethodDelete, dom, src, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete once nothing uses the domain: %d %v, want 204", resp.StatusCode, body)
	}
	if resp, body := e.do(http.MethodPost, dom+"/verify", tgt, nil); resp.StatusCode != http.StatusOK || body["isVerified"] != true {
		t.Fatalf("verify after the source removed the domain: %d %v", resp.StatusCode, body)
	}
}

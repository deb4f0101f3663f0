package simulator_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"t2t/shared/simulator/simtest"
)

func TestListUsersPagingFollowsNextLink(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.ContosoID)
	next := e.graph + "/v1.0/users?$top=7&$select=id,displayName"
	seen, pages := map[string]bool{}, 0
	for next != "" {
		resp, body := e.do(http.MethodGet, next, tok, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page %d: %d %v", pages, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json;odata.metadata=minimal") {
			t.Fatalf("Content-Type %q", ct)
		}
		if body["@odata.context"] != e.graph+"/v1.0/$metadata#users(id,displayName)" {
			t.Errorf("context %v", body["@odata.context"])
		}
		values := body["value"].([]any)
		if len(values) > 7 {
			t.Fatalf("page of %d > $top", len(values))
		}
		for _, v := range values {
			u := v.(map[string]any)
			if len(u) != 2 || seen[u["id"].(string)] {
				t.Fatalf("unexpected or repeated user %v", u)
			}
			seen[u["id"].(string)] = true
		}
		next, _ = body["@odata.nextLink"].(string)
		if next != "" && !strings.Contains(next, "$skiptoken=") {
			t.Fatalf("nextLink without $skiptoken: %s", next)
		}
		pages++
	}
	if len(seen) != simtest.ContosoUsers || pages != (simtest.ContosoUsers+6)/7 {
		t.Fatalf("%d users in %d pages", len(seen), pages)
	}
}

func TestListUsersDefaultPageAndProperties(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.ContosoID)
	_, v1 := e.do(http.MethodGet, e.graph+"/v1.0/users", tok, nil)
	values := v1["value"].([]any)
	if len(values) != 100 || v1["@odata.nextLink"] == nil {
		t.Fatalf("default page has %d users", len(values))
	}
	first := values[0].(map[string]any)
	// v1.0 returns only the default properties; accountEnabled needs $select.
	if _, ok := first["accountEnabled"]; ok || len(first) != 11 {
		t.Errorf("v1.0 default properties: %v", first)
	}
	_, beta := e.do(http.MethodGet, e.graph+"/beta/users?$top=1", tok, nil)
	if _, ok := beta["value"].([]any)[0].(map[string]any)["accountEnabled"]; !ok {
		t.Errorf("beta should return accountEnabled by default")
	}
}

func TestListUsersFilters(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.ContosoID)
	_, page := e.do(http.MethodGet, e.graph+"/v1.0/users?$top=3&$select=id,userPrincipalName,mail,displayName", tok, nil)
	users := page["value"].([]any)
	u0, u1 := users[0].(map[string]any), users[1].(map[string]any)
	tests := map[string]int{
		"userPrincipalName eq '" + strings.ToUpper(u0["userPrincipalName"].(string)) + "'": 1,
		"mail eq '" + u1["mail"].(string) + "'":                                            1,
		fmt.Sprintf("id in ('%s','%s')", u0["id"], u1["id"]):                               2,
		"userPrincipalName eq 'nobody@contoso.example'":                                    0,
		// Served from the UPN/id index (users_index.go), then filtered in full like a scan.
		fmt.Sprintf("userPrincipalName in ('%s','%s','nobody@contoso.example')", strings.ToUpper(u0["userPrincipalName"].(string)), u1["userPrincipalName"]): 2,
		fmt.Sprintf("id in ('%s')", u0["userPrincipalName"]):                                           0,
		fmt.Sprintf("userPrincipalName eq '%s' and mail eq '%s'", u0["userPrincipalName"], u1["mail"]): 0,
	}
	for filter, want := range tests {
		resp, body := e.do(http.MethodGet, e.graph+"/v1.0/users?$filter="+url.QueryEscape(filter), tok, nil)
		if resp.StatusCode != http.StatusOK || len(body["value"].([]any)) != want {
			t.Errorf("%s: %d, %v", filter, resp.StatusCode, body)
		}
	}
	prefix := []rune(u0["displayName"].(string))[:1]
	_, body := e.do(http.MethodGet, e.graph+"/v1.0/users?$top=999&$filter="+url.QueryEscape("startswith(displayName,'"+string(prefix)+"')"), tok, nil)
	for _, v := range body["value"].([]any) {
		if !strings.HasPrefix(strings.ToLower(v.(map[string]any)["displayName"].(string)), strings.ToLower(string(prefix))) {
			t.Errorf("startswith matched %v", v)
		}
	}
	// Advanced operators need ConsistencyLevel: eventual and $count=true.
	q := e.graph + "/v1.0/users?$count=true&$filter=" + url.QueryEscape("accountEnabled ne true")
	resp, body := e.do(http.MethodGet, q, tok, nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "$count is not currently supported.")
	resp, body = e.do(http.MethodGet, q, tok, nil, "ConsistencyLevel", "eventual")
	if resp.StatusCode != http.StatusOK || body["@odata.count"] == nil || body["@odata.count"].(float64) < 1 {
		t.Errorf("advanced query: %d %v", resp.StatusCode, body["@odata.count"])
	}
}

func TestListUsersRejectsBadQueries(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.ContosoID)
	tests := map[string]string{
		"$top=1000":                 "Request_UnsupportedQuery",
		"$top=0":                    "Request_UnsupportedQuery",
		"$select=displayName,bogus": "Request_BadRequest",
		"$filter=" + url.QueryEscape("accountEnabled ne true"): "Request_UnsupportedQuery",
		"$filter=" + url.QueryEscape("mail eq"):                "Request_BadRequest",
		"$expand=manager":                                      "Request_UnsupportedQuery",
		"$skiptoken=garbage!":                                  "Directory_ExpiredPageToken",
		"$orderby=jobTitle":                                    "Request_UnsupportedQuery",
	}
	for q, code := range tests {
		resp, body := e.do(http.MethodGet, e.graph+"/v1.0/users?"+q, tok, nil)
		expectGraphError(t, resp, body, http.StatusBadRequest, code, "")
	}
}

func TestGetUserByIDAndUPN(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.ContosoID)
	_, page := e.do(http.MethodGet, e.graph+"/v1.0/users?$top=1", tok, nil)
	u := page["value"].([]any)[0].(map[string]any)
	for _, key := range []string{u["id"].(string), u["userPrincipalName"].(string), strings.ToUpper(u["userPrincipalName"].(string))} {
		resp, body := e.do(http.MethodGet, e.graph+"/v1.0/users/"+url.PathEscape(key)+"?$select=id,accountEnabled", tok, nil)
		if resp.StatusCode != http.StatusOK || body["id"] != u["id"] || body["accountEnabled"] == nil ||
			body["@odata.context"] != e.graph+"/v1.0/$metadata#users(id,accountEnabled)/$entity" {
			t.Errorf("GET %s: %d %v", key, resp.StatusCode, body)
		}
	}
	resp, body := e.do(http.MethodGet, e.graph+"/v1.0/users/nobody@contoso.example", tok, nil, "client-request-id", "my-id-1")
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound",
		"Resource 'nobody@contoso.example' does not exist or one of its queried reference-property objects are not present.")
	if resp.Header.Get("client-request-id") != "my-id-1" {
		t.Errorf("client-request-id not echoed: %v", resp.Header)
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, nil)
	_, page := e.do(http.MethodGet, e.graph+"/v1.0/users?$top=1", e.migratorToken(simtest.ContosoID), nil)
	contosoUser := page["value"].([]any)[0].(map[string]any)["id"].(string)
	fab := e.migratorToken(simtest.FabrikamID)
	resp, body := e.do(http.MethodGet, e.graph+"/v1.0/users/"+contosoUser, fab, nil)
	expectGraphError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
	_, list := e.do(http.MethodGet, e.graph+"/v1.0/users?$top=999&$select=userPrincipalName", fab, nil)
	for _, v := range list["value"].([]any) {
		if !strings.HasSuffix(v.(map[string]any)["userPrincipalName"].(string), "@"+simtest.FabrikamDomain) {
			t.Errorf("fabrikam token sees %v", v)
		}
	}
}

func TestPermissions(t *testing.T) {
	e := newEnv(t, nil)
	reader := e.token(simtest.FabrikamID, simtest.ReaderID, simtest.ReaderSecret, simtest.GraphScope)
	if resp, _ := e.do(http.MethodGet, e.graph+"/v1.0/users", reader, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("reader GET users: %d", resp.StatusCode)
	}
	for _, req := range []struct{ method, path string }{
		{http.MethodPost, "/v1.0/users"}, {http.MethodGet, "/v1.0/domains"}, {http.MethodDelete, "/v1.0/users/x"},
	} {
		resp, body := e.do(req.method, e.graph+req.path, reader, newUserBody("denied@fabrikam.example"))
		expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
	// The source tenant grants the migrator read permissions only.
	resp, body := e.do(http.MethodPost, e.graph+"/v1.0/users", e.migratorToken(simtest.ContosoID), newUserBody("x@contoso.example"))
	expectGraphError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "")
}

func TestRouting(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	resp, body := e.do(http.MethodGet, e.graph+"/v1.0/widgets", tok, nil)
	expectGraphError(t, resp, body, http.StatusBadRequest, "BadRequest", "Resource not found for the segment 'widgets'.")
	resp, body = e.do(http.MethodPut, e.graph+"/v1.0/users", tok, "{}")
	expectGraphError(t, resp, body, http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request uri.")
}

func TestDomains(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	_, body := e.do(http.MethodGet, e.graph+"/v1.0/domains", tok, nil)
	got := map[string]bool{}
	for _, v := range body["value"].([]any) {
		d := v.(map[string]any)
		got[d["id"].(string)] = d["isVerified"].(bool)
	}
	want := map[string]bool{"fabrikam.example": true, "unverified.example": false, "fabrikam.onmicrosoft.com": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("domains %v, want %v", got, want)
	}
	resp, one := e.do(http.MethodGet, e.graph+"/v1.0/domains/Fabrikam.Example", tok, nil)
	if resp.StatusCode != http.StatusOK || one["isDefault"] != true {
		t.Errorf("GET domain: %d %v", resp.StatusCode, one)
	}
	resp, one = e.do(http.MethodGet, e.graph+"/v1.0/domains/contoso.example", tok, nil)
	expectGraphError(t, resp, one, http.StatusNotFound, "Request_ResourceNotFound", "")
}

func TestConcurrentCreatesKeepUPNsUnique(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.migratorToken(simtest.FabrikamID)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := map[string]int{}
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			upn := fmt.Sprintf("race%d@fabrikam.example", i%10) // four writers per UPN
			resp, _ := e.do(http.MethodPost, e.graph+"/v1.0/users", tok, newUserBody(upn))
			if resp.StatusCode == http.StatusCreated {
				mu.Lock()
				created[upn]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(created) != 10 {
		t.Fatalf("created %v, want each of 10 UPNs once", created)
	}
	for upn, n := range created {
		if n != 1 {
			t.Errorf("%s created %d times", upn, n)
		}
	}
}

package simulator

import (
	"strings"
	"testing"
	"time"
)

func testUsers() []*User {
	return []*User{
		{ID: "a1", DisplayName: "José Martínez", UserPrincipalName: "jose.martinez@contoso.example", Mail: "jose.martinez@contoso.example",
			AccountEnabled: true, Department: "Research & Development", ProxyAddresses: []string{"SMTP:jose.martinez@contoso.example"},
			CreatedDateTime: time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "b2", DisplayName: "Mary O'Brien", UserPrincipalName: "mary.o'brien@contoso.example", AccountEnabled: false,
			OtherMails: []string{"mary@other.example"}, CreatedDateTime: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "c3", DisplayName: "王伟", UserPrincipalName: "wei.wang@contoso.example", Mail: "wei.wang@contoso.example", AccountEnabled: true},
	}
}

func TestFilterMatches(t *testing.T) {
	tests := []struct {
		filter   string
		advanced bool
		want     string // ids of matching users, concatenated
	}{
		{"userPrincipalName eq 'JOSE.MARTINEZ@contoso.example'", false, "a1"},
		{"mail eq 'wei.wang@contoso.example'", false, "c3"},
		{"startswith(displayName,'ma')", false, "b2"},
		{"startswith(displayName,'王')", false, "c3"},
		{"id in ('a1','c3','zz')", false, "a1c3"},
		{"userPrincipalName eq 'mary.o''brien@contoso.example'", false, "b2"},
		{"accountEnabled eq true and startswith(userPrincipalName,'j')", false, "a1"},
		{"accountEnabled eq false or mail eq 'wei.wang@contoso.example'", false, "b2c3"},
		{"department eq 'Research & Development'", false, "a1"},
		{"proxyAddresses/any(p:p eq 'smtp:jose.martinez@contoso.example')", false, "a1"},
		{"otherMails/any(x:startswith(x,'mary@'))", false, "b2"},
		{"(accountEnabled eq true)", false, "a1c3"},
		{"mail eq null", true, "b2"},
		{"accountEnabled ne true", true, "b2"},
		{"not(startswith(displayName,'J'))", true, "b2c3"},
		{"endswith(mail,'@contoso.example')", true, "a1c3"},
		{"createdDateTime ge 2022-12-31T00:00:00Z", true, "b2"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			n, err := parseFilter(tt.filter)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if gerr := userSchema.checkFilter(n, tt.advanced); gerr != nil {
				t.Fatalf("check: %v", gerr)
			}
			var got strings.Builder
			for _, u := range testUsers() {
				if userSchema.matches(n, u) {
					got.WriteString(u.ID)
				}
			}
			if got.String() != tt.want {
				t.Errorf("matched %q, want %q", got.String(), tt.want)
			}
		})
	}
}

func TestFilterRejections(t *testing.T) {
	tests := []struct {
		filter  string
		code    string
		message string // substring
	}{
		{"accountEnabled ne true", codeUnsupportedQuery, "Operator 'ne' is not supported because the required parameters might be missing"},
		{"endswith(mail,'x')", codeUnsupportedQuery, "Operator 'endswith'"},
		{"not(accountEnabled eq true)", codeUnsupportedQuery, "Operator 'not'"},
		{"mail eq null", codeUnsupportedQuery, "Operator 'eq null'"},
		{"startswith(accountEnabled,'t')", codeUnsupportedQuery, "Operator 'startswith'"},
		{"passwordPolicies eq 'None'", codeUnsupportedQuery, "Unsupported or invalid query filter clause specified for property 'passwordPolicies' of resource 'User'."},
		{"bogus eq 'x'", codeBadRequest, "Could not find a property named 'bogus' on type 'microsoft.graph.user'."},
		{"id in ('1','2','3','4','5','6','7','8','9','10','11','12','13','14','15','16')", codeUnsupportedQuery, "Too many child clauses"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			n, err := parseFilter(tt.filter)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			gerr := userSchema.checkFilter(n, false)
			if gerr == nil || gerr.code != tt.code || !strings.Contains(gerr.message, tt.message) {
				t.Fatalf("got %v, want %s containing %q", gerr, tt.code, tt.message)
			}
		})
	}
}

func TestFilterSyntaxErrors(t *testing.T) {
	for _, f := range []string{"", "mail eq", "mail eq 'x", "mail like 'x'", "contains(mail,'x')", "(mail eq 'x'", "mail eq 'x' and", "id in 'x'"} {
		if _, err := parseFilter(f); err == nil {
			t.Errorf("parseFilter(%q) succeeded, want a syntax error", f)
		}
	}
}

func TestListPageResumesAfterKey(t *testing.T) {
	users := testUsers()
	lq := &listQuery{top: 2}
	page, total, next := listPage(userSchema, users, lq, userID)
	if len(page) != 2 || total != 3 || next == nil || next.ID != "b2" {
		t.Fatalf("first page: %d items, total %d, next %+v", len(page), total, next)
	}
	// A user inserted before the cursor must not shift the next page.
	users = append([]*User{{ID: "a0", UserPrincipalName: "new@contoso.example"}}, users...)
	lq.skipToken = next
	page, _, next = listPage(userSchema, users, lq, userID)
	if len(page) != 1 || page[0].ID != "c3" || next != nil {
		t.Fatalf("second page: %v, next %+v", page, next)
	}
}

func TestListPageOrderByDesc(t *testing.T) {
	lq := &listQuery{top: 1, orderBy: "displayName", desc: true}
	var got []string
	for {
		page, _, next := listPage(userSchema, testUsers(), lq, userID)
		for _, u := range page {
			got = append(got, u.ID)
		}
		if next == nil {
			break
		}
		lq.skipToken = next
	}
	if strings.Join(got, ",") != "c3,b2,a1" {
		t.Fatalf("order %v, want c3,b2,a1", got)
	}
}

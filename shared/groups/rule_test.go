package groups

import (
	"strings"
	"testing"
)

func TestRewriteRule(t *testing.T) {
	domains := map[string]string{"contoso.example": "fabrikam.example", "sub.contoso.example": "eu.fabrikam.example"}
	ids := map[string]string{"11111111-2222-3333-4444-555555555555": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}
	cases := []struct{ in, want, missing string }{
		{`(user.userPrincipalName -endsWith "@Contoso.example")`, `(user.userPrincipalName -endsWith "@fabrikam.example")`, ""},
		{`(user.mail -endsWith "@sub.contoso.example")`, `(user.mail -endsWith "@eu.fabrikam.example")`, ""},
		{`user.memberOf -any (group.objectId -in ['11111111-2222-3333-4444-555555555555'])`,
			`user.memberOf -any (group.objectId -in ['aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'])`, ""},
		{`user.memberOf -any (group.objectId -in ['99999999-2222-3333-4444-555555555555'])`,
			`user.memberOf -any (group.objectId -in ['99999999-2222-3333-4444-555555555555'])`, "99999999-2222-3333-4444-555555555555"},
		{`(user.department -eq "notcontoso.example")`, `(user.department -eq "notcontoso.example")`, ""},
	}
	for _, c := range cases {
		got, missing := RewriteRule(c.in, domains, ids)
		if got != c.want || strings.Join(missing, ",") != c.missing {
			t.Errorf("RewriteRule(%s) = %s, missing %v; want %s, missing %s", c.in, got, missing, c.want, c.missing)
		}
	}
	if ids := RuleIDs(`a 11111111-2222-3333-4444-555555555555 b 11111111-2222-3333-4444-555555555555`); len(ids) != 1 {
		t.Errorf("RuleIDs = %v", ids)
	}
}

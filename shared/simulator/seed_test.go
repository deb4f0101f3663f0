package simulator

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func TestSeedUsersDeterministicAndValid(t *testing.T) {
	tc := &ExampleConfig().Tenants[0]
	a := seedUsers(tc, "contoso.example")
	b := seedUsers(tc, "contoso.example")
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
	if len(a) != tc.Seed.Users {
		t.Fatalf("got %d users, want %d", len(a), tc.Seed.Users)
	}
	upns, ids := map[string]bool{}, map[string]bool{}
	var disabled, nonLatin, accented int
	for _, u := range a {
		if upns[u.UserPrincipalName] || ids[u.ID] {
			t.Fatalf("duplicate user %s / %s", u.ID, u.UserPrincipalName)
		}
		upns[u.UserPrincipalName], ids[u.ID] = true, true
		if !validAddress(u.UserPrincipalName, upnLocalRE) || !strings.HasSuffix(u.UserPrincipalName, "@contoso.example") {
			t.Errorf("invalid UPN %q", u.UserPrincipalName)
		}
		if !mailNicknameRE.MatchString(u.MailNickname) || !countryRE.MatchString(u.UsageLocation) {
			t.Errorf("invalid mailNickname %q or usageLocation %q", u.MailNickname, u.UsageLocation)
		}
		if !u.AccountEnabled {
			disabled++
		}
		for _, r := range u.DisplayName {
			if r > unicode.MaxLatin1 && !unicode.In(r, unicode.Latin) {
				nonLatin++
				break
			}
			if r > 127 && unicode.In(r, unicode.Latin) {
				accented++
				break
			}
		}
	}
	if disabled == 0 || disabled > len(a)/5 {
		t.Errorf("%d disabled accounts, want a few", disabled)
	}
	if nonLatin == 0 || accented == 0 {
		t.Errorf("%d non-Latin and %d accented display names, want some of each", nonLatin, accented)
	}
	other := *tc
	other.Seed.Seed++
	if reflect.DeepEqual(seedUsers(&other, "contoso.example"), a) {
		t.Error("a different seed gave the same users")
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw     string
		strong bool
		ok     bool
	}{
		{"Passw0rd!", true, true},
		{"xWwvJ]6NMw+bWH-d", true, true},
		{"password", true, false},  // one category
		{"Pass1", true, false},     // too short
		{"Password", true, false},  // two categories
		{"password1", false, true}, // DisableStrongPassword
		{"Pässw0rd!", true, false}, // character outside the allowed set
		{strings.Repeat("aA1", 90), true, false},
	}
	for _, tt := range tests {
		if got := checkPassword(tt.pw, tt.strong) == nil; got != tt.ok {
			t.Errorf("checkPassword(%q, %v) ok=%v, want %v", tt.pw, tt.strong, got, tt.ok)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	tests := map[string]string{
		"unknown field":      `{"tenants":[{"id":"7d3c1f2a-5b8e-4c61-9a0f-2e4b6d8c1a01","name":"a","domains":[],"seed":{},"clients":[],"extra":1}]}`,
		"bad tenant id":      `{"tenants":[{"id":"nope","name":"a","domains":[],"seed":{},"clients":[]}]}`,
		"unverified default": `{"tenants":[{"id":"7d3c1f2a-5b8e-4c61-9a0f-2e4b6d8c1a01","name":"a","domains":[{"id":"a.example","isDefault":true}],"seed":{},"clients":[]}]}`,
		"shared domain": `{"tenants":[{"id":"7d3c1f2a-5b8e-4c61-9a0f-2e4b6d8c1a01","name":"a","domains":[{"id":"x.example","isVerified":true}],"seed":{},"clients":[]},
			{"id":"7d3c1f2a-5b8e-4c61-9a0f-2e4b6d8c1a02","name":"b","domains":[{"id":"x.example","isVerified":true}],"seed":{},"clients":[]}]}`,
		"bad vault role": `{"tenants":[{"id":"7d3c1f2a-5b8e-4c61-9a0f-2e4b6d8c1a01","name":"a","domains":[],"seed":{},"clients":[]}],
			"vault":{"tenant":"7d3c1f2a-5b8e-4c61-9a0f-2e4b6d8c1a01","roleAssignments":[{"clientId":"x","role":"Owner"}]}}`,
		"client without secret": `{"tenants":[{"id":"7d3c1f2a-5b8e-4c61-9a0f-2e4b6d8c1a01","name":"a","domains":[],"seed":{},
			"clients":[{"clientId":"5f0e2c9a-3d47-4b8e-a6c1-7e2d9f4b0c11","roles":[]}]}]}`,
	}
	for name, doc := range tests {
		if _, err := ParseConfig([]byte(doc)); err == nil {
			t.Errorf("%s: config accepted, want an error", name)
		}
	}
	cfg := ExampleConfig()
	domains := cfg.Tenants[1].allDomains()
	if last := domains[len(domains)-1]; last.ID != "fabrikam.onmicrosoft.com" || !last.IsVerified || last.IsDefault {
		t.Errorf("initial domain %+v, want verified, not default", last)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:5": true, "[::1]:5": true, "10.0.0.1:5": false, "garbage": false} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v", addr, got)
		}
	}
}

package conditionalaccess

import (
	"context"
	"slices"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/phase"
	"t2t/shared/phase/phasetest"
)

const (
	exchangeOnline = "00000002-0000-0ff1-ce00-000000000000" // a Microsoft first-party appId
	globalAdmin    = "62e90394-69f5-4237-9190-012177145e10" // a built-in role template id
	mfaStrength    = "00000000-0000-0000-0000-000000000002"
)

func TestRemapPolicyTranslatesIdsAndKeepsWhatIsTheSameEverywhere(t *testing.T) {
	enabled := models.ENABLED_CONDITIONALACCESSPOLICYSTATE
	p := models.NewConditionalAccessPolicy()
	p.SetState(&enabled)
	c := models.NewConditionalAccessConditionSet()
	u := models.NewConditionalAccessUsers()
	u.SetIncludeUsers([]string{"u1", "u2"})
	u.SetExcludeUsers([]string{"GuestsOrExternalUsers", "u-gone"})
	u.SetIncludeRoles([]string{globalAdmin, "custom-role"})
	u.SetExcludeGroups([]string{"g1"})
	a := models.NewConditionalAccessApplications()
	a.SetIncludeApplications([]string{exchangeOnline, "tenant-app"})
	a.SetExcludeApplications([]string{"Office365"})
	l := models.NewConditionalAccessLocations()
	l.SetIncludeLocations([]string{"All"})
	l.SetExcludeLocations([]string{"AllTrusted", "loc1"})
	c.SetUsers(u)
	c.SetApplications(a)
	c.SetLocations(l)
	p.SetConditions(c)
	g := models.NewConditionalAccessGrantControls()
	g.SetTermsOfUse([]string{"tou1"})
	strength := models.NewAuthenticationStrengthPolicy()
	id, name := mfaStrength, "Multifactor authentication"
	strength.SetId(&id)
	strength.SetDisplayName(&name)
	g.SetAuthenticationStrength(strength)
	p.SetGrantControls(g)

	item := phase.Item{Universal: []string{exchangeOnline, globalAdmin}}
	resolved := map[string]map[string]string{
		"users":       {"u1": "T-u1", "u2": "T-u2"},
		"groups":      {"g1": "T-g1"},
		"customRoles": {"custom-role": "T-role"},
		"appIds":      {"tenant-app": "T-app"},
		// a location the id map does not know yet: loc1
	}
	missing := remapPolicy(p, item, resolved, models.DISABLED_CONDITIONALACCESSPOLICYSTATE)

	want := []unresolved{{"users", "u-gone"}, {"namedLocations", "loc1"}, {"termsOfUse", "tou1"}}
	if !slices.Equal(missing, want) {
		t.Errorf("unresolved = %v, want %v", missing, want)
	}
	checks := []struct {
		name      string
		got, want []string
	}{
		{"includeUsers", u.GetIncludeUsers(), []string{"T-u1", "T-u2"}},
		{"excludeUsers", u.GetExcludeUsers(), []string{"GuestsOrExternalUsers", "u-gone"}},
		{"includeRoles", u.GetIncludeRoles(), []string{globalAdmin, "T-role"}},
		{"excludeGroups", u.GetExcludeGroups(), []string{"T-g1"}},
		{"includeApplications", a.GetIncludeApplications(), []string{exchangeOnline, "T-app"}},
		{"excludeApplications", a.GetExcludeApplications(), []string{"Office365"}},
		{"includeLocations", l.GetIncludeLocations(), []string{"All"}},
	}
	for _, c := range checks {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if s := p.GetGrantControls().GetAuthenticationStrength(); s.GetId() == nil || *s.GetId() != mfaStrength || s.GetDisplayName() != nil {
		t.Errorf("authenticationStrength should be the built-in strength's id only")
	}
	if *p.GetState() != models.DISABLED_CONDITIONALACCESSPOLICYSTATE {
		t.Errorf("state = %v, want disabled: t2t never enables a policy", p.GetState())
	}
	if r := waitReason(missing); r != "waiting for references that do not resolve in the target yet: users u-gone, namedLocations loc1, termsOfUse tou1" {
		t.Errorf("reason = %q", r)
	}
}

func TestFirstPartyAppsAreToldFromTheTenantsOwnApps(t *testing.T) {
	s := phasetest.New(t, "", nil, nil)
	ctx := context.Background()
	apps, err := s.Source.Applications().Get(ctx, nil)
	if err != nil || len(apps.GetValue()) == 0 {
		t.Fatalf("source apps: %v", err)
	}
	own := *apps.GetValue()[0].GetAppId()
	got, err := firstPartyApps(ctx, s.Source, []string{exchangeOnline, own, "11111111-2222-3333-4444-555555555555"})
	if err != nil {
		t.Fatal(err)
	}
	if !got[exchangeOnline] || got[own] || len(got) != 1 {
		t.Errorf("first-party apps = %v, want only %s", got, exchangeOnline)
	}
	roles, err := builtInRoles(ctx, s.Source)
	if err != nil || !roles[globalAdmin] || len(roles) < 5 {
		t.Errorf("built-in roles: %d, Global Administrator %v, %v", len(roles), roles[globalAdmin], err)
	}
}

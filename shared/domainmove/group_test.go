package domainmove_test

// A group mailed on the domain: Graph cannot change a group's mail, so the plan lists it as
// blocking with its Exchange cmdlet, free leaves it to the administrator (and moves the source's
// default domain off the vanity domain), and remove stays refused while the group holds the address.

import (
	"context"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/domainmove"
	"t2t/shared/phase/phasetest"
)

func TestGroupMailIsAManualStepAndBlocksRemoval(t *testing.T) {
	ctx := context.Background()
	s := phasetest.New(t, storageConn, config(), nil)
	tn := domainmove.Tenants{Source: s.Source, Target: s.Target, Store: s.Store, Migration: s.Migration}
	// The simulator mails a new Microsoft 365 group on the default domain, as Exchange does.
	def := models.NewDomain()
	yes, no := true, false
	def.SetIsDefault(&yes)
	if _, err := s.Source.Domains().ByDomainId(vanity).Patch(ctx, def, nil); err != nil {
		t.Fatal(err)
	}
	g := models.NewGroup()
	name, nick := "Vanity Team", "vanityteam"
	g.SetDisplayName(&name)
	g.SetMailNickname(&nick)
	g.SetMailEnabled(&yes)
	g.SetSecurityEnabled(&no)
	g.SetGroupTypes([]string{"Unified"})
	created, err := s.Source.Groups().Post(ctx, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	if created.GetMail() == nil || !strings.HasSuffix(*created.GetMail(), "@"+vanity) {
		t.Fatalf("group mail %v, want it on %s", created.GetMail(), vanity)
	}

	plan := run(ctx, t, tn, "plan", true)
	if plan.Blocking != 1 || len(plan.Items) != 1 || plan.Items[0].Kind != "group" ||
		!strings.Contains(plan.Items[0].Manual, "Set-UnifiedGroup -Identity "+*created.GetId()) {
		t.Fatalf("plan: %+v, want the group listed as blocking with its Set-UnifiedGroup step", plan.Items)
	}
	free := run(ctx, t, tn, "free", false)
	if free.Items[0].FreeStatus != domainmove.StatusManual {
		t.Errorf("free on the group: %q, want %q", free.Items[0].FreeStatus, domainmove.StatusManual)
	}
	d, err := s.Source.Domains().ByDomainId(vanity).Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.GetIsDefault() != nil && *d.GetIsDefault() {
		t.Errorf("free left %s the source's default domain", vanity)
	}
	writes := s.Writes(t, "contoso")
	if r := run(ctx, t, tn, "remove", false); !strings.Contains(r.Refused, "still use") {
		t.Errorf("remove while the group holds the address: %q, want a refusal", r.Refused)
	}
	if again := run(ctx, t, tn, "free", false); s.Writes(t, "contoso") != writes || again.Blocking != 1 {
		t.Errorf("free again wrote %d times, %d blocking; want no write and the group still blocking",
			s.Writes(t, "contoso")-writes, again.Blocking)
	}
	if _, err := s.Source.Domains().ByDomainId(vanity).Get(ctx, nil); err != nil {
		t.Errorf("the domain is gone from the source while a group uses it: %v", err)
	}
}

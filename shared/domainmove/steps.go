package domainmove

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	graphapps "github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Actions, in the order a move takes them.
var Actions = wave.DomainActions

// Run runs one step for domain and keeps its report at ReportPath. A refusal is a report with
// Refused set, not an error; errors are failures to reach Graph or storage.
func Run(ctx context.Context, t Tenants, action, domain, run string, dryRun bool) (*Report, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if !slices.Contains(Actions, action) {
		return nil, fmt.Errorf("unknown domain step %q (steps: %s)", action, strings.Join(Actions, ", "))
	}
	rep := &Report{Action: action, Domain: domain, DryRun: dryRun, Run: run, Items: []Item{}}
	var err error
	switch action {
	case "plan":
		err = t.plan(ctx, rep)
	case "free":
		err = t.free(ctx, rep)
	case "remove":
		err = t.remove(ctx, rep)
	case "add":
		err = t.add(ctx, rep)
	case "verify":
		err = t.verify(ctx, rep)
	case "move":
		err = t.move(ctx, rep)
	}
	if err != nil {
		return nil, err
	}
	rep.UpdatedUtc = time.Now().UTC()
	if _, err := t.Store.PutJSON(ctx, ReportPath(domain, action), rep, state.Cond{}); err != nil {
		return nil, err
	}
	return rep, nil
}

// record updates the domain's record.
func (t Tenants) record(ctx context.Context, domain string, change func(*Record)) (*Record, error) {
	var out Record
	err := state.Update(ctx, t.Store, RecordPath(domain), func() *Record { return &Record{Domain: domain} }, func(r *Record) bool {
		change(r)
		r.UpdatedUtc = time.Now().UTC()
		out = *r
		return true
	})
	return &out, err
}

// sourceDomain reads the source's domain and its initial domain; found is false once it is gone.
func sourceDomain(ctx context.Context, c *graph.Client, domain string) (d models.Domainable, initial string, err error) {
	resp, err := c.Domains().Get(ctx, nil)
	if err != nil {
		return nil, "", fmt.Errorf("listing the domains of tenant %s: %w", c.TenantID, err)
	}
	for _, x := range resp.GetValue() {
		if x.GetIsInitial() != nil && *x.GetIsInitial() {
			initial = deref(x.GetId())
		}
		if strings.EqualFold(deref(x.GetId()), domain) {
			d = x
		}
	}
	return d, initial, nil
}

// plan scans the source and merges what it finds into the record.
func (t Tenants) plan(ctx context.Context, rep *Report) error {
	_, _, err := t.planned(ctx, rep)
	return err
}

// planned is plan returning what it read of the source's domains: the domain (nil once it is gone)
// and the initial domain, so that free does not read them again.
func (t Tenants) planned(ctx context.Context, rep *Report) (models.Domainable, string, error) {
	d, initial, err := sourceDomain(ctx, t.Source, rep.Domain)
	if err != nil {
		return nil, "", err
	}
	var found []Item
	if d == nil {
		rep.Notes = append(rep.Notes, "the source tenant no longer holds "+rep.Domain)
	} else if found, err = scan(ctx, t.Source, rep.Domain, initial); err != nil {
		return nil, "", err
	}
	rec, err := t.record(ctx, rep.Domain, func(r *Record) {
		if initial != "" {
			r.Initial = initial
		}
		r.merge(found)
	})
	if err != nil {
		return nil, "", err
	}
	rep.Items = found
	rep.Blocking = blocking(found)
	if d != nil && d.GetIsDefault() != nil && *d.GetIsDefault() {
		rep.Notes = append(rep.Notes, rep.Domain+" is the source's default domain: free makes "+rec.Initial+" the default")
	}
	return d, initial, nil
}

func blocking(items []Item) int {
	seen := map[string]bool{}
	for _, i := range items {
		if i.Blocking {
			seen[i.Kind+"/"+i.ID] = true
		}
	}
	return len(seen)
}

// free moves the source's uses of the domain to its initial domain.
func (t Tenants) free(ctx context.Context, rep *Report) error {
	d, initial, err := t.planned(ctx, rep)
	if err != nil || d == nil {
		return err
	}
	if d.GetIsDefault() != nil && *d.GetIsDefault() && !rep.DryRun {
		body := models.NewDomain()
		yes := true
		body.SetIsDefault(&yes)
		if _, err := t.Source.Domains().ByDomainId(initial).Patch(ctx, body, nil); err != nil {
			return fmt.Errorf("making %s the source's default domain: %w", initial, err)
		}
	}
	done := map[string]Item{}
	for i, it := range rep.Items {
		rep.Items[i] = t.freeOne(ctx, it, rep.Domain, initial, rep.DryRun)
		done[rep.Items[i].key()] = rep.Items[i]
	}
	rep.Blocking = blocking(rep.Items)
	if rep.DryRun {
		return nil
	}
	_, err = t.record(ctx, rep.Domain, func(r *Record) {
		for i, it := range r.Items {
			if d, ok := done[it.key()]; ok {
				r.Items[i].Freed, r.Items[i].FreeStatus, r.Items[i].Reason = d.Freed, d.FreeStatus, d.Reason
			}
		}
	})
	return err
}

// freeOne changes one use in the source (in a dry run, says what it would change it to).
func (t Tenants) freeOne(ctx context.Context, it Item, domain, initial string, dryRun bool) Item {
	switch {
	case it.Manual != "":
		it.FreeStatus = StatusManual
		return it
	case !it.Blocking:
		it.FreeStatus = StatusKept
		return it
	case it.Field == "identifierUri":
		it.Freed = rehost(it.Original, domain, initial)
	default:
		it.Freed = readdress(it.Original, initial)
	}
	if dryRun {
		it.FreeStatus = StatusWould
		return it
	}
	var err error
	switch it.Field {
	case "userPrincipalName":
		body := models.NewUser()
		body.SetUserPrincipalName(&it.Freed)
		_, err = t.Source.Users().ByUserId(it.ID).Patch(ctx, body, nil)
	case "mail":
		body := models.NewUser()
		body.SetMail(&it.Freed)
		_, err = t.Source.Users().ByUserId(it.ID).Patch(ctx, body, nil)
	case "identifierUri":
		err = replaceURI(ctx, t.Source, it.ID, it.Original, it.Freed)
	}
	if err != nil {
		it.FreeStatus, it.Reason = StatusFailed, graph.Describe(err)
		return it
	}
	it.FreeStatus = StatusDone
	return it
}

// replaceURI swaps one identifierUri of an application for another (adds to when from is "").
func replaceURI(ctx context.Context, c *graph.Client, appID, from, to string) error {
	a, err := c.Applications().ByApplicationId(appID).Get(ctx, &graphapps.ApplicationItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphapps.ApplicationItemRequestBuilderGetQueryParameters{Select: []string{"id", "identifierUris"}}})
	if err != nil {
		return err
	}
	uris := slices.DeleteFunc(slices.Clone(a.GetIdentifierUris()), func(u string) bool { return strings.EqualFold(u, from) })
	if !slices.ContainsFunc(uris, func(u string) bool { return strings.EqualFold(u, to) }) {
		uris = append(uris, to)
	}
	if slices.Equal(uris, a.GetIdentifierUris()) {
		return nil
	}
	body := models.NewApplication()
	body.SetIdentifierUris(uris)
	_, err = c.Applications().ByApplicationId(appID).Patch(ctx, body, nil)
	return err
}

// remove deletes the domain from the source once nothing uses it.
func (t Tenants) remove(ctx context.Context, rep *Report) error {
	d, _, err := sourceDomain(ctx, t.Source, rep.Domain)
	if err != nil {
		return err
	}
	if d == nil {
		rep.Notes = append(rep.Notes, "the source tenant no longer holds "+rep.Domain)
		return nil
	}
	found, err := scan(ctx, t.Source, rep.Domain, "")
	if err != nil {
		return err
	}
	rep.Items, rep.Blocking = found, blocking(found)
	if rep.Blocking > 0 {
		rep.Refused = fmt.Sprintf("%d source objects still use %s (see the items; run 't2t domain free %s' and do the manual steps)", rep.Blocking, rep.Domain, rep.Domain)
		return nil
	}
	if rep.DryRun {
		rep.Notes = append(rep.Notes, "would delete "+rep.Domain+" from the source tenant")
		return nil
	}
	if err := t.Source.Domains().ByDomainId(rep.Domain).Delete(ctx, nil); err != nil && !graph.IsNotFound(err) {
		rep.Refused = "the source refused to delete the domain: " + graph.Describe(err)
		return nil
	}
	now := time.Now().UTC()
	_, err = t.record(ctx, rep.Domain, func(r *Record) { r.RemovedFromSource = &now })
	return err
}

// targetDomain reads the target's domain; nil when it has none.
func targetDomain(ctx context.Context, c *graph.Client, domain string) (models.Domainable, error) {
	d, err := c.Domains().ByDomainId(domain).Get(ctx, nil)
	if graph.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading domain %s of the target: %w", domain, err)
	}
	return d, nil
}

// add adds the domain to the target (unverified) and reports the DNS records to publish.
func (t Tenants) add(ctx context.Context, rep *Report) error {
	d, err := targetDomain(ctx, t.Target, rep.Domain)
	if err != nil {
		return err
	}
	if d == nil && rep.DryRun {
		rep.Notes = append(rep.Notes, "would add "+rep.Domain+" to the target tenant, unverified")
		return nil
	}
	if d == nil {
		body := models.NewDomain()
		body.SetId(&rep.Domain)
		if _, err := t.Target.Domains().Post(ctx, body, nil); err != nil && !graph.IsConflict(err) {
			return fmt.Errorf("adding %s to the target: %w", rep.Domain, err)
		}
	}
	resp, err := t.Target.Domains().ByDomainId(rep.Domain).VerificationDnsRecords().Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("reading the verification records of %s: %w", rep.Domain, err)
	}
	var records []string
	for _, r := range resp.GetValue() {
		records = append(records, dnsRecord(r))
	}
	rep.Notes = append(rep.Notes, "publish in the DNS of "+rep.Domain+", then run 't2t domain verify "+rep.Domain+"' once the source no longer holds it:")
	rep.Notes = append(rep.Notes, records...)
	_, err = t.record(ctx, rep.Domain, func(r *Record) { r.DNSRecords = records })
	return err
}

func dnsRecord(r models.DomainDnsRecordable) string {
	line := fmt.Sprintf("%s %s TTL %d", strings.ToUpper(deref(r.GetRecordType())), deref(r.GetLabel()), derefInt(r.GetTtl()))
	switch x := r.(type) {
	case models.DomainDnsTxtRecordable:
		line += " " + deref(x.GetText())
	case models.DomainDnsMxRecordable:
		line += fmt.Sprintf(" %s preference %d", deref(x.GetMailExchange()), derefInt(x.GetPreference()))
	}
	return line
}

func derefInt(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// verify verifies the domain in the target, refused while the source still holds it.
func (t Tenants) verify(ctx context.Context, rep *Report) error {
	if d, _, err := sourceDomain(ctx, t.Source, rep.Domain); err != nil || d != nil {
		if err == nil {
			rep.Refused = "the source tenant still holds " + rep.Domain + ": free it there and remove it ('t2t domain free', 't2t domain remove') first"
		}
		return err
	}
	d, err := targetDomain(ctx, t.Target, rep.Domain)
	switch {
	case err != nil:
		return err
	case d == nil:
		rep.Refused = "the target tenant does not hold " + rep.Domain + ": run 't2t domain add " + rep.Domain + "' first"
		return nil
	case d.GetIsVerified() != nil && *d.GetIsVerified():
		rep.Notes = append(rep.Notes, rep.Domain+" is verified in the target")
		return nil
	case rep.DryRun:
		rep.Notes = append(rep.Notes, "would verify "+rep.Domain+" in the target")
		return nil
	}
	if _, err := t.Target.Domains().ByDomainId(rep.Domain).Verify().Post(ctx, nil); err != nil {
		rep.Refused = "the target did not verify the domain: " + graph.Describe(err)
		return nil
	}
	now := time.Now().UTC()
	_, err = t.record(ctx, rep.Domain, func(r *Record) { r.VerifiedInTarget = &now })
	return err
}

// move puts the migrated target objects on the domain: each source user that had it gets its
// original user principal name (and mail) on its target account, each app its original
// identifierUri. Groups' addresses are Exchange's: listed as manual steps.
func (t Tenants) move(ctx context.Context, rep *Report) error {
	d, err := targetDomain(ctx, t.Target, rep.Domain)
	switch {
	case err != nil:
		return err
	case d == nil || d.GetIsVerified() == nil || !*d.GetIsVerified():
		rep.Refused = rep.Domain + " is not verified in the target: run 't2t domain verify " + rep.Domain + "' first"
		return nil
	}
	if s, _, err := sourceDomain(ctx, t.Source, rep.Domain); err != nil || s != nil {
		if err == nil {
			rep.Refused = "the source tenant still holds " + rep.Domain
		}
		return err
	}
	var rec Record
	if _, err := t.Store.GetJSON(ctx, RecordPath(rep.Domain), &rec); err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	done := map[string]Item{}
	for _, it := range rec.Items {
		it = t.moveOne(ctx, it, rep.Domain, rep.DryRun)
		rep.Items = append(rep.Items, it)
		done[it.key()] = it
	}
	if rep.DryRun {
		return nil
	}
	_, err = t.record(ctx, rep.Domain, func(r *Record) {
		for i, it := range r.Items {
			if d, ok := done[it.key()]; ok {
				r.Items[i].MoveStatus, r.Items[i].Reason = d.MoveStatus, d.Reason
			}
		}
	})
	return err
}

// moveOne puts one use back on the domain, on the source object's target counterpart.
func (t Tenants) moveOne(ctx context.Context, it Item, domain string, dryRun bool) Item {
	typ := map[string]string{"user": "users", "application": "applications"}[it.Kind]
	if it.Manual != "" || typ == "" || it.Field == "proxyAddress" {
		it.MoveStatus = StatusManual
		if it.Manual == "" {
			it.Manual = "t2t does not move " + it.Kind + " " + it.Field + " values: set it in the target by hand"
		}
		return it
	}
	m, err := t.Store.GetIDMap(ctx, t.Migration, typ, it.ID)
	if errors.Is(err, state.ErrNotFound) {
		it.MoveStatus, it.Reason = StatusFailed, "the "+it.Kind+" was not migrated (no id mapping): nothing to move onto the domain in the target"
		return it
	}
	if err != nil {
		it.MoveStatus, it.Reason = StatusFailed, err.Error()
		return it
	}
	if dryRun {
		it.MoveStatus = StatusWould
		return it
	}
	switch it.Field {
	case "userPrincipalName", "mail":
		err = setUserField(ctx, t.Target, m.TargetID, it.Field, it.Original)
	case "identifierUri":
		err = replaceURI(ctx, t.Target, m.TargetID, "", it.Original)
	case "redirectUri", "spaRedirectUri":
		err = addRedirect(ctx, t.Target, m.TargetID, it.Field, it.Original)
	}
	if err != nil {
		it.MoveStatus, it.Reason = StatusFailed, graph.Describe(err)
		return it
	}
	it.MoveStatus = StatusDone
	return it
}

// setUserField sets a target user's UPN or mail unless it already has the value.
func setUserField(ctx context.Context, c *graph.Client, id, field, value string) error {
	u, err := c.Users().ByUserId(id).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName", "mail"}}})
	if err != nil {
		return err
	}
	body := models.NewUser()
	switch {
	case field == "userPrincipalName" && !strings.EqualFold(deref(u.GetUserPrincipalName()), value):
		body.SetUserPrincipalName(&value)
	case field == "mail" && !strings.EqualFold(deref(u.GetMail()), value):
		body.SetMail(&value)
	default:
		return nil
	}
	_, err = c.Users().ByUserId(id).Patch(ctx, body, nil)
	return err
}

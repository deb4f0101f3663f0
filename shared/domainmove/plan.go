// Package domainmove moves a vanity domain from the source tenant to the target, the step a
// cutover weekend hinges on, as explicit operator steps that are each dry-run first, ledgered in the
// domain's record and safe to run again:
//
//	plan    list every source object still using the domain (users' UPN, mail and proxy addresses,
//	        groups' mail, apps' identifierUris, and redirect URIs as information)
//	free    move those objects to the source's initial domain (and make it the default if the domain
//	        was); what Graph cannot change is listed as a manual step with its Exchange cmdlet
//	remove  delete the domain from the source, refused while anything still uses it
//	add     add the domain to the target and report the DNS records to publish
//	verify  verify it in the target, refused while the source still holds it
//	move    move the migrated target objects onto the domain, refused until it is verified there
//
// No step implies another (https://learn.microsoft.com/graph/api/domain-list-domainnamereferences,
// domain-delete, domain-post-domains, domain-verify).
package domainmove

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// Item is one use of the domain by one source object, with what each step did about it.
type Item struct {
	Kind     string `json:"kind"` // user, group, application
	ID       string `json:"id"`   // the source object's id
	Name     string `json:"name"`
	Field    string `json:"field"`    // userPrincipalName, mail, proxyAddress, identifierUri, redirectUri (web), spaRedirectUri
	Original string `json:"original"` // the value on the domain when first planned
	// Blocking: the domain cannot be removed from the source while the value stays (redirect URIs
	// do not block; they are listed because the app's host moves with the domain).
	Blocking bool `json:"blocking"`
	// Manual says why t2t cannot change the value through Graph, and the exact step instead.
	Manual     string `json:"manual,omitempty"`
	Freed      string `json:"freed,omitempty"` // the value free gave it in the source
	FreeStatus string `json:"freeStatus,omitempty"`
	MoveStatus string `json:"moveStatus,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

func (i Item) key() string {
	return i.Kind + "/" + i.ID + "/" + i.Field + "/" + strings.ToLower(i.Original)
}

// Item step outcomes.
const (
	StatusDone   = "Done"
	StatusWould  = "WouldChange"
	StatusFailed = "Failed"
	StatusManual = "Manual"
	// StatusKept: free leaves a redirect URI in the source (it does not hold the domain).
	StatusKept = "Kept"
)

// Record is the domain's move, kept at RecordPath: every use ever planned (so that later steps
// know the original values after free changed them) and each step's outcome.
type Record struct {
	Domain  string `json:"domain"`
	Initial string `json:"initialDomain"`
	Items   []Item `json:"items"`
	// RemovedFromSource and VerifiedInTarget are when those steps succeeded.
	RemovedFromSource *time.Time `json:"removedFromSource,omitempty"`
	VerifiedInTarget  *time.Time `json:"verifiedInTarget,omitempty"`
	DNSRecords        []string   `json:"dnsRecords,omitempty"`
	UpdatedUtc        time.Time  `json:"updatedUtc"`
}

// RecordPath is _domainmoves/<domain>.json in the waves container.
func RecordPath(domain string) string {
	return wave.DomainMovesFolder + "/" + strings.ToLower(domain) + ".json"
}

// Report is what one step did: the items it looked at, and a refusal when it would not run.
type Report struct {
	Action  string   `json:"action"`
	Domain  string   `json:"domain"`
	DryRun  bool     `json:"dryRun"`
	Run     string   `json:"run"`
	Refused string   `json:"refused,omitempty"`
	Items   []Item   `json:"items"`
	Notes   []string `json:"notes,omitempty"`
	// Blocking counts the source objects that still keep the domain from being removed.
	Blocking   int       `json:"blocking"`
	UpdatedUtc time.Time `json:"updatedUtc"`
}

// ReportPath is _domainmoves/<domain>/<action>.json: the latest run of that step.
func ReportPath(domain, action string) string { return wave.DomainReportPath(domain, action) }

// Tenants are the clients and state a step works with.
type Tenants struct {
	Source, Target *graph.Client
	Store          *state.Store
	Migration      string
}

// scan lists the source's current uses of the domain.
func scan(ctx context.Context, src *graph.Client, domain, initial string) ([]Item, error) {
	resp, err := src.Domains().ByDomainId(domain).DomainNameReferences().Get(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("listing what uses %s in the source: %w", domain, err)
	}
	var refs []models.DirectoryObjectable
	if err := src.Each(ctx, resp, func(o models.DirectoryObjectable) bool { refs = append(refs, o); return true }); err != nil {
		return nil, err
	}
	var out []Item
	for _, o := range refs {
		items, err := uses(ctx, src, o, domain, initial)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

// onDomain reports whether an address's domain is domain.
func onDomain(addr, domain string) bool {
	_, host, ok := strings.Cut(strings.ToLower(strings.TrimPrefix(strings.ToLower(addr), "smtp:")), "@")
	return ok && host == strings.ToLower(domain)
}

// hostOn reports whether a URI's host is domain or under it.
func hostOn(uri, domain string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return false
	}
	h, d := strings.ToLower(u.Hostname()), strings.ToLower(domain)
	return h == d || strings.HasSuffix(h, "."+d)
}

// rehost replaces the domain at the end of a URI's host with to.
func rehost(uri, domain, to string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	h := strings.ToLower(u.Hostname())
	h = strings.TrimSuffix(h, strings.ToLower(domain)) + to
	if p := u.Port(); p != "" {
		h += ":" + p
	}
	u.Host = h
	return u.String()
}

// readdress replaces an address's domain.
func readdress(addr, to string) string {
	local, _, _ := strings.Cut(addr, "@")
	return local + "@" + to
}

// merge adds newly found uses to the record, keeping what earlier steps recorded.
func (r *Record) merge(found []Item) {
	have := map[string]bool{}
	for _, i := range r.Items {
		have[i.key()] = true
	}
	for _, i := range found {
		if !have[i.key()] {
			r.Items = append(r.Items, i)
			have[i.key()] = true
		}
	}
}

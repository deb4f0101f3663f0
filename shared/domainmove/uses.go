package domainmove

import (
	"context"
	"fmt"

	graphapps "github.com/microsoftgraph/msgraph-sdk-go/applications"
	graphgroups "github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
)

// uses reads one referencing object and lists its uses of the domain.
func uses(ctx context.Context, c *graph.Client, o models.DirectoryObjectable, domain, initial string) ([]Item, error) {
	id := deref(o.GetId())
	switch graph.ObjectType(o) {
	case "user":
		return userUses(ctx, c, id, domain, initial)
	case "group":
		return groupUses(ctx, c, id, domain, initial)
	case "application":
		return appUses(ctx, c, id, domain)
	}
	return []Item{{Kind: graph.ObjectType(o), ID: id, Field: "reference", Original: domain, Blocking: true,
		Manual: "a " + graph.ObjectType(o) + " references the domain; t2t does not change those: find it with GET /domains/" + domain + "/domainNameReferences"}}, nil
}

func userUses(ctx context.Context, c *graph.Client, id, domain, initial string) ([]Item, error) {
	u, err := c.Users().ByUserId(id).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "displayName", "userPrincipalName", "mail", "proxyAddresses"}}})
	if err != nil {
		return nil, fmt.Errorf("reading source user %s: %w", id, err)
	}
	name, upn, mail := deref(u.GetDisplayName()), deref(u.GetUserPrincipalName()), deref(u.GetMail())
	item := func(field, value, manual string) Item {
		return Item{Kind: "user", ID: id, Name: name, Field: field, Original: value, Blocking: true, Manual: manual}
	}
	var out []Item
	if onDomain(upn, domain) {
		out = append(out, item("userPrincipalName", upn, ""))
	}
	if onDomain(mail, domain) {
		out = append(out, item("mail", mail, "")) // setting mail makes it the primary proxy address
	}
	for _, p := range u.GetProxyAddresses() {
		if onDomain(p, domain) && !onDomain(mail, domain) {
			// Graph cannot change proxyAddresses (read-only); Exchange owns them for a mailbox.
			out = append(out, item("proxyAddress", p, fmt.Sprintf("Exchange Online: Set-Mailbox -Identity %s -EmailAddresses @{remove=%q}", upn, p)))
		}
	}
	return out, nil
}

func groupUses(ctx context.Context, c *graph.Client, id, domain, initial string) ([]Item, error) {
	g, err := c.Groups().ByGroupId(id).Get(ctx, &graphgroups.GroupItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphgroups.GroupItemRequestBuilderGetQueryParameters{Select: []string{"id", "displayName", "mail", "groupTypes", "mailNickname"}}})
	if err != nil {
		return nil, fmt.Errorf("reading source group %s: %w", id, err)
	}
	cmd := "Set-DistributionGroup"
	for _, t := range g.GetGroupTypes() {
		if t == "Unified" {
			cmd = "Set-UnifiedGroup"
		}
	}
	mail := deref(g.GetMail())
	// A group's mail and proxy addresses are read-only in Graph: Exchange Online changes them.
	return []Item{{Kind: "group", ID: id, Name: deref(g.GetDisplayName()), Field: "mail", Original: mail, Blocking: true,
		Manual: fmt.Sprintf("Exchange Online: %s -Identity %s -PrimarySmtpAddress %s, then remove the %s proxy addresses", cmd, id, readdress(mail, initial), domain)}}, nil
}

func appUses(ctx context.Context, c *graph.Client, id, domain string) ([]Item, error) {
	a, err := c.Applications().ByApplicationId(id).Get(ctx, &graphapps.ApplicationItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphapps.ApplicationItemRequestBuilderGetQueryParameters{Select: []string{"id", "displayName", "identifierUris", "web", "spa"}}})
	if err != nil {
		return nil, fmt.Errorf("reading source application %s: %w", id, err)
	}
	name := deref(a.GetDisplayName())
	var out []Item
	for _, uri := range a.GetIdentifierUris() {
		if hostOn(uri, domain) {
			out = append(out, Item{Kind: "application", ID: id, Name: name, Field: "identifierUri", Original: uri, Blocking: true})
		}
	}
	// Redirect URIs do not hold the domain (Entra does not check their host), so free leaves them in
	// the source; move adds them to the target app, whose host now serves the domain.
	add := func(field string, uris []string) {
		for _, uri := range uris {
			if hostOn(uri, domain) {
				out = append(out, Item{Kind: "application", ID: id, Name: name, Field: field, Original: uri})
			}
		}
	}
	if w := a.GetWeb(); w != nil {
		add("redirectUri", w.GetRedirectUris())
	}
	if s := a.GetSpa(); s != nil {
		add("spaRedirectUri", s.GetRedirectUris())
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

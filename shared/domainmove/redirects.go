package domainmove

import (
	"context"
	"slices"
	"strings"

	graphapps "github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/graph"
)

// addRedirect adds a redirect URI to a target application's web (field redirectUri) or spa
// (spaRedirectUri) platform unless it is there already. PATCH replaces the whole list, so the
// app's other redirect URIs (e.g. the host the domain map rewrote to) are sent back unchanged.
func addRedirect(ctx context.Context, c *graph.Client, appID, field, uri string) error {
	a, err := c.Applications().ByApplicationId(appID).Get(ctx, &graphapps.ApplicationItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphapps.ApplicationItemRequestBuilderGetQueryParameters{Select: []string{"id", "web", "spa"}}})
	if err != nil {
		return err
	}
	var current []string
	if field == "spaRedirectUri" && a.GetSpa() != nil {
		current = a.GetSpa().GetRedirectUris()
	} else if field == "redirectUri" && a.GetWeb() != nil {
		current = a.GetWeb().GetRedirectUris()
	}
	if slices.ContainsFunc(current, func(u string) bool { return strings.EqualFold(u, uri) }) {
		return nil
	}
	uris := append(slices.Clone(current), uri)
	body := models.NewApplication()
	if field == "spaRedirectUri" {
		spa := models.NewSpaApplication()
		spa.SetRedirectUris(uris)
		body.SetSpa(spa)
	} else {
		web := models.NewWebApplication()
		web.SetRedirectUris(uris)
		body.SetWeb(web)
	}
	_, err = c.Applications().ByApplicationId(appID).Patch(ctx, body, nil)
	return err
}

package applications

import (
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"t2t/shared/phase"
)

// uriPlan is what the create body did with the app's URIs.
type uriPlan struct {
	identifierURIs []string // rewritten to target domains
	selfAPI        []string // api://<source appId>[/...] suffixes, set once the new appId is known
	dropped        []string // on no target domain: left out, listed for the administrator
	selfResource   bool     // the app requires its own API
	resources      []models.RequiredResourceAccessable
}

func (p uriPlan) note(a SourceApp) string {
	var parts []string
	if len(p.dropped) > 0 {
		parts = append(parts, "identifierUris left out (no target domain maps them): "+strings.Join(p.dropped, ", "))
	}
	if n := len(a.Secrets) + len(a.Certificates); n > 0 {
		parts = append(parts, fmt.Sprintf("%d secrets and %d certificates not copied: create new ones", len(a.Secrets), len(a.Certificates)))
	}
	return strings.Join(parts, "; ")
}

// targetApp builds the create body: the copied properties with redirect URIs and identifierUris on
// mapped domains rewritten, other apps of the source remapped in required resource access (first-
// party and other publishers' multi-tenant apps keep their appId, the same in every tenant).
func (w *work) targetApp(src models.Applicationable, a SourceApp, uniqueName string, domains map[string]string) (models.Applicationable, uriPlan) {
	t := models.NewApplication()
	t.SetUniqueName(&uniqueName)
	t.SetDisplayName(src.GetDisplayName())
	t.SetDescription(src.GetDescription())
	t.SetNotes(src.GetNotes())
	t.SetSignInAudience(src.GetSignInAudience())
	t.SetTags(src.GetTags())
	t.SetGroupMembershipClaims(src.GetGroupMembershipClaims())
	t.SetIsFallbackPublicClient(src.GetIsFallbackPublicClient())
	t.SetAppRoles(src.GetAppRoles())
	t.SetApi(src.GetApi())
	if oc := src.GetOptionalClaims(); oc != nil && (len(oc.GetIdToken())+len(oc.GetAccessToken())+len(oc.GetSaml2Token()) > 0) {
		t.SetOptionalClaims(oc)
	}
	if info := src.GetInfo(); info != nil && (info.GetMarketingUrl() != nil || info.GetPrivacyStatementUrl() != nil ||
		info.GetSupportUrl() != nil || info.GetTermsOfServiceUrl() != nil) {
		t.SetInfo(info)
	}
	if web := src.GetWeb(); web != nil {
		nw := models.NewWebApplication()
		nw.SetRedirectUris(rewriteAll(web.GetRedirectUris(), domains))
		if h := web.GetHomePageUrl(); h != nil {
			v, _ := phase.RewriteHost(*h, domains)
			nw.SetHomePageUrl(&v)
		}
		if l := web.GetLogoutUrl(); l != nil {
			v, _ := phase.RewriteHost(*l, domains)
			nw.SetLogoutUrl(&v)
		}
		nw.SetImplicitGrantSettings(web.GetImplicitGrantSettings())
		t.SetWeb(nw)
	}
	if spa := src.GetSpa(); spa != nil {
		ns := models.NewSpaApplication()
		ns.SetRedirectUris(rewriteAll(spa.GetRedirectUris(), domains))
		t.SetSpa(ns)
	}
	if pc := src.GetPublicClient(); pc != nil {
		np := models.NewPublicClientApplication()
		np.SetRedirectUris(rewriteAll(pc.GetRedirectUris(), domains))
		t.SetPublicClient(np)
	}
	var p uriPlan
	selfPrefix := "api://" + strings.ToLower(a.AppID)
	for _, u := range src.GetIdentifierUris() {
		if rest, ok := strings.CutPrefix(strings.ToLower(u), selfPrefix); ok {
			p.selfAPI = append(p.selfAPI, u[len(u)-len(rest):])
			continue
		}
		if v, ok := phase.RewriteHost(u, domains); ok {
			p.identifierURIs = append(p.identifierURIs, v)
		} else {
			p.dropped = append(p.dropped, u)
		}
	}
	t.SetIdentifierUris(p.identifierURIs)
	for _, r := range src.GetRequiredResourceAccess() {
		id := strings.ToLower(deref(r.GetResourceAppId()))
		switch {
		case id == strings.ToLower(a.AppID):
			p.selfResource = true
			continue // set with the new appId after the create
		case w.own[id]:
			nr := models.NewRequiredResourceAccess()
			target := w.appIDs[id]
			nr.SetResourceAppId(&target)
			nr.SetResourceAccess(r.GetResourceAccess()) // scope and role ids are kept by the resource's own copy
			r = nr
		}
		p.resources = append(p.resources, r)
	}
	t.SetRequiredResourceAccess(p.resources)
	return t, p
}

// selfRefs is the second write an app needs when it names its own appId: identifierUris of the form
// api://<appId> and its own API among the required resources. nil when none.
func (p uriPlan) selfRefs(src models.Applicationable, sourceAppID, newAppID string) models.Applicationable {
	if len(p.selfAPI) == 0 && !p.selfResource {
		return nil
	}
	upd := models.NewApplication()
	uris := append([]string{}, p.identifierURIs...)
	for _, rest := range p.selfAPI {
		uris = append(uris, "api://"+newAppID+rest)
	}
	upd.SetIdentifierUris(uris)
	if p.selfResource {
		res := append([]models.RequiredResourceAccessable{}, p.resources...)
		for _, r := range src.GetRequiredResourceAccess() {
			if strings.EqualFold(deref(r.GetResourceAppId()), sourceAppID) {
				nr := models.NewRequiredResourceAccess()
				id := newAppID
				nr.SetResourceAppId(&id)
				nr.SetResourceAccess(r.GetResourceAccess())
				res = append(res, nr)
			}
		}
		upd.SetRequiredResourceAccess(res)
	}
	return upd
}

func rewriteAll(uris []string, domains map[string]string) []string {
	out := make([]string, len(uris))
	for i, u := range uris {
		out[i], _ = phase.RewriteHost(u, domains)
	}
	return out
}

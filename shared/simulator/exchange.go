package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The Exchange Online admin API the ExchangeOnlineManagement module calls: POST
// /adminapi/beta/{tenantId}/InvokeCommand with {"CmdletInput":{"CmdletName":...,"Parameters":{...}}},
// answering {"value":[...]} with "@odata.nextLink" paging. Microsoft does not document it; the
// simulator serves the few cmdlets t2t's mailbox-move prerequisites run, strictly:
//
//	Get-Mailbox [-Identity]        every member user with mail has a mailbox (GUIDs derived from its id)
//	Get-MailUser [-Identity]       mail users enabled through this API
//	Enable-MailUser -Identity -ExternalEmailAddress [-PrimarySmtpAddress]
//	Set-MailUser -Identity [-ExchangeGuid] [-ArchiveGuid] [-EmailAddresses @{add=[...]}]
//	Add-DistributionGroupMember -Identity -Member, Get-DistributionGroupMember -Identity
//
// Pages hold 10 results. POST /_sim/exchange/throttle?count=N answers the next N calls 429 with
// Retry-After and the RateLimit headers the endpoint sends.

const exchangeResource = "https://outlook.office365.com"

const exchangePage = 10

// MailUser is a target mail user (an Entra user mail-enabled through Exchange).
type MailUser struct {
	Identity             string   `json:"Identity"`
	ExternalEmailAddress string   `json:"ExternalEmailAddress"`
	PrimarySmtpAddress   string   `json:"PrimarySmtpAddress"`
	ExchangeGuid         string   `json:"ExchangeGuid"`
	ArchiveGuid          string   `json:"ArchiveGuid"`
	EmailAddresses       []string `json:"EmailAddresses"`
}

type exchangeState struct {
	mu        sync.Mutex
	throttle  int
	mailUsers map[string]map[string]*MailUser // tenant -> identity -> mail user
	groups    map[string]map[string][]string  // tenant -> group -> members
}

func newExchange(cfg *Config) *exchangeState {
	x := &exchangeState{mailUsers: map[string]map[string]*MailUser{}, groups: map[string]map[string][]string{}}
	for _, tc := range cfg.Tenants {
		id := strings.ToLower(tc.ID)
		x.mailUsers[id], x.groups[id] = map[string]*MailUser{}, map[string][]string{}
		if tc.MailboxMoveGroup != "" {
			x.groups[id][strings.ToLower(tc.MailboxMoveGroup)] = []string{}
		}
	}
	return x
}

func exchangeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": "InvalidOperation", "message": msg}})
}

// serveExchange runs one cmdlet.
func (s *Server) serveExchange(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) != 4 || segs[0] != "adminapi" || segs[1] != "beta" || segs[3] != "InvokeCommand" || r.Method != http.MethodPost {
		exchangeError(w, http.StatusNotFound, "no route "+r.URL.Path)
		return
	}
	raw, ok := bearer(r)
	claims, err := s.signer.verify(raw, s.now())
	if !ok || err != nil || claims.Aud != exchangeResource || !strings.EqualFold(claims.Tid, segs[2]) {
		exchangeError(w, http.StatusUnauthorized, "The token is not valid for Exchange Online in this tenant.")
		return
	}
	x := s.exchange
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.throttle > 0 {
		x.throttle--
		w.Header().Set("Retry-After", "1")
		w.Header().Set("RateLimit-Limit", "100")
		w.Header().Set("RateLimit-Remaining", "0")
		w.Header().Set("RateLimit-Reset", "1")
		exchangeError(w, http.StatusTooManyRequests, "Too many requests; retry after the interval in Retry-After.")
		return
	}
	var in struct {
		CmdletInput struct {
			CmdletName string         `json:"CmdletName"`
			Parameters map[string]any `json:"Parameters"`
		} `json:"CmdletInput"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil || in.CmdletInput.CmdletName == "" {
		exchangeError(w, http.StatusBadRequest, "The body must be {\"CmdletInput\":{\"CmdletName\":...,\"Parameters\":{...}}}.")
		return
	}
	t := s.store.byID[strings.ToLower(claims.Tid)]
	out, status, msg := s.runCmdlet(t, in.CmdletInput.CmdletName, in.CmdletInput.Parameters)
	if status != http.StatusOK {
		exchangeError(w, status, msg)
		return
	}
	skip, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
	page := map[string]any{"value": out[min(skip, len(out)):min(skip+exchangePage, len(out))]}
	if skip+exchangePage < len(out) {
		page["@odata.nextLink"] = s.graphURL + r.URL.Path + "?$skiptoken=" + strconv.Itoa(skip+exchangePage)
	}
	writeJSON(w, http.StatusOK, page)
}

func param(p map[string]any, name string) string {
	v, _ := p[name].(string)
	return v
}

// mailbox renders a member user's mailbox.
func mailbox(t *Tenant, u *User) map[string]any {
	alias := strings.Split(u.Mail, "@")[0]
	addrs := []string{"SMTP:" + u.Mail}
	if i, _ := strconv.ParseUint(u.ID[:2], 16, 8); i%3 == 0 { // some mailboxes kept an address from an earlier system
		addrs = append(addrs, "X500:/o=OldOrg/ou=First Administrative Group/cn=Recipients/cn="+alias)
	}
	archive := "00000000-0000-0000-0000-000000000000"
	if i, _ := strconv.ParseUint(u.ID[:2], 16, 8); i%2 == 0 {
		archive = derivedGUID(t.ID, "archive", u.ID)
	}
	return map[string]any{"Identity": u.UserPrincipalName, "UserPrincipalName": u.UserPrincipalName, "PrimarySmtpAddress": u.Mail,
		"ExchangeGuid": derivedGUID(t.ID, "mailbox", u.ID), "ArchiveGuid": archive, "EmailAddresses": addrs,
		"LegacyExchangeDN": "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + strings.ReplaceAll(u.ID, "-", "")[:32] + "-" + alias}
}

// runCmdlet runs one cmdlet with the exchange lock held.
func (s *Server) runCmdlet(t *Tenant, name string, p map[string]any) ([]any, int, string) {
	x := s.exchange
	id := strings.ToLower(param(p, "Identity"))
	switch name {
	case "Get-Mailbox":
		t.mu.RLock()
		defer t.mu.RUnlock()
		var out []any
		for _, u := range t.users.list() {
			if u.UserType == "Member" && !u.isExternal() && u.Mail != "" && (id == "" || strings.EqualFold(u.UserPrincipalName, id)) {
				out = append(out, mailbox(t, u))
			}
		}
		if id != "" && len(out) == 0 {
			return nil, http.StatusNotFound, "The operation couldn't be performed because object '" + id + "' couldn't be found."
		}
		return out, http.StatusOK, ""
	case "Get-MailUser":
		var out []any
		for k, m := range x.mailUsers[t.ID] {
			if id == "" || k == id {
				out = append(out, m)
			}
		}
		if id != "" && len(out) == 0 {
			return nil, http.StatusNotFound, "The operation couldn't be performed because object '" + id + "' couldn't be found."
		}
		return out, http.StatusOK, ""
	case "Enable-MailUser":
		t.mu.RLock()
		u := t.users.get(id)
		t.mu.RUnlock()
		switch {
		case u == nil:
			return nil, http.StatusNotFound, "The operation couldn't be performed because object '" + id + "' couldn't be found."
		case x.mailUsers[t.ID][id] != nil:
			return nil, http.StatusBadRequest, "The user " + id + " is already mail-enabled."
		case param(p, "ExternalEmailAddress") == "":
			return nil, http.StatusBadRequest, "ExternalEmailAddress is required."
		}
		primary := param(p, "PrimarySmtpAddress")
		if primary == "" {
			primary = u.UserPrincipalName
		}
		m := &MailUser{Identity: id, ExternalEmailAddress: param(p, "ExternalEmailAddress"), PrimarySmtpAddress: primary,
			ExchangeGuid: derivedGUID(t.ID, "mailuser", id), ArchiveGuid: "00000000-0000-0000-0000-000000000000",
			EmailAddresses: []string{"SMTP:" + primary}}
		x.mailUsers[t.ID][id] = m
		return []any{m}, http.StatusOK, ""
	case "Set-MailUser":
		m := x.mailUsers[t.ID][id]
		if m == nil {
			return nil, http.StatusNotFound, "The operation couldn't be performed because object '" + id + "' couldn't be found."
		}
		if g := param(p, "ExchangeGuid"); g != "" {
			m.ExchangeGuid = strings.ToLower(g)
		}
		if g := param(p, "ArchiveGuid"); g != "" {
			m.ArchiveGuid = strings.ToLower(g)
		}
		if add, ok := p["EmailAddresses"].(map[string]any); ok {
			list, _ := add["add"].([]any)
			for _, a := range list {
				if s, ok := a.(string); ok && !slices.ContainsFunc(m.EmailAddresses, func(x string) bool { return strings.EqualFold(x, s) }) {
					m.EmailAddresses = append(m.EmailAddresses, s)
				}
			}
		}
		return []any{}, http.StatusOK, ""
	case "Add-DistributionGroupMember", "Get-DistributionGroupMember":
		members, ok := x.groups[t.ID][id]
		if !ok {
			return nil, http.StatusNotFound, "The operation couldn't be performed because object '" + id + "' couldn't be found."
		}
		if name == "Get-DistributionGroupMember" {
			out := make([]any, len(members))
			for i, m := range members {
				out[i] = map[string]any{"PrimarySmtpAddress": m}
			}
			return out, http.StatusOK, ""
		}
		member := strings.ToLower(param(p, "Member"))
		if slices.Contains(members, member) {
			return nil, http.StatusBadRequest, fmt.Sprintf("The recipient %q is already a member of the group %q.", member, id)
		}
		x.groups[t.ID][id] = append(members, member)
		return []any{}, http.StatusOK, ""
	}
	return nil, http.StatusBadRequest, "The cmdlet " + name + " is not available."
}

// throttleNext answers the next n calls 429 (a control).
func (x *exchangeState) throttleNext(n int) {
	x.mu.Lock()
	x.throttle += n
	x.mu.Unlock()
}

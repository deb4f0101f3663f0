package exchangeprereqs

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"t2t/shared/graph"
)

// resource is the audience of the Exchange Online admin API's tokens.
const resource = "https://outlook.office365.com"

// exo runs cmdlets through the Exchange Online admin API of one tenant: POST
// /adminapi/beta/{tenant}/InvokeCommand, the REST endpoint the ExchangeOnlineManagement module
// uses. Microsoft does not document it; its envelope, its paging (@odata.nextLink) and its 429s
// with Retry-After are what that module handles, and the client's retrying transport waits them out.
type exo struct {
	svc    *graph.Service
	tenant string
}

func newExo(c *graph.Client, baseURL string) *exo {
	return &exo{svc: c.Service(resource, baseURL), tenant: c.TenantID}
}

// run runs one cmdlet and decodes every page of its results into out (nil: results not read).
func (x *exo) run(ctx context.Context, cmdlet string, params map[string]any, out *[]map[string]any) error {
	body := map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": params}}
	path := "/adminapi/beta/" + x.tenant + "/InvokeCommand"
	for path != "" {
		var page struct {
			Value    []map[string]any `json:"value"`
			NextLink string           `json:"@odata.nextLink"`
		}
		if _, err := x.svc.Do(ctx, http.MethodPost, path, body, &page); err != nil {
			return fmt.Errorf("%s: %w", cmdlet, err)
		}
		if out != nil {
			*out = append(*out, page.Value...)
		}
		path = page.NextLink
	}
	return nil
}

// Mailbox is what the mailbox move needs of a source mailbox.
type Mailbox struct {
	UPN              string   `json:"upn"`
	PrimarySMTP      string   `json:"primarySmtp"`
	ExchangeGUID     string   `json:"exchangeGuid"`
	ArchiveGUID      string   `json:"archiveGuid,omitempty"`
	LegacyExchangeDN string   `json:"legacyExchangeDn"`
	X500             []string `json:"x500,omitempty"`
}

const zeroGUID = "00000000-0000-0000-0000-000000000000"

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func strs(m map[string]any, k string) []string {
	list, _ := m[k].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// mailboxes lists the tenant's mailboxes by lower-case UPN.
func (x *exo) mailboxes(ctx context.Context) (map[string]Mailbox, error) {
	var rows []map[string]any
	if err := x.run(ctx, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}, &rows); err != nil {
		return nil, err
	}
	out := map[string]Mailbox{}
	for _, r := range rows {
		m := Mailbox{UPN: str(r, "UserPrincipalName"), PrimarySMTP: str(r, "PrimarySmtpAddress"), ExchangeGUID: str(r, "ExchangeGuid"),
			LegacyExchangeDN: str(r, "LegacyExchangeDN")}
		if a := str(r, "ArchiveGuid"); a != "" && a != zeroGUID {
			m.ArchiveGUID = a
		}
		for _, addr := range strs(r, "EmailAddresses") {
			if strings.HasPrefix(strings.ToLower(addr), "x500:") {
				m.X500 = append(m.X500, addr)
			}
		}
		out[strings.ToLower(m.UPN)] = m
	}
	return out, nil
}

// x500s are the addresses the target mail user must carry: the source's LegacyExchangeDN as an
// x500 address, and the source's own x500 addresses.
func (m Mailbox) x500s() []string {
	out := []string{"X500:" + m.LegacyExchangeDN}
	return append(out, m.X500...)
}

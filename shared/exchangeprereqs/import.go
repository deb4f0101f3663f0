package exchangeprereqs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/wave"
)

// Import implements phase.Phase: each user's target mail user is stamped and its source mailbox put
// in the scope group.
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return run(ctx, env, chunk, false)
}

// Plan implements phase.Phase: what Import would stamp; nothing is written.
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return run(ctx, env, chunk, true)
}

type stamper struct {
	env            *phase.Env
	source, target *exo
	exchangeSkus   map[string]string // skuId -> part number, of the target's SKUs with an Exchange plan
	plan           bool
}

func run(ctx context.Context, env *phase.Env, chunk int, plan bool) (wave.Counts, error) {
	snap, err := phase.ReadSnapshot[Snapshot](ctx, env, Type, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys(snap))
	if err != nil {
		return wave.Counts{}, err
	}
	if why := enabled(env); why != "" {
		for _, u := range snap.Users {
			ledger.Set(u.SourceUPN, wave.ObjSkipped, u.TargetID, why)
		}
		return ledger.Finish(ctx, 0)
	}
	s := &stamper{env: env, source: newExo(env.Source, env.SettingOf(SettingURL)), target: newExo(env.Target, env.SettingOf(SettingURL)), plan: plan}
	if s.exchangeSkus, err = exchangeSkus(ctx, env.Target); err != nil {
		return wave.Counts{}, err
	}
	retry := 0
	for _, u := range snap.Users {
		if ledger.Done(u.SourceUPN) {
			continue
		}
		status, note, err := s.stamp(ctx, u)
		if err != nil {
			if ledger.Fail(u.SourceUPN, err) {
				retry++
			}
			continue
		}
		ledger.Set(u.SourceUPN, status, u.TargetID, note)
	}
	return ledger.Finish(ctx, retry)
}

// exchangeSkus lists the target's SKUs that carry an Exchange Online plan.
func exchangeSkus(ctx context.Context, c *graph.Client) (map[string]string, error) {
	resp, err := c.SubscribedSkus().Get(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the target's SKUs: %w", err)
	}
	out := map[string]string{}
	for _, s := range resp.GetValue() {
		for _, p := range s.GetServicePlans() {
			if p.GetServicePlanName() != nil && strings.HasPrefix(*p.GetServicePlanName(), "EXCHANGE_S_") && s.GetSkuId() != nil {
				out[s.GetSkuId().String()] = deref(s.GetSkuPartNumber())
			}
		}
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// licensed names the Exchange SKU a target user already holds, or "".
func (s *stamper) licensed(ctx context.Context, id string) (string, error) {
	u, err := s.env.Target.Users().ByUserId(id).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "assignedLicenses"}}})
	if err != nil {
		return "", fmt.Errorf("reading the licences of target user %s: %w", id, err)
	}
	for _, l := range u.GetAssignedLicenses() {
		if l.GetSkuId() != nil {
			if name, ok := s.exchangeSkus[l.GetSkuId().String()]; ok {
				return name, nil
			}
		}
	}
	return "", nil
}

// stamp prepares one user; the status says whether anything had to be written.
func (s *stamper) stamp(ctx context.Context, u User) (string, string, error) {
	if u.Mailbox == nil {
		return wave.ObjSkipped, "the source user has no mailbox: nothing to move", nil
	}
	sku, err := s.licensed(ctx, u.TargetID)
	if err != nil {
		return "", "", err
	}
	if sku != "" {
		return "", "", phase.Permanent{Reason: "refused: the target user already holds an Exchange licence (" + sku + "), which provisions an empty mailbox that blocks the move; remove it, stamp, move, then license"}
	}
	var cur []map[string]any
	err = s.target.run(ctx, "Get-MailUser", map[string]any{"Identity": u.TargetUPN}, &cur)
	if info, ok := graph.Inspect(err); ok && info.Status == 404 {
		cur, err = nil, nil
	}
	if err != nil {
		return "", "", err
	}
	writes := s.changes(u, cur)
	if len(writes) == 0 {
		return wave.ObjMatched, "the target mail user already carries the source's GUIDs and x500 addresses", s.scope(ctx, u)
	}
	if s.plan {
		return wave.ObjWouldCreate, "would " + strings.Join(names(writes), ", "), nil
	}
	for _, w := range writes {
		if err := s.target.run(ctx, w.cmdlet, w.params, nil); err != nil {
			return "", "", err
		}
	}
	return wave.ObjCreated, "stamped ExchangeGuid " + u.Mailbox.ExchangeGUID + " and " + fmt.Sprint(len(u.Mailbox.x500s())) + " x500 addresses", s.scope(ctx, u)
}

type write struct {
	cmdlet string
	params map[string]any
}

func names(ws []write) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.cmdlet
	}
	return out
}

// changes lists the cmdlets that bring the target mail user cur (none yet when empty) to the source
// mailbox's GUIDs and addresses.
func (s *stamper) changes(u User, cur []map[string]any) []write {
	m := u.Mailbox
	var out []write
	have := map[string]any{}
	if len(cur) == 0 {
		out = append(out, write{"Enable-MailUser", map[string]any{"Identity": u.TargetUPN, "ExternalEmailAddress": m.PrimarySMTP, "PrimarySmtpAddress": u.TargetUPN}})
	} else {
		have = cur[0]
	}
	set := map[string]any{"Identity": u.TargetUPN}
	if !strings.EqualFold(str(have, "ExchangeGuid"), m.ExchangeGUID) {
		set["ExchangeGuid"] = m.ExchangeGUID
	}
	if m.ArchiveGUID != "" && !strings.EqualFold(str(have, "ArchiveGuid"), m.ArchiveGUID) {
		set["ArchiveGuid"] = m.ArchiveGUID
	}
	addrs := strs(have, "EmailAddresses")
	var add []string
	for _, x := range m.x500s() {
		if !slices.ContainsFunc(addrs, func(a string) bool { return strings.EqualFold(a, x) }) {
			add = append(add, x)
		}
	}
	if len(add) > 0 {
		set["EmailAddresses"] = map[string]any{"add": add}
	}
	if len(set) > 1 {
		out = append(out, write{"Set-MailUser", set})
	}
	return out
}

// scope puts the source mailbox in the organization relationship's scope group, if one is set.
func (s *stamper) scope(ctx context.Context, u User) error {
	group := s.env.SettingOf(SettingScopeGroup)
	if group == "" || s.plan {
		return nil
	}
	err := s.source.run(ctx, "Add-DistributionGroupMember", map[string]any{"Identity": group, "Member": u.SourceUPN}, nil)
	if info, ok := graph.Inspect(err); ok && info.Status == 400 && strings.Contains(info.Message, "already a member") {
		return nil
	}
	return err
}

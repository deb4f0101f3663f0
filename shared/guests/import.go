package guests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/csvout"
	"t2t/shared/graph"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/users"
	"t2t/shared/wave"
)

// inviteRedirectURL is where a guest lands after redeeming its invitation
// (https://learn.microsoft.com/graph/api/invitation-post requires one).
const inviteRedirectURL = "https://myapps.microsoft.com"

// Outcome is one guest's line in guests.csv: what t2t did and, for an invitation, its redemption link.
type Outcome struct {
	SourceID    string `json:"sourceId"`
	DisplayName string `json:"displayName"`
	Address     string `json:"address"`
	Why         string `json:"why"`
	Status      string `json:"status"`
	TargetID    string `json:"targetId,omitempty"`
	RedeemURL   string `json:"redeemUrl,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// outcomesPath is waves/<wave>/guests/<version>/<chunk>.json: one import chunk's outcomes, which
// guests.csv gathers when the wave finalizes.
func outcomesPath(waveID, version string, chunk int) string {
	return fmt.Sprintf("%s/guests/%s/%05d.json", waveID, version, chunk)
}

// CSVPath is waves/<wave>/guests.csv.
func CSVPath(waveID string) string { return waveID + "/guests.csv" }

// Import implements phase.Phase: each guest is matched to the target account holding its address, or
// invited with no mail. A guest whose invitation was sent by an earlier delivery (its entry is
// Creating) is invited again: the invitation service returns the guest it created, with a new link.
func (Phase) Import(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return run(ctx, env, chunk, false)
}

// Plan implements phase.Phase: matched or would be invited, nothing written to the target. Guests
// that would be invited are mapped to the dry run's placeholder, so that memberships plan with them.
func (Phase) Plan(ctx context.Context, env *phase.Env, chunk int) (wave.Counts, error) {
	return run(ctx, env, chunk, true)
}

func run(ctx context.Context, env *phase.Env, chunk int, plan bool) (wave.Counts, error) {
	snap, err := snapshot(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	ledger, err := phase.OpenChunk(ctx, env, Type, chunk, keys(snap))
	if err != nil {
		return wave.Counts{}, err
	}
	ids := make([]string, len(snap.Guests))
	for i, g := range snap.Guests {
		ids[i] = g.ID
	}
	mapped, err := env.Mapped(ctx, Type, ids)
	if err != nil {
		return wave.Counts{}, err
	}
	ledger.SettleMapped(mapped)
	prev, err := readOutcomes(ctx, env, chunk)
	if err != nil {
		return wave.Counts{}, err
	}
	var maps []state.IDMapping
	retry := 0
	for _, g := range snap.Guests {
		if ledger.Done(g.ID) {
			continue
		}
		o, m, err := converge(ctx, env, ledger, g, plan)
		switch {
		case err != nil:
			if ledger.Fail(g.ID, err) {
				retry++
			}
			continue
		case m != nil:
			maps = append(maps, *m)
		}
		ledger.Set(g.ID, o.Status, o.TargetID, o.Reason)
		prev[g.ID] = o
	}
	if err := env.Map(ctx, maps); err != nil {
		return wave.Counts{}, err
	}
	if err := writeOutcomes(ctx, env, chunk, snap, ledger, prev); err != nil {
		return wave.Counts{}, err
	}
	return ledger.Finish(ctx, retry)
}

// converge matches or invites one guest (in a plan, says which it would do).
func converge(ctx context.Context, env *phase.Env, ledger *phase.Chunk, g Guest, plan bool) (Outcome, *state.IDMapping, error) {
	o := Outcome{SourceID: g.ID, DisplayName: g.DisplayName, Address: g.Address(), Why: g.Why}
	if o.Address == "" {
		return o, nil, phase.Permanent{Reason: "the guest has no mail, other mail or #EXT# address to invite"}
	}
	if ledger.Entry(g.ID).Status != wave.ObjCreating {
		found, err := find(ctx, env.Target, o.Address)
		if err != nil {
			return o, nil, err
		}
		if found != "" {
			o.Status, o.TargetID, o.Reason = wave.ObjMatched, found, "the target already holds an account with this address"
			if plan {
				o.Status = wave.ObjWouldMatch
			}
			return o, &state.IDMapping{Type: Type, SourceID: g.ID, TargetID: found, TargetKey: o.Address}, nil
		}
	}
	if plan {
		o.Status, o.TargetID, o.Reason = wave.ObjWouldCreate, phase.PlannedID, "would be invited, with no invitation mail"
		return o, &state.IDMapping{Type: Type, SourceID: g.ID, TargetID: phase.PlannedID, TargetKey: o.Address, Created: true}, nil
	}
	ledger.Intend(g.ID)
	if err := ledger.Flush(ctx); err != nil {
		return o, nil, err
	}
	id, redeem, err := invite(ctx, env, g, o.Address)
	if err != nil {
		return o, nil, err
	}
	o.Status, o.TargetID, o.RedeemURL, o.Reason = wave.ObjCreated, id, redeem, "invited with no invitation mail; send the redemption link from guests.csv"
	return o, &state.IDMapping{Type: Type, SourceID: g.ID, TargetID: id, TargetKey: o.Address, Created: true,
		Fingerprint: strings.ToLower(o.Address)}, nil
}

// find returns the id of the target account holding address (as its mail, an other mail, its user
// principal name, the #EXT# form a B2B invitation gives it, or its sign-in identity), "" for none, and refuses an
// ambiguous address (two accounts) with a reason.
func find(ctx context.Context, c *graph.Client, address string) (string, error) {
	// A member whose UPN is the address counts too (the guest may have joined the target's organization).
	filter := users.AddressFilter(address) + " or userPrincipalName eq '" + strings.ReplaceAll(address, "'", "''") + "'"
	resp, err := c.Users().Get(ctx, &graphusers.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: []string{"id", "userPrincipalName"}}})
	if err != nil {
		return "", fmt.Errorf("looking for a target account of %s: %w", address, err)
	}
	found := resp.GetValue()
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return deref(found[0].GetId()), nil
	}
	names := make([]string, len(found))
	for i, u := range found {
		names[i] = deref(u.GetUserPrincipalName())
	}
	return "", phase.Permanent{Reason: fmt.Sprintf("ambiguous: %d target accounts hold %s (%s); remove or merge all but one, then run again",
		len(found), address, strings.Join(names, ", "))}
}

// invite invites a guest into the target with no invitation mail and returns its id and redemption
// link.
func invite(ctx context.Context, env *phase.Env, g Guest, address string) (string, string, error) {
	redirect, guest, send := inviteRedirectURL, "Guest", false
	if env.Manifest != nil {
		if m, err := env.Manifest(ctx); err == nil && m.TargetTenantID != "" {
			redirect += "/?tenantid=" + m.TargetTenantID
		}
	}
	inv := models.NewInvitation()
	inv.SetInvitedUserEmailAddress(&address)
	inv.SetInvitedUserType(&guest)
	inv.SetSendInvitationMessage(&send)
	inv.SetInviteRedirectUrl(&redirect)
	if g.DisplayName != "" {
		inv.SetInvitedUserDisplayName(&g.DisplayName)
	}
	got, err := env.Target.Invitations().Post(ctx, inv, nil)
	if err != nil {
		return "", "", fmt.Errorf("inviting guest %s: %w", address, err)
	}
	if got.GetInvitedUser() == nil || got.GetInvitedUser().GetId() == nil {
		return "", "", fmt.Errorf("inviting guest %s: the answer names no invited user", address)
	}
	return *got.GetInvitedUser().GetId(), deref(got.GetInviteRedeemUrl()), nil
}

func readOutcomes(ctx context.Context, env *phase.Env, chunk int) (map[string]Outcome, error) {
	var list []Outcome
	_, err := env.Store.GetJSON(ctx, outcomesPath(env.Wave, env.Version, chunk), &list)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return nil, err
	}
	out := make(map[string]Outcome, len(list))
	for _, o := range list {
		out[o.SourceID] = o
	}
	return out, nil
}

// writeOutcomes keeps the chunk's outcomes, in snapshot order, with the ledger's final word on each.
func writeOutcomes(ctx context.Context, env *phase.Env, chunk int, snap *Snapshot, ledger *phase.Chunk, prev map[string]Outcome) error {
	list := make([]Outcome, 0, len(snap.Guests))
	for _, g := range snap.Guests {
		o, ok := prev[g.ID]
		if !ok {
			o = Outcome{SourceID: g.ID, DisplayName: g.DisplayName, Address: g.Address(), Why: g.Why}
		}
		e := ledger.Entry(g.ID)
		o.Status, o.Reason = e.Status, e.LastError
		if e.TargetID != "" {
			o.TargetID = e.TargetID
		}
		list = append(list, o)
	}
	_, err := env.Store.PutJSON(ctx, outcomesPath(env.Wave, env.Version, chunk), list, state.Cond{})
	return err
}

// Rollback implements phase.Phase: it deletes a guest t2t invited unless its address changed since.
func (Phase) Rollback(ctx context.Context, env *phase.Env, m state.IDMapping) error {
	b := env.Target.Users().ByUserId(m.TargetID)
	return phase.DeleteUnlessChanged(ctx, m, "guest",
		func(ctx context.Context) (string, error) {
			u, err := b.Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "mail"}}})
			if err != nil {
				return "", err
			}
			return strings.ToLower(deref(u.GetMail())), nil
		},
		func(ctx context.Context) error { return b.Delete(ctx, nil) })
}

// WriteOutputs implements phase.Outputs: guests.csv, every guest of the wave version with what t2t
// did and, for the ones it invited, the redemption link the administrators send (t2t sends no mail).
func (Phase) WriteOutputs(ctx context.Context, env *phase.Env) error {
	chunks, err := env.Store.PhaseChunks(ctx, env.Wave, env.Version, Type)
	if err != nil {
		return err
	}
	return env.Store.PutStream(ctx, CSVPath(env.Wave), "text/csv", func(w io.Writer) error {
		cw := csvout.NewWriter(w)
		if err := cw.Write([]string{"SourceId", "DisplayName", "Address", "InScopeBecause", "Status", "TargetId", "RedemptionUrl", "Reason"}); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, c := range chunks {
			list, err := readOutcomes(ctx, env, c)
			if err != nil {
				return err
			}
			for _, o := range sorted(list) {
				if seen[o.SourceID] {
					continue // a guest of several groups is listed once
				}
				seen[o.SourceID] = true
				if err := cw.Write([]string{o.SourceID, o.DisplayName, o.Address, o.Why, o.Status, o.TargetID, o.RedeemURL, o.Reason}); err != nil {
					return err
				}
			}
		}
		cw.Flush()
		return cw.Error()
	})
}

func sorted(m map[string]Outcome) []Outcome {
	out := make([]Outcome, 0, len(m))
	for _, o := range m {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Outcome) int { return strings.Compare(a.Address, b.Address) })
	return out
}

package users

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/keyvault"
	"t2t/shared/phase"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// SecretStore keeps temporary passwords (Key Vault). Put must be idempotent: writing the same name
// again adds a version. Get returns the latest version, or an error wrapping keyvault.ErrNotFound.
type SecretStore interface {
	Put(ctx context.Context, name, value string) error
	Get(ctx context.Context, name string) (string, error)
}

// ErrRetryLater is wrapped by Import when some users failed for passing reasons and have attempts
// left: the step should be delivered again later (queue redelivery), and will skip what is done.
var ErrRetryLater = phase.ErrRetryLater

// Importer creates or matches a snapshot's users in the target tenant. It never reads the source.
type Importer struct {
	Target    *graph.Client
	Store     *state.Store
	Vault     SecretStore // nil: temporary passwords are not kept, and the report says so
	Migration string
	// MaxAttempts bounds tries of one user against passing failures before it is marked Failed.
	MaxAttempts int
	// FirstRun skips reading the chunk's ledger: no delivery ran the step before (phase.Env.FirstRun).
	FirstRun bool
	// Coexistence invites users as external members linked to their source identity instead of
	// creating internal members (wave.ModeCoexistence).
	Coexistence bool
}

// createConcurrency is how many creates of one chunk are in flight at once. The transport's write
// pacer, not this number, sets the pace; a few in flight hide Graph's latency.
const createConcurrency = 4

// Import reconciles every user of the snapshot and returns the chunk's tallies. Storage is read and
// written per chunk (one query and one transaction for the ledger, the same for the id map), not per
// user. It returns an error wrapping ErrRetryLater when at least one user should be tried again.
func (im *Importer) Import(ctx context.Context, snap *Snapshot) (wave.Counts, error) {
	b, err := im.prepare(ctx, snap)
	if err != nil {
		return wave.Counts{}, err
	}
	// Intent is recorded before any write, so that a retry after a crash can tell our own earlier
	// create from an account that already existed.
	if err := im.Store.PutLedgers(ctx, b.writes); err != nil {
		return b.counts, err
	}
	maps, finals, retry := im.settle(b, im.createAll(ctx, snap, b.entries, b.todo), snap.Wave)
	// The id map first: once it holds a user, a rerun never creates that user again.
	if err := im.Store.PutIDMaps(ctx, maps); err != nil {
		return b.counts, err
	}
	if err := im.Store.PutLedgers(ctx, finals); err != nil {
		return b.counts, err
	}
	if retry > 0 {
		return b.counts, fmt.Errorf("%d of %d users: %w", retry, len(snap.Users), ErrRetryLater)
	}
	return b.counts, nil
}

// chunkPlan is what prepare decided for a chunk before any write to the target.
type chunkPlan struct {
	entries []state.LedgerEntry // one per snapshot user, in snapshot order
	writes  []state.LedgerEntry // ledger entries to record before creating
	todo    []int               // indexes of the users to create or match
	counts  wave.Counts         // outcomes already known (missing sources, mapped users)
}

// prepare reads the chunk's ledger and id map and decides, per user, whether it is settled already
// (the id map knows it) or must be created, recording the intent of the latter.
func (im *Importer) prepare(ctx context.Context, snap *Snapshot) (*chunkPlan, error) {
	keys := make([]string, len(snap.Users))
	ids := make([]string, len(snap.Users))
	for i, ex := range snap.Users {
		keys[i], ids[i] = ex.Row.Source, ex.User.ID
	}
	scope := snap.Scope()
	ledger := map[string]state.LedgerEntry{}
	if !im.FirstRun { // a first run of the step has no earlier entries to find
		var err error
		if ledger, err = im.Store.GetLedgers(ctx, scope, keys); err != nil {
			return nil, err
		}
	}
	mapped, err := im.Store.GetIDMaps(ctx, im.Migration, Type, ids)
	if err != nil {
		return nil, err
	}
	b := &chunkPlan{entries: make([]state.LedgerEntry, len(snap.Users))}
	for _, m := range snap.Missing {
		e := state.LedgerEntry{Key: m.Row.Source, Line: m.Row.Line, Status: wave.ObjFailed, Attempts: 1,
			LastError: m.Reason, TargetKey: m.Row.Destination}
		setScope(&e, scope)
		b.writes = append(b.writes, e)
		b.counts.Failed++
	}
	for i, ex := range snap.Users {
		e := ledger[ex.Row.Source]
		setScope(&e, scope)
		e.Key, e.Line, e.SourceID, e.TargetKey = ex.Row.Source, ex.Row.Line, ex.User.ID, ex.Row.Destination
		if m, ok := mapped[ex.User.ID]; ok {
			if settled(&e, m, snap.Wave) {
				b.writes = append(b.writes, e)
			}
			b.counts = b.counts.With(e.Status)
			b.entries[i] = e
			continue
		}
		e.Attempts++
		if e.IntentUtc.IsZero() {
			e.IntentUtc = time.Now().UTC()
		}
		e.Status = wave.ObjCreating
		b.entries[i] = e
		b.writes = append(b.writes, e)
		b.todo = append(b.todo, i)
	}
	return b, nil
}

// settle turns the creates' results into id mappings and final ledger entries, adds the outcomes to
// the plan's tallies, and counts the users to try again.
func (im *Importer) settle(b *chunkPlan, results []createResult, waveID string) ([]state.IDMapping, []state.LedgerEntry, int) {
	var maps []state.IDMapping
	var finals []state.LedgerEntry
	retry := 0
	for _, r := range results {
		e := b.entries[r.index]
		switch {
		case r.err == nil:
			maps = append(maps, state.IDMapping{Migration: im.Migration, Type: Type, SourceID: e.SourceID,
				TargetID: r.targetID, Created: r.created, Wave: waveID, TargetKey: e.TargetKey})
			e.TargetID, e.LastError, e.Status = r.targetID, r.note, wave.ObjMatched
			if r.created {
				e.Status = wave.ObjCreated
			}
		case graph.IsThrottled(r.err):
			// Throttling says nothing about the user: it does not use up an attempt. The queue's
			// delivery count still bounds the step, and `t2t retry` picks up what it gives up on.
			e.Attempts--
			e.LastError, e.Status = graph.Describe(r.err), wave.ObjCreating
			retry++
		case im.retryable(e, r.err):
			e.LastError, e.Status = graph.Describe(r.err), wave.ObjCreating
			retry++
		default:
			e.LastError, e.Status = graph.Describe(r.err), wave.ObjFailed
		}
		finals = append(finals, e)
		if e.Status != wave.ObjCreating {
			b.counts = b.counts.With(e.Status)
		}
	}
	return maps, finals, retry
}

type createResult struct {
	index    int
	targetID string
	created  bool
	note     string // the ledger note of a converted guest
	err      error
}

// createAll runs createOrMatch for the users at todo, a few at a time.
func (im *Importer) createAll(ctx context.Context, snap *Snapshot, entries []state.LedgerEntry, todo []int) []createResult {
	results := make([]createResult, len(todo))
	sem := make(chan struct{}, createConcurrency)
	var wg sync.WaitGroup
	for j, i := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			id, created, err := im.createOrMatch(ctx, snap.Wave, snap.Users[i], entries[i])
			var note string
			if c, ok := errors.AsType[converted](err); ok {
				id, note, err = c.id, c.note, nil
			}
			results[j] = createResult{index: i, targetID: id, created: created, note: note, err: err}
		}()
	}
	wg.Wait()
	return results
}

// settled brings the ledger entry of a user the id map already knows in line with it: done by this
// wave before (a redelivered step) or by an earlier wave (then it counts as matched here). It
// reports whether the entry changed.
func settled(e *state.LedgerEntry, m state.IDMapping, waveID string) bool {
	status, reason := wave.ObjMatched, ""
	if m.Created && m.Wave == waveID {
		status = wave.ObjCreated
	}
	if m.TargetKey != "" && !strings.EqualFold(m.TargetKey, e.TargetKey) {
		// The source already has a target account under another UPN: creating a second account for
		// one person is never what a migration wants, and re-pointing silently would hide it.
		status = wave.ObjFailed
		reason = fmt.Sprintf(msgMigratedElsewhere, m.TargetKey, m.Wave)
	}
	if status == wave.ObjMatched && strings.HasPrefix(e.LastError, wave.NoteConverted) {
		reason = e.LastError // a guest converted by an earlier delivery keeps its note
	}
	if e.Status == status && e.TargetID == m.TargetID && e.LastError == reason {
		return false
	}
	e.TargetID, e.Status, e.LastError = m.TargetID, status, reason
	if e.Attempts == 0 {
		e.Attempts = 1
	}
	return true
}

// retryable says whether a failed user should be tried again on the step's next delivery.
func (im *Importer) retryable(e state.LedgerEntry, cause error) bool {
	return phase.Retryable(cause) && e.Attempts < max(im.MaxAttempts, 1)
}

// createOrMatch creates the target user, or finds the existing one on a UPN conflict. created is
// true when the account is ours: created now, or by an earlier attempt of this wave (created after
// the intent was recorded).
func (im *Importer) createOrMatch(ctx context.Context, waveID string, ex Exported, entry state.LedgerEntry) (string, bool, error) {
	if im.Coexistence {
		return im.inviteOrMatch(ctx, ex, entry)
	}
	if guest, err := im.targetGuest(ctx, ex); err != nil {
		return "", false, err
	} else if guest != nil {
		id, err := im.convertGuest(ctx, waveID, ex, guest)
		if err != nil {
			return "", false, err
		}
		return "", false, converted{id: id, note: fmt.Sprintf(msgConvertedGuest, deref(guest.GetUserPrincipalName()))}
	}
	password, err := im.password(ctx, waveID, ex)
	if err != nil {
		return "", false, err
	}
	u, err := im.Target.Users().Post(ctx, newTargetUser(ex, password), nil)
	if err == nil {
		return deref(u.GetId()), true, nil
	}
	if !graph.IsConflict(err) {
		return "", false, fmt.Errorf("creating %s: %w", ex.Row.Destination, err)
	}
	if targets := graph.ConflictTargets(err); len(targets) > 0 && !slices.ContainsFunc(targets, func(t string) bool {
		return strings.EqualFold(t, "userPrincipalName")
	}) {
		// Another object holds a value this user needs (an address in proxyAddresses, say): no
		// account to match, and no retry will free it.
		return "", false, phase.Permanent{Reason: "creating " + ex.Row.Destination + ": " + graph.Describe(err)}
	}
	existing, err := im.Target.Users().ByUserId(ex.Row.Destination).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{
			Select: []string{"id", "userPrincipalName", "displayName", "accountEnabled", "createdDateTime", "onPremisesSyncEnabled", "onPremisesImmutableId"}},
	})
	if graph.IsNotFound(err) {
		// The UPN is taken but the account is not readable yet: our own create of a moment ago
		// (a lost answer retried by the transport) still replicating. Look again later.
		return "", false, phase.Lagging("looking up " + ex.Row.Destination + " after a conflict")
	}
	if err != nil {
		return "", false, fmt.Errorf("looking up existing %s after a conflict: %w", ex.Row.Destination, err)
	}
	// The account is ours (this attempt's create whose answer was lost, or an earlier attempt's) when
	// it was created after our intent was recorded and carries the display name we send. The seconds
	// of slack cover clock skew with the directory; the name keeps an account someone else created
	// for another person in that moment from being taken for ours.
	ours := existing.GetCreatedDateTime() != nil &&
		!existing.GetCreatedDateTime().Before(entry.IntentUtc.Add(-intentSkew)) &&
		deref(existing.GetDisplayName()) == targetDisplayName(ex)
	if !ours && existing.GetAccountEnabled() != nil && !*existing.GetAccountEnabled() {
		return "", false, phase.Permanent{Reason: msgDisabledTarget}
	}
	if err := im.SetAnchor(ctx, existing, ex.Row.ImmutableID); err != nil {
		return "", false, err
	}
	return deref(existing.GetId()), ours, nil
}

// Reasons shared by Import and Plan.
const (
	msgDisabledTarget    = "the destination account exists in the target but is disabled; enable it or map another destination"
	msgMigratedElsewhere = "the source user was already migrated to %s (wave %s); map it there, or remove that account and its id mapping first"
)

// intentSkew is how much earlier than our recorded intent the directory may date our own create.
const intentSkew = 5 * time.Second

// password returns the temporary password to create the user with, kept in Key Vault before the
// create. Any earlier attempt's password is reused (a redelivered step, a duplicate step, a changed
// file re-running the wave), so that the vault holds the password the account was created with even
// when that earlier create succeeded unseen.
func (im *Importer) password(ctx context.Context, waveID string, ex Exported) (string, error) {
	return keptPassword(ctx, im.Vault, SecretName(waveID, ex.User.ID))
}

// keptPassword returns the temporary password kept in vault as secret name, or a new one kept there
// before it is returned (vault nil: a new one, not kept). The value never leaves this call's result.
func keptPassword(ctx context.Context, vault SecretStore, name string) (string, error) {
	if vault != nil {
		pw, err := vault.Get(ctx, name)
		if err == nil {
			return pw, nil
		}
		if !errors.Is(err, keyvault.ErrNotFound) {
			return "", fmt.Errorf("reading the kept temporary password: %w", err)
		}
	}
	pw, err := NewTemporaryPassword()
	if err != nil {
		return "", fmt.Errorf("generating a temporary password: %w", err)
	}
	if vault != nil {
		if err := vault.Put(ctx, name, pw); err != nil {
			return "", fmt.Errorf("keeping the temporary password in Key Vault: %w", err)
		}
	}
	return pw, nil
}

// SecretName is the Key Vault secret holding a user's temporary password: letters, digits and dashes
// as Key Vault requires.
func SecretName(waveID, sourceID string) string {
	return "t2t-" + waveID + "-" + strings.ToLower(sourceID)
}

func newTargetUser(ex Exported, password string) models.Userable {
	u := models.NewUser()
	src := ex.User
	set := func(setter func(*string), v string) {
		if v != "" {
			setter(&v)
		}
	}
	upn := ex.Row.Destination
	nick := upn[:strings.LastIndexByte(upn, '@')]
	u.SetUserPrincipalName(&upn)
	u.SetMailNickname(&nick)
	display := targetDisplayName(ex)
	u.SetDisplayName(&display)
	enabled := src.AccountEnabled
	u.SetAccountEnabled(&enabled)
	set(u.SetGivenName, src.GivenName)
	set(u.SetSurname, src.Surname)
	set(u.SetJobTitle, src.JobTitle)
	set(u.SetDepartment, src.Department)
	set(u.SetCompanyName, src.CompanyName)
	set(u.SetOfficeLocation, src.OfficeLocation)
	set(u.SetMobilePhone, src.MobilePhone)
	set(u.SetUsageLocation, src.UsageLocation)
	set(u.SetPreferredLanguage, src.PreferredLanguage)
	set(u.SetCity, src.City)
	set(u.SetState, src.State)
	set(u.SetCountry, src.Country)
	set(u.SetStreetAddress, src.StreetAddress)
	set(u.SetPostalCode, src.PostalCode)
	set(u.SetEmployeeId, src.EmployeeID)
	set(u.SetEmployeeType, src.EmployeeType)
	if src.EmployeeHireDate != nil {
		u.SetEmployeeHireDate(src.EmployeeHireDate)
	}
	if o := src.EmployeeOrgData; o != nil {
		org := models.NewEmployeeOrgData()
		set(org.SetDivision, o.Division)
		set(org.SetCostCenter, o.CostCenter)
		u.SetEmployeeOrgData(org)
	}
	if ex.Row.ImmutableID == "" {
		// A cloud account's extension attributes are its own; a hybrid one's come from on premises.
		if a := newExtensionAttributes(src.ExtensionAttributes); a != nil {
			u.SetOnPremisesExtensionAttributes(a)
		}
	}
	set(u.SetOnPremisesImmutableId, ex.Row.ImmutableID) // the hybrid link, when the row has one
	if len(src.BusinessPhones) > 0 {
		u.SetBusinessPhones(src.BusinessPhones)
	}
	pp := models.NewPasswordProfile()
	force := true
	pp.SetPassword(&password)
	pp.SetForceChangePasswordNextSignIn(&force)
	u.SetPasswordProfile(pp)
	return u
}

// targetDisplayName is the display name a created user gets: the source's, or the UPN's prefix.
func targetDisplayName(ex Exported) string {
	if ex.User.DisplayName != "" {
		return ex.User.DisplayName
	}
	return ex.Row.Destination[:strings.LastIndexByte(ex.Row.Destination, '@')]
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

package users

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/graph"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// SecretStore keeps temporary passwords (Key Vault). Put must be idempotent: writing the same name
// again adds a version.
type SecretStore interface {
	Put(ctx context.Context, name, value string) error
}

// ErrRetryLater is wrapped by Import when some users failed for passing reasons and have attempts
// left: the step should be delivered again later (queue redelivery), and will skip what is done.
var ErrRetryLater = errors.New("some users hit a passing failure; retry the step later")

// Importer creates or matches a snapshot's users in the target tenant. It never reads the source.
type Importer struct {
	Target    *graph.Client
	Store     *state.Store
	Vault     SecretStore // nil: temporary passwords are not kept, and the report says so
	Migration string
	// MaxAttempts bounds tries of one user against passing failures before it is marked Failed.
	MaxAttempts int
}

// Import reconciles every user of the snapshot and returns the chunk's tallies. It returns an error
// wrapping ErrRetryLater when at least one user should be tried again.
func (im *Importer) Import(ctx context.Context, snap *Snapshot) (wave.Counts, error) {
	var counts wave.Counts
	for _, m := range snap.Missing {
		e := state.LedgerEntry{Wave: snap.Wave, Phase: Type, Key: m.Row.Source, Line: m.Row.Line,
			Status: wave.ObjFailed, Attempts: 1, LastError: m.Reason, TargetKey: m.Row.Destination}
		if err := im.Store.PutLedger(ctx, e); err != nil {
			return counts, err
		}
		counts.Failed++
	}
	retry := 0
	for _, ex := range snap.Users {
		status, err := im.importOne(ctx, snap.Wave, ex)
		switch {
		case errors.Is(err, ErrRetryLater):
			retry++
		case err != nil:
			return counts, err // storage failure: the whole step is retried
		case status == wave.ObjCreated:
			counts.Created++
		case status == wave.ObjMatched:
			counts.Matched++
		default:
			counts.Failed++
		}
	}
	if retry > 0 {
		return counts, fmt.Errorf("%d of %d users: %w", retry, len(snap.Users), ErrRetryLater)
	}
	return counts, nil
}

// importOne converges one user and returns its final ledger status.
func (im *Importer) importOne(ctx context.Context, waveID string, ex Exported) (string, error) {
	if m, err := im.Store.GetIDMap(ctx, im.Migration, Type, ex.User.ID); err == nil {
		return im.alreadyMapped(ctx, waveID, ex, m)
	} else if !errors.Is(err, state.ErrNotFound) {
		return "", err
	}
	entry, err := im.Store.GetLedger(ctx, waveID, Type, ex.Row.Source)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return "", err
	}
	entry.Wave, entry.Phase, entry.Key, entry.Line = waveID, Type, ex.Row.Source, ex.Row.Line
	entry.SourceID, entry.TargetKey = ex.User.ID, ex.Row.Destination
	entry.Attempts++
	if entry.IntentUtc.IsZero() {
		entry.IntentUtc = time.Now().UTC()
	}
	entry.Status = wave.ObjCreating
	// Record intent before the write, so that a retry after a crash can tell our own earlier create
	// from an account that already existed.
	if err := im.Store.PutLedger(ctx, entry); err != nil {
		return "", err
	}
	targetID, created, err := im.createOrMatch(ctx, waveID, ex, entry)
	if err != nil {
		return im.fail(ctx, entry, err)
	}
	if err := im.Store.PutIDMap(ctx, state.IDMapping{Migration: im.Migration, Type: Type, SourceID: ex.User.ID,
		TargetID: targetID, Created: created, Wave: waveID}); err != nil {
		return "", err
	}
	entry.TargetID, entry.LastError, entry.Status = targetID, "", wave.ObjMatched
	if created {
		entry.Status = wave.ObjCreated
	}
	return entry.Status, im.Store.PutLedger(ctx, entry)
}

// alreadyMapped handles a user the id map already knows: done by this wave before (a redelivered
// step) or by an earlier wave (then it counts as matched here).
func (im *Importer) alreadyMapped(ctx context.Context, waveID string, ex Exported, m state.IDMapping) (string, error) {
	status := wave.ObjMatched
	if m.Created && m.Wave == waveID {
		status = wave.ObjCreated
	}
	entry, err := im.Store.GetLedger(ctx, waveID, Type, ex.Row.Source)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return "", err
	}
	if entry.Status == status && entry.TargetID == m.TargetID {
		return status, nil
	}
	entry.Wave, entry.Phase, entry.Key, entry.Line = waveID, Type, ex.Row.Source, ex.Row.Line
	entry.SourceID, entry.TargetID, entry.TargetKey, entry.Status, entry.LastError =
		ex.User.ID, m.TargetID, ex.Row.Destination, status, ""
	if entry.Attempts == 0 {
		entry.Attempts = 1
	}
	return status, im.Store.PutLedger(ctx, entry)
}

// fail records a failure: passing ones with attempts left ask for a retry, the rest are final.
func (im *Importer) fail(ctx context.Context, entry state.LedgerEntry, cause error) (string, error) {
	entry.LastError = graph.Describe(cause)
	var perm permanentError
	retry := !errors.As(cause, &perm) && graph.IsRetryable(cause) && entry.Attempts < max(im.MaxAttempts, 1)
	entry.Status = wave.ObjFailed
	if retry {
		entry.Status = wave.ObjCreating
	}
	if err := im.Store.PutLedger(ctx, entry); err != nil {
		return "", err
	}
	if retry {
		return "", fmt.Errorf("user %s: %w: %w", entry.Key, ErrRetryLater, cause)
	}
	return wave.ObjFailed, nil
}

// createOrMatch creates the target user, or finds the existing one on a UPN conflict. created is
// true when the account is ours: created now, or by an earlier attempt of this wave (created after
// the intent was recorded).
func (im *Importer) createOrMatch(ctx context.Context, waveID string, ex Exported, entry state.LedgerEntry) (string, bool, error) {
	password, err := NewTemporaryPassword()
	if err != nil {
		return "", false, fmt.Errorf("generating a temporary password: %w", err)
	}
	if im.Vault != nil {
		if err := im.Vault.Put(ctx, SecretName(waveID, ex.User.ID), password); err != nil {
			return "", false, fmt.Errorf("keeping the temporary password in Key Vault: %w", err)
		}
	}
	u, err := im.Target.Users().Post(ctx, newTargetUser(ex, password), nil)
	if err == nil {
		return deref(u.GetId()), true, nil
	}
	if !graph.IsConflict(err) {
		return "", false, fmt.Errorf("creating %s: %w", ex.Row.Destination, err)
	}
	existing, err := im.Target.Users().ByUserId(ex.Row.Destination).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{
			Select: []string{"id", "userPrincipalName", "accountEnabled", "createdDateTime"}},
	})
	if err != nil {
		return "", false, fmt.Errorf("looking up existing %s after a conflict: %w", ex.Row.Destination, err)
	}
	ours := entry.Attempts > 1 && existing.GetCreatedDateTime() != nil &&
		!existing.GetCreatedDateTime().Before(entry.IntentUtc.Add(-time.Minute))
	if !ours && existing.GetAccountEnabled() != nil && !*existing.GetAccountEnabled() {
		return "", false, permanent("the destination account exists in the target but is disabled; enable it or map another destination")
	}
	return deref(existing.GetId()), ours, nil
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
	display := src.DisplayName
	if display == "" {
		display = nick
	}
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

// permanentError is a failure no retry will fix.
type permanentError struct{ msg string }

func (e permanentError) Error() string { return e.msg }

func permanent(msg string) error { return permanentError{msg} }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

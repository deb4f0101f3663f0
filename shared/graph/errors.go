package graph

import (
	"errors"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Graph error codes t2t acts on (https://learn.microsoft.com/graph/errors).
const (
	CodeBadRequest     = "Request_BadRequest"
	CodeNotFound       = "Request_ResourceNotFound"
	CodeAccessDenied   = "Authorization_RequestDenied"
	CodeObjectConflict = "ObjectConflict"
)

// msgReferenceMissing is matched as text because Graph answers a reference to an object that has not
// replicated yet with a generic Request_BadRequest; only the message tells it apart
// (https://learn.microsoft.com/graph/best-practices-concept#handling-expected-errors).
const msgReferenceMissing = "objects being referenced do not exist"

// msgReferencesExist is matched as text because Graph answers an @odata.bind or $ref of a member
// or owner that is already there with a generic Request_BadRequest
// (https://learn.microsoft.com/graph/api/group-post-members): for t2t it means "already done".
const msgReferencesExist = "added object references already exist"

// IsAlreadyThere reports the 400 Graph gives when a reference being added (member, owner) exists.
func IsAlreadyThere(err error) bool {
	info, ok := Inspect(err)
	return ok && info.Status == 400 && strings.Contains(info.Message, msgReferencesExist)
}

// Info is what t2t needs to know about a failed Graph call.
type Info struct {
	Status  int
	Code    string
	Message string
	Details []string // detail codes, e.g. ObjectConflict
	Targets []string // detail targets, e.g. userPrincipalName
}

// Inspect extracts Info from an error returned by msgraph-sdk-go; ok is false for non-Graph errors.
func Inspect(err error) (Info, bool) {
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		return inspectService(err)
	}
	info := Info{Status: oe.ResponseStatusCode}
	if me := oe.GetErrorEscaped(); me != nil {
		info.Code = deref(me.GetCode())
		info.Message = deref(me.GetMessage())
		for _, d := range me.GetDetails() {
			info.Details = append(info.Details, deref(d.GetCode()))
			info.Targets = append(info.Targets, deref(d.GetTarget()))
		}
	}
	return info, true
}

// IsConflict reports a uniqueness conflict (an object with the same key already exists).
func IsConflict(err error) bool {
	info, ok := Inspect(err)
	if !ok {
		return false
	}
	for _, d := range info.Details {
		if d == CodeObjectConflict {
			return true
		}
	}
	return info.Status == 409
}

// ConflictTargets returns the properties a uniqueness conflict names (error details' targets), e.g.
// userPrincipalName or proxyAddresses; empty when the error is no conflict or names none.
func ConflictTargets(err error) []string {
	info, ok := Inspect(err)
	if !ok {
		return nil
	}
	var out []string
	for i, d := range info.Details {
		if d == CodeObjectConflict && info.Targets[i] != "" {
			out = append(out, info.Targets[i])
		}
	}
	return out
}

// IsNotFound reports a 404 / Request_ResourceNotFound.
func IsNotFound(err error) bool {
	info, ok := Inspect(err)
	return ok && (info.Status == 404 || info.Code == CodeNotFound)
}

// IsThrottled reports a 429 that outlived the transport's retries.
func IsThrottled(err error) bool {
	info, ok := Inspect(err)
	return ok && info.Status == 429
}

// IsForbidden reports a missing permission (403); permanent until an administrator grants it.
func IsForbidden(err error) bool {
	info, ok := Inspect(err)
	return ok && (info.Status == 403 || info.Code == CodeAccessDenied)
}

// IsReplicationLag reports the 400 Graph gives when a just-created object is referenced before it
// has replicated; worth retrying shortly.
func IsReplicationLag(err error) bool {
	info, ok := Inspect(err)
	return ok && info.Status == 400 && strings.Contains(info.Message, msgReferenceMissing)
}

// IsRetryable reports failures worth trying again later (throttling, unavailability, network errors,
// replication lag). Validation errors, conflicts and missing permissions are not.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	info, ok := Inspect(err)
	if !ok {
		return true // transport or network error: the object was not judged by Graph
	}
	switch {
	case info.Status == 429, info.Status >= 500:
		return true
	case IsReplicationLag(err):
		return true
	}
	return false
}

// Describe renders an error for a ledger row or report: status, code and message, never a token.
func Describe(err error) string {
	info, ok := Inspect(err)
	if !ok {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(info.Code)
	if info.Message != "" {
		b.WriteString(": ")
		b.WriteString(info.Message)
	}
	if info.Code == "" && info.Message == "" {
		return err.Error()
	}
	return b.String()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// codeSyncStateNotFound is the 400 code of an expired or unknown delta token for directory objects
// (https://learn.microsoft.com/graph/delta-query-overview); codeResyncRequired is the code some
// resources give with 410 Gone.
const (
	codeSyncStateNotFound = "syncStateNotFound"
	codeResyncRequired    = "resyncRequired"
)

// IsResyncRequired reports a delta query whose token the service no longer knows (expired after
// about seven days, or reset): 400 syncStateNotFound or 410 Gone. The client must start over with a
// full round.
func IsResyncRequired(err error) bool {
	info, ok := Inspect(err)
	return ok && (info.Status == 410 || strings.EqualFold(info.Code, codeSyncStateNotFound) || strings.EqualFold(info.Code, codeResyncRequired))
}

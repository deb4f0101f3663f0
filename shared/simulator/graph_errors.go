package simulator

import (
	"fmt"
	"net/http"
)

// Graph error codes the simulator answers with. They are the codes Microsoft Graph returns for
// directory objects (https://learn.microsoft.com/graph/errors).
const (
	codeBadRequest          = "Request_BadRequest"
	codeNotFound            = "Request_ResourceNotFound"
	codeUnsupportedQuery    = "Request_UnsupportedQuery"
	codeDenied              = "Authorization_RequestDenied"
	codeInvalidToken        = "InvalidAuthenticationToken"
	codeExpiredPageToken    = "Directory_ExpiredPageToken"
	codeGenericBadRequest   = "BadRequest"
	codeUnknownError        = "UnknownError"
	codeObjectConflict      = "ObjectConflict"
	codeInvalidValue        = "InvalidValue"
	msgInsufficientPrivs    = "Insufficient privileges to complete the operation."
	msgMethodNotAllowed     = "Specified HTTP method is not allowed for the request uri."
	msgUnreadableJSON       = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
	msgAdvancedQueryMissing = "Operator '%s' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
)

// graphError is an error answer in Graph's shape:
// {"error":{"code","message","innerError":{...},"details":[{"target","code"}]}}.
type graphError struct {
	status  int
	code    string
	message string
	details []errorDetail
}

// errorDetail is one entry of error.details; Graph uses it to name the property at fault.
type errorDetail struct {
	Code   string `json:"code"`
	Target string `json:"target,omitempty"`
}

func (e *graphError) Error() string {
	return fmt.Sprintf("graph %d %s: %s", e.status, e.code, e.message)
}

func newGraphError(status int, code, format string, args ...any) *graphError {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &graphError{status: status, code: code, message: msg}
}

// withDetail adds a details entry naming the property (target) and the reason (code).
func (e *graphError) withDetail(target, code string) *graphError {
	e.details = append(e.details, errorDetail{Code: code, Target: target})
	return e
}

func errBadRequest(format string, args ...any) *graphError {
	return newGraphError(http.StatusBadRequest, codeBadRequest, format, args...)
}

func errUnsupportedQuery(format string, args ...any) *graphError {
	return newGraphError(http.StatusBadRequest, codeUnsupportedQuery, format, args...)
}

// errNotFound is Graph's 404 for a directory object addressed by id or key.
func errNotFound(key string) *graphError {
	return newGraphError(http.StatusNotFound, codeNotFound,
		"Resource '%s' does not exist or one of its queried reference-property objects are not present.", key)
}

func errDenied() *graphError {
	return newGraphError(http.StatusForbidden, codeDenied, msgInsufficientPrivs)
}

// errConflict is Graph's answer to a uniqueness violation: 400 (not 409) with an ObjectConflict detail.
func errConflict(property string) *graphError {
	return errBadRequest("Another object with the same value for property %s already exists.", property).
		withDetail(property, codeObjectConflict)
}

// errInvalidValue is Graph's answer to a property value the directory rejects.
func errInvalidValue(property, resource string) *graphError {
	return errBadRequest("Invalid value specified for property '%s' of resource '%s'.", property, resource).
		withDetail(property, codeInvalidValue)
}

// errRequired is Graph's answer to a missing required property on create.
func errRequired(property string) *graphError {
	// Graph names the property in the message only; no details entry is documented for this case.
	return errBadRequest("Property %s value is required but is empty or missing.", property)
}

func errUnreadableJSON() *graphError {
	return newGraphError(http.StatusBadRequest, codeGenericBadRequest, msgUnreadableJSON)
}

// errUnknownProperty is the answer to a request body naming a property the type does not have.
func errUnknownProperty(name string) *graphError {
	return errBadRequest("Property '%s' does not exist as a declared property or extension property.", name)
}

// errNoSegment is Graph's answer to a path it does not route.
func errNoSegment(segment string) *graphError {
	return newGraphError(http.StatusBadRequest, codeGenericBadRequest, "Resource not found for the segment '%s'.", segment)
}

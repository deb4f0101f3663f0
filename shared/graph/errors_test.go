package graph

import (
	"errors"
	"fmt"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

func odataError(status int, code string) error {
	e := odataerrors.NewODataError()
	e.ResponseStatusCode = status
	main := odataerrors.NewMainError()
	main.SetCode(&code)
	e.SetErrorEscaped(main)
	return fmt.Errorf("GET users/delta: %w", e)
}

// TestIsResyncRequired: an expired or unknown delta token (400 syncStateNotFound, 410 Gone with or
// without resyncRequired) asks for a full round; other failures do not.
func TestIsResyncRequired(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{odataError(400, "syncStateNotFound"), true},
		{odataError(410, ""), true},
		{odataError(410, "resyncRequired"), true},
		{odataError(400, "Request_BadRequest"), false},
		{odataError(404, "Request_ResourceNotFound"), false},
		{odataError(503, "serviceNotAvailable"), false},
		{errors.New("connection reset"), false},
	} {
		if got := IsResyncRequired(c.err); got != c.want {
			t.Errorf("IsResyncRequired(%v) = %t, want %t", c.err, got, c.want)
		}
	}
}

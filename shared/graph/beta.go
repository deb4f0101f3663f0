package graph

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// PostBeta sends body to path (such as "/users/{id}/convertExternalToInternalMemberUser") under the
// beta service root, through the client's own request adapter: the same credential, retrying
// transport, write pacing and error types as every v1.0 call. It is for the few beta actions t2t needs
// that the v1.0 SDK does not model; the answer's body is not read. The beta root is the v1.0 root
// with its last segment replaced (https://graph.microsoft.com/v1.0 -> .../beta).
func (c *Client) PostBeta(ctx context.Context, path string, body serialization.Parsable) error {
	adapter := c.GetAdapter()
	root := strings.TrimSuffix(adapter.GetBaseUrl(), "/")
	root = root[:strings.LastIndexByte(root, '/')+1] + "beta"
	u, err := url.Parse(root + path)
	if err != nil {
		return fmt.Errorf("beta URL for %s: %w", path, err)
	}
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.POST
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	if err := ri.SetContentFromParsable(ctx, adapter, "application/json", body); err != nil {
		return fmt.Errorf("encoding the body of %s: %w", path, err)
	}
	return adapter.SendNoContent(ctx, ri, abstractions.ErrorMappings{
		"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue,
	})
}

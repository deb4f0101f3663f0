package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// JSON sends in (nil: no body) as JSON to path under the client's service root (v1.0) and decodes
// the answer into out (nil: not read), through the client's own request adapter: the same
// credential, retrying transport, write pacing and error types as every SDK call. It is for
// endpoints the SDK has no models for (cross-tenant migration jobs), with small typed models of the
// caller's own.
func (c *Client) JSON(ctx context.Context, method, path string, in, out any) error {
	adapter := c.GetAdapter()
	u, err := url.Parse(strings.TrimSuffix(adapter.GetBaseUrl(), "/") + path)
	if err != nil {
		return fmt.Errorf("URL for %s: %w", path, err)
	}
	ri := abstractions.NewRequestInformation()
	ri.Method = map[string]abstractions.HttpMethod{"GET": abstractions.GET, "POST": abstractions.POST,
		"PATCH": abstractions.PATCH, "DELETE": abstractions.DELETE}[method]
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding the body of %s %s: %w", method, path, err)
		}
		ri.SetStreamContentAndContentType(data, "application/json")
	}
	raw, err := adapter.SendPrimitive(ctx, ri, "[]byte", abstractions.ErrorMappings{
		"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue,
	})
	if err != nil {
		return err
	}
	if b, ok := raw.([]byte); ok && out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decoding the answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

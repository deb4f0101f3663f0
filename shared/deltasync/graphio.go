package deltasync

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"t2t/shared/graph"
)

// Delta sync speaks raw JSON to Graph rather than through the SDK's models: a delta answer says that
// a property was cleared with "name": null, which the SDK's models cannot tell from an absent one,
// and a PATCH must be able to send null to clear a property. The SDK's request adapter still carries
// every request (authentication, the retrying and write-pacing transport, write counting, errors as
// *odataerrors.ODataError for the graph package's classification).

var errorMapping = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// object is one Graph object as JSON properties.
type object map[string]json.RawMessage

func (o object) str(name string) string {
	var s string
	_ = json.Unmarshal(o[name], &s)
	return s
}

func (o object) has(name string) bool { _, ok := o[name]; return ok }

// absolute turns a path relative to the client's service root (/users/delta?...) into a URL; an
// absolute URL (a nextLink or deltaLink) is kept.
func absolute(c *graph.Client, pathOrURL string) (*url.URL, error) {
	if !strings.HasPrefix(pathOrURL, "https://") && !strings.HasPrefix(pathOrURL, "http://") {
		pathOrURL = strings.TrimRight(c.GetAdapter().GetBaseUrl(), "/") + pathOrURL
	}
	u, err := url.Parse(pathOrURL)
	if err != nil {
		return nil, fmt.Errorf("graph URL %q: %w", pathOrURL, err)
	}
	return u, nil
}

// getJSON GETs a URL and decodes the answer into v. prefer, when set, is sent as the Prefer header.
func getJSON(ctx context.Context, c *graph.Client, pathOrURL, prefer string, v any) error {
	u, err := absolute(c, pathOrURL)
	if err != nil {
		return err
	}
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.GET
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	if prefer != "" {
		ri.Headers.TryAdd("Prefer", prefer)
	}
	raw, err := c.GetAdapter().SendPrimitive(ctx, ri, "[]byte", errorMapping)
	if err != nil {
		return err
	}
	data, _ := raw.([]byte)
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding the answer of GET %s: %w", u.Path, err)
	}
	return nil
}

// send issues a write (PATCH, POST, DELETE) with an optional JSON body.
func send(ctx context.Context, c *graph.Client, method abstractions.HttpMethod, path string, body any) error {
	u, err := absolute(c, path)
	if err != nil {
		return err
	}
	ri := abstractions.NewRequestInformation()
	ri.Method = method
	ri.SetUri(*u)
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding the body of %s %s: %w", method, path, err)
		}
		ri.SetStreamContentAndContentType(data, "application/json")
	}
	return c.GetAdapter().SendNoContent(ctx, ri, errorMapping)
}

// page is one page of a collection or delta answer.
type page struct {
	Value     []object `json:"value"`
	NextLink  string   `json:"@odata.nextLink"`
	DeltaLink string   `json:"@odata.deltaLink"`
}

// deltaRound runs one delta round from start (a first request or a stored deltaLink), following
// nextLinks, and returns every item with the round's deltaLink. Items of one object may come more
// than once (a group's members are split across pages); the caller merges them.
func deltaRound(ctx context.Context, c *graph.Client, start, prefer string) ([]object, string, error) {
	var items []object
	link := start
	for {
		var p page
		if err := getJSON(ctx, c, link, prefer, &p); err != nil {
			return nil, "", err
		}
		items = append(items, p.Value...)
		switch {
		case p.NextLink != "":
			link = p.NextLink
		case p.DeltaLink != "":
			return items, p.DeltaLink, nil
		default:
			return nil, "", fmt.Errorf("a delta page of %s has neither @odata.nextLink nor @odata.deltaLink", start)
		}
	}
}

// listIDs reads every id of a collection (a group's members), following nextLinks.
func listIDs(ctx context.Context, c *graph.Client, path string) ([]string, error) {
	var ids []string
	link := path
	for link != "" {
		var p page
		if err := getJSON(ctx, c, link, "", &p); err != nil {
			return nil, err
		}
		for _, o := range p.Value {
			ids = append(ids, strings.ToLower(o.str("id")))
		}
		link = p.NextLink
	}
	return ids, nil
}

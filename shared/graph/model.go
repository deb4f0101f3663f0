package graph

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
)

// Marshal renders a Graph SDK model as the JSON Graph speaks (the SDK's own serializer: every
// property the model holds, unknown ones included, enums as their names). Phases keep source objects
// in their snapshots this way, so that a property t2t does not name is still carried over.
func Marshal(m serialization.Parsable) (json.RawMessage, error) {
	w := jsonserialization.NewJsonSerializationWriter()
	defer w.Close()
	if err := w.WriteObjectValue("", m); err != nil {
		return nil, fmt.Errorf("serializing a %T: %w", m, err)
	}
	data, err := w.GetSerializedContent()
	if err != nil {
		return nil, fmt.Errorf("serializing a %T: %w", m, err)
	}
	return json.RawMessage(append([]byte(nil), data...)), nil
}

// Unmarshal parses JSON written by Marshal (or answered by Graph) into the SDK model that create
// makes (a factory such as models.CreateNamedLocationFromDiscriminatorValue, which picks the derived
// type from @odata.type).
func Unmarshal[T serialization.Parsable](data []byte, create serialization.ParsableFactory) (T, error) {
	var zero T
	node, err := jsonserialization.NewJsonParseNode(data)
	if err != nil {
		return zero, fmt.Errorf("parsing a Graph object: %w", err)
	}
	v, err := node.GetObjectValue(create)
	if err != nil {
		return zero, fmt.Errorf("parsing a Graph object: %w", err)
	}
	m, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("parsing a Graph object: got %T, want %T", v, zero)
	}
	return m, nil
}

// Page is a Graph collection response as the SDK returns it.
type Page[T any] interface {
	GetValue() []T
	GetOdataNextLink() *string
}

// All reads every page of a collection: first, then next with each @odata.nextLink until there is
// none (next is the same request builder WithUrl(link)).
func All[T any, P Page[T]](ctx context.Context, first func(context.Context) (P, error), next func(context.Context, string) (P, error)) ([]T, error) {
	page, err := first(ctx)
	var out []T
	for err == nil {
		out = append(out, page.GetValue()...)
		link := page.GetOdataNextLink()
		if link == nil || *link == "" {
			return out, nil
		}
		page, err = next(ctx, *link)
	}
	return nil, err
}

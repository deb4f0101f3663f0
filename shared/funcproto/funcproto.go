// Package funcproto holds the Azure Functions custom-handler wire format: the invocation request the
// host POSTs to http://127.0.0.1:<FUNCTIONS_CUSTOMHANDLER_PORT>/<FunctionName> and the response it
// expects back.
//
// The real host is messier than the documentation's example
// (https://learn.microsoft.com/azure/azure-functions/functions-custom-handlers): plain string values are
// JSON-encoded a second time ("\"text\""), scalar metadata arrive as strings ("DequeueCount":"1"), byte
// content is base64, and the trigger-path metadata (BlobTrigger) is not sent. The accessors here accept
// both that shape and the tidy documented one, so handlers never parse raw values themselves.
package funcproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMissing is returned when a binding or metadata key is absent from the request.
var ErrMissing = errors.New("not present in the invocation request")

// InvokeRequest is the body the host POSTs for one invocation.
type InvokeRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// InvokeResponse is what the handler answers. A non-2xx HTTP status fails the invocation.
type InvokeResponse struct {
	// Outputs maps output binding names to values. For a queue output a JSON array means one message
	// per element; a string is sent as the message text; anything else is serialized as JSON.
	Outputs     map[string]any `json:"Outputs,omitempty"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// HTTPRequest is the value of an httpTrigger binding in Data (enableForwardingHttpRequest off).
type HTTPRequest struct {
	URL     string              `json:"Url"`
	Method  string              `json:"Method"`
	Query   map[string]string   `json:"Query"`
	Headers map[string][]string `json:"Headers"`
	Params  map[string]string   `json:"Params"`
	Body    json.RawMessage     `json:"Body,omitempty"`
}

// HTTPResponse is the value of an http output binding in Outputs.
type HTTPResponse struct {
	StatusCode int               `json:"statusCode"`
	Body       string            `json:"body"`
	Headers    map[string]string `json:"headers,omitempty"`
}

// Text returns a Data binding as text. A JSON string is unwrapped, twice when the host encoded it twice;
// an object or array is returned as its raw JSON.
func (r *InvokeRequest) Text(name string) (string, error) {
	raw, ok := r.Data[name]
	if !ok {
		return "", fmt.Errorf("binding %q: %w", name, ErrMissing)
	}
	return unwrapText(raw)
}

// Bytes returns a Data binding as bytes: base64 text (how the host sends dataType binary), a JSON array of
// byte values, or, failing both, the text itself.
func (r *InvokeRequest) Bytes(name string) ([]byte, error) {
	raw, ok := r.Data[name]
	if !ok {
		return nil, fmt.Errorf("binding %q: %w", name, ErrMissing)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var b []byte // encoding/json reads a []byte from base64 text only; decode numbers by hand
		var nums []int
		if err := json.Unmarshal(raw, &nums); err == nil {
			b = make([]byte, len(nums))
			for i, n := range nums {
				b[i] = byte(n)
			}
			return b, nil
		}
	}
	s, err := unwrapText(raw)
	if err != nil {
		return nil, fmt.Errorf("binding %q: %w", name, err)
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return []byte(s), nil
}

// JSON decodes a Data binding holding a JSON document, whether sent as an object or as a (doubly)
// encoded string.
func (r *InvokeRequest) JSON(name string, v any) error {
	s, err := r.Text(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("binding %q is not the expected JSON: %w", name, err)
	}
	return nil
}

// HTTP returns an httpTrigger binding.
func (r *InvokeRequest) HTTP(name string) (*HTTPRequest, error) {
	var req HTTPRequest
	if err := r.JSON(name, &req); err != nil {
		return nil, err
	}
	return &req, nil
}

// MetaString returns a metadata value as text: strings are unwrapped (twice if need be), numbers and
// booleans are formatted.
func (r *InvokeRequest) MetaString(key string) (string, error) {
	raw, ok := r.Metadata[key]
	if !ok {
		return "", fmt.Errorf("metadata %q: %w", key, ErrMissing)
	}
	return unwrapText(raw)
}

// MetaInt returns a metadata value as an integer, whether sent as 3 or "3".
func (r *InvokeRequest) MetaInt(key string) (int, error) {
	s, err := r.MetaString(key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("metadata %q is not an integer: %w", key, err)
	}
	return n, nil
}

// unwrapText turns a raw JSON value into text: a string is decoded, and decoded once more when the
// result is itself a JSON string literal (the host double-encodes); other values are returned as raw
// JSON. It never unwraps more than the host's two layers.
func unwrapText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return string(raw), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("decoding string value: %w", err)
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var inner string
		if json.Unmarshal([]byte(s), &inner) == nil {
			s = inner
		}
	}
	return s, nil
}

// EncodeTwice renders text the way the real host sends a plain string value: JSON-encoded, then the
// result JSON-encoded again. The local Functions host uses it; tests use it to build host-shaped payloads.
func EncodeTwice(s string) json.RawMessage {
	once, _ := json.Marshal(s)
	twice, _ := json.Marshal(string(once))
	return twice
}

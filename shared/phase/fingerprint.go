package phase

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
)

// fingerprintLen is the length of a fingerprint in hex digits (64 bits: enough to notice a change).
const fingerprintLen = 16

// Fingerprint digests a Graph object (its JSON, as Graph or graph.Marshal renders it) so that two
// renderings of the same content give the same value: the top-level properties named in ignore
// (ids, timestamps) and OData annotations other than @odata.type are left out; nulls, false, empty
// strings, empty lists and empty objects count as absent (Graph renders defaults either way); and
// lists are compared as sets (Graph does not promise their order). It returns "" for JSON it cannot
// read.
func Fingerprint(raw []byte, ignore ...string) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return ""
	}
	if m, ok := v.(map[string]any); ok {
		for _, k := range ignore {
			delete(m, k)
		}
	}
	canon, _ := json.Marshal(canonical(v)) // maps marshal with sorted keys
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])[:fingerprintLen]
}

// canonical normalizes a decoded JSON value as Fingerprint describes; nil means absent.
func canonical(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if strings.HasPrefix(k, "@") && k != "@odata.type" {
				continue
			}
			if c := canonical(e); c != nil {
				out[k] = c
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var items []string
		for _, e := range x {
			if c := canonical(e); c != nil {
				b, _ := json.Marshal(c)
				items = append(items, string(b))
			}
		}
		if len(items) == 0 {
			return nil
		}
		slices.Sort(items)
		out := make([]json.RawMessage, len(items))
		for i, s := range items {
			out[i] = json.RawMessage(s)
		}
		return out
	case bool:
		if !x {
			return nil
		}
	case string:
		if x == "" {
			return nil
		}
	case nil:
		return nil
	}
	return v
}

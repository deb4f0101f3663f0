package funchost

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// applyOutputs writes the queue and blob outputs of a successful invocation. HTTP outputs are written by
// the HTTP trigger itself. An output that cannot be written fails the invocation, as in the real host.
func (h *Host) applyOutputs(ctx context.Context, inv *invocation, res *invokeResult) error {
	for _, b := range inv.fn.outputs {
		v := res.output(b.Name)
		if v == nil {
			continue
		}
		var err error
		switch {
		case b.isType("queue"):
			err = h.writeQueueOutput(ctx, inv, b, v)
		case b.isType("blob"):
			err = h.writeBlobOutput(ctx, inv, b, v)
		}
		if err != nil {
			return fmt.Errorf("output binding %q: %w", b.Name, err)
		}
	}
	return nil
}

// writeQueueOutput enqueues a queue output: a JSON array is one message per element, a string is the
// message text as-is, any other value is its JSON.
func (h *Host) writeQueueOutput(ctx context.Context, inv *invocation, b *binding, v json.RawMessage) error {
	name, err := resolveTemplate(b.QueueName, inv.bindingData)
	if err != nil {
		return err
	}
	name = strings.ToLower(name)
	msgs, err := queueMessages(v)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := b.acct.enqueue(ctx, name, m, h.app.host.queues); err != nil {
			return err
		}
	}
	return nil
}

// queueMessages splits a queue output value into message texts.
func queueMessages(v json.RawMessage) ([]string, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, fmt.Errorf("decoding the array of messages: %w", err)
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, err := valueText(it)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := valueText(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// valueText is a JSON string's text, or any other JSON value's compact JSON.
func valueText(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("decoding a string value: %w", err)
		}
		return s, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return "", fmt.Errorf("output value is not JSON: %w", err)
	}
	return buf.String(), nil
}

// writeBlobOutput uploads a blob output. The path's {name} expressions come from the trigger's binding
// data, plus {rand-guid} and {DateTime}. A string is the content (base64-decoded for dataType binary);
// any other value is written as its JSON.
func (h *Host) writeBlobOutput(ctx context.Context, inv *invocation, b *binding, v json.RawMessage) error {
	path, err := resolveTemplate(b.Path, inv.bindingData)
	if err != nil {
		return err
	}
	containerName, blobName, ok := strings.Cut(path, "/")
	if !ok || containerName == "" || blobName == "" {
		return fmt.Errorf("blob path %q is not container/blob", path)
	}
	content, err := blobContent(v, strings.EqualFold(b.DataType, "binary"))
	if err != nil {
		return err
	}
	cc, err := b.acct.containerClient(ctx, containerName)
	if err != nil {
		return err
	}
	if _, err := cc.NewBlockBlobClient(blobName).UploadBuffer(ctx, content, nil); err != nil {
		return fmt.Errorf("writing blob %s: %w", path, err)
	}
	return nil
}

func blobContent(v json.RawMessage, binary bool) ([]byte, error) {
	s, err := valueText(v)
	if err != nil {
		return nil, err
	}
	if binary && bytes.HasPrefix(bytes.TrimSpace(v), []byte(`"`)) {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return []byte(s), nil
}

// bindingDataFromJSON adds the top-level scalar properties of a JSON object message to binding data, as
// the host does for queue messages ({waveId} in an output path binds to the message's waveId).
func bindingDataFromJSON(text string, into map[string]string) {
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &obj) != nil {
		return
	}
	for k, v := range obj {
		v = bytes.TrimSpace(v)
		if len(v) == 0 || v[0] == '{' || v[0] == '[' || string(v) == "null" {
			continue
		}
		if s, err := valueText(v); err == nil {
			into[k] = s
		}
	}
}

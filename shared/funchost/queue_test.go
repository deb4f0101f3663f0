package funchost

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"t2t/shared/funcproto"
)

// TestQueueTrigger checks the real host's request shape for a queue message and that array, object
// and blob outputs land where function.json says, encoded per host.json.
func TestQueueTrigger(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "QueueEcho")
	f.start()
	text := `{"wave":"w7","outputs":{"out":["m1",{"k":"v"}],"blobout":"hello blob"}}`
	f.enqueue(f.settings["InQueue"], b64(text))
	raw := f.waitRecords("QueueEcho", 1, 10*time.Second)[0]

	var shape struct {
		Data     map[string]json.RawMessage
		Metadata map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &shape); err != nil {
		t.Fatal(err)
	}
	// The text JSON-encoded twice, written out rather than built with the host's own encoder.
	want := `"\"{\\\"wave\\\":\\\"w7\\\",\\\"outputs\\\":{\\\"out\\\":[\\\"m1\\\",{\\\"k\\\":\\\"v\\\"}],\\\"blobout\\\":\\\"hello blob\\\"}}\""`
	if got := string(shape.Data["item"]); got != want {
		t.Errorf("Data.item = %s, want the text encoded twice %s", got, want)
	}
	if got := string(shape.Metadata["DequeueCount"]); got != `"1"` {
		t.Errorf(`DequeueCount = %s, want "1"`, got)
	}
	for _, k := range []string{"Id", "PopReceipt", "InsertionTime", "ExpirationTime", "NextVisibleTime"} {
		if v := string(shape.Metadata[k]); !strings.HasPrefix(v, `"\"`) {
			t.Errorf("Metadata.%s = %s, want a string encoded twice", k, v)
		}
	}
	for k := range shape.Metadata {
		if strings.HasSuffix(k, "Trigger") {
			t.Errorf("metadata has %q; the real host does not send it", k)
		}
	}
	req := decodeRequest(t, raw)
	var sys struct{ MethodName, UtcNow, RandGuid string }
	if err := json.Unmarshal(req.Metadata["sys"], &sys); err != nil || sys.MethodName != "QueueEcho" || sys.RandGuid == "" {
		t.Errorf("sys = %s", req.Metadata["sys"])
	}

	var got []string
	eventually(t, 10*time.Second, "two output messages", func() bool {
		got = f.peek(f.settings["OutQueue"])
		return len(got) >= 2
	})
	for i := range got {
		got[i] = unb64(t, got[i])
	}
	if want := []string{"m1", `{"k":"v"}`}; !slices.Equal(got, want) {
		t.Errorf("output messages %q, want %q", got, want)
	}
	checkBlobOutput(t, f.settings["OutContainer"], "w7-", "hello blob")
	eventually(t, 5*time.Second, "the input message to be deleted", func() bool { return len(f.peek(f.settings["InQueue"])) == 0 })
}

// checkBlobOutput finds the one blob under prefix and compares its content.
func checkBlobOutput(t *testing.T, containerName, prefix, want string) {
	t.Helper()
	acct, err := newAccount("test", azurite.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	cc := acct.blob.ServiceClient().NewContainerClient(containerName)
	// The host writes an invocation's outputs one after another: the blob may land a moment after the
	// queue messages the caller waited for.
	var page container.ListBlobsFlatResponse
	eventually(t, 5*time.Second, "the blob output", func() bool {
		page, err = cc.NewListBlobsFlatPager(nil).NextPage(context.Background())
		return err == nil && len(page.Segment.BlobItems) > 0
	})
	if len(page.Segment.BlobItems) != 1 {
		t.Fatalf("listing %s: %d blobs, want 1", containerName, len(page.Segment.BlobItems))
	}
	name := deref(page.Segment.BlobItems[0].Name)
	if !strings.HasPrefix(name, prefix) || len(name) != len(prefix)+36+len(".txt") {
		t.Errorf("blob output name %q, want %s<guid>.txt", name, prefix)
	}
	resp, err := cc.NewBlobClient(name).DownloadStream(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != want {
		t.Errorf("blob output content %q, want %q", b, want)
	}
}

// TestQueuePoison checks retries up to maxDequeueCount (3 in the fixture), then <queue>-poison with the
// message unchanged; a message that is not base64 goes to poison without an invocation.
func TestQueuePoison(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "QueueEcho")
	f.start()
	in := f.settings["InQueue"]
	f.enqueue(in, b64("please fail"))
	f.enqueue(in, "not base64!")
	var poison []string
	eventually(t, 15*time.Second, "two messages on the poison queue", func() bool {
		poison = f.peek(in + "-poison")
		return len(poison) >= 2
	})
	if !slices.Contains(poison, b64("please fail")) || !slices.Contains(poison, "not base64!") {
		t.Errorf("poison messages %q", poison)
	}
	recs := f.records("QueueEcho")
	if len(recs) != 3 {
		t.Fatalf("%d invocations, want 3 (maxDequeueCount)", len(recs))
	}
	for i, raw := range recs {
		req := decodeRequest(t, raw)
		if n, _ := req.MetaInt("DequeueCount"); n != i+1 {
			t.Errorf("attempt %d: DequeueCount %d", i+1, n)
		}
	}
	if n := len(f.peek(in)); n != 0 {
		t.Errorf("%d messages left on %s", n, in)
	}
}

// TestHandlerRestart checks that a handler that exits mid-invocation is restarted, the message is
// retried (and poisoned after maxDequeueCount), and later messages run normally.
func TestHandlerRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "QueueEcho")
	f.start()
	in := f.settings["InQueue"]
	f.enqueue(in, b64("crash now"))
	eventually(t, 20*time.Second, "the crashing message on the poison queue", func() bool {
		return len(f.peek(in+"-poison")) == 1
	})
	f.enqueue(in, b64("hello again"))
	eventually(t, 10*time.Second, "the next message to run", func() bool {
		for _, raw := range f.records("QueueEcho") {
			if s, _ := decodeRequestQuiet(raw).Text("item"); s == "hello again" {
				return true
			}
		}
		return false
	})
	if !strings.Contains(f.logs.String(), "restarting in") {
		t.Error("the host did not report restarting the handler")
	}
}

func decodeRequestQuiet(raw json.RawMessage) *funcproto.InvokeRequest {
	var req funcproto.InvokeRequest
	_ = json.Unmarshal(raw, &req)
	return &req
}

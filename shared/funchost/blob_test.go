package funchost

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func (f *fixture) upload(containerName, name, content string) {
	f.t.Helper()
	acct, err := newAccount("test", azurite.ConnectionString())
	if err != nil {
		f.t.Fatal(err)
	}
	cc, err := acct.containerClient(context.Background(), containerName)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := cc.NewBlockBlobClient(name).UploadBuffer(context.Background(), []byte(content), nil); err != nil {
		f.t.Fatal(err)
	}
}

// TestBlobTrigger checks the request shape for a binary blob, that each blob version (ETag) runs once,
// that an identical re-upload (new ETag) runs again, and that a restarted host does not run it again.
func TestBlobTrigger(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "BlobEcho")
	f.start()
	cont := f.settings["BlobContainer"]
	f.upload(cont, "w1.csv", "Source,Destination\n")
	f.upload(cont, "notes.txt", "not a mapping")
	raw := f.waitRecords("BlobEcho", 1, 10*time.Second)[0]

	var shape struct {
		Data     map[string]json.RawMessage
		Metadata map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &shape); err != nil {
		t.Fatal(err)
	}
	// Literal payloads, not built with the host's own encoder: binary content as a base64 JSON string
	// ("Source,Destination\n"), a plain string JSON-encoded twice.
	if got, want := string(shape.Data["mapping"]), `"U291cmNlLERlc3RpbmF0aW9uCg=="`; got != want {
		t.Errorf("Data.mapping = %s, want base64 %s", got, want)
	}
	if got, want := string(shape.Metadata["name"]), `"\"w1\""`; got != want {
		t.Errorf("Metadata.name = %s, want %s", got, want)
	}
	for k := range shape.Metadata {
		if strings.HasSuffix(k, "Trigger") {
			t.Errorf("metadata has %q; the real host does not send it", k)
		}
	}
	var props struct {
		Length int
		ETag   string
	}
	if err := json.Unmarshal(shape.Metadata["Properties"], &props); err != nil || props.Length != 19 || props.ETag == "" {
		t.Errorf("Properties = %s", shape.Metadata["Properties"])
	}
	req := decodeRequest(t, raw)
	if uri, _ := req.MetaString("Uri"); !strings.HasSuffix(uri, "/"+cont+"/w1.csv") {
		t.Errorf("Uri = %q", uri)
	}
	f.checkReceipt(cont, "w1.csv", props.ETag)

	time.Sleep(time.Second) // ten scans
	if n := len(f.records("BlobEcho")); n != 1 {
		t.Fatalf("%d invocations for one blob version, want 1", n)
	}
	f.upload(cont, "w1.csv", "Source,Destination\n") // same content, new ETag
	f.waitRecords("BlobEcho", 2, 10*time.Second)

	_ = f.host.Shutdown(context.Background())
	f.start()
	time.Sleep(time.Second)
	if n := len(f.records("BlobEcho")); n != 2 {
		t.Fatalf("%d invocations after a host restart, want still 2", n)
	}
}

// checkReceipt finds the completed receipt blobreceipts/<hostId>/Host.Functions.BlobEcho/"<etag>"/<container>/<blob>.
func (f *fixture) checkReceipt(cont, blobName, etag string) {
	f.t.Helper()
	acct, _ := newAccount("test", azurite.ConnectionString())
	name := receiptName(f.settings["AzureFunctionsWebHost__hostid"], "BlobEcho", etag, cont, blobName)
	if !strings.Contains(name, `/Host.Functions.BlobEcho/"`) {
		f.t.Errorf("receipt name %q is not the real host's layout (function id, quoted ETag)", name)
	}
	bc := acct.blob.ServiceClient().NewContainerClient(hostsContainer).NewBlobClient(name)
	eventually(f.t, 5*time.Second, "a completed receipt", func() bool {
		props, err := bc.GetProperties(context.Background(), nil)
		if err != nil {
			return false
		}
		_, incomplete := metaGet(props.Metadata, metaIncomplete)
		return !incomplete
	})
}

// TestBlobPoison checks that a blob failing maxDequeueCount times is reported on
// webjobs-blobtrigger-poison and not retried again.
func TestBlobPoison(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "BlobEcho")
	f.start()
	cont := f.settings["BlobContainer"]
	f.upload(cont, "bad.csv", "please fail")
	var msg map[string]string
	eventually(t, 15*time.Second, "a poison blob message", func() bool {
		for _, m := range f.peek(blobPoisonQueue) {
			var v map[string]string
			if json.Unmarshal([]byte(unb64(t, m)), &v) == nil && v["ContainerName"] == cont {
				msg = v
				return true
			}
		}
		return false
	})
	if msg["Type"] != "blob" || msg["FunctionId"] != "Host.Functions.BlobEcho" || msg["BlobName"] != "bad.csv" ||
		msg["BlobType"] != "BlockBlob" || !strings.HasPrefix(msg["ETag"], `"`) {
		t.Errorf("poison message %v", msg)
	}
	if n := len(f.records("BlobEcho")); n != 3 {
		t.Errorf("%d invocations, want 3 (maxDequeueCount)", n)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(f.records("BlobEcho")); n != 3 {
		t.Errorf("%d invocations after poisoning, want still 3", n)
	}
}

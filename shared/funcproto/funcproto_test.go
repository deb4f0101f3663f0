package funcproto

import (
	"encoding/json"
	"testing"
)

// realHostQueue is shaped like what the Functions host sends a custom handler for a queue trigger:
// the message text JSON-encoded twice, scalar metadata as strings.
const realHostQueue = `{
  "Data": {"item": "\"{\\\"wave\\\":\\\"w1\\\",\\\"phase\\\":\\\"import.users\\\",\\\"chunk\\\":3}\""},
  "Metadata": {
    "DequeueCount": "2",
    "Id": "\"5b6c0f1e-7d0a-4d6e-9c68-0a1a3f0e2b11\"",
    "PopReceipt": "\"AgAAAAMAAAAAAAAA\"",
    "InsertionTime": "\"2026-11-26T10:00:00+00:00\"",
    "sys": {"MethodName": "StepRun", "UtcNow": "2026-11-26T10:00:01.123Z", "RandGuid": "0f8fad5b-d9cb-469f-a165-70867728950e"}
  }
}`

// documentedQueue is the tidier shape of the documentation's example.
const documentedQueue = `{
  "Data": {"item": {"wave":"w1","phase":"import.users","chunk":3}},
  "Metadata": {"DequeueCount": 2, "Id": "5b6c0f1e-7d0a-4d6e-9c68-0a1a3f0e2b11"}
}`

// realHostBlob: base64 content for dataType binary, the {name} path parameter encoded twice, no
// BlobTrigger key, Properties as an object.
const realHostBlob = `{
  "Data": {"mapping": "U291cmNlLERlc3RpbmF0aW9uCmFAYy5leGFtcGxlLGJAZi5leGFtcGxlCg=="},
  "Metadata": {
    "name": "\"wave-7.csv\"",
    "Uri": "\"http://127.0.0.1:10000/devstoreaccount1/mappings/wave-7.csv\"",
    "Properties": {"Length": 47, "ETag": "\"0x8DCC1\"", "ContentType": "text/csv"},
    "sys": {"MethodName": "WaveStart"}
  }
}`

func TestQueuePayloadBothShapes(t *testing.T) {
	for name, body := range map[string]string{"real host": realHostQueue, "documented": documentedQueue} {
		t.Run(name, func(t *testing.T) {
			var req InvokeRequest
			if err := json.Unmarshal([]byte(body), &req); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			var step struct {
				Wave  string `json:"wave"`
				Phase string `json:"phase"`
				Chunk int    `json:"chunk"`
			}
			if err := req.JSON("item", &step); err != nil {
				t.Fatalf("JSON(item): %v", err)
			}
			if step.Wave != "w1" || step.Phase != "import.users" || step.Chunk != 3 {
				t.Errorf("step = %+v", step)
			}
			n, err := req.MetaInt("DequeueCount")
			if err != nil || n != 2 {
				t.Errorf("DequeueCount = %d, %v; want 2", n, err)
			}
			id, err := req.MetaString("Id")
			if err != nil || id != "5b6c0f1e-7d0a-4d6e-9c68-0a1a3f0e2b11" {
				t.Errorf("Id = %q, %v", id, err)
			}
		})
	}
}

func TestBlobPayloadRealHostShape(t *testing.T) {
	var req InvokeRequest
	if err := json.Unmarshal([]byte(realHostBlob), &req); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	name, err := req.MetaString("name")
	if err != nil || name != "wave-7.csv" {
		t.Errorf("name = %q, %v", name, err)
	}
	data, err := req.Bytes("mapping")
	if err != nil || string(data) != "Source,Destination\na@c.example,b@f.example\n" {
		t.Errorf("content = %q, %v", data, err)
	}
	if _, err := req.MetaString("BlobTrigger"); err == nil {
		t.Error("BlobTrigger should be reported missing, as the real host does not send it")
	}
}

func TestBytesAcceptsPlainTextAndByteArrays(t *testing.T) {
	req := InvokeRequest{Data: map[string]json.RawMessage{
		"text":  EncodeTwice("Source,Destination\n"),
		"array": json.RawMessage(`[83,111]`),
	}}
	if b, err := req.Bytes("text"); err != nil || string(b) != "Source,Destination\n" {
		t.Errorf("text = %q, %v", b, err)
	}
	if b, err := req.Bytes("array"); err != nil || string(b) != "So" {
		t.Errorf("array = %q, %v", b, err)
	}
}

func TestHTTPTriggerPayload(t *testing.T) {
	body := `{"Data":{"req":{"Url":"http://localhost:7071/api/waves/w1","Method":"GET","Query":{},"Headers":{"Accept":["application/json"]},"Params":{"wave":"w1"}}},"Metadata":{"wave":"\"w1\""}}`
	var req InvokeRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	h, err := req.HTTP("req")
	if err != nil || h.Method != "GET" || h.Params["wave"] != "w1" {
		t.Errorf("HTTP = %+v, %v", h, err)
	}
}

func TestEncodeTwiceRoundTrips(t *testing.T) {
	for _, s := range []string{"plain", `{"a":"b"}`, `"quoted"`, ""} {
		req := InvokeRequest{Data: map[string]json.RawMessage{"x": EncodeTwice(s)}}
		got, err := req.Text("x")
		if err != nil || got != s {
			t.Errorf("Text(EncodeTwice(%q)) = %q, %v", s, got, err)
		}
	}
}

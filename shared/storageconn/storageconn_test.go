package storageconn_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"t2t/shared/storageconn"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestFromEnv(t *testing.T) {
	const azurite = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
	tests := []struct {
		name string
		env  map[string]string
		want storageconn.Conn
		err  string
	}{
		{"connection string", map[string]string{"AzureWebJobsStorage": azurite}, storageconn.Conn{ConnectionString: azurite}, ""},
		{"connection string wins", map[string]string{"AzureWebJobsStorage": azurite, "AzureWebJobsStorage__accountName": "x"},
			storageconn.Conn{ConnectionString: azurite}, ""},
		{"account name (infra/modules/functionapp.bicep)", map[string]string{"AzureWebJobsStorage__accountName": "stt2tabc",
			"AzureWebJobsStorage__credential": "managedidentity", "AzureWebJobsStorage__clientId": "4e1b7c2d-8a3f-4d6e-9b0c-1a2b3c4d5e61"},
			storageconn.Conn{BlobURL: "https://stt2tabc.blob.core.windows.net", QueueURL: "https://stt2tabc.queue.core.windows.net",
				TableURL: "https://stt2tabc.table.core.windows.net", ClientID: "4e1b7c2d-8a3f-4d6e-9b0c-1a2b3c4d5e61"}, ""},
		{"explicit service URIs", map[string]string{"AzureWebJobsStorage__blobServiceUri": "https://b.example/",
			"AzureWebJobsStorage__queueServiceUri": "https://q.example/", "AzureWebJobsStorage__tableServiceUri": "https://t.example/"},
			storageconn.Conn{BlobURL: "https://b.example/", QueueURL: "https://q.example/", TableURL: "https://t.example/"}, ""},
		{"blob-only serviceUri", map[string]string{"AzureWebJobsStorage__serviceUri": "https://b.example/"},
			storageconn.Conn{BlobURL: "https://b.example/"}, ""},
		{"nothing", map[string]string{}, storageconn.Conn{}, "not configured"},
		{"other credential", map[string]string{"AzureWebJobsStorage__accountName": "x", "AzureWebJobsStorage__credential": "clientsecret"},
			storageconn.Conn{}, "only managedidentity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := storageconn.FromEnv("AzureWebJobsStorage", lookup(tt.env))
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("err %v, want %q", err, tt.err)
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case got != tt.want:
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := storageconn.FromEnv("X", lookup(nil)); !errors.Is(err, storageconn.ErrNotConfigured) {
		t.Errorf("err %v, want ErrNotConfigured", err)
	}
}

// fakeCredential stands in for the managed identity: the clients are only built, never called.
type fakeCredential struct{}

func (fakeCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("not used")
}

var _ azcore.TokenCredential = fakeCredential{}

func TestClientsOfBothForms(t *testing.T) {
	id, err := storageconn.FromEnv("S", lookup(map[string]string{"S__accountName": "stt2tabc"}))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := id.Clients(fakeCredential{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cs.Blob.URL(), "https://stt2tabc.blob.core.windows.net") ||
		!strings.HasPrefix(cs.Queue.URL(), "https://stt2tabc.queue.core.windows.net") || cs.Table == nil {
		t.Errorf("identity clients: blob %s queue %s", cs.Blob.URL(), cs.Queue.URL())
	}
	conn := storageconn.Conn{ConnectionString: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;" +
		"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;" +
		"TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"}
	cs, err = conn.Clients(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cs.Blob.URL(), "http://127.0.0.1:10000/devstoreaccount1") || cs.Queue == nil || cs.Table == nil {
		t.Errorf("connection string clients: blob %s", cs.Blob.URL())
	}
}

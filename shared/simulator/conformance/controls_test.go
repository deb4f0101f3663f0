package conformance_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

// migratorCounter reads the admin counter of the migrator in fabrikam.
func migratorCounter(t *testing.T, srv *simulator.Server) simulator.Counter {
	t.Helper()
	resp, err := srv.HTTPClient().Get(srv.URLs().GraphURL + "/_sim/counters")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var all []simulator.Counter
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if c.Tenant == simtest.FabrikamID && c.Client == simtest.MigratorID {
			return c
		}
	}
	return simulator.Counter{}
}

func throttled(tc simulator.ThrottlingConfig) *simulator.Config {
	cfg := simulator.ExampleConfig()
	tc.Enabled = true
	cfg.Throttling = &tc
	return cfg
}

// The SDK's default middleware includes kiota's retry handler, which waits Retry-After on a 429 and
// retries: against the simulator's whole-second Retry-After the retry succeeds.
func TestSDKRetryHandlerHonoursRetryAfter(t *testing.T) {
	// 2 RU per 10 s at time scale 10: 2 RU per second. The third request finds the bucket empty, is
	// charged (-1) and told to wait 1 s, after which the bucket holds 1 RU again.
	srv := simtest.Start(t, throttled(simulator.ThrottlingConfig{ResourceUnits: 2, TimeScale: 10}), nil)
	client, _ := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()
	start := time.Now()
	for i := range 3 {
		if _, err := client.Domains().Get(ctx, nil); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("3 requests took %v: the retry did not wait Retry-After", elapsed)
	}
	if c := migratorCounter(t, srv); c.Throttled != 1 || c.Requests != 4 || c.ThrottledBy.AppTenantResourceUnits != 1 {
		t.Errorf("counter %+v, want one 429 and its retry", c)
	}
}

var registerBatchErrors = func() bool {
	// GetBatchResponseById turns a failed inner answer into an error through this registry.
	_ = msgraphcore.RegisterError(msgraphcore.BatchRequestErrorRegistryKey, abstractions.ErrorMappings{
		"4XX": odataerrors.CreateODataErrorFromDiscriminatorValue,
		"5XX": odataerrors.CreateODataErrorFromDiscriminatorValue,
	})
	return true
}()

func TestSDKBatchRoundTrip(t *testing.T) {
	srv := simtest.Start(t, nil, nil)
	client, adapter := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()
	batch := msgraphcore.NewBatchRequestCollection(adapter)
	add := func(info *abstractions.RequestInformation, err error) msgraphcore.BatchItem {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		item, err := batch.AddBatchRequestStep(*info)
		if err != nil {
			t.Fatal(err)
		}
		return item
	}
	create := add(client.Users().ToPostRequestInformation(ctx, newUser("batch.sdk@fabrikam.example", "Xq7!long-enough"), nil))
	read := add(client.Users().ByUserId("batch.sdk@fabrikam.example").ToGetRequestInformation(ctx, nil))
	read.DependsOnItem(create)
	missing := add(client.Users().ByUserId("nobody@fabrikam.example").ToGetRequestInformation(ctx, nil))
	resp, err := batch.Send(ctx, adapter)
	if err != nil {
		t.Fatal(err)
	}
	codes := resp.GetStatusCodes()
	if codes[*create.GetId()] != 201 || codes[*read.GetId()] != 200 || codes[*missing.GetId()] != 404 {
		t.Fatalf("status codes %v", codes)
	}
	created, err := msgraphcore.GetBatchResponseById[models.Userable](resp, *create.GetId(), models.CreateUserFromDiscriminatorValue)
	if err != nil || created.GetId() == nil {
		t.Fatalf("created user: %v", err)
	}
	got, err := msgraphcore.GetBatchResponseById[models.Userable](resp, *read.GetId(), models.CreateUserFromDiscriminatorValue)
	if err != nil || *got.GetId() != *created.GetId() || *got.GetUserPrincipalName() != "batch.sdk@fabrikam.example" {
		t.Fatalf("read back: %v", err)
	}
	_, err = msgraphcore.GetBatchResponseById[models.Userable](resp, *missing.GetId(), models.CreateUserFromDiscriminatorValue)
	odataError(t, err, 0, "Request_ResourceNotFound")
}

// An inner 429 comes back inside a 200 batch answer: the SDK's retry handler sees only the 200 and
// does not retry it, so the caller must (DESIGN section 7).
func TestSDKBatchInnerThrottleIsNotRetried(t *testing.T) {
	srv := simtest.Start(t, throttled(simulator.ThrottlingConfig{ResourceUnits: 2}), nil)
	client, adapter := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()
	batch := msgraphcore.NewBatchRequestCollection(adapter)
	for range 3 {
		info, err := client.Domains().ToGetRequestInformation(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := batch.AddBatchRequestStep(*info); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := batch.Send(ctx, adapter)
	if err != nil {
		t.Fatal(err)
	}
	var ok, throttled int
	for _, item := range resp.GetResponses() {
		switch *item.GetStatus() {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			throttled++
			if item.GetHeaders()["Retry-After"] == "" {
				t.Errorf("inner 429 without Retry-After: %v", item.GetHeaders())
			}
		}
	}
	if ok != 2 || throttled != 1 {
		t.Errorf("%d ok, %d throttled; want 2 and 1", ok, throttled)
	}
	if c := migratorCounter(t, srv); c.Requests != 4 || c.Batches != 1 {
		t.Errorf("counter %+v: the inner 429 was retried", c)
	}
}

package conformance_test

import (
	"context"
	"net/http"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/groupswithuniquename"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/simulator"
	"t2t/shared/simulator/simtest"
)

func securityGroup(name string) models.Groupable {
	g := models.NewGroup()
	g.SetDisplayName(ptr(name))
	g.SetMailEnabled(ptr(false))
	g.SetMailNickname(ptr(name))
	g.SetSecurityEnabled(ptr(true))
	return g
}

// fabrikamUserIDs lists n user ids of the target tenant.
func fabrikamUserIDs(t *testing.T, client *msgraphsdk.GraphServiceClient, n int32) []string {
	t.Helper()
	page, err := client.Users().Get(context.Background(), &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr(n), Select: []string{"id"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range page.GetValue() {
		ids = append(ids, *u.GetId())
	}
	return ids
}

func newDirectorySim(t *testing.T) *simulator.Server {
	cfg := simulator.ExampleConfig()
	cfg.Tenants[1].Seed.Users = 40
	cfg.Tenants[1].Seed.Groups = 6
	return simtest.Start(t, cfg, nil)
}

func TestGroupsCreateUpsertAndMembers(t *testing.T) {
	srv := newDirectorySim(t)
	client, _ := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()
	ids := fabrikamUserIDs(t, client, 25)

	created, err := client.Groups().Post(ctx, securityGroup("sdk-created"), nil)
	if err != nil || created.GetId() == nil || *created.GetSecurityEnabled() != true {
		t.Fatalf("create group: %v", err)
	}

	// Upsert by uniqueName with Prefer: create-if-missing: 201 and a group, then 204 and nil.
	headers := abstractions.NewRequestHeaders()
	headers.Add("Prefer", "create-if-missing")
	cfg := &groupswithuniquename.GroupsWithUniqueNameRequestBuilderPatchRequestConfiguration{Headers: headers}
	up, err := client.GroupsWithUniqueName(ptr("t2t-contoso-42")).Patch(ctx, securityGroup("sdk-upsert"), cfg)
	if err != nil || up == nil || up.GetUniqueName() == nil || *up.GetUniqueName() != "t2t-contoso-42" {
		t.Fatalf("upsert create: %v %v", up, err)
	}
	again, err := client.GroupsWithUniqueName(ptr("t2t-contoso-42")).Patch(ctx, securityGroup("sdk-upsert"), cfg)
	if err != nil || again != nil {
		t.Fatalf("upsert update: %v %v", again, err)
	}
	_, err = client.GroupsWithUniqueName(ptr("t2t-missing")).Patch(ctx, securityGroup("x"), nil)
	odataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")
	got, err := client.GroupsWithUniqueName(ptr("t2t-contoso-42")).Get(ctx, nil)
	if err != nil || *got.GetId() != *up.GetId() {
		t.Fatalf("get by uniqueName: %v", err)
	}

	// Members: one through $ref, then twenty in one PATCH with members@odata.bind.
	groupID := *up.GetId()
	ref := models.NewReferenceCreate()
	ref.SetOdataId(ptr("https://graph.microsoft.com/v1.0/directoryObjects/" + ids[0]))
	if err := client.Groups().ByGroupId(groupID).Members().Ref().Post(ctx, ref, nil); err != nil {
		t.Fatalf("add member: %v", err)
	}
	err = client.Groups().ByGroupId(groupID).Members().Ref().Post(ctx, ref, nil)
	oerr := odataError(t, err, http.StatusBadRequest, "Request_BadRequest")
	if msg := *oerr.GetErrorEscaped().GetMessage(); msg != "One or more added object references already exist for the following modified properties: 'members'." {
		t.Errorf("duplicate member message %q", msg)
	}
	binds := make([]string, 0, 20)
	for _, id := range ids[1:21] {
		binds = append(binds, "https://graph.microsoft.com/v1.0/directoryObjects/"+id)
	}
	patch := models.NewGroup()
	patch.SetAdditionalData(map[string]any{"members@odata.bind": binds})
	if _, err := client.Groups().ByGroupId(groupID).Patch(ctx, patch, nil); err != nil {
		t.Fatalf("bind 20 members: %v", err)
	}
	members, err := client.Groups().ByGroupId(groupID).Members().Get(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Top: ptr(int32(999))},
	})
	if err != nil || len(members.GetValue()) != 21 {
		t.Fatalf("members: %v", err)
	}
	if _, ok := members.GetValue()[0].(models.Userable); !ok {
		t.Errorf("member is a %T, want a user", members.GetValue()[0])
	}
	if err := client.Groups().ByGroupId(groupID).Members().ByDirectoryObjectId(ids[0]).Ref().Delete(ctx, nil); err != nil {
		t.Fatalf("remove member: %v", err)
	}
	err = client.Groups().ByGroupId(groupID).Members().ByDirectoryObjectId(ids[0]).Ref().Delete(ctx, nil)
	odataError(t, err, http.StatusNotFound, "Request_ResourceNotFound")
}

func TestDeltaRoundTripThroughSDK(t *testing.T) {
	srv := newDirectorySim(t)
	client, _ := graphClient(t, srv, simtest.FabrikamID, simtest.MigratorID, simtest.MigratorSecret)
	ctx := context.Background()

	// First round: follow nextLinks to the deltaLink.
	var deltaLink string
	seen := 0
	page, err := client.Groups().Delta().GetAsDeltaGetResponse(ctx, nil)
	for {
		if err != nil {
			t.Fatalf("groups delta: %v", err)
		}
		seen += len(page.GetValue())
		if page.GetOdataDeltaLink() != nil {
			deltaLink = *page.GetOdataDeltaLink()
			break
		}
		page, err = client.Groups().Delta().WithUrl(*page.GetOdataNextLink()).GetAsDeltaGetResponse(ctx, nil)
	}
	if seen != 6 || deltaLink == "" {
		t.Fatalf("first round: %d groups, deltaLink %q", seen, deltaLink)
	}

	// A change: a new group with a member comes back with members@delta.
	ids := fabrikamUserIDs(t, client, 1)
	g := securityGroup("sdk-delta")
	g.SetAdditionalData(map[string]any{"members@odata.bind": []string{"https://graph.microsoft.com/v1.0/users/" + ids[0]}})
	created, err := client.Groups().Post(ctx, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := client.Groups().Delta().WithUrl(deltaLink).GetAsDeltaGetResponse(ctx, nil)
	if err != nil || len(changes.GetValue()) != 1 || *changes.GetValue()[0].GetId() != *created.GetId() || changes.GetOdataDeltaLink() == nil {
		t.Fatalf("second round: %v", err)
	}
	if md, ok := changes.GetValue()[0].GetAdditionalData()["members@delta"]; !ok || md == nil {
		t.Errorf("no members@delta in %v", changes.GetValue()[0].GetAdditionalData())
	}

	// Users: a deleted user comes back as @removed.
	first, err := client.Users().Delta().GetAsDeltaGetResponse(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: []string{"displayName", "userPrincipalName"}},
	})
	if err != nil || first.GetOdataDeltaLink() == nil || len(first.GetValue()) != 40 {
		t.Fatalf("users delta: %v", err)
	}
	if err := client.Users().ByUserId(ids[0]).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	removed, err := client.Users().Delta().WithUrl(*first.GetOdataDeltaLink()).GetAsDeltaGetResponse(ctx, nil)
	if err != nil || len(removed.GetValue()) != 1 {
		t.Fatalf("users delta after delete: %v", err)
	}
	if r, ok := removed.GetValue()[0].GetAdditionalData()["@removed"]; !ok || r == nil {
		t.Errorf("no @removed in %v", removed.GetValue()[0].GetAdditionalData())
	}
}

package users_test

import (
	"context"
	"testing"

	graphusers "github.com/microsoftgraph/msgraph-sdk-go/users"

	"t2t/shared/mapping"
	"t2t/shared/users"
)

// TestImportCopiesEmployeeDataAndUsageLocation: the created account carries the source's employeeId,
// employeeType, employeeHireDate, employeeOrgData, usageLocation and onPremisesExtensionAttributes.
func TestImportCopiesEmployeeDataAndUsageLocation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	src := e.sourceUsers(t, 1)
	// The seeded source user's values, read as an administrator would see them.
	su, err := e.source.Users().ByUserId(*src[0].GetId()).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"employeeId", "employeeType", "usageLocation", "onPremisesExtensionAttributes", "employeeHireDate", "employeeOrgData"}}})
	if err != nil {
		t.Fatal(err)
	}
	cc := deref(su.GetOnPremisesExtensionAttributes().GetExtensionAttribute1())
	id, kind, loc := deref(su.GetEmployeeId()), deref(su.GetEmployeeType()), deref(su.GetUsageLocation())
	hired, org := su.GetEmployeeHireDate(), su.GetEmployeeOrgData()
	if hired == nil || org == nil || deref(org.GetDivision()) == "" || deref(org.GetCostCenter()) == "" {
		t.Fatalf("the seeded source user lacks a hire date or org data: %v %v", hired, org)
	}
	if id == "" || kind == "" || loc == "" || cc == "" {
		t.Fatalf("the seeded source user lacks employee data: %q %q %q", id, kind, loc)
	}
	dest := "attrs@fabrikam.example"
	snap, err := users.Export(ctx, e.source, scope("attrs"), []mapping.Row{{Line: 2, Source: *src[0].GetUserPrincipalName(), Destination: dest}})
	if err != nil {
		t.Fatal(err)
	}
	im := &users.Importer{Target: e.target, Store: e.store, Migration: e.migration, MaxAttempts: 3}
	if _, err := im.Import(ctx, snap); err != nil {
		t.Fatal(err)
	}
	u, err := e.target.Users().ByUserId(dest).Get(ctx, &graphusers.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &graphusers.UserItemRequestBuilderGetQueryParameters{Select: []string{"employeeId", "employeeType", "usageLocation", "onPremisesExtensionAttributes", "employeeHireDate", "employeeOrgData"}}})
	if err != nil {
		t.Fatal(err)
	}
	if a := u.GetOnPremisesExtensionAttributes(); a == nil || deref(a.GetExtensionAttribute1()) != cc || a.GetExtensionAttribute2() != nil {
		t.Errorf("target extension attributes %v; want extensionAttribute1 %q and no others", a, cc)
	}
	if deref(u.GetEmployeeId()) != id || deref(u.GetEmployeeType()) != kind || deref(u.GetUsageLocation()) != loc {
		t.Errorf("target has employeeId %q, employeeType %q, usageLocation %q; want %q, %q, %q",
			deref(u.GetEmployeeId()), deref(u.GetEmployeeType()), deref(u.GetUsageLocation()), id, kind, loc)
	}
	if h := u.GetEmployeeHireDate(); h == nil || !h.Equal(*hired) {
		t.Errorf("target employeeHireDate %v, want %v", h, hired)
	}
	if o := u.GetEmployeeOrgData(); o == nil || deref(o.GetDivision()) != deref(org.GetDivision()) || deref(o.GetCostCenter()) != deref(org.GetCostCenter()) {
		t.Errorf("target employeeOrgData %v, want division %q cost centre %q", o, deref(org.GetDivision()), deref(org.GetCostCenter()))
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

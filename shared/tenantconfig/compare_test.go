package tenantconfig_test

import (
	"reflect"
	"testing"

	"t2t/shared/tenantconfig"
	"t2t/shared/wave"
)

func TestCompare(t *testing.T) {
	src := &tenantconfig.Settings{TenantID: "s",
		VerifiedDomains: []tenantconfig.Domain{{Name: "contoso.example", IsDefault: true}, {Name: "both.example"},
			{Name: "contoso.onmicrosoft.com", IsInitial: true}, {Name: "unmapped.example"}},
		Values: map[string]string{"a.same": "x", "a.diff": "true", "a.onlySource": "1"},
		Partners: []tenantconfig.Partner{
			{TenantID: "t", Values: map[string]string{"inboundTrust.isMfaAccepted": "true"}}, // the target itself
			{TenantID: "p1", Values: map[string]string{"inboundTrust.isMfaAccepted": "true", "isServiceProvider": "(not set)"}},
			{TenantID: "p2", Values: map[string]string{"inboundTrust.isMfaAccepted": "true"}},
			{TenantID: "p3", Values: map[string]string{"inboundTrust.isMfaAccepted": "(inherits the default)"}},
		}}
	tgt := &tenantconfig.Settings{TenantID: "t",
		VerifiedDomains: []tenantconfig.Domain{{Name: "fabrikam.example"}, {Name: "both.example"}},
		Values:          map[string]string{"a.same": "x", "a.diff": "false"},
		Partners: []tenantconfig.Partner{
			{TenantID: "p2", Values: map[string]string{"inboundTrust.isMfaAccepted": "(inherits the default)"}},
			{TenantID: "p3", Values: map[string]string{"inboundTrust.isMfaAccepted": "(inherits the default)"}},
		}}
	want := []tenantconfig.Verdict{
		{Key: "setting:a.diff", Name: "a.diff", Status: wave.ObjSkipped, Reason: "source true, target false: review and change by hand if wanted"},
		{Key: "setting:a.onlySource", Name: "a.onlySource", Status: wave.ObjSkipped, Reason: "source 1, target (not set): review and change by hand if wanted"},
		{Key: "setting:a.same", Name: "a.same", Status: wave.ObjMatched, Reason: "same in source and target: x"},
		{Key: "domain:contoso.example", Name: "contoso.example", Status: wave.ObjSkipped,
			Reason: "verified in the source, not in the target: the domain moves at cutover (remove it from the source tenant, then add and verify it in the target: 't2t domain plan|free|remove|add|verify|move'); until then t2t rewrites it to fabrikam.example"},
		{Key: "domain:both.example", Name: "both.example", Status: wave.ObjMatched, Reason: "verified in source and target"},
		{Key: "domain:unmapped.example", Name: "unmapped.example", Status: wave.ObjSkipped,
			Reason: "verified in the source, not in the target: the domain moves at cutover (remove it from the source tenant, then add and verify it in the target: 't2t domain plan|free|remove|add|verify|move')"},
		{Key: "partner:p1", Name: "cross-tenant access partner p1", Status: wave.ObjSkipped,
			Reason: "the source has a partner configuration for tenant p1 (inboundTrust.isMfaAccepted true), the target has none: create it by hand if wanted"},
		{Key: "partner:p2", Name: "cross-tenant access partner p2", Status: wave.ObjSkipped,
			Reason: "inboundTrust.isMfaAccepted: source true, target (inherits the default): review and change by hand if wanted"},
		{Key: "partner:p3", Name: "cross-tenant access partner p3", Status: wave.ObjMatched, Reason: "same partner configuration in source and target"},
	}
	got := tenantconfig.Compare(src, tgt, map[string]string{"contoso.example": "fabrikam.example"})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Compare:\n got %+v\nwant %+v", got, want)
	}
}

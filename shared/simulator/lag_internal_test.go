package simulator

import (
	"testing"
	"time"
)

func TestVisibilityHelpers(t *testing.T) {
	now := time.Unix(1000, 0)
	ctl := &controls{now: func() time.Time { return now }}
	ctl.throttling.Store(&ThrottlingConfig{})
	tenant := &Tenant{repl: newReplication(ctl)}
	tenant.markCreated("a") // no lag: visible at once
	if !tenant.visible("a") {
		t.Fatal("no lag, yet invisible")
	}
	tenant.repl.setLag(2 * time.Second)
	tenant.markCreated("b")
	items := []*User{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	if got := visibleOnly(tenant, items, userID); len(got) != 2 || got[1].ID != "c" {
		t.Errorf("visibleOnly %v", got)
	}
	if tenant.allVisible("a", "b") || !tenant.allVisible("a", "c") {
		t.Error("allVisible")
	}
	if gerr := errReferencedObjectMissing(); gerr.status != 400 || gerr.code != codeBadRequest ||
		gerr.message != "The source resource object or one of the objects being referenced do not exist." {
		t.Errorf("reference error %+v", gerr)
	}
	now = now.Add(2 * time.Second)
	if !tenant.visible("b") || len(tenant.repl.pending) != 0 {
		t.Error("b still invisible after the lag")
	}
	var bare Tenant // tenants without replication (unit tests of other collections) see everything
	bare.markCreated("x")
	if !bare.visible("x") {
		t.Error("nil replication hides objects")
	}
}

package deltasync

import (
	"encoding/json"
	"testing"
	"time"

	"t2t/shared/wave"
)

func TestSameComparesMeaningAndEmptiness(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{`"R \u0026 D"`, `"R & D"`, true},
		{`null`, `""`, true},
		{`[]`, ``, true},
		{`null`, ``, true},
		{`["+1 555"]`, `["+1 555"]`, true},
		{`false`, `true`, false},
		{`false`, `null`, false},
		{`"Sales"`, `"sales"`, false},
		{`["a","b"]`, `["b","a"]`, false},
	} {
		if got := same(json.RawMessage(c.a), json.RawMessage(c.b)); got != c.want {
			t.Errorf("same(%s, %s) = %t, want %t", c.a, c.b, got, c.want)
		}
	}
}

func TestRewriteTouchesStringsOnly(t *testing.T) {
	domains := map[string]string{"contoso.example": "fabrikam.example"}
	for _, c := range []struct{ in, want string }{
		{`"Ada (ada@contoso.example)"`, `"Ada (ada@fabrikam.example)"`},
		{`["x@contoso.example","y@other.example"]`, `["x@fabrikam.example","y@other.example"]`},
		{`"notcontoso.example"`, `"notcontoso.example"`},
		{`null`, `null`},
		{`true`, `true`},
	} {
		if got := string(rewrite(json.RawMessage(c.in), domains)); got != c.want {
			t.Errorf("rewrite(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := string(rewrite(json.RawMessage(`"a@contoso.example"`), nil)); got != `"a@contoso.example"` {
		t.Errorf("no map: %s", got)
	}
}

// TestMergeJoinsSplitGroupItems: a group whose members a round split across pages is one object
// with every members@delta entry.
func TestMergeJoinsSplitGroupItems(t *testing.T) {
	items := []object{
		{"id": json.RawMessage(`"g1"`), "displayName": json.RawMessage(`"G"`), "members@delta": json.RawMessage(`[{"id":"u1"}]`)},
		{"id": json.RawMessage(`"g2"`)},
		{"id": json.RawMessage(`"G1"`), "members@delta": json.RawMessage(`[{"id":"u2","@removed":{"reason":"deleted"}}]`)},
	}
	out := merge(items)
	if len(out) != 2 || out[0].str("displayName") != "G" {
		t.Fatalf("merged %v", out)
	}
	rs := refs(out[0])
	if len(rs) != 2 || rs[0].ID != "u1" || rs[1].ID != "u2" || len(rs[1].Removed) == 0 || len(rs[0].Removed) != 0 {
		t.Errorf("members %+v", rs)
	}
}

func TestParseDeletionsNeverDeletes(t *testing.T) {
	for in, want := range map[string]string{"": DeletionsReport, "report": DeletionsReport, " Disable ": DeletionsDisable} {
		if got, err := ParseDeletions(in); err != nil || got != want {
			t.Errorf("ParseDeletions(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseDeletions("delete"); err == nil {
		t.Error("delete is not a policy t2t offers")
	}
}

func TestSummaryCountsAppliedSkippedPendingFailed(t *testing.T) {
	r := newReport("m", "r", "scheduled", DeletionsReport, time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	r.count("users", "updated", 2)
	r.count("users", "notMapped", 3)
	r.count("memberships", "added", 1)
	r.count("memberships", "pending", 4)
	r.count("groups", "failed", 1)
	r.count("groups", "unchanged", 9)
	want := wave.Counts{Created: 3, Skipped: 3, Pending: 4, Failed: 1}
	if got := r.Summary(); got != want {
		t.Errorf("summary %+v, want %+v", got, want)
	}
}

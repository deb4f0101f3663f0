package phase

import "testing"

func TestFingerprintIgnoresRenderingButNotContent(t *testing.T) {
	base := `{"id":"1","displayName":"HQ","isTrusted":true,"ipRanges":[{"cidrAddress":"192.0.2.0/24"},{"cidrAddress":"2001:db8::/48"}]}`
	same := []string{
		// another id and timestamps, an annotation, defaults rendered, lists in another order
		`{"@odata.context":"x","id":"2","createdDateTime":"2024-01-01T00:00:00Z","displayName":"HQ","isTrusted":true,"extra":null,"tags":[],"flag":false,"note":"","ipRanges":[{"cidrAddress":"2001:db8::/48"},{"cidrAddress":"192.0.2.0/24"}]}`,
	}
	differs := []string{
		`{"displayName":"HQ2","isTrusted":true,"ipRanges":[{"cidrAddress":"192.0.2.0/24"},{"cidrAddress":"2001:db8::/48"}]}`,
		`{"displayName":"HQ","ipRanges":[{"cidrAddress":"192.0.2.0/24"},{"cidrAddress":"2001:db8::/48"}]}`,
		`{"displayName":"HQ","isTrusted":true,"ipRanges":[{"cidrAddress":"192.0.2.0/24"}]}`,
		`{"@odata.type":"#microsoft.graph.ipNamedLocation","displayName":"HQ","isTrusted":true,"ipRanges":[{"cidrAddress":"192.0.2.0/24"},{"cidrAddress":"2001:db8::/48"}]}`,
	}
	want := Fingerprint([]byte(base), "id", "createdDateTime")
	if len(want) != fingerprintLen {
		t.Fatalf("fingerprint %q has %d digits", want, len(want))
	}
	for _, s := range same {
		if got := Fingerprint([]byte(s), "id", "createdDateTime"); got != want {
			t.Errorf("%s: fingerprint %s, want %s", s, got, want)
		}
	}
	for _, s := range differs {
		if got := Fingerprint([]byte(s), "id", "createdDateTime"); got == want {
			t.Errorf("%s: same fingerprint as %s", s, base)
		}
	}
	if Fingerprint([]byte("not json")) != "" {
		t.Error("unreadable JSON should have no fingerprint")
	}
}

func TestTargetKeyRoundTrips(t *testing.T) {
	cases := []struct{ key, name, fp string }{
		{TargetKey("Headquarters", "0123456789abcdef"), "Headquarters", "0123456789abcdef"},
		{TargetKey("Site #2", "0123456789abcdef"), "Site #2", "0123456789abcdef"},
		{TargetKey("Site #2", ""), "Site #2", ""},
		{"Plain name", "Plain name", ""},
	}
	for _, c := range cases {
		if name, fp := SplitTargetKey(c.key); name != c.name || fp != c.fp {
			t.Errorf("SplitTargetKey(%q) = %q, %q; want %q, %q", c.key, name, fp, c.name, c.fp)
		}
	}
	if TargetKey("Site #2", "0123456789abcdef") != "Site #2#0123456789abcdef" {
		t.Errorf("TargetKey = %q", TargetKey("Site #2", "0123456789abcdef"))
	}
}

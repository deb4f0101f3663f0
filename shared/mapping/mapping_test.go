package mapping

import (
	"strings"
	"testing"
)

func TestParseAcceptsBOMCRLFQuotesAndAnyHeaderCase(t *testing.T) {
	in := "\xef\xbb\xbfdestination,SOURCE,Notes\r\n" +
		"\"bob@fabrikam.example\",alice@contoso.example,\"has, comma\"\r\n" +
		"carol@fabrikam.example,\"dave@contoso.example\",\r\n"
	rows, bad, err := Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(bad) != 0 {
		t.Fatalf("unexpected row errors: %v", bad)
	}
	want := []Row{
		{Line: 2, Source: "alice@contoso.example", Destination: "bob@fabrikam.example"},
		{Line: 3, Source: "dave@contoso.example", Destination: "carol@fabrikam.example"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %v, want %v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
}

func TestParseRowErrorsNameRowColumnAndReason(t *testing.T) {
	in := "Source,Destination\n" +
		"ok@contoso.example,ok@fabrikam.example\n" + // line 2
		"no-at-sign,x@fabrikam.example\n" + // line 3
		"a@contoso.example,\n" + // line 4
		"b c@contoso.example,b@fabrikam.example\n" + // line 5
		",\n" + // line 6
		"d@contoso.example,d@fab..example\n" + // line 7
		"\"unterminated,x@fabrikam.example\n" // line 8
	rows, bad, err := Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(rows) != 1 || rows[0].Line != 2 {
		t.Errorf("valid rows = %+v, want only line 2", rows)
	}
	want := map[int]string{3: ColSource, 4: ColDestination, 5: ColSource, 6: "", 7: ColDestination, 8: ""}
	got := map[int]string{}
	for _, e := range bad {
		got[e.Line] = e.Column
		if e.Reason == "" {
			t.Errorf("row %d has no reason", e.Line)
		}
	}
	for line, col := range want {
		if c, ok := got[line]; !ok || c != col {
			t.Errorf("row %d: column %q (present %v), want %q; all: %+v", line, c, ok, col, bad)
		}
	}
}

func TestCheckUPN(t *testing.T) {
	cases := []struct {
		in    string
		valid bool
	}{
		{"alice@contoso.example", true},
		{"o'brien.j-x_y@sub.contoso.example", true},
		{"alice_gmail.com#EXT#@contoso.onmicrosoft.com", true},
		{"", false},
		{"alice", false},
		{"@contoso.example", false},
		{"alice@", false},
		{"a@b@contoso.example", false},
		{".alice@contoso.example", false},
		{"alice.@contoso.example", false},
		{"al..ice@contoso.example", false},
		{"alice@localhost", false},
		{"alice@-bad.example", false},
		{"jürgen@contoso.example", false},
		{strings.Repeat("a", 65) + "@contoso.example", false},
		{strings.Repeat("a", 60) + "@" + strings.Repeat("b", 60) + ".example", false},
	}
	for _, c := range cases {
		reason := CheckUPN(c.in)
		if (reason == "") != c.valid {
			t.Errorf("CheckUPN(%q) = %q, want valid=%v", c.in, reason, c.valid)
		}
	}
}

func TestValidateCrossRowRules(t *testing.T) {
	rows := []Row{
		{Line: 2, Source: "a@s.example", Destination: "a@t.example"},
		{Line: 3, Source: "A@S.example", Destination: "a@T.example"}, // duplicate of 2
		{Line: 4, Source: "b@s.example", Destination: "b1@t.example"},
		{Line: 5, Source: "b@s.example", Destination: "b2@t.example"}, // b mapped twice
		{Line: 6, Source: "c@s.example", Destination: "shared@t.example"},
		{Line: 7, Source: "d@s.example", Destination: "shared@t.example"}, // two onto one
		{Line: 8, Source: "e@s.example", Destination: "e@unverified.example"},
		{Line: 9, Source: "f@s.example", Destination: "f@t.example"},
	}
	ok, bad := Validate(rows, map[string]bool{"t.example": true})
	var okLines []int
	for _, r := range ok {
		okLines = append(okLines, r.Line)
	}
	if len(okLines) != 2 || okLines[0] != 2 || okLines[1] != 9 {
		t.Errorf("valid lines = %v, want [2 9]", okLines)
	}
	reasons := map[int]string{}
	for _, e := range bad {
		reasons[e.Line] = e.Reason
	}
	expect := map[int]string{
		3: "duplicate of row 2",
		4: "mapped to another destination on row 5",
		5: "mapped to another destination on row 4",
		6: "onto the same destination on row 7",
		7: "onto the same destination on row 6",
		8: "not a verified domain",
	}
	for line, frag := range expect {
		if !strings.Contains(reasons[line], frag) {
			t.Errorf("row %d reason = %q, want it to contain %q", line, reasons[line], frag)
		}
	}
}

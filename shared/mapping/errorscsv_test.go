package mapping

import (
	"strings"
	"testing"
)

func TestDefuse(t *testing.T) {
	cases := []struct{ in, want string }{
		{"=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"},
		{"+1+2", "'+1+2"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"alice@contoso.example", "alice@contoso.example"},
		{"a=b", "a=b"},
		{"'quoted", "'quoted"},
		{"", ""},
	}
	for _, c := range cases {
		if got := Defuse(c.in); got != c.want {
			t.Errorf("Defuse(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	cases := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"short", "abc", 3, "abc"},
		{"cut", "abcdef", 3, "abc… (6 characters)"},
		{"counts characters, cuts between them", "ééééé", 2, "éé… (5 characters)"},
		{"70,000 characters", strings.Repeat("a", 70000), MaxValueChars, strings.Repeat("a", 256) + "… (70000 characters)"},
	}
	for _, c := range cases {
		if got := Truncate(c.in, c.limit); got != c.want {
			t.Errorf("%s: Truncate = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestErrorsCSV pins the whole file: sorted by row then column (the input is not), formulas defused
// in every way a spreadsheet runs them, long values truncated.
func TestErrorsCSV(t *testing.T) {
	errs := []RowError{
		{Line: 9, Column: ColDestination, Value: "\r=1", Reason: "cr"},
		{Line: 7, Column: ColDestination, Value: "@SUM(A1)", Reason: "at"},
		{Line: 7, Column: ColSource, Value: "-2+3", Reason: "minus"},
		{Line: 5, Column: ColSource, Value: "+1+2", Reason: "plus"},
		{Line: 3, Column: ColSource, Value: "=HYPERLINK(\"x\")", Reason: "equals"},
		{Line: 4, Reason: "malformed CSV"},
		{Line: 8, Column: ColSource, Value: "\t=1", Reason: "tab"},
		{Line: 6, Column: ColDestination, Value: strings.Repeat("x", 300), Reason: "long"},
		{Line: 7, Reason: "row"},
	}
	want := "row,column,value,reason\n" +
		"3,Source,\"'=HYPERLINK(\"\"x\"\")\",equals\n" +
		"4,,,malformed CSV\n" +
		"5,Source,'+1+2,plus\n" +
		"6,Destination," + strings.Repeat("x", 256) + "… (300 characters),long\n" +
		"7,,,row\n" +
		"7,Source,'-2+3,minus\n" +
		"7,Destination,'@SUM(A1),at\n" +
		"8,Source,'\t=1,tab\n" +
		"9,Destination,\"'\r=1\",cr\n"
	if got := string(ErrorsCSV(errs)); got != want {
		t.Errorf("errors.csv =\n%q\nwant\n%q", got, want)
	}
	if errs[0].Line != 9 {
		t.Error("ErrorsCSV reordered its argument")
	}
}

// TestErrorsCSVMergesParseAndValidation: the handler appends Validate's errors after Parse's; the file
// still comes out in row order.
func TestErrorsCSVMergesParseAndValidation(t *testing.T) {
	rows, bad, err := Parse([]byte("Source,Destination\n" +
		"a@s.example,a@t.example\n" + // line 2
		"a@s.example,a@t.example\n" + // line 3: duplicate of 2 (Validate)
		"no-at-sign,b@t.example\n")) // line 4: syntax (Parse)
	if err != nil {
		t.Fatal(err)
	}
	_, more := Validate(rows, nil)
	want := "row,column,value,reason\n" +
		"3,Source,a@s.example,duplicate of row 2\n" +
		"4,Source,no-at-sign,not a user principal name (expected name@domain)\n"
	if got := string(ErrorsCSV(append(bad, more...))); got != want {
		t.Errorf("errors.csv =\n%s\nwant\n%s", got, want)
	}
}

package mapping

import "testing"

func TestCheckImmutableID(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"", true},                          // column unused for the row
		{"5GTWc4YIc0q3RcaU2kXdtA==", true},  // base64 of a GUID's 16 bytes
		{"AAAAAAAAAAAAAAAAAAAAAA==", true},  // the nil GUID
		{"5GTWc4YIc0q3RcaU2kXdtA", false},   // unpadded
		{"eHh4eHh4eHh4eHh4eHh4", false},     // 15 bytes
		{"eHh4eHh4eHh4eHh4eHh4eHg=", false}, // 17 bytes
		{"73d664e4-0886-4a73-b745-c694da45ddb4", false},
		{"5GTWc4YIc0q3RcaU2kXd tA==", false},
		{"5GTWc4YIc0q3RcaU2kXdtA=!", false},
	} {
		if reason := CheckImmutableID(tc.v); (reason == "") != tc.ok {
			t.Errorf("CheckImmutableID(%q) = %q, want ok=%v", tc.v, reason, tc.ok)
		}
	}
}

func TestParseImmutableIDColumn(t *testing.T) {
	in := "Source,ImmutableId,Destination\n" +
		"a@contoso.example,5GTWc4YIc0q3RcaU2kXdtA==,a@fabrikam.example\n" + // line 2: valid
		"b@contoso.example,,b@fabrikam.example\n" + // line 3: column empty, valid
		"c@contoso.example,not-base64!,c@fabrikam.example\n" + // line 4
		"d@contoso.example,eHh4eHh4eHh4eHh4eHh4,d@fabrikam.example\n" // line 5: 15 bytes
	rows, bad, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ImmutableID != "5GTWc4YIc0q3RcaU2kXdtA==" || rows[1].ImmutableID != "" {
		t.Errorf("rows = %+v", rows)
	}
	want := map[int]string{4: "not-base64!", 5: "eHh4eHh4eHh4eHh4eHh4"}
	if len(bad) != len(want) {
		t.Fatalf("errors = %+v, want rows 4 and 5", bad)
	}
	for _, e := range bad {
		if e.Column != ColImmutableID || want[e.Line] != e.Value || e.Reason == "" {
			t.Errorf("error %+v, want row %d column %s", e, e.Line, ColImmutableID)
		}
	}
}

func TestValidateRejectsOneImmutableIDOnTwoRows(t *testing.T) {
	rows := []Row{
		{Line: 2, Source: "a@contoso.example", Destination: "a@fabrikam.example", ImmutableID: "5GTWc4YIc0q3RcaU2kXdtA=="},
		{Line: 3, Source: "b@contoso.example", Destination: "b@fabrikam.example", ImmutableID: "5GTWc4YIc0q3RcaU2kXdtA=="},
		{Line: 4, Source: "c@contoso.example", Destination: "c@fabrikam.example", ImmutableID: "AAAAAAAAAAAAAAAAAAAAAA=="},
	}
	ok, bad := Validate(rows, nil)
	if len(ok) != 1 || ok[0].Line != 4 {
		t.Errorf("valid = %+v, want only row 4", ok)
	}
	if len(bad) != 2 || bad[0].Column != ColImmutableID || bad[0].Reason != "the same ImmutableId is given on row 3" {
		t.Errorf("errors = %+v", bad)
	}
}

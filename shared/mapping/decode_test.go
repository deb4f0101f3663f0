package mapping

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
)

// utf16File encodes s as UTF-16 with a byte-order mark, the way Excel's "Unicode Text" does (LE).
// It uses the standard library's encoder, not the package's decoder.
func utf16File(s string, bigEndian bool) []byte {
	out := []byte{0xff, 0xfe}
	if bigEndian {
		out = []byte{0xfe, 0xff}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

func TestParseAcceptsWhatExcelWrites(t *testing.T) {
	want := []Row{
		{Line: 2, Source: "alice@contoso.example", Destination: "alice@fabrikam.example"},
		{Line: 3, Source: "bob@contoso.example", Destination: "bob@fabrikam.example"},
	}
	cases := map[string][]byte{
		"CSV UTF-8, comma, BOM, CRLF": []byte("\xef\xbb\xbfSource,Destination\r\n" +
			"alice@contoso.example,alice@fabrikam.example\r\nbob@contoso.example,bob@fabrikam.example\r\n"),
		"semicolon (European locales)": []byte("Source;Destination;Notes\n" +
			"alice@contoso.example;alice@fabrikam.example;\"a; b, c\"\nbob@contoso.example; bob@fabrikam.example;\n"),
		"semicolon header with a comma in a column name": []byte("Source;Destination;Notes, misc\n" +
			"alice@contoso.example;alice@fabrikam.example;x\nbob@contoso.example;bob@fabrikam.example;y\n"),
		"tab, empty column between": []byte("Source\tNotes\tDestination\n" +
			"alice@contoso.example\t\talice@fabrikam.example\nbob@contoso.example\t\"x\ty\"\tbob@fabrikam.example\n"),
		"Unicode Text (UTF-16LE, BOM, tab, CRLF)": utf16File("Source\tDestination\tNotes\r\n"+
			"alice@contoso.example\talice@fabrikam.example\tJürgen 😀\r\nbob@contoso.example\tbob@fabrikam.example\t\r\n", false),
		"UTF-16BE with BOM, comma": utf16File("Destination,Source\n"+
			"alice@fabrikam.example,alice@contoso.example\nbob@fabrikam.example,bob@contoso.example\n", true),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			rows, bad, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(bad) != 0 {
				t.Fatalf("row errors: %+v", bad)
			}
			if len(rows) != len(want) || rows[0] != want[0] || rows[1] != want[1] {
				t.Errorf("rows = %+v, want %+v", rows, want)
			}
		})
	}
}

// TestParseUTF16LinesMatchTheFile checks that row numbers in a UTF-16 file are the lines a user sees.
func TestParseUTF16LinesMatchTheFile(t *testing.T) {
	in := utf16File("Source\tDestination\r\nok@contoso.example\tok@fabrikam.example\r\n😀@contoso.example\tx@fabrikam.example\r\n", false)
	_, bad, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 1 || bad[0].Line != 3 || bad[0].Column != ColSource || bad[0].Value != "😀@contoso.example" {
		t.Errorf("row errors = %+v, want one on line 3, Source", bad)
	}
}

func TestParseFileLevelErrors(t *testing.T) {
	tooMany := "Source,Destination\n" + strings.Repeat("a@contoso.example,b@fabrikam.example\n", MaxRows+1)
	cases := []struct {
		name string
		in   []byte
		want error
		msg  string // a fragment of the message, which is shown to the user
	}{
		{"zero bytes", nil, ErrEmpty, "the file is empty"},
		{"white space", []byte(" \r\n\t\n"), ErrEmpty, "the file is empty"},
		{"UTF-8 BOM only", []byte("\xef\xbb\xbf\r\n"), ErrEmpty, "the file is empty"},
		{"UTF-16LE BOM only", []byte("\xff\xfe"), ErrEmpty, "the file is empty"},
		{"header only", []byte("Source,Destination\r\n"), ErrNoRows, "a header but no rows"},
		{"header and empty rows", []byte("Source;Destination\n;\n ; \n"), ErrNoRows, "a header but no rows"},
		{"semicolon, wrong names", []byte("Source;Target\na@b.example;c@d.example\n"), ErrNoHeader,
			`the header has no Source and Destination columns (delimiter detected: semicolon; encoding: UTF-8; columns found: "Source", "Target")`},
		{"comma, wrong names", []byte("Source,Target\n"), ErrNoHeader, "(delimiter detected: comma; encoding: UTF-8;"},
		{"tab, UTF-16, wrong names", utf16File("Src\tDst\r\n", false), ErrNoHeader, "(delimiter detected: tab; encoding: UTF-16LE;"},
		{"one column", []byte("Source\n"), ErrNoHeader, "delimiter detected: comma"},
		{"malformed header", []byte("Source,\"Dest\"ination\n"), ErrNoHeader, "(delimiter detected: comma; encoding: UTF-8): parse error on line 1"},
		{"Windows-1252", []byte("Source,Destination\nj\xfcrgen@contoso.example,a@b.example\n"), ErrEncoding,
			"byte 0xFC on line 2 is not UTF-8, and the file has no UTF-16 byte-order mark"},
		{"UTF-16LE without BOM", utf16File("Source,Destination\n", false)[2:], ErrEncoding, "NUL characters from line 1"},
		{"UTF-16LE, odd length", append(utf16File("Source,Destination\n", false), 'x'), ErrEncoding, "UTF-16LE but has an odd number of bytes"},
		{"UTF-16BE, unpaired surrogate", append(utf16File("Source,Destination\na", true), 0xd8, 0x3d), ErrEncoding,
			"UTF-16BE but holds an unpaired surrogate on line 2"},
		{"UTF-16LE, lone low surrogate", append(utf16File("Source,Destination\n", false), 0x00, 0xdc, 'a', 0), ErrEncoding,
			"UTF-16LE but holds an unpaired surrogate on line 2"},
		{"UTF-32LE", []byte("\xff\xfe\x00\x00S\x00\x00\x00"), ErrEncoding, "UTF-32"},
		{"too many rows", []byte(tooMany), ErrTooManyRows, "more than 100000 rows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, bad, err := Parse(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("Parse error = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("message %q, want it to contain %q", err, c.msg)
			}
			if rows != nil || bad != nil {
				t.Errorf("rows=%v bad=%v with a file-level error", rows, bad)
			}
		})
	}
}

// TestParseBlankRowsAmongRows keeps one "empty row" error per blank row when the file has real rows.
func TestParseBlankRowsAmongRows(t *testing.T) {
	rows, bad, err := Parse([]byte("Source,Destination\n,\na@contoso.example,a@fabrikam.example\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(bad) != 1 || bad[0] != (RowError{Line: 2, Reason: "empty row"}) {
		t.Errorf("rows=%+v bad=%+v", rows, bad)
	}
}

// TestParseEmptyLinesBeforeHeader: the delimiter is detected from the header, not from the empty
// lines above it, and row numbers stay the file's lines.
func TestParseEmptyLinesBeforeHeader(t *testing.T) {
	rows, bad, err := Parse([]byte("\r\n\nSource;Destination\nalice@contoso.example;alice@fabrikam.example\n"))
	if err != nil || len(bad) != 0 {
		t.Fatalf("Parse: %v %+v", err, bad)
	}
	if want := (Row{Line: 4, Source: "alice@contoso.example", Destination: "alice@fabrikam.example"}); len(rows) != 1 || rows[0] != want {
		t.Errorf("rows = %+v, want %+v", rows, want)
	}
}

package mapping

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrEncoding is wrapped by Parse when the file is not text it can read: not UTF-8 and without a UTF-16
// byte-order mark, or damaged UTF-16. The message names what was found.
var ErrEncoding = errors.New("the file's text encoding is not supported")

// encodingHint tells a user how to save a file Parse can read, in Excel's own words.
const encodingHint = `in Excel, save it as "CSV UTF-8" or "Unicode Text"`

// Byte-order marks. Excel's "CSV UTF-8" starts with the UTF-8 one and its "Unicode Text" with the
// UTF-16LE one; UTF-32 is checked first because its little-endian mark begins with UTF-16LE's.
var (
	bomUTF8    = []byte{0xef, 0xbb, 0xbf}
	bomUTF16LE = []byte{0xff, 0xfe}
	bomUTF16BE = []byte{0xfe, 0xff}
	bomUTF32LE = []byte{0xff, 0xfe, 0x00, 0x00}
	bomUTF32BE = []byte{0x00, 0x00, 0xfe, 0xff}
)

// decode returns the file as UTF-8 text without its byte-order mark, and the name of the encoding
// found: UTF-8 (with or without a mark), or UTF-16 little- or big-endian with a mark. Anything else is
// an error wrapping ErrEncoding.
func decode(data []byte) (string, string, error) {
	var text, enc string
	switch {
	case bytes.HasPrefix(data, bomUTF32LE), bytes.HasPrefix(data, bomUTF32BE):
		return "", "UTF-32", fmt.Errorf("%w: the file is UTF-32 (%s)", ErrEncoding, encodingHint)
	case bytes.HasPrefix(data, bomUTF16LE), bytes.HasPrefix(data, bomUTF16BE):
		enc = "UTF-16LE"
		bigEndian := bytes.HasPrefix(data, bomUTF16BE)
		if bigEndian {
			enc = "UTF-16BE"
		}
		s, err := decodeUTF16(data[2:], bigEndian) // after the two-byte mark
		if err != nil {
			return "", enc, fmt.Errorf("%w: the file starts as %s but %v", ErrEncoding, enc, err)
		}
		text = s
	default:
		enc = "UTF-8"
		data = bytes.TrimPrefix(data, bomUTF8)
		if i := invalidUTF8(data); i >= 0 {
			return "", "", fmt.Errorf("%w: byte 0x%02X on line %d is not UTF-8, and the file has no UTF-16 byte-order mark (%s)",
				ErrEncoding, data[i], lineAt(data, i), encodingHint)
		}
		text = string(data)
	}
	// A text file never holds NUL; UTF-8 allows it, so UTF-16 saved without a mark would pass as UTF-8.
	if i := strings.IndexByte(text, 0); i >= 0 {
		return "", enc, fmt.Errorf("%w: the file holds NUL characters from line %d on, as UTF-16 saved without a byte-order mark does (%s)",
			ErrEncoding, lineAt([]byte(text), i), encodingHint)
	}
	return text, enc, nil
}

// decodeUTF16 decodes UTF-16 code units, refusing an odd length and unpaired surrogates rather than
// turning them into U+FFFD: a damaged address must not become a different address.
func decodeUTF16(b []byte, bigEndian bool) (string, error) {
	if len(b)%2 != 0 {
		return "", fmt.Errorf("has an odd number of bytes (%d)", len(b)+2)
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		hi, lo := b[2*i+1], b[2*i]
		if bigEndian {
			hi, lo = lo, hi
		}
		units[i] = uint16(hi)<<8 | uint16(lo)
	}
	var sb strings.Builder
	sb.Grow(len(units))
	line := 1
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		switch {
		case utf16.IsSurrogate(u) && i+1 < len(units):
			r := utf16.DecodeRune(u, rune(units[i+1]))
			if r == utf8.RuneError {
				return "", fmt.Errorf("holds an unpaired surrogate on line %d", line)
			}
			sb.WriteRune(r)
			i++
		case utf16.IsSurrogate(u):
			return "", fmt.Errorf("holds an unpaired surrogate on line %d", line)
		default:
			if u == '\n' {
				line++
			}
			sb.WriteRune(u)
		}
	}
	return sb.String(), nil
}

// invalidUTF8 returns the offset of the first byte that is not valid UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// lineAt returns the 1-based line holding offset i.
func lineAt(b []byte, i int) int {
	return 1 + bytes.Count(b[:i], []byte("\n"))
}

// delimiters are the field separators Excel writes: comma, semicolon where the comma is the decimal
// separator (many European locales), tab for "Unicode Text".
var delimiters = []rune{',', ';', '\t'}

// delimiterName names a delimiter in an error message.
func delimiterName(d rune) string {
	switch d {
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	default:
		return "comma"
	}
}

// detectDelimiter picks the delimiter of a file from its header line: the one under which the header
// names both the Source and Destination columns, the most frequent first. When none does, it returns
// the most frequent (comma when none occurs), for the error message.
func detectDelimiter(text string) (rune, bool) {
	line := headerLine(text)
	best := slices.Clone(delimiters)
	slices.SortStableFunc(best, func(a, b rune) int {
		return strings.Count(line, string(b)) - strings.Count(line, string(a))
	})
	for _, d := range best {
		if h, err := newReader(line, d).Read(); err == nil && columnIndex(h, ColSource) >= 0 && columnIndex(h, ColDestination) >= 0 {
			return d, true
		}
	}
	return best[0], false
}

// headerLine returns the first line of text that is not empty (the CSV reader skips empty lines too):
// up to the first line break outside double quotes.
func headerLine(text string) string {
	text = strings.TrimLeft(text, "\r\n")
	quoted := false
	for i, r := range text {
		switch {
		case r == '"':
			quoted = !quoted
		case (r == '\n' || r == '\r') && !quoted:
			return text[:i]
		}
	}
	return text
}

// newReader reads CSV records separated by delim. Leading spaces are skipped before a quoted field
// (`a, "b"`) except with tab, where skipping white space would swallow empty fields.
func newReader(text string, delim rune) *csv.Reader {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = delim != '\t'
	return r
}

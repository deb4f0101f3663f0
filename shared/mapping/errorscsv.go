package mapping

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"t2t/shared/csvout"
)

// MaxValueChars bounds a value copied into errors.csv; a longer one is cut there and its length noted,
// so one hostile cell cannot make the errors file as large as the upload.
const MaxValueChars = 256

// ErrorsCSV renders rejected rows as errors.csv (row, column, value, reason), sorted by row and then
// column (the row as a whole first, then Source, then Destination) whatever order errs is in; errs
// itself is not reordered. Values longer than MaxValueChars are truncated (see Truncate), and values
// that a spreadsheet would run as a formula are defused (csvout, every cell).
func ErrorsCSV(errs []RowError) []byte {
	sorted := slices.Clone(errs)
	slices.SortStableFunc(sorted, func(a, b RowError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(columnOrder(a.Column), columnOrder(b.Column)))
	})
	var buf bytes.Buffer
	w := csvout.NewWriter(&buf)
	_ = w.Write([]string{"row", "column", "value", "reason"})
	for _, e := range sorted {
		_ = w.Write([]string{strconv.Itoa(e.Line), e.Column, Truncate(e.Value, MaxValueChars), e.Reason})
	}
	w.Flush()
	return buf.Bytes()
}

// columnOrder ranks the columns as a reader scans a row: the row as a whole, then Source, Destination.
func columnOrder(col string) int {
	switch col {
	case "":
		return 0
	case ColSource:
		return 1
	case ColDestination:
		return 2
	default:
		return 3
	}
}

// Truncate returns v unchanged when it has at most limit characters, and otherwise its first limit
// characters followed by "… (N characters)", N being the length of v in characters.
func Truncate(v string, limit int) string {
	n := utf8.RuneCountInString(v)
	if n <= limit {
		return v
	}
	cut := 0
	for range limit {
		_, size := utf8.DecodeRuneInString(v[cut:])
		cut += size
	}
	return fmt.Sprintf("%s… (%d characters)", v[:cut], n)
}

// Defuse prefixes with a quote a CSV value that a spreadsheet would run as a formula; it is
// csvout.Defuse, kept for callers of this package. New writers use csvout.NewWriter, which defuses
// every cell.
func Defuse(v string) string { return csvout.Defuse(v) }

package mapping

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
)

// ErrorsCSV renders rejected rows as errors.csv (row, column, value, reason). Values that a spreadsheet
// would run as a formula are prefixed with a quote (CSV injection).
func ErrorsCSV(errs []RowError) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"row", "column", "value", "reason"})
	for _, e := range errs {
		_ = w.Write([]string{strconv.Itoa(e.Line), e.Column, Defuse(e.Value), e.Reason})
	}
	w.Flush()
	return buf.Bytes()
}

// Defuse prefixes a CSV value that a spreadsheet would run as a formula with a quote.
func Defuse(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

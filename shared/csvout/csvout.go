// Package csvout writes every CSV file t2t produces (errors.csv, whatif.csv, failures.csv,
// report.csv, the CLI's outputs). Its Writer defuses formula injection in every cell, so no writer can
// forget a column: a cell that a spreadsheet would run as a formula gets a leading quote
// (https://owasp.org/www-community/attacks/CSV_Injection).
package csvout

import (
	"encoding/csv"
	"io"
	"strings"
)

// formulaStarts are the first characters that make Excel, LibreOffice or Google Sheets evaluate a
// cell: =, +, -, @, tab and carriage return (OWASP's list).
const formulaStarts = "=+-@\t\r"

// Defuse returns v with a leading ' when it starts with one of =, +, -, @, tab or carriage return, and
// v unchanged otherwise. The quote makes a spreadsheet show the text instead of running it.
func Defuse(v string) string {
	if v != "" && strings.ContainsRune(formulaStarts, rune(v[0])) {
		return "'" + v
	}
	return v
}

// Writer is an encoding/csv Writer whose Write defuses every cell.
type Writer struct {
	w   *csv.Writer
	rec []string
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, each cell defused; record itself is not modified.
func (w *Writer) Write(record []string) error {
	w.rec = w.rec[:0]
	for _, v := range record {
		w.rec = append(w.rec, Defuse(v))
	}
	return w.w.Write(w.rec)
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() { w.w.Flush() }

// Error reports any error of a previous Write or Flush.
func (w *Writer) Error() error { return w.w.Error() }

// Package mapping reads and validates a wave's usermapping.csv: which source user becomes which target
// user. It is pure logic (no storage, no Graph), so every rule is table-tested.
package mapping

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Column names, matched case-insensitively.
const (
	ColSource      = "Source"
	ColDestination = "Destination"
	// ColImmutableID is optional: the on-premises anchor (base64 of the on-premises objectGUID) the
	// target cloud user gets as onPremisesImmutableId, so that directory sync soft-matches it later.
	ColImmutableID = "ImmutableId"
)

// MaxRows bounds one mapping file; larger migrations are split into waves.
const MaxRows = 100_000

// Row is one valid mapping: a source user (UPN in the source tenant) to a destination UPN.
type Row struct {
	// Line is the 1-based line of the row in the file (the header is line 1).
	Line        int    `json:"line"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// ImmutableID is the optional ImmutableId column: a base64-encoded GUID (see CheckImmutableID).
	ImmutableID string `json:"immutableId,omitempty"`
}

// RowError says why one row (or, with Line 0 or 1, the file) was rejected.
type RowError struct {
	Line   int    `json:"row"`
	Column string `json:"column"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

func (e RowError) Error() string {
	return fmt.Sprintf("row %d, column %s, value %q: %s", e.Line, e.Column, e.Value, e.Reason)
}

// File-level errors: Parse wraps one of these when the file as a whole cannot be used, and the
// message says why in words fit for the wave's status (it names the delimiter or encoding found).
// Check them with errors.Is; every error Parse returns is file-level.
var (
	// ErrEmpty: the file has no text (zero bytes, or only a byte-order mark and white space).
	ErrEmpty = errors.New("the file is empty")
	// ErrNoHeader: the first line does not name the Source and Destination columns.
	ErrNoHeader = errors.New("the header has no Source and Destination columns")
	// ErrNoRows: the file has a header and no row that holds anything.
	ErrNoRows = errors.New("the file has a header but no rows")
	// ErrTooManyRows: the file has more than MaxRows rows.
	ErrTooManyRows = fmt.Errorf("the file has more than %d rows; split it into several waves", MaxRows)
)

// Parse reads a mapping file as Excel and other tools write it: UTF-8 with or without BOM, or UTF-16
// (little- or big-endian) with BOM; comma, semicolon or tab delimited (detected from the header);
// CRLF or LF; quoted fields; header names in any case and order, extra columns ignored. It returns
// the syntactically valid rows and one RowError per rejected column or row, and an error only when the
// file as a whole is unusable: it wraps ErrEncoding, ErrEmpty, ErrNoHeader, ErrNoRows or ErrTooManyRows.
func Parse(data []byte) ([]Row, []RowError, error) {
	text, enc, err := decode(data)
	if err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, nil, ErrEmpty
	}
	delim, ok := detectDelimiter(text)
	r := newReader(text, delim)
	header, err := r.Read()
	found := fmt.Sprintf("delimiter detected: %s; encoding: %s", delimiterName(delim), enc)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s): %w", ErrNoHeader, found, err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("%w (%s; columns found: %s)", ErrNoHeader, found, quoteAll(header))
	}
	cols := columns{src: columnIndex(header, ColSource), dst: columnIndex(header, ColDestination), imm: columnIndex(header, ColImmutableID)}
	var rows []Row
	var bad []RowError
	records, blank := 0, 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if records++; records > MaxRows {
			return nil, nil, ErrTooManyRows
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			bad = append(bad, RowError{Line: pe.StartLine, Reason: "malformed CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading the file: %w", err)
		}
		line, _ := r.FieldPos(0)
		if isBlank(rec) {
			blank++
			bad = append(bad, RowError{Line: line, Reason: "empty row"})
			continue
		}
		row, errs := readRow(rec, line, cols)
		if len(errs) > 0 {
			bad = append(bad, errs...)
			continue
		}
		rows = append(rows, row)
	}
	if records == blank {
		// Only empty rows (Excel writes ",," for rows that were merely formatted): nothing to migrate,
		// and a file-level reason says so better than one "empty row" per line.
		return nil, nil, ErrNoRows
	}
	return rows, bad, nil
}

// columns are the indexes of the columns Parse reads (-1: absent).
type columns struct{ src, dst, imm int }

func readRow(rec []string, line int, c columns) (Row, []RowError) {
	get := func(i int) string {
		if i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	row := Row{Line: line, Source: get(c.src), Destination: get(c.dst), ImmutableID: get(c.imm)}
	var errs []RowError
	if reason := CheckUPN(row.Source); reason != "" {
		errs = append(errs, RowError{Line: line, Column: ColSource, Value: row.Source, Reason: reason})
	}
	if reason := CheckUPN(row.Destination); reason != "" {
		errs = append(errs, RowError{Line: line, Column: ColDestination, Value: row.Destination, Reason: reason})
	}
	if reason := CheckImmutableID(row.ImmutableID); reason != "" {
		errs = append(errs, RowError{Line: line, Column: ColImmutableID, Value: row.ImmutableID, Reason: reason})
	}
	return row, errs
}

func isBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func columnIndex(header []string, name string) int {
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return i
		}
	}
	return -1
}

// quoteAll lists header fields for an error message.
func quoteAll(fields []string) string {
	q := make([]string, len(fields))
	for i, f := range fields {
		q[i] = fmt.Sprintf("%q", f)
	}
	return strings.Join(q, ", ")
}

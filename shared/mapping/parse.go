// Package mapping reads and validates a wave's usermapping.csv: which source user becomes which target
// user. It is pure logic (no storage, no Graph), so every rule is table-tested.
package mapping

import (
	"bytes"
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
)

// MaxRows bounds one mapping file; larger migrations are split into waves.
const MaxRows = 100_000

// Row is one valid mapping: a source user (UPN in the source tenant) to a destination UPN.
type Row struct {
	// Line is the 1-based line of the row in the file (the header is line 1).
	Line        int    `json:"line"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
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

// ErrNoHeader is wrapped by Parse when the file lacks the Source and Destination columns.
var ErrNoHeader = errors.New("the header must name the columns Source and Destination")

// Parse reads a mapping file: UTF-8 with or without BOM, CRLF or LF, quoted fields, header names in any
// case and order, extra columns ignored. It returns the syntactically valid rows and one RowError per
// rejected row; an error only when the file as a whole is unreadable (no header, not UTF-8, too big).
func Parse(data []byte) ([]Row, []RowError, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := checkUTF8(data); err != nil {
		return nil, nil, err
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("the file is empty: %w", ErrNoHeader)
		}
		return nil, nil, fmt.Errorf("reading the header: %w", err)
	}
	src, dst := columnIndex(header, ColSource), columnIndex(header, ColDestination)
	if src < 0 || dst < 0 {
		return nil, nil, fmt.Errorf("found %q: %w", strings.Join(header, ","), ErrNoHeader)
	}
	var rows []Row
	var bad []RowError
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
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
		if len(rows)+len(bad) >= MaxRows {
			return nil, nil, fmt.Errorf("the file has more than %d rows; split it into several waves", MaxRows)
		}
		row, errs := readRow(rec, line, src, dst)
		if len(errs) > 0 {
			bad = append(bad, errs...)
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func readRow(rec []string, line, src, dst int) (Row, []RowError) {
	if isBlank(rec) {
		return Row{}, []RowError{{Line: line, Reason: "empty row"}}
	}
	get := func(i int) string {
		if i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	row := Row{Line: line, Source: get(src), Destination: get(dst)}
	var errs []RowError
	if reason := CheckUPN(row.Source); reason != "" {
		errs = append(errs, RowError{Line: line, Column: ColSource, Value: row.Source, Reason: reason})
	}
	if reason := CheckUPN(row.Destination); reason != "" {
		errs = append(errs, RowError{Line: line, Column: ColDestination, Value: row.Destination, Reason: reason})
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

func checkUTF8(data []byte) error {
	if !utf8Valid(data) {
		return errors.New("the file is not UTF-8 text (save it as CSV UTF-8)")
	}
	return nil
}

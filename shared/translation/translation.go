// Package translation writes a wave's translation table (waves/<wave>/translation.csv and
// translation.json) for device and file-permission tools that re-point profiles and ACLs from source
// to target identities: per migrated user and group, the source and target names, object ids and the
// cloud SIDs Entra derives from them (package cloudsid). It streams: one row in, one row out, so the
// table's size never shows in memory.
package translation

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"t2t/shared/cloudsid"
	"t2t/shared/csvout"
	"t2t/shared/mapping"
)

// Object types in the table.
const (
	User  = "user"
	Group = "group"
)

// Entry is one row: Name is the UPN of a user or the display name of a group.
type Entry struct {
	Type       string `json:"type"`
	SourceName string `json:"sourceName"`
	TargetName string `json:"targetName"`
	SourceID   string `json:"sourceId"`
	TargetID   string `json:"targetId"`
	SourceSID  string `json:"sourceSid"`
	TargetSID  string `json:"targetSid"`
}

// header is translation.csv's first line.
var header = []string{"type", "sourceName", "targetName", "sourceId", "targetId", "sourceSid", "targetSid"}

// ErrBadID is wrapped by Add when an object id is not a GUID (no cloud SID can be derived).
var ErrBadID = errors.New("object id is not a GUID")

// Writer writes the CSV and JSON forms of a table at once. JSON is {"wave": ..., "entries": [...]}.
type Writer struct {
	csv   *csvout.Writer
	json  io.Writer
	count int
}

// NewWriter starts both documents.
func NewWriter(waveID string, csvOut, jsonOut io.Writer) (*Writer, error) {
	w := &Writer{csv: csvout.NewWriter(csvOut), json: jsonOut}
	if err := w.csv.Write(header); err != nil {
		return nil, err
	}
	name, _ := json.Marshal(waveID)
	if _, err := fmt.Fprintf(jsonOut, `{"wave":%s,"entries":[`, name); err != nil {
		return nil, err
	}
	return w, nil
}

// Add writes one object. An id that is not a GUID writes nothing and returns an error wrapping
// ErrBadID.
func (w *Writer) Add(typ, sourceName, targetName, sourceID, targetID string) error {
	e := Entry{Type: typ, SourceName: sourceName, TargetName: targetName, SourceID: sourceID, TargetID: targetID}
	var err error
	if e.SourceSID, err = cloudsid.FromObjectID(sourceID); err != nil {
		return fmt.Errorf("%s %s: %w: %w", typ, sourceName, ErrBadID, err)
	}
	if e.TargetSID, err = cloudsid.FromObjectID(targetID); err != nil {
		return fmt.Errorf("%s %s: %w: %w", typ, targetName, ErrBadID, err)
	}
	if err := w.csv.Write([]string{e.Type, mapping.Defuse(e.SourceName), mapping.Defuse(e.TargetName), e.SourceID, e.TargetID,
		e.SourceSID, e.TargetSID}); err != nil {
		return err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if w.count > 0 {
		data = append([]byte{','}, data...)
	}
	w.count++
	_, err = w.json.Write(data)
	return err
}

// Close ends both documents (the caller closes the writers underneath).
func (w *Writer) Close() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return err
	}
	_, err := io.WriteString(w.json, "]}")
	return err
}

package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"t2t/shared/ops"
	"t2t/shared/state"
	"t2t/shared/wave"
)

// utf16LE encodes s as Excel's "Unicode text": UTF-16 little endian with a byte-order mark.
func utf16LE(s string) []byte {
	out := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

// TestEveryFileEndsWithAStatusAndAReason uploads the files people really produce: an empty file, a
// header with no rows, a file whose every row is rejected, Excel's semicolon CSV and its UTF-16 tab
// "Unicode text". Each wave closes: a refused file is Rejected with its reason, the others finish
// with a report and every phase closed.
func TestEveryFileEndsWithAStatusAndAReason(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn := s.Azurite.ConnectionString()
	store, err := state.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	src := sortedUPNs(dumpUsers(t, s, s.SourceTenantID))
	row := func(i int, sep string) string {
		return src[i] + sep + strings.Replace(src[i], "@contoso.example", ".excel@fabrikam.example", 1)
	}
	usersOnly := &ops.UploadOptions{Phases: []string{"users"}}
	files := []struct {
		name   string
		data   []byte
		status string
		reason string // in the manifest's reason, for a refused file
		users  int    // created, for a wave that runs
	}{
		{"empty.csv", nil, wave.StatusRejected, "empty", 0},
		{"header-only.csv", []byte("Source,Destination\r\n"), wave.StatusRejected, "no rows", 0},
		{"all-bad.csv", []byte("Source,Destination\nnot-an-address,x@fabrikam.example\nb@contoso.example,b@unverified.example\n"),
			wave.StatusCompletedWithErrors, "", 0},
		{"semicolon.csv", []byte("Source;Destination\n" + row(10, ";") + "\n" + row(11, ";") + "\n"), wave.StatusCompleted, "", 2},
		{"unicode.csv", utf16LE("Source\tDestination\r\n" + row(12, "\t") + "\r\n" + row(13, "\t") + "\r\n" + row(14, "\t") + "\r\n"),
			wave.StatusCompleted, "", 3},
	}
	for _, f := range files {
		if err := ops.UploadWith(ctx, conn, f.name, f.data, usersOnly); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		id, _ := wave.IDFromBlob(f.name)
		st := waitFor(ctx, t, store, id, func(st ops.Status) bool {
			return st.Manifest != nil && (st.Manifest.Status == wave.StatusRejected || st.Done())
		})
		m := st.Manifest
		if m.Status != f.status {
			t.Errorf("%s: status %s, want %s (reason %q)", f.name, m.Status, f.status, m.Reason)
			continue
		}
		if f.status == wave.StatusRejected {
			if !strings.Contains(m.Reason, f.reason) || m.TotalRows != 0 || m.InvalidRows != 0 {
				t.Errorf("%s: reason %q, rows %d/%d; want a file-level reason naming %q and no rows counted", f.name, m.Reason, m.TotalRows, m.InvalidRows, f.reason)
			}
			continue
		}
		if st.Report == nil || st.Report.Phases["users"].Created != f.users {
			t.Errorf("%s: report %+v, want %d users created", f.name, st.Report, f.users)
			continue
		}
		for name, p := range m.Phases {
			if p.Status == wave.StatusRunning || p.CompletedUtc == nil {
				t.Errorf("%s: phase %s not closed: %+v", f.name, name, p)
			}
		}
		if len(st.Report.PhaseOrder) != 1 || st.Report.PhaseOrder[0] != "users" {
			t.Errorf("%s: phases run %v, the upload asked for users only", f.name, st.Report.PhaseOrder)
		}
	}
}

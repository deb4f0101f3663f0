package cloudsid

import "testing"

// The expected SIDs were computed independently of this package, once, with Python's uuid module
// (bytes_le is .NET's Guid.ToByteArray order) and struct.unpack('<4I', ...):
//
//	python3 -c "import uuid,struct; b=uuid.UUID(ID).bytes_le; print(struct.unpack('<4I', b))"
//
// and two are checked by hand here:
//   - 01234567-89ab-cdef-0123-456789abcdef: Data1 0x01234567 = 19088743; bytes ab 89 ef cd read
//     little-endian = 0xcdef89ab = 3455027627; bytes 01 23 45 67 = 0x67452301 = 1732584193;
//     bytes 89 ab cd ef = 0xefcdab89 = 4023233417.
//   - ffffffff-...: every number is 2^32-1 = 4294967295.
//
// 73d664e4-0886-4a73-b745-c694da45ddb4 is also the pair published in community write-ups of the
// Intune/Entra cloud SID conversion.
func TestFromObjectIDKnownPairs(t *testing.T) {
	for _, tc := range []struct{ id, sid string }{
		{"00000000-0000-0000-0000-000000000000", "S-1-12-1-0-0-0-0"},
		{"01234567-89ab-cdef-0123-456789abcdef", "S-1-12-1-19088743-3455027627-1732584193-4023233417"},
		{"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "S-1-12-1-4294967295-4294967295-4294967295-4294967295"},
		{"73d664e4-0886-4a73-b745-c694da45ddb4", "S-1-12-1-1943430372-1249052806-2496021943-3034400218"},
		{"{d6aa4c1f-4c9c-4a0c-9c52-0c3b2a3b8f10}", "S-1-12-1-3601484831-1242320028-990663324-277822250"},
	} {
		got, err := FromObjectID(tc.id)
		if err != nil || got != tc.sid {
			t.Errorf("FromObjectID(%q) = %q, %v; want %q", tc.id, got, err, tc.sid)
		}
	}
}

func TestFromObjectIDRefusesNonGUIDs(t *testing.T) {
	for _, id := range []string{"", "not-a-guid", "73d664e40886-4a73-b745-c694da45ddb4", "73d664e4-0886-4a73-b745-c694da45ddbz",
		"73d664e4-0886-4a73-b745-c694da45ddb", "73d664e4088649a73b745c694da45ddb4"} {
		if sid, err := FromObjectID(id); err == nil {
			t.Errorf("FromObjectID(%q) = %q, want an error", id, sid)
		}
	}
}

// Package cloudsid derives the cloud security identifier (SID) Entra ID gives a user or group from
// its object id, as device and file-permission tools (Intune, Windows ACLs on Entra-joined devices)
// see it: "S-1-12-1-" followed by four numbers, the object id's 16 bytes in .NET GUID byte order
// (System.Guid.ToByteArray: the first three groups little-endian, the last two as written) read as
// four little-endian unsigned 32-bit integers. Pure logic; no I/O.
package cloudsid

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Prefix starts every cloud SID (authority 12, "Azure AD", sub-authority 1).
const Prefix = "S-1-12-1-"

// FromObjectID returns the cloud SID of an object id written as a GUID
// ("73d664e4-0886-4a73-b745-c694da45ddb4", any case, braces allowed). It refuses anything else.
func FromObjectID(id string) (string, error) {
	b, err := guidBytes(id)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString(Prefix)
	for i := range 4 {
		if i > 0 {
			sb.WriteByte('-')
		}
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[4*i:])), 10))
	}
	return sb.String(), nil
}

// guidBytes returns the GUID's bytes in .NET order.
func guidBytes(id string) ([16]byte, error) {
	var out [16]byte
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "{"), "}")
	groups := strings.Split(s, "-")
	if len(groups) != 5 || len(groups[0]) != 8 || len(groups[1]) != 4 || len(groups[2]) != 4 || len(groups[3]) != 4 || len(groups[4]) != 12 {
		return out, fmt.Errorf("object id %q is not a GUID (8-4-4-4-12 hex digits)", id)
	}
	raw, err := hex.DecodeString(strings.Join(groups, ""))
	if err != nil {
		return out, fmt.Errorf("object id %q is not a GUID: %w", id, err)
	}
	// Data1 (4 bytes), Data2 and Data3 (2 bytes each) are little-endian in .NET's layout; Data4's
	// eight bytes keep their order.
	out[0], out[1], out[2], out[3] = raw[3], raw[2], raw[1], raw[0]
	out[4], out[5] = raw[5], raw[4]
	out[6], out[7] = raw[7], raw[6]
	copy(out[8:], raw[8:])
	return out, nil
}

package mapping

import (
	"encoding/base64"
	"fmt"
)

// CheckImmutableID returns why v cannot be an ImmutableId, or "" when it can (an empty value means
// the column is not used for the row). Entra's onPremisesImmutableId, as Entra Connect writes it, is
// the base64 encoding (standard alphabet, padded: 24 characters) of the on-premises objectGUID's 16
// bytes; anything else would never soft-match the on-premises account.
func CheckImmutableID(v string) string {
	if v == "" {
		return ""
	}
	b, err := base64.StdEncoding.Strict().DecodeString(v)
	switch {
	case err != nil:
		return "not base64 (want the on-premises objectGUID as base64, 24 characters ending in ==)"
	case len(b) != 16:
		return fmt.Sprintf("decodes to %d bytes, not the 16 bytes of a GUID", len(b))
	}
	return ""
}

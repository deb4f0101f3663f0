package wave

import (
	"fmt"
	"strings"
)

// LicensesMetadataKey is the upload's licence map: SOURCE_SKU=TARGET_SKU pairs of skuPartNumber,
// comma-separated (ENTERPRISEPACK=SPE_E3). Empty: the licenses phase assigns nothing.
const LicensesMetadataKey = "t2tlicenses"

// ParseLicenseMap reads "SRC=TGT,SRC2=TGT2" (part numbers, upper-cased). Empty input is an empty map;
// a source SKU mapped twice is refused.
func ParseLicenseMap(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		from, to, ok := strings.Cut(pair, "=")
		from, to = strings.ToUpper(strings.TrimSpace(from)), strings.ToUpper(strings.TrimSpace(to))
		if !ok || from == "" || to == "" || strings.ContainsAny(from+to, " ,=") {
			return nil, fmt.Errorf("option %s: entry %q: want SOURCE_SKU=TARGET_SKU (skuPartNumber)", LicensesMetadataKey, pair)
		}
		if prev, dup := out[from]; dup && prev != to {
			return nil, fmt.Errorf("option %s: source SKU %s is mapped twice (%s and %s)", LicensesMetadataKey, from, prev, to)
		}
		out[from] = to
	}
	return out, nil
}

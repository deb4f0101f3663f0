package mapping

import (
	"fmt"
	"sort"
	"strings"
)

// Validate applies the rules that span rows, and the target's verified domains, to parsed rows:
// an identical row repeated is rejected after its first occurrence; a source mapped to two different
// destinations, or two sources mapped onto one destination, rejects every row involved (either choice
// could be the wrong one, and guessing merges or splits people). verified holds the target tenant's
// verified domains, lower case; nil skips that rule. Rows come back in file order.
func Validate(rows []Row, verified map[string]bool) ([]Row, []RowError) {
	var bad []RowError
	firstOfPair := make(map[string]int, len(rows))
	unique := make([]Row, 0, len(rows))
	for _, r := range rows {
		pair := strings.ToLower(r.Source) + "\x00" + strings.ToLower(r.Destination)
		if first, dup := firstOfPair[pair]; dup {
			bad = append(bad, RowError{Line: r.Line, Column: ColSource, Value: r.Source,
				Reason: fmt.Sprintf("duplicate of row %d", first)})
			continue
		}
		firstOfPair[pair] = r.Line
		unique = append(unique, r)
	}
	firstOfPair = nil // a 100,000-row file: let it go before the groups are built
	rejected := map[int]bool{}
	bad = append(bad, groupConflicts(unique, ColSource, func(r Row) string { return strings.ToLower(r.Source) },
		"the same source is mapped to another destination on row", rejected)...)
	bad = append(bad, groupConflicts(unique, ColDestination, func(r Row) string { return strings.ToLower(r.Destination) },
		"another source is mapped onto the same destination on row", rejected)...)
	// One on-premises account can soft-match one cloud user only. Base64 is case-sensitive: the same
	// anchor is the same string.
	bad = append(bad, groupConflicts(unique, ColImmutableID, func(r Row) string { return r.ImmutableID },
		"the same ImmutableId is given on row", rejected)...)
	ok := make([]Row, 0, len(unique))
	for _, r := range unique {
		if rejected[r.Line] {
			continue
		}
		if verified != nil && !verified[Domain(r.Destination)] {
			bad = append(bad, RowError{Line: r.Line, Column: ColDestination, Value: r.Destination,
				Reason: "the domain " + Domain(r.Destination) + " is not a verified domain of the target tenant"})
			continue
		}
		ok = append(ok, r)
	}
	sort.SliceStable(bad, func(i, j int) bool { return bad[i].Line < bad[j].Line })
	return ok, bad
}

// groupConflicts rejects every row whose key (non-empty) another row shares. It counts keys first
// and groups only the keys that repeat, so a large file with few conflicts builds no per-row slices.
func groupConflicts(rows []Row, col string, key func(Row) string, reason string, rejected map[int]bool) []RowError {
	seen := make(map[string]int, len(rows))
	for _, r := range rows {
		if k := key(r); k != "" {
			seen[k]++
		}
	}
	groups := map[string][]Row{}
	for _, r := range rows {
		if k := key(r); k != "" && seen[k] > 1 {
			groups[k] = append(groups[k], r)
		}
	}
	var out []RowError
	for _, group := range groups {
		out = append(out, conflicts(group, col, reason, rejected)...)
	}
	return out
}

// conflicts rejects every row of a group of more than one, naming the other rows.
func conflicts(group []Row, col, reason string, rejected map[int]bool) []RowError {
	if len(group) < 2 {
		return nil
	}
	var out []RowError
	for _, r := range group {
		var others []string
		for _, o := range group {
			if o.Line != r.Line {
				others = append(others, fmt.Sprint(o.Line))
			}
		}
		value := r.Source
		switch col {
		case ColDestination:
			value = r.Destination
		case ColImmutableID:
			value = r.ImmutableID
		}
		out = append(out, RowError{Line: r.Line, Column: col, Value: value,
			Reason: reason + " " + strings.Join(others, ", ")})
		rejected[r.Line] = true
	}
	return out
}

// RejectedRows counts the distinct rows errs rejects (one row may fail on both columns); file-level
// errors (line 0 or the header) are no rows.
func RejectedRows(errs []RowError) int {
	seen := map[int]bool{}
	for _, e := range errs {
		if e.Line >= 2 {
			seen[e.Line] = true
		}
	}
	return len(seen)
}

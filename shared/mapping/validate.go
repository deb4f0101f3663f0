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
	rejected := map[int]bool{}
	firstOfPair := map[string]int{}
	bySource := map[string][]Row{}
	byDest := map[string][]Row{}
	byAnchor := map[string][]Row{}
	var unique []Row
	for _, r := range rows {
		pair := strings.ToLower(r.Source) + "\x00" + strings.ToLower(r.Destination)
		if first, dup := firstOfPair[pair]; dup {
			bad = append(bad, RowError{Line: r.Line, Column: ColSource, Value: r.Source,
				Reason: fmt.Sprintf("duplicate of row %d", first)})
			continue
		}
		firstOfPair[pair] = r.Line
		unique = append(unique, r)
		bySource[strings.ToLower(r.Source)] = append(bySource[strings.ToLower(r.Source)], r)
		byDest[strings.ToLower(r.Destination)] = append(byDest[strings.ToLower(r.Destination)], r)
		if r.ImmutableID != "" {
			// Base64 is case-sensitive: the same anchor is the same string.
			byAnchor[r.ImmutableID] = append(byAnchor[r.ImmutableID], r)
		}
	}
	for _, group := range bySource {
		bad = append(bad, conflicts(group, ColSource, "the same source is mapped to another destination on row", rejected)...)
	}
	for _, group := range byDest {
		bad = append(bad, conflicts(group, ColDestination, "another source is mapped onto the same destination on row", rejected)...)
	}
	for _, group := range byAnchor {
		// One on-premises account can soft-match one cloud user only.
		bad = append(bad, conflicts(group, ColImmutableID, "the same ImmutableId is given on row", rejected)...)
	}
	var ok []Row
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

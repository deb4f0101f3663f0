package simulator

import (
	"reflect"
	"slices"
	"time"
)

// defaultDeltaTokenLifetime is how long a delta or skip token stays usable: seven days for directory
// objects (https://learn.microsoft.com/graph/delta-query-overview#token-duration).
const defaultDeltaTokenLifetime = 7 * 24 * time.Hour

// Object kinds in the change log and in directory object references.
const (
	kindUser             = "user"
	kindGroup            = "group"
	kindServicePrincipal = "servicePrincipal"
)

// Reasons of @removed in delta answers (https://learn.microsoft.com/graph/delta-query-overview):
// changed = soft-deleted (restorable), deleted = gone for good.
const (
	removedChanged = "changed"
	removedDeleted = "deleted"
)

// objectRef is a reference to a directory object with its type, as members@delta renders it.
type objectRef struct {
	ID   string
	Kind string
}

// change is one write to a user or group: which properties changed, which references (group members,
// a user's manager) were touched, or that the object was removed.
type change struct {
	seq     uint64
	at      time.Time
	kind    string
	id      string
	created bool
	props   []string // canonical names of the changed properties
	refs    []objectRef
	removed string
}

// changeLog is a tenant's write history for delta queries: every user, group and membership write
// appends an entry with the next sequence number. A delta token is a sequence number; entries older
// than the token lifetime can no longer be asked for and are trimmed.
type changeLog struct {
	epoch    string // changes when the log starts afresh (a restart): older tokens are unknown
	seq      uint64
	entries  []change
	trimmed  uint64 // highest sequence number trimmed away
	lifetime time.Duration
}

func newChangeLog() *changeLog {
	return &changeLog{epoch: newGUID()[:8], lifetime: defaultDeltaTokenLifetime}
}

// append records e with the next sequence number and trims entries no valid token can need.
func (l *changeLog) append(e change) {
	l.seq++
	e.seq = l.seq
	l.entries = append(l.entries, e)
	if len(l.entries) >= 4096 && l.lifetime > 0 {
		cutoff := e.at.Add(-l.lifetime)
		n := 0
		for n < len(l.entries) && l.entries[n].at.Before(cutoff) {
			n++
		}
		if n > 0 {
			l.trimmed = l.entries[n-1].seq
			l.entries = slices.Delete(l.entries, 0, n)
		}
	}
}

// since returns the entries of kind with from < seq <= to.
func (l *changeLog) since(kind string, from, to uint64) []change {
	i, _ := slices.BinarySearchFunc(l.entries, from+1, func(e change, s uint64) int { return int(e.seq) - int(s) })
	var out []change
	for ; i < len(l.entries) && l.entries[i].seq <= to; i++ {
		if l.entries[i].kind == kind {
			out = append(out, l.entries[i])
		}
	}
	return out
}

// changedProps compares two renderings of an object and returns the properties that differ, in schema
// order.
func changedProps[T any](s *schema[T], old, next *T) []string {
	var out []string
	for i := range s.props {
		p := &s.props[i]
		if !reflect.DeepEqual(jsonValue(p.get(old)), jsonValue(p.get(next))) {
			out = append(out, p.name)
		}
	}
	return out
}

// refDiff returns the references added to or removed from a sorted id list, with their kinds.
func (t *Tenant) refDiffLocked(old, next []string) []objectRef {
	var out []objectRef
	for _, id := range old {
		if !hasRef(next, id) {
			out = append(out, objectRef{ID: id, Kind: t.objectKindLocked(id)})
		}
	}
	for _, id := range next {
		if !hasRef(old, id) {
			out = append(out, objectRef{ID: id, Kind: t.objectKindLocked(id)})
		}
	}
	return out
}

// logUserLocked records a user write: next nil means the user was (soft-)deleted. The caller holds the
// write lock.
func (t *Tenant) logUserLocked(old, next *User, now time.Time) {
	e := change{at: now, kind: kindUser}
	switch {
	case next == nil:
		e.id, e.removed = old.ID, removedChanged
	case old == nil:
		e.id, e.created = next.ID, true
		e.props = changedProps(userSchema, &User{}, next)
		if next.ManagerID != "" {
			e.refs = []objectRef{{ID: next.ManagerID, Kind: kindUser}}
		}
	default:
		e.id = next.ID
		e.props = changedProps(userSchema, old, next)
		if old.ManagerID != next.ManagerID {
			e.props = append(e.props, "manager")
			for _, id := range []string{old.ManagerID, next.ManagerID} {
				if id != "" {
					e.refs = append(e.refs, objectRef{ID: id, Kind: kindUser})
				}
			}
		}
		if len(e.props) == 0 {
			return // a PATCH that changed nothing is not a change
		}
	}
	t.changes.append(e)
}

// logGroupLocked records a group write: next nil means the group was removed (removed says how).
// Membership changes are recorded as touched member references. The caller holds the write lock.
func (t *Tenant) logGroupLocked(old, next *Group, removed string, now time.Time) {
	e := change{at: now, kind: kindGroup}
	switch {
	case next == nil:
		e.id, e.removed = old.ID, removed
	case old == nil:
		e.id, e.created = next.ID, true
		e.props = changedProps(groupSchema, &Group{}, next)
		e.refs = t.refDiffLocked(nil, next.Members)
		if len(next.Owners) > 0 {
			e.props = append(e.props, "owners")
		}
	default:
		e.id = next.ID
		e.props = changedProps(groupSchema, old, next)
		if e.refs = t.refDiffLocked(old.Members, next.Members); len(e.refs) > 0 {
			e.props = append(e.props, "members")
		}
		if !slices.Equal(old.Owners, next.Owners) {
			e.props = append(e.props, "owners")
		}
		if len(e.props) == 0 {
			return
		}
	}
	t.changes.append(e)
}

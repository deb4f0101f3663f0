package simulator

import (
	"sync"
	"sync/atomic"
	"time"
)

// msgReferencedObjectMissing is the directory's answer to a reference (members@odata.bind, $ref,
// owners...) naming an object it cannot see, in the wording the project's design notes record for
// adding members to a group right after creating it (DESIGN section 7).
const msgReferencedObjectMissing = "The source resource object or one of the objects being referenced do not exist."

// replication models Entra ID's eventual consistency for one tenant: an object created through Graph
// is written to one replica and reaches the others after a lag, during which a request served by
// another replica does not see it. The simulator keeps, per new object, the instant it becomes visible
// everywhere; before that instant every read, write and reference by id answers as if the object did
// not exist (the stricter reading: the real service may serve some of those from the replica that has
// it). Uniqueness checks (userPrincipalName, uniqueName...) see new objects at once, as they do in the
// service, so a retried create conflicts with the invisible object it made.
//
// Objects loaded from seeds, seed files or the state folder are visible from the start.
type replication struct {
	ctl *controls
	lag atomic.Int64 // simulated time.Duration; 0 turns the model off

	mu      sync.Mutex
	pending map[string]time.Time // object id → wall-clock instant it becomes visible
}

func newReplication(ctl *controls) *replication {
	return &replication{ctl: ctl, pending: map[string]time.Time{}}
}

func (r *replication) setLag(d time.Duration) { r.lag.Store(int64(d)) }

func (r *replication) lagValue() time.Duration { return time.Duration(r.lag.Load()) }

// markCreated records that the object with id was just created: it stays invisible for the tenant's
// replication lag (divided by the time scale). Collections call it right after storing a new object;
// it takes its own lock, so the caller may or may not hold t.mu. A nil tenant replication (tenants
// built without a server) makes it a no-op.
func (t *Tenant) markCreated(id string) {
	r := t.repl
	if r == nil {
		return
	}
	lag := r.lagValue()
	if lag <= 0 {
		return
	}
	at := r.ctl.now().Add(r.ctl.realDuration(lag))
	r.mu.Lock()
	r.pending[id] = at
	r.mu.Unlock()
}

// visible reports whether the object with id has replicated, i.e. whether reads, by-id writes and
// references may see it. Unknown ids are visible (whether they exist is the collection's business).
func (t *Tenant) visible(id string) bool {
	r := t.repl
	if r == nil {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return true
	}
	at, ok := r.pending[id]
	if !ok {
		return true
	}
	if !r.ctl.now().Before(at) {
		delete(r.pending, id)
		return true
	}
	return false
}

// allVisible reports whether every id is visible; reference adds use it to refuse a batch of
// references naming a not-yet-replicated object with errReferencedObjectMissing.
func (t *Tenant) allVisible(ids ...string) bool {
	for _, id := range ids {
		if !t.visible(id) {
			return false
		}
	}
	return true
}

// visibleOnly returns the items of a list snapshot that have replicated, in order; list handlers apply
// it before filtering and paging, so $count and nextLink agree with what is returned.
func visibleOnly[T any](t *Tenant, items []*T, idOf func(*T) string) []*T {
	r := t.repl
	if r == nil {
		return items
	}
	r.mu.Lock()
	none := len(r.pending) == 0
	r.mu.Unlock()
	if none {
		return items
	}
	out := make([]*T, 0, len(items))
	for _, it := range items {
		if t.visible(idOf(it)) {
			out = append(out, it)
		}
	}
	return out
}

// errReferencedObjectMissing is the answer to a reference add naming an object that does not exist or
// has not replicated yet (400, Request_BadRequest).
func errReferencedObjectMissing() *graphError {
	return errBadRequest(msgReferencedObjectMissing)
}

package users

import "sync"

// chunkLock serialises calls into a chunk's ledger from the goroutines of one step.
type chunkLock struct{ m sync.Mutex }

func (l *chunkLock) do(fn func()) {
	l.m.Lock()
	defer l.m.Unlock()
	fn()
}

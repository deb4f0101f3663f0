package phase

import (
	"context"
	"time"
)

// PollWhile re-reads a long-running operation (a migration job, a Power Platform move) every
// interval, at most tries times, while its status stays what it was, and returns the last read. A
// state that outlasts the tries is left to a later delivery of the step: steps do not block for
// hours.
func PollWhile[T any](ctx context.Context, every time.Duration, tries int, cur T, status func(T) string, read func(context.Context) (T, error)) (T, error) {
	was := status(cur)
	for range tries {
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return cur, ctx.Err()
		case <-t.C:
		}
		next, err := read(ctx)
		if err != nil {
			return cur, err
		}
		if cur = next; status(cur) != was {
			return cur, nil
		}
	}
	return cur, nil
}

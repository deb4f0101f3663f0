package funchost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// timerStatus is the schedule monitor's record, stored as JSON at
// azure-webjobs-hosts/timers/<hostId>/Host.Functions.<FunctionName>/status (the real host's layout), and handed to the function as ScheduleStatus.
type timerStatus struct {
	Last        time.Time `json:"Last"`
	Next        time.Time `json:"Next"`
	LastUpdated time.Time `json:"LastUpdated"`
}

// timerListener runs one timer-triggered function. Its loop is sequential, so the function never runs
// twice at once (the real host also takes a singleton lock across instances; one local host needs none).
// Times are in the local time zone (TZ), as Core Tools use the machine's zone.
type timerListener struct {
	h       *Host
	fn      *function
	monitor bool
	status  *blockblob.Client // nil without useMonitor
}

func newTimerListener(ctx context.Context, h *Host, fn *function) (*timerListener, error) {
	l := &timerListener{h: h, fn: fn}
	if fn.trigger.UseMonitor != nil {
		l.monitor = *fn.trigger.UseMonitor
	} else {
		l.monitor = defaultUseMonitor(fn.schedule) // the real default: on for intervals of a minute or more
	}
	if !l.monitor {
		return l, nil
	}
	acct, err := h.app.hostAccount()
	if err != nil {
		return nil, err
	}
	cc, err := acct.containerClient(ctx, hostsContainer)
	if err != nil {
		return nil, err
	}
	l.status = cc.NewBlockBlobClient(fmt.Sprintf("timers/%s/Host.Functions.%s/status", h.app.hostID, fn.name))
	return l, nil
}

func defaultUseMonitor(s *Schedule) bool {
	a, err1 := s.Next(time.Now())
	b, err2 := s.Next(a)
	return err1 != nil || err2 != nil || b.Sub(a) >= time.Minute
}

// run handles a past-due or runOnStartup invocation, then fires at each occurrence until ctx ends.
func (l *timerListener) run(ctx context.Context) {
	status := l.startup(ctx)
	for {
		next, err := l.fn.schedule.Next(time.Now())
		if err != nil {
			l.h.log.fnf(l.fn.name, "%v; the timer stops", err)
			return
		}
		if !sleepCtx(ctx, time.Until(next)) {
			return
		}
		status = l.fire(ctx, status, next, false)
	}
}

// startup reads the monitor's status: a missed occurrence (Next in the past, e.g. the host was down)
// is run at once with IsPastDue true; otherwise runOnStartup runs the function once.
func (l *timerListener) startup(ctx context.Context) *timerStatus {
	now := time.Now()
	var status *timerStatus
	if l.monitor {
		status = l.readStatus(ctx)
		if status != nil && !status.Last.IsZero() {
			// A changed schedule moves the expected occurrence; compare with that, as the real host does.
			if expected, err := l.fn.schedule.Next(status.Last); err == nil && !expected.Equal(status.Next) {
				status.Next = expected
			}
		}
		if status != nil && status.Next.Before(now) {
			l.h.log.fnf(l.fn.name, "timer is past due (expected at %s)", status.Next.Format(time.RFC3339))
			return l.fire(ctx, status, now, true)
		}
		if status == nil {
			next, _ := l.fn.schedule.Next(now)
			status = &timerStatus{Next: next, LastUpdated: now}
			l.writeStatus(ctx, status)
		}
	}
	if l.fn.trigger.RunOnStartup {
		return l.fire(ctx, status, now, false)
	}
	return status
}

// fire invokes the function once and records the new status. It waits for the invocation, so timer
// invocations never overlap; the invocation itself runs under the host's in-flight accounting.
func (l *timerListener) fire(ctx context.Context, status *timerStatus, at time.Time, pastDue bool) *timerStatus {
	if ctx.Err() != nil {
		return status
	}
	inv := l.invocation(status, pastDue)
	done := make(chan struct{})
	l.h.goWork(func(work context.Context) {
		defer close(done)
		_, _ = l.h.invoke(work, inv) // a failed timer run is logged, not retried, as in the real host
	})
	<-done
	if !l.monitor {
		return nil
	}
	now := time.Now()
	next, _ := l.fn.schedule.Next(now)
	status = &timerStatus{Last: at, Next: next, LastUpdated: now}
	l.writeStatus(context.WithoutCancel(ctx), status)
	return status
}

func (l *timerListener) invocation(status *timerStatus, pastDue bool) *invocation {
	info := map[string]any{
		"Schedule":       map[string]any{"AdjustForDST": true},
		"ScheduleStatus": status,
		"IsPastDue":      pastDue,
	}
	reason := "Timer fired at " + time.Now().Format(time.RFC3339)
	if pastDue {
		reason = "Timer is past due; fired at " + time.Now().Format(time.RFC3339)
	}
	return &invocation{
		fn: l.fn, reason: reason, meta: map[string]json.RawMessage{},
		data:        map[string]json.RawMessage{l.fn.trigger.Name: rawJSON(info)},
		bindingData: map[string]string{},
	}
}

// readStatus returns the stored status, or nil when there is none (or it cannot be read).
func (l *timerListener) readStatus(ctx context.Context) *timerStatus {
	resp, err := l.status.DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil
	}
	if err != nil {
		l.h.log.fnf(l.fn.name, "reading timer status: %v", err)
		return nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	var st timerStatus
	if err == nil {
		err = json.Unmarshal(raw, &st)
	}
	if err != nil {
		l.h.log.fnf(l.fn.name, "reading timer status: %v", err)
		return nil
	}
	return &st
}

func (l *timerListener) writeStatus(ctx context.Context, st *timerStatus) {
	if _, err := l.status.UploadBuffer(ctx, rawJSON(st), nil); err != nil {
		l.h.log.fnf(l.fn.name, "writing timer status: %v", err)
	}
}

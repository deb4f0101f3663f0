package funchost

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/queueerror"
)

// Polling delays of the real queue listener: 100 ms after a batch was found; when the queue is empty the
// delay starts near 200 ms and doubles, randomized, up to maxPollingInterval.
const (
	pollAfterMessages = 100 * time.Millisecond
	pollFirstIdle     = 200 * time.Millisecond
)

// queueListener runs one queue-triggered function.
type queueListener struct {
	h      *Host
	fn     *function
	qs     queueSettings
	name   string
	poison string
	active atomic.Int32
	freed  chan struct{} // signalled when a message finishes
}

func newQueueListener(h *Host, fn *function) *queueListener {
	return &queueListener{
		h: h, fn: fn, qs: h.app.host.queues, name: fn.trigger.QueueName,
		poison: fn.trigger.QueueName + "-poison", freed: make(chan struct{}, 1),
	}
}

// lease is the processing visibility timeout set on dequeue: long enough for the function to time out
// first, so a message is never run twice concurrently by this host.
func (l *queueListener) lease() int32 {
	d := 10 * time.Minute
	if t := l.h.app.host.functionTimeout; t > 0 {
		d = t + 30*time.Second
	}
	return int32(min(d, 7*24*time.Hour) / time.Second)
}

// run polls until ctx ends. Messages of a batch run concurrently; a new batch is fetched once the number
// in flight drops to newBatchThreshold, so at most batchSize+newBatchThreshold run at once.
func (l *queueListener) run(ctx context.Context) {
	delay := time.Duration(0)
	for {
		if !l.waitBelowThreshold(ctx) || !sleepCtx(ctx, delay) {
			return
		}
		msgs, err := l.dequeue(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			l.h.log.fnf(l.fn.name, "polling queue %q: %v", l.name, err)
			delay = l.nextIdleDelay(max(delay, time.Second))
		case len(msgs) == 0:
			delay = l.nextIdleDelay(delay)
		default:
			delay = min(pollAfterMessages, l.qs.maxPollingInterval)
			for _, m := range msgs {
				l.active.Add(1)
				l.h.goWork(func(work context.Context) { l.process(work, m) })
			}
		}
	}
}

// nextIdleDelay doubles the idle delay, randomized by ±20%, capped at maxPollingInterval.
func (l *queueListener) nextIdleDelay(prev time.Duration) time.Duration {
	d := max(prev*2, pollFirstIdle)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return min(d, l.qs.maxPollingInterval)
}

// waitBelowThreshold blocks while more than newBatchThreshold messages are in flight.
func (l *queueListener) waitBelowThreshold(ctx context.Context) bool {
	for int(l.active.Load()) > l.qs.newBatchThreshold {
		select {
		case <-ctx.Done():
			return false
		case <-l.freed:
		}
	}
	return true
}

// dequeue fetches up to batchSize messages with the processing lease, creating the queue if missing.
func (l *queueListener) dequeue(ctx context.Context) ([]*azqueue.DequeuedMessage, error) {
	qc, err := l.fn.trigger.acct.queueClient(ctx, l.name)
	if err != nil {
		return nil, err
	}
	n, vis := int32(l.qs.batchSize), l.lease()
	resp, err := qc.DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{NumberOfMessages: &n, VisibilityTimeout: &vis})
	if queueerror.HasCode(err, queueerror.QueueNotFound) {
		l.fn.trigger.acct.forgetQueue(l.name) // deleted under us: recreate on the next poll
	}
	if err != nil {
		return nil, fmt.Errorf("dequeueing: %w", err)
	}
	return resp.Messages, nil
}

// process runs one message: delete on success; on failure, move it to <queue>-poison once its dequeue
// count reached maxDequeueCount, otherwise make it visible again after visibilityTimeout.
func (l *queueListener) process(ctx context.Context, m *azqueue.DequeuedMessage) {
	defer func() {
		l.active.Add(-1)
		select {
		case l.freed <- struct{}{}:
		default:
		}
	}()
	count := deref(m.DequeueCount)
	text, err := decodeMessage(deref(m.MessageText), l.qs)
	if err != nil {
		// As the real host does when a message cannot be decoded: straight to the poison queue.
		l.h.log.fnf(l.fn.name, "message %s: %v; moving it to %q", deref(m.MessageID), err, l.poison)
		l.toPoison(ctx, m)
		return
	}
	if count > int64(l.qs.maxDequeueCount) { // already over the limit (e.g. a crash mid-run)
		l.toPoison(ctx, m)
		return
	}
	_, err = l.h.invoke(ctx, l.invocation(m, text))
	switch {
	case err == nil:
		l.delete(ctx, m)
	case count >= int64(l.qs.maxDequeueCount):
		l.h.log.fnf(l.fn.name, "message %s failed %d times; moving it to %q", deref(m.MessageID), count, l.poison)
		l.toPoison(ctx, m)
	default:
		l.release(ctx, m)
	}
}

// invocation builds the real host's request for a queue message.
func (l *queueListener) invocation(m *azqueue.DequeuedMessage, text string) *invocation {
	b := l.fn.trigger
	meta := map[string]json.RawMessage{
		"DequeueCount":    metaScalar(deref(m.DequeueCount)),
		"Id":              metaString(deref(m.MessageID)),
		"PopReceipt":      metaString(deref(m.PopReceipt)),
		"InsertionTime":   metaTime(deref(m.InsertionTime)),
		"ExpirationTime":  metaTime(deref(m.ExpirationTime)),
		"NextVisibleTime": metaTime(deref(m.TimeNextVisible)),
	}
	bd := map[string]string{
		"QueueTrigger": text, "Id": deref(m.MessageID), "PopReceipt": deref(m.PopReceipt),
		"DequeueCount": strconv.FormatInt(deref(m.DequeueCount), 10),
	}
	bindingDataFromJSON(text, bd)
	return &invocation{
		fn: l.fn, reason: fmt.Sprintf("New queue message detected on '%s'.", l.name),
		data: map[string]json.RawMessage{b.Name: metaString(text)}, meta: meta, bindingData: bd,
	}
}

func (l *queueListener) delete(ctx context.Context, m *azqueue.DequeuedMessage) {
	qc := l.fn.trigger.acct.queue.NewQueueClient(l.name)
	if _, err := qc.DeleteMessage(ctx, deref(m.MessageID), deref(m.PopReceipt), nil); err != nil {
		l.h.log.fnf(l.fn.name, "deleting message %s: %v", deref(m.MessageID), err)
	}
}

// release makes a failed message visible again after visibilityTimeout, keeping its content.
func (l *queueListener) release(ctx context.Context, m *azqueue.DequeuedMessage) {
	qc := l.fn.trigger.acct.queue.NewQueueClient(l.name)
	vis := int32(l.qs.visibilityTimeout / time.Second)
	_, err := qc.UpdateMessage(ctx, deref(m.MessageID), deref(m.PopReceipt), deref(m.MessageText),
		&azqueue.UpdateMessageOptions{VisibilityTimeout: &vis})
	if err != nil {
		l.h.log.fnf(l.fn.name, "releasing message %s: %v", deref(m.MessageID), err)
	}
}

// toPoison copies the message, content unchanged, to <queue>-poison (created if missing) and deletes it.
func (l *queueListener) toPoison(ctx context.Context, m *azqueue.DequeuedMessage) {
	pq, err := l.fn.trigger.acct.queueClient(ctx, l.poison)
	if err == nil {
		_, err = pq.EnqueueMessage(ctx, deref(m.MessageText), nil)
	}
	if err != nil {
		l.h.log.fnf(l.fn.name, "moving message %s to %q: %v", deref(m.MessageID), l.poison, err)
		return
	}
	l.delete(ctx, m)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// sleepCtx waits d, or returns false when ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

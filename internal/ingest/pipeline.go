package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// ErrOverloaded means the pipeline's queue is full; the caller should answer
// 429 with Retry-After.
var ErrOverloaded = errors.New("ingestion queue is full")

// ErrStopped means the pipeline no longer accepts messages (shutting down).
var ErrStopped = errors.New("ingestion is stopping")

// Pipeline group-commits messages: requests queue their messages, one
// goroutine takes everything queued (up to MaxBatch messages), writes it in
// one transaction and then answers every request in it. Under load batches
// grow and the commit cost is shared; when idle a lone request is
// committed at once. The queue is bounded in messages, so memory is too.
type Pipeline struct {
	w        store.Writer
	log      *slog.Logger
	metrics  *Metrics
	maxQueue int64
	maxBatch int

	quiet throttle // only Run uses it

	queue   chan *pending
	queued  atomic.Int64
	mu      sync.RWMutex // guards stopped against sends to queue
	stopped bool
	done    chan struct{}
}

type pending struct {
	msgs   []store.Message
	result chan result
}

type result struct {
	outcomes []store.Outcome
	err      error
}

// NewPipeline returns a pipeline writing to w. maxQueue bounds the messages
// waiting; maxBatch bounds one transaction.
func NewPipeline(w store.Writer, maxQueue, maxBatch int, metrics *Metrics, log *slog.Logger) *Pipeline {
	return &Pipeline{
		w: w, log: log, metrics: metrics,
		maxQueue: int64(maxQueue), maxBatch: maxBatch,
		queue: make(chan *pending, maxQueue),
		done:  make(chan struct{}),
	}
}

// Submit queues msgs and waits until they are committed. It returns
// ErrOverloaded at once when the queue is full.
func (p *Pipeline) Submit(ctx context.Context, msgs []store.Message) ([]store.Outcome, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	n := int64(len(msgs))
	// A request larger than the whole queue still goes through when the
	// queue is empty, so that no valid batch is refused forever.
	if total := p.queued.Add(n); total > p.maxQueue && total != n {
		p.queued.Add(-n)
		p.metrics.Overloaded.Inc()
		return nil, ErrOverloaded
	}
	pd := &pending{msgs: msgs, result: make(chan result, 1)}
	p.mu.RLock()
	if p.stopped {
		p.mu.RUnlock()
		p.queued.Add(-n)
		return nil, ErrStopped
	}
	select {
	case p.queue <- pd:
	default:
		p.mu.RUnlock()
		p.queued.Add(-n)
		p.metrics.Overloaded.Inc()
		return nil, ErrOverloaded
	}
	p.mu.RUnlock()
	p.metrics.QueueDepth.Set(float64(p.queued.Load()))
	// Once queued, the messages will be committed whatever the caller
	// does; waiting for the result even if ctx ends keeps the answer true.
	select {
	case r := <-pd.result:
		return r.outcomes, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Run commits queued messages until Stop is called and the queue is empty.
func (p *Pipeline) Run() {
	defer close(p.done)
	var group []*pending
	for first := range p.queue {
		group = append(group[:0], first)
		size := len(first.msgs)
	gather:
		for size < p.maxBatch {
			select {
			case pd, ok := <-p.queue:
				if !ok {
					break gather
				}
				group = append(group, pd)
				size += len(pd.msgs)
			default:
				break gather
			}
		}
		p.commit(group, size)
	}
}

func (p *Pipeline) commit(group []*pending, size int) {
	msgs := group[0].msgs
	if len(group) > 1 {
		msgs = make([]store.Message, 0, size)
		for _, pd := range group {
			msgs = append(msgs, pd.msgs...)
		}
	}
	start := time.Now()
	outcomes, err := p.w.Write(context.Background(), msgs)
	p.metrics.CommitSeconds.Observe(time.Since(start).Seconds())
	p.metrics.BatchMessages.Observe(float64(len(msgs)))
	p.queued.Add(-int64(size))
	p.metrics.QueueDepth.Set(float64(p.queued.Load()))
	// The one log line of a failure (the requests' answers log nothing),
	// at most one a second: a full disk refuses every commit.
	switch {
	case err == nil:
	case !p.quiet.due(start):
	case errors.Is(err, store.ErrBusy):
		// Back-pressure, not a failure: the requests are answered 503 busy.
		p.log.Warn("commit refused: the database is catching up", "requests", len(group), "messages", len(msgs),
			"refused_since_last_line", p.quiet.take())
	default:
		p.log.Error("commit failed", "requests", len(group), "messages", len(msgs), "err", err,
			"failed_since_last_line", p.quiet.take())
	}
	if err != nil {
		p.metrics.CommitErrors.Inc()
	}
	off := 0
	for _, pd := range group {
		r := result{err: err}
		if err == nil {
			r.outcomes = outcomes[off : off+len(pd.msgs)]
		}
		off += len(pd.msgs)
		pd.result <- r
	}
}

// Stop refuses new messages, lets Run commit everything already queued,
// and waits for it to finish or for ctx to end.
func (p *Pipeline) Stop(ctx context.Context) error {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.queue)
	}
	p.mu.Unlock()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// throttle lets one log line a second through and counts the others.
type throttle struct {
	last   time.Time
	missed int
}

// due reports whether a line may be logged at now; when not, it counts
// the line as missed.
func (t *throttle) due(now time.Time) bool {
	if now.Sub(t.last) < time.Second {
		t.missed++
		return false
	}
	t.last = now
	return true
}

// take returns the lines missed since the last one logged, and forgets
// them.
func (t *throttle) take() int {
	n := t.missed
	t.missed = 0
	return n
}

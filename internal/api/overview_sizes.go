package api

import (
	"context"
	"sync"
	"time"
)

// The overview shows every saved segment's size now and 30 days ago: two
// counts a segment, each a query over the site's data (on a million users,
// seconds apiece). The segment's own page counts live; the overview keeps
// its counts, as the event catalog keeps users per event: an answer is
// kept for sizeKeepFactor times what it cost, and at least sizeKeepMin,
// then given once more while a fresh one is counted in the background.
// A segment not counted yet is answered as counting once the request's
// wait is over, and its count goes on in the background, at most
// sizeSlots at once.
const (
	sizeKeepFactor = 20
	sizeKeepMin    = 5 * time.Second
	sizeSlots      = 2
	// sizeForget drops an entry nobody asked for in this long (a deleted
	// segment, yesterday's past day).
	sizeForget = time.Hour
)

// sizeKey names one count: the segment as saved (a changed definition is
// counted anew) and the day its past size is counted at.
type sizeKey struct {
	site    int64
	id      string
	updated time.Time
	day     time.Time
}

// sizes are a segment's counts, or why they failed.
type sizes struct {
	now, before int64
	at          time.Time // when they were counted
	err         error
}

type sizeEntry struct {
	val     sizes
	ok      bool          // val holds an answer
	fresh   time.Time     // when val stops being fresh
	used    time.Time     // when it was last asked for
	running chan struct{} // closed when the count under way ends
}

// sizeCache keeps the overview's segment counts.
type sizeCache struct {
	mu      sync.Mutex
	entries map[sizeKey]*sizeEntry
	slots   chan struct{}
	ctx     context.Context // the background counts' context, ended by stop
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newSizeCache() *sizeCache {
	ctx, cancel := context.WithCancel(context.Background())
	return &sizeCache{entries: map[sizeKey]*sizeEntry{}, slots: make(chan struct{}, sizeSlots), ctx: ctx, cancel: cancel}
}

// stop ends the counts under way and waits for them, or for ctx.
func (c *sizeCache) stop(ctx context.Context) error {
	c.cancel()
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// get returns the counts of k: kept ones while fresh; else the last ones
// while count runs again in the background; else what count answers
// before ctx ends, or ok false when it has not yet.
func (c *sizeCache) get(ctx context.Context, k sizeKey, count func(context.Context) sizes) (sizes, bool) {
	c.mu.Lock()
	now := time.Now()
	for key, e := range c.entries {
		if e.running == nil && now.Sub(e.used) > sizeForget {
			delete(c.entries, key)
		}
	}
	e := c.entries[k]
	if e == nil {
		e = &sizeEntry{}
		c.entries[k] = e
	}
	e.used = now
	if e.ok && now.Before(e.fresh) {
		defer c.mu.Unlock()
		return e.val, true
	}
	if e.running == nil && c.ctx.Err() == nil {
		done := make(chan struct{})
		e.running = done
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.count(e, done, count)
		}()
	}
	running := e.running
	if e.ok {
		defer c.mu.Unlock()
		return e.val, true // stale, while the count runs
	}
	c.mu.Unlock()
	if running == nil {
		return sizes{}, false // stopping
	}
	select {
	case <-running:
	case <-ctx.Done():
		return sizes{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return e.val, e.ok
}

// count runs count in a slot and keeps its answer in e.
func (c *sizeCache) count(e *sizeEntry, done chan struct{}, count func(context.Context) sizes) {
	var val sizes
	var took time.Duration
	select {
	case c.slots <- struct{}{}:
		start := time.Now()
		val = count(c.ctx)
		took = time.Since(start)
		<-c.slots
	case <-c.ctx.Done():
		val.err = c.ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(done)
	e.running = nil
	if c.ctx.Err() != nil {
		return // stopped: nothing learnt
	}
	e.val, e.ok = val, true
	e.fresh = time.Now().Add(max(sizeKeepMin, sizeKeepFactor*took))
}

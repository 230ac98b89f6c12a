package api

import (
	"context"
	"sync"
	"time"
)

// The overview's parts read the site's data of a month or two (on a
// million users, seconds apiece on two cores) and its segment sizes two
// counts each. The overview keeps each answer as the event catalog keeps
// users per event: for keepFactor times what it cost, and at least
// keepMin, within the day it was computed on (the periods move at
// midnight: the site's, for parts of the overview's period); past that it is given once more while a fresh one is
// computed in the background. An answer not computed yet is waited for
// until the request's deadline, then answered as pending while its
// computation goes on, keepSlots at once. The pages and segments the
// overview links to count live.
const (
	keepFactor = 20
	keepMin    = 5 * time.Second
	keepSlots  = 2
	// keepForget drops an answer nobody asked for in this long (a deleted
	// segment, a site nobody looks at).
	keepForget = 24 * time.Hour
)

// background runs the kept answers' computations, which outlive the
// requests that start them, keepSlots at once, until stop.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	slots  chan struct{}
}

func newBackground() *background {
	ctx, cancel := context.WithCancel(context.Background())
	return &background{ctx: ctx, cancel: cancel, slots: make(chan struct{}, keepSlots)}
}

// stop ends the computations under way and waits for them, or for ctx.
func (b *background) stop(ctx context.Context) error {
	b.cancel()
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keep keeps answers of one kind by key.
type keep[K comparable, V any] struct {
	bg      *background
	mu      sync.Mutex
	entries map[K]*kept[V]
}

// answer is a computed value, or why it failed, with when it was
// computed and what that took.
type answer[V any] struct {
	val  V
	err  error
	at   time.Time
	took time.Duration
}

// kept is one key's answer.
type kept[V any] struct {
	answer[V]
	ok      bool          // an answer is here
	fresh   time.Time     // when it stops being fresh
	used    time.Time     // when it was last asked for
	running chan struct{} // closed when the computation under way ends
}

func newKeep[K comparable, V any](bg *background) *keep[K, V] {
	return &keep[K, V]{bg: bg, entries: map[K]*kept[V]{}}
}

// get returns the answer for k: the kept one while fresh; else the last
// one while compute runs again in the background; else what compute
// answers before ctx ends, or ok false when it has not yet.
func (c *keep[K, V]) get(ctx context.Context, k K, compute func(context.Context) (V, error)) (answer[V], bool) {
	c.mu.Lock()
	now := time.Now()
	for key, e := range c.entries {
		if e.running == nil && now.Sub(e.used) > keepForget {
			delete(c.entries, key)
		}
	}
	e := c.entries[k]
	if e == nil {
		e = &kept[V]{}
		c.entries[k] = e
	}
	e.used = now
	if e.ok && now.Before(e.fresh) && sameDay(e.at, now, zoneOf(k)) {
		defer c.mu.Unlock()
		return e.answer, true
	}
	if e.running == nil && c.bg.ctx.Err() == nil {
		done := make(chan struct{})
		e.running = done
		c.bg.wg.Add(1)
		go func() {
			defer c.bg.wg.Done()
			c.compute(e, done, compute)
		}()
	}
	running := e.running
	if e.ok {
		defer c.mu.Unlock()
		return e.answer, true // stale, while it is computed again
	}
	c.mu.Unlock()
	if running == nil {
		return answer[V]{}, false // stopping
	}
	select {
	case <-running:
	case <-ctx.Done():
		return answer[V]{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return e.answer, e.ok
}

// compute runs compute in a slot and keeps its answer in e.
func (c *keep[K, V]) compute(e *kept[V], done chan struct{}, compute func(context.Context) (V, error)) {
	var val V
	var err error
	var took time.Duration
	select {
	case c.bg.slots <- struct{}{}:
		start := time.Now()
		val, err = compute(c.bg.ctx)
		took = time.Since(start)
		<-c.bg.slots
	case <-c.bg.ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(done)
	e.running = nil
	if c.bg.ctx.Err() != nil {
		return // stopped: nothing learnt
	}
	e.answer, e.ok = answer[V]{val: val, err: err, at: time.Now().UTC(), took: took}, true
	e.fresh = time.Now().Add(max(keepMin, keepFactor*took))
}

// zoned is a key of answers that cover days of a time zone.
type zoned interface{ zone() *time.Location }

// zoneOf returns the zone whose midnight a key's answers change at: UTC
// unless the key is zoned.
func zoneOf(k any) *time.Location {
	if z, ok := k.(zoned); ok {
		return z.zone()
	}
	return time.UTC
}

// sameDay reports whether a and b fall on the same day of loc.
func sameDay(a, b time.Time, loc *time.Location) bool {
	return a.In(loc).Format(time.DateOnly) == b.In(loc).Format(time.DateOnly)
}

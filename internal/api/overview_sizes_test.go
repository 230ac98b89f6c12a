package api

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestSizeCache: an answer is kept while fresh; a count that outlasts the
// wait is answered as counting and goes on, its answer kept for the next
// ask; a stale answer is given while it is counted again; stop ends the
// counts under way.
func TestSizeCache(t *testing.T) {
	c := newSizeCache()
	k := sizeKey{site: 1, id: "seg_a"}
	var counts atomic.Int32
	release := make(chan struct{})
	slow := func(ctx context.Context) sizes {
		counts.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
			return sizes{err: ctx.Err()}
		}
		return sizes{now: int64(counts.Load()), before: 1, at: time.Now()}
	}
	wait, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	if _, ok := c.get(wait, k, slow); ok {
		t.Fatal("a count under way is answered")
	}
	cancel()
	close(release)
	v, ok := c.get(context.Background(), k, slow) // waits for the count under way
	if !ok || v.now != 1 || counts.Load() != 1 {
		t.Fatalf("after the count: %+v %v, %d counts", v, ok, counts.Load())
	}
	if v, ok := c.get(context.Background(), k, slow); !ok || v.now != 1 || counts.Load() != 1 {
		t.Fatalf("a fresh answer is counted again: %+v %v, %d counts", v, ok, counts.Load())
	}
	// Stale: the old answer at once, and a count in the background.
	c.mu.Lock()
	c.entries[k].fresh = time.Now().Add(-time.Second)
	c.mu.Unlock()
	if v, ok := c.get(context.Background(), k, slow); !ok || v.now != 1 {
		t.Fatalf("a stale answer is not given: %+v %v", v, ok)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, _ := c.get(context.Background(), k, slow); v.now == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale answer is not counted again")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Another segment's count is under way at stop, which ends it.
	block := func(ctx context.Context) sizes {
		<-ctx.Done()
		return sizes{err: ctx.Err()}
	}
	wait, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	c.get(wait, sizeKey{site: 1, id: "seg_b"}, block)
	stop, cancelStop := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelStop()
	if err := c.stop(stop); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, ok := c.get(context.Background(), sizeKey{site: 1, id: "seg_c"}, slow); ok {
		t.Error("a count starts after stop")
	}
}

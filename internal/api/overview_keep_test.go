package api

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestKeep: an answer is kept while fresh; one that outlasts the wait is
// answered as pending and goes on, its answer kept for the next ask; a
// stale answer is given while it is computed again; an error is kept as
// an answer; stop ends the computations under way.
func TestKeep(t *testing.T) {
	bg := newBackground()
	c := newKeep[string, int](bg)
	var runs atomic.Int32
	release := make(chan struct{})
	slow := func(ctx context.Context) (int, error) {
		n := runs.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		return int(n), nil
	}
	wait, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	if _, ok := c.get(wait, "a", slow); ok {
		t.Fatal("a computation under way is answered")
	}
	cancel()
	close(release)
	v, ok := c.get(context.Background(), "a", slow) // waits for the one under way
	if !ok || v.val != 1 || v.at.IsZero() || runs.Load() != 1 {
		t.Fatalf("after the computation: %+v %v, %d runs", v, ok, runs.Load())
	}
	if v, ok := c.get(context.Background(), "a", slow); !ok || v.val != 1 || runs.Load() != 1 {
		t.Fatalf("a fresh answer is computed again: %+v %v, %d runs", v, ok, runs.Load())
	}
	// Stale: the old answer at once, and a computation in the background.
	c.mu.Lock()
	c.entries["a"].fresh = time.Now().Add(-time.Second)
	c.mu.Unlock()
	if v, ok := c.get(context.Background(), "a", slow); !ok || v.val != 1 {
		t.Fatalf("a stale answer is not given: %+v %v", v, ok)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, _ := c.get(context.Background(), "a", slow); v.val == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale answer is not computed again")
		}
		time.Sleep(5 * time.Millisecond)
	}
	boom := errors.New("boom")
	if v, ok := c.get(context.Background(), "b", func(context.Context) (int, error) { return 0, boom }); !ok || !errors.Is(v.err, boom) {
		t.Fatalf("a failure: %+v %v", v, ok)
	}
	// A computation under way at stop is ended by it.
	block := func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	wait, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	c.get(wait, "c", block)
	stop, cancelStop := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelStop()
	if err := bg.stop(stop); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, ok := c.get(context.Background(), "d", slow); ok {
		t.Error("a computation starts after stop")
	}
}

// TestOverviewPeriods: the period starts at the site's midnight days-1
// days before today there, across a change of daylight saving time too,
// and the period before is as long.
func TestOverviewPeriods(t *testing.T) {
	for _, c := range []struct {
		zone, now, from string
		days            int
	}{
		{"UTC", "2026-11-03T15:20:00Z", "2026-10-28T00:00:00Z", 7},
		// Already 4 November in Kiritimati (UTC+14).
		{"Pacific/Kiritimati", "2026-11-03T15:20:00Z", "2026-10-29T00:00:00+14:00", 7},
		// Still 2 November in Pago Pago (UTC-11) at 05:00 UTC.
		{"Pacific/Pago_Pago", "2026-11-03T05:00:00Z", "2026-10-27T00:00:00-11:00", 7},
		// St John's went back an hour on 1 November: the period starts on
		// daylight time.
		{"America/St_Johns", "2026-11-03T15:20:00Z", "2026-10-05T00:00:00-02:30", 30},
	} {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		now, _ := time.Parse(time.RFC3339, c.now)
		want, _ := time.Parse(time.RFC3339, c.from)
		cur, prev := overviewPeriods(now, c.days, loc)
		if !cur.From.Equal(want) || !cur.To.Equal(now) || !prev.To.Equal(cur.From) || prev.To.Sub(prev.From) != now.Sub(cur.From) {
			t.Errorf("%s, %d days at %s: %+v and %+v, want from %s", c.zone, c.days, c.now, cur, prev, want)
		}
		if !sameDay(now, now.Add(time.Minute), loc) || sameDay(cur.From.Add(-time.Minute), cur.From, loc) {
			t.Errorf("%s: sameDay does not change at local midnight", c.zone)
		}
	}
}

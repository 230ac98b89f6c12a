package account_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
)

// clock is a settable time for the limiter.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLimiterWindow(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	l := account.NewLimiter(account.LimiterConfig{MaxFailures: 3, Window: 15 * time.Minute, Now: c.now})
	for i := range 3 {
		if w := l.Wait("email:a", "ip:1"); w != 0 {
			t.Fatalf("before failure %d: wait %v", i, w)
		}
		l.Fail("email:a", "ip:1")
		c.t = c.t.Add(time.Minute)
	}
	// Three failures at 12:00, 12:01, 12:02; the window ends at 12:15.
	if w := l.Wait("email:a"); w != 12*time.Minute {
		t.Fatalf("wait = %v, want 12m", w)
	}
	if w := l.Wait("email:b", "ip:1"); w != 12*time.Minute {
		t.Fatalf("another email from the same IP waits %v, want 12m", w)
	}
	if w := l.Wait("email:b", "ip:2"); w != 0 {
		t.Fatalf("an unrelated key waits %v", w)
	}
	l.Reset("email:a")
	if w := l.Wait("email:a"); w != 0 {
		t.Fatalf("after reset: wait %v", w)
	}
	c.t = c.t.Add(12 * time.Minute)
	if w := l.Wait("ip:1"); w != 0 {
		t.Fatalf("after the window: wait %v", w)
	}
	// A new window starts at the next failure.
	l.Fail("ip:1")
	if w := l.Wait("ip:1"); w != 0 {
		t.Fatalf("one failure in a new window: wait %v", w)
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	l := account.NewLimiter(account.LimiterConfig{MaxFailures: 1, Window: time.Hour, MaxKeys: 100, Now: c.now})
	for i := range 10_000 {
		l.Fail(fmt.Sprintf("ip:%d", i))
		c.t = c.t.Add(time.Millisecond)
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("%d keys remembered, want at most 100", n)
	}
	// The most recent failures are the ones kept.
	if w := l.Wait("ip:9999"); w == 0 {
		t.Fatal("the latest key was forgotten")
	}
}

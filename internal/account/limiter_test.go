package account_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/account/accounttest"
)

// clock is a settable time for the limiter.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func ip(s string) netip.Prefix { return netip.PrefixFrom(netip.MustParseAddr(s), 32) }

func TestLimiterMemoryIsBounded(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	l := account.NewLimiter(account.LimiterConfig{MaxFailures: 1, MaxPerIP: 1, Window: time.Hour, MaxKeys: 100, Now: c.now})
	last := ip("192.0.2.1")
	for i := range 10_000 {
		last = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		l.Fail(fmt.Sprintf("u%d@example.com", i), last)
		c.t = c.t.Add(time.Millisecond)
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("%d keys remembered, want at most 100", n)
	}
	// The most recent failures are the ones kept.
	if w := l.Wait("new@example.com", last); w == 0 {
		t.Fatal("the latest address was forgotten")
	}
}

// TestLimiterSuite runs the limiter's suite, which shared stores of
// windows run too, on the limiter's own memory.
func TestLimiterSuite(t *testing.T) {
	accounttest.RunLimiter(t, func(*testing.T) account.LimitStore { return nil })
}

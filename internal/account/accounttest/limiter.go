package accounttest

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/store/storetest"
)

// RunLimiter runs the suite of the sign-in limiter over the windows'
// store that limits returns for each subtest: nil for the limiter's own
// memory, or a store shared by several nodes (account.LimitStore).
func RunLimiter(t *testing.T, limits func(t *testing.T) account.LimitStore) {
	ip := func(s string) netip.Prefix { return netip.PrefixFrom(netip.MustParseAddr(s), 32) }

	t.Run("failures count in a window from the first; a success clears the pair", func(t *testing.T) {
		c := storetest.NewClock()
		l := account.NewLimiter(account.LimiterConfig{MaxFailures: 3, Window: 15 * time.Minute, Now: c.Now, Store: limits(t)})
		a, one := "a@example.com", ip("192.0.2.1")
		for i := range 3 {
			if w := l.Wait(a, one); w != 0 {
				t.Fatalf("before failure %d: wait %v", i, w)
			}
			l.Fail(a, one)
			c.Add(time.Minute)
		}
		// Three failures at 10:00, 10:01, 10:02; the window ends at 10:15.
		if w := l.Wait(a, one); w != 12*time.Minute {
			t.Fatalf("wait = %v, want 12m", w)
		}
		l.Succeed(a, one)
		if w := l.Wait(a, one); w != 0 {
			t.Fatalf("after a success: wait %v", w)
		}
		l.Fail(a, one)
		c.Add(15 * time.Minute)
		// A new window starts at the next failure.
		l.Fail(a, one)
		l.Fail(a, one)
		if w := l.Wait(a, one); w != 0 {
			t.Fatalf("two failures in a new window: wait %v", w)
		}
	})

	t.Run("no one can lock the owner out", func(t *testing.T) {
		c := storetest.NewClock()
		l := account.NewLimiter(account.LimiterConfig{MaxFailures: 10, MaxPerIP: 30, MaxPerEmail: 100, Now: c.Now, Store: limits(t)})
		owner, home, attacker := "owner@example.com", ip("198.51.100.7"), ip("203.0.113.9")
		for range 10 {
			l.Fail(owner, attacker)
		}
		if w := l.Wait(owner, attacker); w == 0 {
			t.Fatal("the attacker may go on guessing the owner's password")
		}
		if w := l.Wait(owner, home); w != 0 {
			t.Fatalf("the owner, at home, waits %v because of the attacker", w)
		}
		for i := range 20 {
			l.Fail(fmt.Sprintf("user%d@example.com", i), attacker)
		}
		if w := l.Wait("fresh@example.com", attacker); w == 0 {
			t.Fatal("one address may try any number of emails")
		}
		if w := l.Wait("fresh@example.com", home); w != 0 {
			t.Fatalf("another address waits %v", w)
		}
		for i := range 90 {
			l.Fail(owner, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)}), 32))
		}
		if w := l.Wait(owner, home); w == 0 {
			t.Fatal("100 failures for one email from many addresses are not capped")
		}
		if w := l.Wait("someone@example.com", home); w != 0 {
			t.Fatalf("an unrelated email waits %v", w)
		}
		c.Add(16 * time.Minute)
		l.Fail(owner, home)
		l.Succeed(owner, home)
		if w := l.Wait(owner, home); w != 0 {
			t.Fatalf("after the window and a success: wait %v", w)
		}
	})

	t.Run("an empty email does not share its pair's count with the address", func(t *testing.T) {
		l := account.NewLimiter(account.LimiterConfig{MaxFailures: 2, MaxPerIP: 3, Now: storetest.NewClock().Now, Store: limits(t)})
		for range 2 {
			l.Fail("", ip("192.0.2.1"))
		}
		if w := l.Wait("x@example.com", ip("192.0.2.1")); w != 0 {
			t.Fatalf("two failures from an address under a cap of 3: wait %v", w)
		}
		if w := l.Wait("", ip("192.0.2.1")); w == 0 {
			t.Fatal("the pair's cap of 2 did not hold")
		}
	})
}

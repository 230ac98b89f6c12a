package account_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
)

// clock is a settable time for the limiter.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func ip(s string) netip.Prefix { return netip.PrefixFrom(netip.MustParseAddr(s), 32) }

func TestLimiterWindow(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	l := account.NewLimiter(account.LimiterConfig{MaxFailures: 3, Window: 15 * time.Minute, Now: c.now})
	a, one := "a@example.com", ip("192.0.2.1")
	for i := range 3 {
		if w := l.Wait(a, one); w != 0 {
			t.Fatalf("before failure %d: wait %v", i, w)
		}
		l.Fail(a, one)
		c.t = c.t.Add(time.Minute)
	}
	// Three failures at 12:00, 12:01, 12:02; the window ends at 12:15.
	if w := l.Wait(a, one); w != 12*time.Minute {
		t.Fatalf("wait = %v, want 12m", w)
	}
	l.Succeed(a, one)
	if w := l.Wait(a, one); w != 0 {
		t.Fatalf("after a success: wait %v", w)
	}
	l.Fail(a, one)
	c.t = c.t.Add(15 * time.Minute)
	// A new window starts at the next failure.
	l.Fail(a, one)
	l.Fail(a, one)
	if w := l.Wait(a, one); w != 0 {
		t.Fatalf("two failures in a new window: wait %v", w)
	}
}

// TestLimiterCannotLockTheOwnerOut plays the attacks the limits are for:
// one address guessing at the owner's password, one address trying many
// emails, and many addresses guessing at one password.
func TestLimiterCannotLockTheOwnerOut(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	l := account.NewLimiter(account.LimiterConfig{MaxFailures: 10, MaxPerIP: 30, MaxPerEmail: 100, Now: c.now})
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

	// The attacker moves on to other emails: 30 failures from one address
	// in all stop that address, for every email.
	for i := range 20 {
		l.Fail(fmt.Sprintf("user%d@example.com", i), attacker)
	}
	if w := l.Wait("fresh@example.com", attacker); w == 0 {
		t.Fatal("one address may try any number of emails")
	}
	if w := l.Wait("fresh@example.com", home); w != 0 {
		t.Fatalf("another address waits %v", w)
	}

	// Many addresses guessing together at one password are capped at 100
	// failures; at that point the email waits everywhere, the price of
	// the cap. Other emails do not.
	for i := range 90 {
		l.Fail(owner, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)}), 32))
	}
	if w := l.Wait(owner, home); w == 0 {
		t.Fatal("100 failures for one email from many addresses are not capped")
	}
	if w := l.Wait("someone@example.com", home); w != 0 {
		t.Fatalf("an unrelated email waits %v", w)
	}
	// A success from one address clears that pair only.
	c.t = c.t.Add(16 * time.Minute)
	l.Fail(owner, home)
	l.Succeed(owner, home)
	if w := l.Wait(owner, home); w != 0 {
		t.Fatalf("after the window and a success: wait %v", w)
	}
}

// TestLimiterKeysDoNotCollide checks that an empty email does not share
// its pair's count with the address's.
func TestLimiterKeysDoNotCollide(t *testing.T) {
	l := account.NewLimiter(account.LimiterConfig{MaxFailures: 2, MaxPerIP: 3})
	for range 2 {
		l.Fail("", ip("192.0.2.1"))
	}
	if w := l.Wait("x@example.com", ip("192.0.2.1")); w != 0 {
		t.Fatalf("two failures from an address under a cap of 3: wait %v", w)
	}
	if w := l.Wait("", ip("192.0.2.1")); w == 0 {
		t.Fatal("the pair's cap of 2 did not hold")
	}
}

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

package admit_test

import (
	"errors"
	"net/http"
	"net/netip"
	"sync"
	"testing"

	"github.com/sightline/sightline/internal/admit"
	"github.com/sightline/sightline/internal/apierr"
)

func code(err error) string {
	var e *apierr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestGateCapsEachClient(t *testing.T) {
	a, b, c := netip.MustParsePrefix("203.0.113.1/32"), netip.MustParsePrefix("203.0.113.2/32"), netip.MustParsePrefix("2001:db8::/64")
	g := admit.NewGate(4, 2, "requests")
	var held []admit.Slot
	steps := []struct {
		client netip.Prefix
		want   string
	}{
		{a, ""}, {a, ""}, {a, "too_many_requests_from_client"},
		{b, ""}, {c, ""},
		{c, "overloaded"}, // c has its share left, but the gate is full
		{b, "overloaded"},
	}
	for i, s := range steps {
		slot, err := g.Acquire(s.client)
		if got := code(err); got != s.want {
			t.Fatalf("step %d (%v): %q, want %q", i, s.client, got, s.want)
		}
		if err == nil {
			held = append(held, slot)
		}
	}
	if _, err := g.Acquire(netip.MustParsePrefix("198.51.100.1/32")); code(err) != "overloaded" {
		t.Fatalf("a new client at a full gate: %v", err)
	}
	var e *apierr.Error
	if _, err := g.Acquire(a); !errors.As(err, &e) || e.Status != http.StatusTooManyRequests || e.RetryAfter == 0 {
		t.Fatalf("refusal = %#v", err)
	}
	held[0].Release() // one of a's
	if _, err := g.Acquire(a); err != nil {
		t.Fatalf("a after releasing one: %v", err)
	}
	admit.Slot{}.Release() // the zero slot is harmless
	if n := g.InUse(); n != 4 {
		t.Fatalf("in use %d, want 4", n)
	}
}

func TestGateUnderConcurrency(t *testing.T) {
	g := admit.NewGate(8, 3, "requests")
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak := map[netip.Prefix]int{}
	held := map[netip.Prefix]int{}
	for w := range 16 {
		client := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(w % 4)}), 32)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				s, err := g.Acquire(client)
				if err != nil {
					continue
				}
				mu.Lock()
				held[client]++
				peak[client] = max(peak[client], held[client])
				mu.Unlock()
				mu.Lock()
				held[client]--
				mu.Unlock()
				s.Release()
			}
		}()
	}
	wg.Wait()
	for c, p := range peak {
		if p > 3 {
			t.Errorf("%v held %d slots at once, the cap is 3", c, p)
		}
	}
	if n := g.InUse(); n != 0 {
		t.Fatalf("%d slots leaked", n)
	}
}

func TestClient(t *testing.T) {
	tests := []struct {
		remote, xff string
		trust       bool
		want        string
	}{
		{"203.0.113.7:5555", "", false, "203.0.113.7/32"},
		{"203.0.113.7:5555", "198.51.100.1", false, "203.0.113.7/32"},
		{"203.0.113.7:5555", "198.51.100.1, 203.0.113.7", true, "198.51.100.1/32"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", false, "2001:db8:1:2::/64"},
		{"[::ffff:203.0.113.7]:80", "", false, "203.0.113.7/32"},
		{"pipe", "", false, "invalid Prefix"},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest("POST", "http://x/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := admit.Client(r, tt.trust).String(); got != tt.want {
			t.Errorf("Client(%q, xff %q, trust %v) = %s, want %s", tt.remote, tt.xff, tt.trust, got, tt.want)
		}
	}
}

func BenchmarkGate(b *testing.B) {
	g := admit.NewGate(64, 16, "requests")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		client := netip.MustParsePrefix("203.0.113.1/32")
		for pb.Next() {
			s, err := g.Acquire(client)
			if err == nil {
				s.Release()
			}
		}
	})
}

package duckstore

import (
	"math/rand/v2"
	"testing"
)

// dedupeModel is the window as the obvious code would keep it: a map and
// a ring, which the open-addressing table must agree with.
type dedupeModel struct {
	set  map[uint64]bool
	ring []uint64
	next int
	size int
}

func (m *dedupeModel) add(h uint64) bool {
	h = dedupeKey(h)
	if m.set[h] {
		return false
	}
	if len(m.ring) < m.size {
		m.ring = append(m.ring, h)
	} else {
		delete(m.set, m.ring[m.next])
		m.ring[m.next] = h
		m.next = (m.next + 1) % m.size
	}
	m.set[h] = true
	return true
}

func (m *dedupeModel) forget(hashes map[uint64]struct{}) {
	for i, h := range m.ring {
		for f := range hashes {
			if dedupeKey(f) == h && h != 0 {
				delete(m.set, h)
				m.ring[i] = 0
			}
		}
	}
}

// TestDedupeAgreesWithAMap runs random adds and forgets on small windows,
// where hashes collide in the table and the ring wraps often, drawing
// hashes from a small pool (repeats, 0 and 1 included) and from the whole
// range, and checks every answer and the table's contents against the
// model after each step.
func TestDedupeAgreesWithAMap(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		r := rand.New(rand.NewPCG(seed, seed*7))
		size := 1 + r.IntN(40)
		d, m := newDedupe(size), &dedupeModel{set: map[uint64]bool{}, size: size}
		pool := make([]uint64, 2*size+2)
		for i := range pool {
			pool[i] = r.Uint64()
		}
		pool[0], pool[1] = 0, 1
		// Hashes equal in their top bits land on one home slot.
		pool[2], pool[3] = 5<<40, 5<<40|1
		draw := func() uint64 {
			if r.IntN(4) == 0 {
				return r.Uint64()
			}
			return pool[r.IntN(len(pool))]
		}
		for step := range 2000 {
			if r.IntN(20) == 0 {
				hashes := map[uint64]struct{}{}
				for range 1 + r.IntN(4) {
					hashes[draw()] = struct{}{}
				}
				d.forget(hashes)
				m.forget(hashes)
			} else {
				h := draw()
				if got, want := d.add(h), m.add(h); got != want {
					t.Fatalf("seed %d step %d: add(%#x) = %v, want %v", seed, step, h, got, want)
				}
			}
			n := 0
			for _, k := range d.slots {
				if k != 0 {
					n++
					if !m.set[k] {
						t.Fatalf("seed %d step %d: the table holds %#x, which the window no longer has", seed, step, k)
					}
				}
			}
			if n != len(m.set) {
				t.Fatalf("seed %d step %d: the table holds %d hashes, the window %d", seed, step, n, len(m.set))
			}
			for k := range m.set {
				if _, ok := d.find(k); !ok {
					t.Fatalf("seed %d step %d: %#x is in the window but not found", seed, step, k)
				}
			}
		}
	}
}

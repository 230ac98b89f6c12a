package duckstore

// genCache is a bounded map that forgets in two generations: new entries go
// to the young map; when it is full, the old map is dropped and the young
// one takes its place. Lookups promote old entries. It costs a few lines
// instead of an LRU list and keeps at most 2*size entries.
type genCache[K comparable, V any] struct {
	size       int
	young, old map[K]V
}

func newGenCache[K comparable, V any](size int) *genCache[K, V] {
	return &genCache[K, V]{size: size, young: make(map[K]V), old: make(map[K]V)}
}

func (c *genCache[K, V]) get(k K) (V, bool) {
	if v, ok := c.young[k]; ok {
		return v, true
	}
	v, ok := c.old[k]
	if ok {
		c.put(k, v)
	}
	return v, ok
}

func (c *genCache[K, V]) put(k K, v V) {
	if len(c.young) >= c.size {
		c.old = c.young
		c.young = make(map[K]V, c.size)
	}
	c.young[k] = v
}

// dedupe remembers the hashes of the most recent message IDs: a ring keeps
// their order, and an open-addressing table (linear probing, at most half
// full) finds them. A million hashes take 24 MB this way, where a Go map
// beside the ring took 44.
type dedupe struct {
	ring  []uint64 // oldest at next once full; 0 is a forgotten entry
	next  int
	slots []uint64 // 0 is an empty slot
	shift uint     // 64 - log2(len(slots))
}

func newDedupe(size int) *dedupe {
	n, shift := 2, uint(63)
	for n < 2*size {
		n, shift = n<<1, shift-1
	}
	return &dedupe{ring: make([]uint64, 0, size), slots: make([]uint64, n), shift: shift}
}

// dedupeKey keeps hash 0, which marks empty slots, as 1.
func dedupeKey(h uint64) uint64 { return max(h, 1) }

// home is the slot where the search for k starts (Fibonacci hashing, so
// that hashes alike in their low bits spread too).
func (d *dedupe) home(k uint64) int { return int((k * 0x9E3779B97F4A7C15) >> d.shift) }

// find returns the slot holding k, or the empty slot where it would go.
func (d *dedupe) find(k uint64) (int, bool) {
	mask := len(d.slots) - 1
	for i := d.home(k); ; i = (i + 1) & mask {
		switch d.slots[i] {
		case k:
			return i, true
		case 0:
			return i, false
		}
	}
}

// remove drops k from the table, moving back the entries after it that
// would otherwise no longer be found (backward-shift deletion).
func (d *dedupe) remove(k uint64) {
	i, ok := d.find(k)
	if !ok {
		return
	}
	mask := len(d.slots) - 1
	for j := (i + 1) & mask; d.slots[j] != 0; j = (j + 1) & mask {
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		h := d.home(d.slots[j])
		if (i < j && i < h && h <= j) || (i > j && (h > i || h <= j)) {
			continue
		}
		d.slots[i] = d.slots[j]
		i = j
	}
	d.slots[i] = 0
}

// add records h and reports whether it was new.
func (d *dedupe) add(h uint64) bool {
	k := dedupeKey(h)
	i, ok := d.find(k)
	if ok {
		return false
	}
	if len(d.ring) < cap(d.ring) {
		d.ring = append(d.ring, k)
		d.slots[i] = k
		return true
	}
	old := d.ring[d.next]
	d.ring[d.next] = k
	d.next = (d.next + 1) % len(d.ring)
	if old != 0 {
		d.remove(old) // may move entries: look for k's slot again
		i, _ = d.find(k)
	}
	d.slots[i] = k
	return true
}

// forget drops hashes from the window (a deleted user's message IDs,
// which a client may have chosen to say something about the user). Their
// entries in the ring are emptied.
func (d *dedupe) forget(hashes map[uint64]struct{}) {
	if len(hashes) == 0 {
		return
	}
	keys := make(map[uint64]struct{}, len(hashes))
	for h := range hashes {
		keys[dedupeKey(h)] = struct{}{}
	}
	for i, k := range d.ring {
		if _, ok := keys[k]; ok && k != 0 {
			d.remove(k)
			d.ring[i] = 0
		}
	}
}

func (c *genCache[K, V]) remove(k K) {
	delete(c.young, k)
	delete(c.old, k)
}

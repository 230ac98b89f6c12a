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

// dedupe remembers the hashes of the most recent message IDs, in a ring.
type dedupe struct {
	set  map[uint64]struct{}
	ring []uint64
	next int
}

func newDedupe(size int) *dedupe {
	return &dedupe{set: make(map[uint64]struct{}, size), ring: make([]uint64, 0, size)}
}

// add records h and reports whether it was new.
func (d *dedupe) add(h uint64) bool {
	if _, ok := d.set[h]; ok {
		return false
	}
	if len(d.ring) < cap(d.ring) {
		d.ring = append(d.ring, h)
	} else {
		delete(d.set, d.ring[d.next])
		d.ring[d.next] = h
		d.next = (d.next + 1) % len(d.ring)
	}
	d.set[h] = struct{}{}
	return true
}

// forget drops hashes from the window (a deleted user's message IDs,
// which a client may have chosen to say something about the user). Their
// slots in the ring are emptied; zero is never a hash worth keeping.
func (d *dedupe) forget(hashes map[uint64]struct{}) {
	if len(hashes) == 0 {
		return
	}
	for i, h := range d.ring {
		if _, ok := hashes[h]; ok {
			delete(d.set, h)
			d.ring[i] = 0
		}
	}
}

func (c *genCache[K, V]) remove(k K) {
	delete(c.young, k)
	delete(c.old, k)
}

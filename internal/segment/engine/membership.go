package engine

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
)

// The membership cache's defaults. An answer takes about 160 bytes of
// heap (BenchmarkMembershipCacheMemory), and the cache keeps at most twice
// DefaultCacheEntries of them: 5 MiB. That is room for every check of a
// few thousand a second within the TTL, which is all a cache can serve.
const (
	DefaultCacheEntries = 16 << 10
	// DefaultCacheTTL bounds how long an answer of a segment with a
	// relative time ("30d", within, older_than) is kept even though
	// nothing changed: the window moves with the clock.
	DefaultCacheTTL = 5 * time.Second
)

// WithMembershipCache sets the membership cache of Contains: at most
// 2×entries answers, those of segments with a relative time kept at most
// ttl. entries 0 turns it off. Call it before the engine is used.
func (e *Engine) WithMembershipCache(entries int, ttl time.Duration) *Engine {
	e.members = nil
	if entries > 0 && ttl > 0 {
		e.members = &memberCache{size: entries, ttl: ttl, young: map[memberKey]memberEntry{}, old: map[memberKey]memberEntry{}}
	}
	return e
}

// Contains reports whether the user with the given key is a member of n.
//
// It asks the database one condition at a time, each compiled for that
// user alone (compiler.Member), so that only rows that can be the user's
// are read. The answer is kept, keyed by the site, the user and n's
// canonical form, and is used again only while the store's change
// counters that n reads (store.Versions) have not moved: any write that
// touches the user's profile (or, for a segment of behaviour, activity),
// and any rarer write that may touch anyone, makes the next call ask the
// database again. As every call first waits for acknowledged writes to be
// applied (Sync), no acknowledged write is missed. The clock's own
// movement (a "30d" window sliding) is seen up to the TTL late: answers of
// segments with a relative time are kept at most that long.
func (e *Engine) Contains(ctx context.Context, site int64, n segment.Node, userKey int64) (bool, error) {
	if err := e.store.Sync(ctx); err != nil {
		return false, err
	}
	if e.members == nil {
		return e.contains(ctx, site, n, userKey)
	}
	// The counters are read before the database: a change committed
	// while the query runs moves them, and the answer is then never used.
	dep := dependenceOf(n)
	vers := e.store.Versions(site, userKey)
	if !dep.activity {
		vers.Activity = 0
	}
	if !dep.surveys {
		vers.Surveys = 0
	}
	key, ok := memberKeyOf(site, n, userKey)
	now := e.now()
	if ok {
		if in, hit := e.members.get(key, vers, now); hit {
			return in, nil
		}
	}
	in, err := e.contains(ctx, site, n, userKey)
	if err != nil {
		return false, err
	}
	if ok {
		until := int64(math.MaxInt64) // valid until a counter moves
		if dep.drifts {
			until = now.Add(e.members.ttl).UnixNano()
		}
		e.members.put(key, memberEntry{in: in, vers: vers, until: until})
	}
	return in, nil
}

// contains asks the database, one condition at a time: the answer of a
// group is often known after its first condition (most users fail
// plan = "pro", and then did(…) need not be read), and each query is then
// small. Groups try their cheapest conditions first.
func (e *Engine) contains(ctx context.Context, site int64, n segment.Node, userKey int64) (bool, error) {
	c, err := e.compiler(ctx, site, n)
	if err != nil {
		return false, err
	}
	m := &memberEval{ctx: ctx, e: e, c: c, user: userKey, visiting: map[string]bool{}}
	return m.eval(n)
}

// memberEval evaluates a tree for one user.
type memberEval struct {
	ctx      context.Context
	e        *Engine
	c        *compiler.Compiler
	user     int64
	visiting map[string]bool // saved segments being evaluated, against cycles
}

func (m *memberEval) eval(n segment.Node) (bool, error) {
	switch n := n.(type) {
	case *segment.Group:
		if len(n.Conditions) == 0 {
			return m.ask(n)
		}
		// All: true until a condition fails; any: false until one holds.
		want := n.Op == segment.Any
		for _, child := range cheapestFirst(n.Conditions) {
			in, err := m.eval(child)
			if err != nil || in == want {
				return in, err
			}
		}
		return !want, nil
	case *segment.Not:
		in, err := m.eval(n.Condition)
		if err != nil || in {
			return false, err
		}
		return m.ask(&segment.Group{Op: segment.All}) // everyone: does the user exist?
	case *segment.InSegment:
		if m.visiting[n.ID] {
			return false, fmt.Errorf("segment %q: %w", n.ID, compiler.ErrCycle)
		}
		ref, err := m.c.Resolve(n.ID)
		if err != nil {
			return false, fmt.Errorf("segment %q: %w", n.ID, err)
		}
		m.visiting[n.ID] = true
		defer delete(m.visiting, n.ID)
		return m.eval(ref)
	}
	return m.ask(n)
}

// ask runs the per-user query of n.
func (m *memberEval) ask(n segment.Node) (bool, error) {
	q, err := m.c.Member(n, m.user)
	if err != nil {
		return false, err
	}
	var in truth
	err = m.e.queryRow(m.ctx, "check membership", q.SQL, q.Args, &in)
	return bool(in), err
}

// truth scans a boolean: DuckDB's BOOLEAN, or the UInt8 that ClickHouse
// (which has no boolean type before 21.12) answers instead.
type truth bool

// Scan implements sql.Scanner.
func (t *truth) Scan(src any) error {
	switch v := src.(type) {
	case bool:
		*t = truth(v)
	case uint8:
		*t = v != 0
	case int64:
		*t = v != 0
	default:
		return fmt.Errorf("a boolean as %T", src)
	}
	return nil
}

// cheapestFirst orders conditions by what their query reads: current
// attribute values (one row per user and key) before sessions and
// history, events last.
func cheapestFirst(conds []segment.Node) []segment.Node {
	cost := func(n segment.Node) int {
		switch n := n.(type) {
		case *segment.Identified:
			return 0
		case *segment.Attribute:
			if n.AsOf.IsZero() {
				return 0
			}
			return 1
		case *segment.Changed, *segment.NPS, *segment.Answer, *segment.FeedbackRating, *segment.SessionField,
			*segment.Sessions, *segment.SessionDuration:
			return 1
		case *segment.Group, *segment.Not, *segment.InSegment:
			return 2
		}
		return 3 // events
	}
	out := slices.Clone(conds)
	slices.SortStableFunc(out, func(a, b segment.Node) int { return cost(a) - cost(b) })
	return out
}

// dependence is what an answer about a segment depends on beyond the
// user's profile and the site: the user's activity (events, sessions),
// survey responses, and the clock (a period such as 30d, within,
// older_than).
type dependence struct {
	activity, surveys, drifts bool
}

// dependenceOf walks n. A saved segment's definition is not at hand: it
// may depend on anything.
func dependenceOf(n segment.Node) dependence {
	var d dependence
	relative := func(p segment.Period) bool { return p.Last > 0 }
	segment.Walk(n, func(n segment.Node) bool {
		switch n := n.(type) {
		case *segment.Attribute:
			d.drifts = d.drifts || n.Op == segment.OpWithin || n.Op == segment.OpOlderThan
		case *segment.Changed:
			d.drifts = d.drifts || relative(n.Period)
		case *segment.Event:
			d.activity, d.drifts = true, d.drifts || relative(n.Period)
		case *segment.ActiveDays:
			d.activity, d.drifts = true, d.drifts || relative(n.Period)
		case *segment.Visited:
			d.activity, d.drifts = true, d.drifts || relative(n.Period)
		case *segment.Sessions:
			d.activity, d.drifts = true, d.drifts || relative(n.Period)
		case *segment.SessionDuration:
			d.activity, d.drifts = true, d.drifts || relative(n.Period)
		case *segment.SessionField:
			d.activity, d.drifts = true, d.drifts || relative(n.Period)
			d.drifts = d.drifts || n.Op == segment.OpWithin || n.Op == segment.OpOlderThan
		case *segment.Signal:
			d.activity, d.drifts = true, d.drifts || relative(n.Period)
		case *segment.NPS:
			d.surveys, d.drifts = true, d.drifts || relative(n.Period)
		case *segment.Answer:
			d.surveys, d.drifts = true, d.drifts || relative(n.Period)
		case *segment.FeedbackRating: // feedback moves the survey counter too
			d.surveys, d.drifts = true, d.drifts || relative(n.Period)
		case *segment.Identified: // identities move the profile counter
		case *segment.Group, *segment.Not:
		default: // a saved segment, or a condition this list does not know yet
			d = dependence{activity: true, surveys: true, drifts: true}
		}
		return true
	})
	return d
}

// memberKey names one cached answer: n is a 128-bit hash of the
// segment's canonical JSON form.
type memberKey struct {
	site, user int64
	n          [16]byte
}

func memberKeyOf(site int64, n segment.Node, user int64) (memberKey, bool) {
	def, err := segment.MarshalNode(n)
	if err != nil {
		return memberKey{}, false // not cached; the query reports the problem
	}
	h := fnv.New128a()
	h.Write(def)
	k := memberKey{site: site, user: user}
	h.Sum(k.n[:0])
	return k, true
}

// memberEntry is a cached answer with the counters it was computed under.
type memberEntry struct {
	in    bool
	vers  store.Versions
	until int64 // Unix nanoseconds
}

// memberCache is a bounded map that forgets in two generations, as the
// store's identity cache does: new entries go to young; when it holds size
// entries, old is dropped and young takes its place. Lookups promote old
// entries. It keeps at most 2×size entries, without an LRU list.
type memberCache struct {
	size int
	ttl  time.Duration

	mu         sync.Mutex
	young, old map[memberKey]memberEntry
	hits       int // answers given from the cache, for tests
}

// get returns the answer for k if it was computed under vers and is not
// older than the TTL.
func (c *memberCache) get(k memberKey, vers store.Versions, now time.Time) (bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.young[k]
	if !ok {
		if e, ok = c.old[k]; ok {
			c.putLocked(k, e)
		}
	}
	if !ok || e.vers != vers || now.UnixNano() >= e.until {
		return false, false
	}
	c.hits++
	return e.in, true
}

func (c *memberCache) put(k memberKey, e memberEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, e)
}

func (c *memberCache) putLocked(k memberKey, e memberEntry) {
	if len(c.young) >= c.size {
		c.old = c.young
		c.young = make(map[memberKey]memberEntry, c.size)
	}
	c.young[k] = e
}

// stats returns the hits so far and the entries held, for tests.
func (c *memberCache) stats() (hits, entries int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, len(c.young) + len(c.old)
}

package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/engine"
)

// TestOracleHistorical checks segments evaluated as they stood in the
// past (what a segment's trend shows) against the oracle run on the
// dataset cut at that moment: only what happened by then, with the
// attribute values of then, among the users first seen by then. Each
// tree's trend is asked for as the API asks (Engine.Trend): its past
// points must be the oracle's counts at their day's end and today's point
// the live size. Run more with -oracle.n and -oracle.datasets (a quarter
// of the datasets, half the trees of TestOracle, at least 2 and 60).
func TestOracleHistorical(t *testing.T) {
	base := *oracleSeed
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	datasets, trees := max(2, *oracleDatasets/4), max(60, *oracleTrees/2)
	if testing.Short() {
		trees = 20
	}
	total := &historyTotals{}
	t.Cleanup(func() {
		t.Logf("%d datasets, %d trees (%d with a negation, %d with in_segment): %d trend points (%d of them today's), "+
			"%d member lists at a moment", datasets, total.trees, total.negated, total.inSegment, total.points,
			total.today, total.memberLists)
		if total.trees >= 100 && (total.negated == 0 || total.inSegment == 0) {
			t.Errorf("no tree had a negation or in_segment: the generator no longer reaches them")
		}
	})
	for i := range datasets {
		seed := base + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			total.add(checkHistorical(t, seed, trees, duckBackend))
		})
	}
}

// historyStats counts what TestOracleHistorical checked.
type historyStats struct {
	trees, negated, inSegment int
	points, today             int // trend points, and today's among them
	memberLists               int
}

type historyTotals struct {
	mu sync.Mutex
	historyStats
}

func (s *historyTotals) add(o historyStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trees += o.trees
	s.negated += o.negated
	s.inSegment += o.inSegment
	s.points += o.points
	s.today += o.today
	s.memberLists += o.memberLists
}

// movingClock moves on by a nanosecond each time it is read, as a real
// clock moves between two reads: code that reads the clock twice and
// compares the readings sees time pass. The database keeps microseconds,
// so its queries see oracleNow as long as the clock is reset more often
// than every thousand reads.
type movingClock struct{ reads atomic.Int64 }

func (c *movingClock) now() time.Time { return oracleNow.Add(time.Duration(c.reads.Add(1))) }
func (c *movingClock) reset()         { c.reads.Store(0) }

// trendShapes are the trends asked for, in turn: days and step.
var trendShapes = [][2]int{{90, 30}, {60, 7}, {8, 3}, {1, 1}, {100, 45}}

func checkHistorical(t *testing.T, seed uint64, trees int, be backend) historyStats {
	ctx := context.Background()
	db, site := openStore(t, oracleNow)
	if _, err := generateDataset(seed, site.ID, oracleNow).write(ctx, db); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	clock := &movingClock{}
	st, q, dialect := be.open(t, db)
	eng := engine.New(st, dialect, clock.now)
	cat, err := eng.Catalog(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	full, err := loadWorld(ctx, db.SQL(), site.ID, oracleNow)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	past, err := loadPast(ctx, db.SQL(), site.ID)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	g := &treeGen{r: rand.New(rand.NewPCG(seed, 5)), now: oracleNow, cat: cat, voc: newVocabulary(full)}
	run := &oracleRun{t: t, ctx: ctx, seed: seed, db: db, site: site.ID, eng: eng, sql: q, dialect: dialect,
		test: be.test + "Historical", cat: cat, w: full}
	run.saveSegments(g)

	// Everyone who is a user now had been seen by now.
	everyone := &segment.Group{Op: segment.All}
	if got, err := eng.MembersAt(ctx, site.ID, everyone, oracleNow); err != nil || !slices.Equal(got, full.universe) {
		t.Errorf("seed %d: the users as of now: %d %v, %v; today's: %d %v", seed, len(got), head(got), err,
			len(full.universe), head(full.universe))
	}
	cuts := map[time.Time]*world{}
	cut := func(at time.Time) *world {
		if cuts[at] == nil {
			cuts[at] = full.cut(at, past)
		}
		return cuts[at]
	}
	moments := []time.Time{oracleNow.Add(-3 * day), oracleNow.Add(-20*day - 5*time.Hour), oracleNow.Add(-50 * day),
		oracleNow}
	var stats historyStats
	for attempt := 0; stats.trees < trees && attempt < 3*trees; attempt++ {
		tree := g.node(0)
		if segment.Validate(tree, cat) != nil {
			continue
		}
		stats.trees++
		if hasNode[*segment.Not](tree) {
			stats.negated++
		}
		if hasNode[*segment.InSegment](tree) {
			stats.inSegment++
		}
		clock.reset()
		shape := trendShapes[stats.trees%len(trendShapes)]
		stats.points += run.checkTrend(tree, shape[0], shape[1], cut)
		stats.today++

		at := moments[stats.trees%len(moments)]
		want := cut(at).members(tree)
		got, err := eng.MembersAt(ctx, site.ID, tree, at)
		if err != nil {
			t.Fatalf("seed %d: %s at %s: %v", seed, segment.Format(tree), at, err)
		}
		stats.memberLists++
		if !slices.Equal(got, want) {
			t.Errorf("seed %d: %s at %s:\n engine %d members %v\n oracle %d members %v", seed, segment.Format(tree),
				at, len(got), head(got), len(want), head(want))
		}
	}
	return stats
}

// checkTrend asks for a tree's trend as the API does and compares each
// past point with the oracle's count at the end of its day, and today's
// with the live size, of the oracle and of Count. It returns the number
// of points.
func (run *oracleRun) checkTrend(tree segment.Node, days, step int, cut func(time.Time) *world) int {
	t, text := run.t, segment.Format(tree)
	points, err := run.eng.Trend(run.ctx, run.site, tree, days, step)
	if err != nil {
		t.Fatalf("seed %d: trend of %s: %v", run.seed, text, err)
	}
	today := oracleNow.Truncate(day)
	if len(points) == 0 || !points[len(points)-1].Day.Equal(today) {
		t.Errorf("seed %d: trend of %s over %d days every %d: %v does not end today", run.seed, text, days, step, points)
		return len(points)
	}
	for i, p := range points[:len(points)-1] {
		at := p.Day.AddDate(0, 0, 1).Add(-time.Microsecond)
		if !p.Day.Before(today) || (i > 0 && !p.Day.After(points[i-1].Day)) {
			t.Errorf("seed %d: trend of %s over %d days every %d: days out of order: %v", run.seed, text, days, step, points)
			break
		}
		if want := len(cut(at).members(tree)); p.Size != int64(want) {
			t.Errorf("seed %d: trend of %s: %s: %d, the oracle says %d", run.seed, text, p.Day.Format(time.DateOnly),
				p.Size, want)
		}
	}
	live := len(run.w.members(tree))
	count, err := run.eng.Count(run.ctx, run.site, tree)
	if err != nil {
		t.Fatalf("seed %d: count %s: %v", run.seed, text, err)
	}
	if last := points[len(points)-1].Size; last != int64(live) || count != int64(live) {
		t.Errorf("seed %d: trend of %s over %d days every %d: today's point %d, live size %d (the oracle says %d)",
			run.seed, text, days, step, last, count, live)
	}
	return len(points)
}

// hasNode reports whether the tree has a node of type T.
func hasNode[T segment.Node](n segment.Node) bool {
	found := false
	segment.Walk(n, func(n segment.Node) bool {
		if _, ok := n.(T); ok {
			found = true
		}
		return !found
	})
	return found
}

func head(keys []int64) []int64 { return keys[:min(len(keys), 12)] }

// pastRows is what the oracle's world does not keep but a cut needs: when
// each user was first seen (its first message of any kind, or its
// earliest identity, whichever came first), when users joined companies,
// and the companies' attribute history.
type pastRows struct {
	firstSeen map[int64]time.Time
	links     map[int64]map[int64]time.Time // user → group → linked at
	companies map[int64]map[string][]histEntry
}

func loadPast(ctx context.Context, db *sql.DB, site int64) (*pastRows, error) {
	p := &pastRows{firstSeen: map[int64]time.Time{}, links: map[int64]map[int64]time.Time{},
		companies: map[int64]map[string][]histEntry{}}
	rows, err := db.QueryContext(ctx, "SELECT user_key, min(ts) FROM events WHERE site_id = ? GROUP BY user_key", site)
	if err != nil {
		return nil, fmt.Errorf("load first seen: %w", err)
	}
	seen := func() error {
		var k int64
		var at time.Time
		if err := rows.Scan(&k, &at); err != nil {
			return err
		}
		if first, ok := p.firstSeen[k]; !ok || at.Before(first) {
			p.firstSeen[k] = at.UTC()
		}
		return nil
	}
	if err := scanAll(rows, seen); err != nil {
		return nil, fmt.Errorf("load first seen: %w", err)
	}
	rows, err = db.QueryContext(ctx, `SELECT entity_key, min(created_at) FROM identities
		WHERE site_id = ? AND kind IN (1, 2) GROUP BY entity_key`, site)
	if err != nil {
		return nil, fmt.Errorf("load first seen: %w", err)
	}
	if err := scanAll(rows, seen); err != nil {
		return nil, fmt.Errorf("load first seen: %w", err)
	}
	rows, err = db.QueryContext(ctx, "SELECT user_key, group_key, min(linked_at) FROM user_groups WHERE site_id = ? GROUP BY ALL", site)
	if err != nil {
		return nil, fmt.Errorf("load links: %w", err)
	}
	err = scanAll(rows, func() error {
		var uk, gk int64
		var at time.Time
		if err := rows.Scan(&uk, &gk, &at); err != nil {
			return err
		}
		if p.links[uk] == nil {
			p.links[uk] = map[int64]time.Time{}
		}
		p.links[uk][gk] = at.UTC()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load links: %w", err)
	}
	rows, err = db.QueryContext(ctx, `SELECT entity_key, key, type, s, n, b, t, is_null, set_at
		FROM attr_history WHERE site_id = ? AND entity = 1 ORDER BY set_at`, site)
	if err != nil {
		return nil, fmt.Errorf("load company history: %w", err)
	}
	err = scanAll(rows, func() error {
		var typ uint8
		var gk int64
		var key string
		var s *string
		var n *float64
		var b *bool
		var t *time.Time
		var isNull bool
		var at time.Time
		if err := rows.Scan(&gk, &key, &typ, &s, &n, &b, &t, &isNull, &at); err != nil {
			return err
		}
		v := typed(typ, s, n, b, t)
		if isNull {
			v = attr.Value{Null: true}
		}
		if p.companies[gk] == nil {
			p.companies[gk] = map[string][]histEntry{}
		}
		p.companies[gk][key] = append(p.companies[gk][key], histEntry{v: v, at: at.UTC()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load company history: %w", err)
	}
	return p, nil
}

// cut returns the world as it stood at the moment at: the users first
// seen by then, their events, sessions (by start) and company links up to then,
// and every attribute at its last value set by then.
func (w *world) cut(at time.Time, p *pastRows) *world {
	c := &world{now: at, users: map[int64]*oUser{}, companies: map[int64]map[string]attr.Value{}, segments: w.segments}
	for _, k := range w.universe {
		if first, ok := p.firstSeen[k]; !ok || first.After(at) {
			continue
		}
		u := w.users[k]
		cu := &oUser{key: k, ids: u.ids, attrs: map[string]attr.Value{}, history: map[string][]histEntry{}}
		for key, h := range u.history {
			if h = until(h, at); len(h) > 0 {
				cu.history[key] = h
				if last := h[len(h)-1].v; !last.Null {
					cu.attrs[key] = last
				}
			}
		}
		for _, e := range u.events {
			if !e.ts.After(at) {
				cu.events = append(cu.events, e)
			}
		}
		for _, s := range u.sessions {
			if !s.start.After(at) {
				cu.sessions = append(cu.sessions, s)
			}
		}
		cutSurveys(u, cu, at)
		for _, g := range u.groups {
			if linked, ok := p.links[k][g]; ok && !linked.After(at) {
				cu.groups = append(cu.groups, g)
			}
		}
		c.universe = append(c.universe, k)
		c.users[k] = cu
	}
	for g, keys := range p.companies {
		for key, h := range keys {
			if h = until(h, at); len(h) > 0 && !h[len(h)-1].v.Null {
				if c.companies[g] == nil {
					c.companies[g] = map[string]attr.Value{}
				}
				c.companies[g][key] = h[len(h)-1].v
			}
		}
	}
	return c
}

// until returns the entries of a history (in time order) set by at.
func until(h []histEntry, at time.Time) []histEntry {
	n := 0
	for n < len(h) && !h[n].at.After(at) {
		n++
	}
	return h[:n]
}

package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
)

// TestOracleHistorical checks segments evaluated as they stood in the
// past (what a segment's trend shows) against the oracle run on the
// dataset cut at that moment: only what happened by then, with the
// attribute values of then.
func TestOracleHistorical(t *testing.T) {
	base := *oracleSeed
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	trees := 60
	if testing.Short() {
		trees = 20
	}
	for i := range 2 {
		seed := base + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			checkHistorical(t, seed, trees)
		})
	}
}

func checkHistorical(t *testing.T, seed uint64, trees int) {
	ctx := context.Background()
	db, site := openStore(t, oracleNow)
	if _, err := generateDataset(seed, site.ID, oracleNow).write(ctx, db); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	eng := engine.New(db, compiler.DuckDB{}, func() time.Time { return oracleNow })
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
	run := &oracleRun{t: t, ctx: ctx, seed: seed, db: db, site: site.ID, eng: eng, cat: cat, w: full}
	run.saveSegments(g)

	moments := []time.Time{oracleNow.Add(-3 * day), oracleNow.Add(-20*day - 5*time.Hour), oracleNow.Add(-50 * day)}
	worlds := make([]*world, len(moments))
	for i, at := range moments {
		worlds[i] = full.cut(at, past)
	}
	for checked, attempt := 0, 0; checked < trees && attempt < 3*trees; attempt++ {
		tree := g.node(0)
		if segment.Validate(tree, cat) != nil {
			continue
		}
		checked++
		i := checked % len(moments)
		want := worlds[i].members(tree)
		got, err := eng.MembersAt(ctx, site.ID, tree, moments[i])
		if err != nil {
			t.Fatalf("seed %d: %s at %s: %v", seed, segment.Format(tree), moments[i], err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("seed %d: %s at %s:\n engine %d members %v\n oracle %d members %v", seed, segment.Format(tree),
				moments[i], len(got), head(got), len(want), head(want))
		}
	}
}

func head(keys []int64) []int64 { return keys[:min(len(keys), 12)] }

// pastRows is what the oracle's world does not keep but a cut needs: when
// each user was first seen (by a message of any kind), when users joined
// companies, and the companies' attribute history.
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
	err = scanAll(rows, func() error {
		var k int64
		var at time.Time
		if err := rows.Scan(&k, &at); err != nil {
			return err
		}
		p.firstSeen[k] = at.UTC()
		return nil
	})
	if err != nil {
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

// cut returns the world as it stood at the moment at: the users seen by
// then, their events, sessions (by start) and company links up to then,
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

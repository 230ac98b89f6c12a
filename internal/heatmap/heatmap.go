package heatmap

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
)

// Limits that keep an answer small (docs/heatmaps.md: under ~200 KB for
// any page): the most clicked elements, the densest grid cells.
const (
	MaxElements  = 200
	MaxCells     = 3000
	GridColumns  = store.GridColumns // across the viewport's width
	GridRowPx    = store.GridRowPx   // down the page
	SpotCells    = store.SpotCells   // a spot grid of SpotCells × SpotCells inside each element
	ScrollStep   = 5                 // % of the page height between two points of the scroll map
	maxPages     = 200
	maxClickRows = 100
)

// Store is what heatmaps read: the database the queries run on.
type Store interface {
	// SQL is the database, which the dialect speaks.
	SQL() *sql.DB
	// Sync waits until every acknowledged write is queryable.
	Sync(ctx context.Context) error
}

// Service answers heatmaps from a database.
type Service struct {
	st Store
	db *sql.DB
	d  compiler.Dialect
}

// New returns a service reading st, whose SQL dialect d speaks.
func New(st Store, d compiler.Dialect) *Service {
	return &Service{st: st, db: st.SQL(), d: d}
}

// Sync waits until every acknowledged write is queryable: call it before
// an answer that must include them.
func (s *Service) Sync(ctx context.Context) error { return s.st.Sync(ctx) }

// Element is one clicked element of a page group: its clicks and
// frustration signals, and where inside it the clicks landed.
type Element struct {
	Selector string `json:"selector"`
	// Clicks are the $click events on it; Users the distinct users who
	// clicked it; PageViews the page views with at least one click on it.
	Clicks    int64 `json:"clicks"`
	Users     int64 `json:"users"`
	PageViews int64 `json:"page_views"`
	// ViewShare is PageViews over the page group's page views.
	ViewShare float64 `json:"view_share"`
	// RageClicks are the clicks of rage bursts on it, DeadClicks its dead
	// clicks; the shares are over Clicks (at most 1).
	RageClicks int64   `json:"rage_clicks"`
	DeadClicks int64   `json:"dead_clicks"`
	RageShare  float64 `json:"rage_share"`
	DeadShare  float64 `json:"dead_share"`
	// OffsetX and OffsetY are the mean position of the kind's clicks
	// inside the element (0–1 of its width and height); Spots count them
	// in a SpotCells × SpotCells grid over it as [column, row, count].
	OffsetX float64    `json:"offset_x"`
	OffsetY float64    `json:"offset_y"`
	Spots   [][3]int64 `json:"spots"`
	// Count is the number of the map's kind: Clicks, rage clicks or dead
	// clicks (the events, not the clicks of a burst).
	Count int64 `json:"count"`
}

// Grid is the density of a kind's events over the page, in cells of
// 1/Columns of the viewport's width by RowPx pixels of the page's height.
type Grid struct {
	Columns int        `json:"columns"`
	RowPx   int        `json:"row_px"`
	Cells   [][3]int64 `json:"cells"` // [column, row, count], the densest MaxCells
	Omitted int64      `json:"omitted"`
}

// Map is a click, rage or dead heatmap.
type Map struct {
	Kind      Kind      `json:"kind"`
	PageViews int64     `json:"page_views"`
	Total     int64     `json:"total"` // events of the kind
	Users     int64     `json:"users"` // who produced them
	Elements  []Element `json:"elements"`
	// MoreElements counts the elements left out after MaxElements.
	MoreElements int   `json:"more_elements"`
	Grid         Grid  `json:"grid"`
	Took         int64 `json:"took_ms"`
}

// Clicks answers a click, rage or dead heatmap. Once its page group is
// resolved, its five queries (page views, elements, users, spots, grid)
// run at once.
func (s *Service) Clicks(ctx context.Context, q Query, kind Kind) (*Map, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	start := time.Now()
	g, err := s.resolve(ctx, q)
	if err != nil {
		return nil, err
	}
	m, err := s.clicks(ctx, g, kind, true)
	if err != nil {
		return nil, err
	}
	m.Took = time.Since(start).Milliseconds()
	return m, nil
}

// Elements answers a click, rage or dead heatmap without its density
// grid (Grid has no cells): the element table.
func (s *Service) Elements(ctx context.Context, q Query, kind Kind) (*Map, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	start := time.Now()
	g, err := s.resolve(ctx, q)
	if err != nil {
		return nil, err
	}
	m, err := s.clicks(ctx, g, kind, false)
	if err != nil {
		return nil, err
	}
	m.Took = time.Since(start).Milliseconds()
	return m, nil
}

// clicks answers the heatmap of a resolved page group, with its density
// grid when withGrid.
func (s *Service) clicks(ctx context.Context, g group, kind Kind, withGrid bool) (*Map, error) {
	m := &Map{Kind: kind, Elements: []Element{}, Grid: Grid{Columns: GridColumns, RowPx: GridRowPx, Cells: [][3]int64{}}}
	var all []element
	var count int
	var spots map[int64][][3]int64
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) { m.PageViews, err = s.pageViews(gctx, g); return err })
	eg.Go(func() (err error) { all, m.Total, count, err = s.elements(gctx, g, kind); return err })
	eg.Go(func() (err error) { m.Users, err = s.users(gctx, g, kind); return err })
	eg.Go(func() (err error) { spots, err = s.spots(gctx, g, kind); return err })
	if withGrid {
		eg.Go(func() (err error) { m.Grid, err = s.grid(gctx, g, kind); return err })
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	if len(all) > MaxElements {
		all = all[:MaxElements]
	}
	m.MoreElements = count - len(all)
	m.Elements = make([]Element, len(all))
	for i, e := range all {
		if m.PageViews > 0 {
			e.ViewShare = round4(float64(e.PageViews) / float64(m.PageViews))
		}
		if sp := spots[e.key]; sp != nil {
			e.Spots = sp
		}
		m.Elements[i] = e.Element
	}
	return m, nil
}

func round4(f float64) float64 { return math.Round(f*10000) / 10000 }

// query runs a query and calls row for each row.
func (s *Service) query(ctx context.Context, w *sqlWriter, what string, row func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, w.sql.String(), w.args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// pageViews counts the page group's page views.
func (s *Service) pageViews(ctx context.Context, g group) (int64, error) {
	w := &sqlWriter{d: s.d}
	w.Write("SELECT count(*) FROM (SELECT user_key ")
	if err := w.clicks(g, sig(store.SignalPageView)); err != nil {
		return 0, err
	}
	w.Write(") AS e")
	w.members(g.Query)
	var n int64
	err := s.query(ctx, w, "count the page views", func(r *sql.Rows) error { return r.Scan(&n) })
	return n, err
}

// signals writes the derived table of g's rows that cond keeps (a
// condition on their signal), with columns user_key, session_id, sig,
// sel, pv, sel_text, ox, oy, spot, cell, n, restricted to the segment's
// members.
func (s *Service) signals(w *sqlWriter, g group, cond string) error {
	w.Write("(SELECT user_key, session_id, sig, sel_key AS sel, pv_key AS pv, selector AS sel_text, offset_x AS ox, ",
		"offset_y AS oy, spot, cell, clicks AS n ")
	if err := w.clicks(g, cond); err != nil {
		return err
	}
	w.Write(") AS e")
	w.members(g.Query)
	return nil
}

// element is an Element with its selector's key.
type element struct {
	Element
	key int64
}

// elements reads the clicked elements of g, most counted of kind first:
// the MaxElements first (more when the last ties with the next), with
// the kind's total and the number of elements. Elements are grouped by
// their selector's key, and counted over the page views' keys: integers,
// which DuckDB counts distinct several times faster than texts; the
// selectors' texts are looked up for the elements answered only.
func (s *Service) elements(ctx context.Context, g group, kind Kind) ([]element, int64, int, error) {
	w := &sqlWriter{d: s.d}
	open, end := s.d.CountWhere()
	click, k := "sig = "+itoa(int(store.SignalClick)), "sig = "+itoa(int(kind.signal()))
	w.Write("SELECT sel, ", open, click, end, ", count(DISTINCT CASE WHEN ", click, " THEN user_key END), ",
		"count(DISTINCT CASE WHEN ", click, " THEN pv END), ",
		"sum(CASE WHEN sig = ", itoa(int(store.SignalRage)), " THEN coalesce(n, 0) ELSE 0 END), ",
		open, "sig = ", itoa(int(store.SignalDead)), end, ", ", open, k, end, " AS c, ",
		"avg(CASE WHEN ", k, " THEN ox END), avg(CASE WHEN ", k, " THEN oy END) FROM ")
	if err := s.signals(w, g, sig(store.SignalClick, store.SignalRage, store.SignalDead)+" AND sel_key <> 0"); err != nil {
		return nil, 0, 0, err
	}
	w.Write(" GROUP BY sel")
	var out []element
	err := s.query(ctx, w, "read the clicked elements", func(r *sql.Rows) error {
		var e element
		var rage float64
		var ox, oy sql.NullFloat64
		if err := r.Scan(&e.key, &e.Clicks, &e.Users, &e.PageViews, &rage, &e.DeadClicks, &e.Count, &ox, &oy); err != nil {
			return err
		}
		if e.Count == 0 {
			return nil
		}
		e.RageClicks = int64(rage)
		e.OffsetX, e.OffsetY = round4(ox.Float64), round4(oy.Float64)
		if e.Clicks > 0 {
			e.RageShare = round4(min(1, float64(e.RageClicks)/float64(e.Clicks)))
			e.DeadShare = round4(min(1, float64(e.DeadClicks)/float64(e.Clicks)))
		}
		e.Spots = [][3]int64{}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	var total int64
	for _, e := range out {
		total += e.Count
	}
	n := len(out)
	// The first MaxElements by count, and those tied with the last: their
	// order among themselves is their selectors'.
	sort.Slice(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	if len(out) > MaxElements {
		last := out[MaxElements-1].Count
		cut := MaxElements
		for cut < len(out) && out[cut].Count == last {
			cut++
		}
		out = out[:cut]
	}
	keys := make([]int64, len(out))
	for i, e := range out {
		keys[i] = e.key
	}
	texts, err := s.texts(ctx, g, keys)
	if err != nil {
		return nil, 0, 0, err
	}
	for i := range out {
		out[i].Selector = texts[out[i].key]
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Selector < out[j].Selector
	})
	return out, total, n, nil
}

// maxTextKeys bounds the keys a query of texts names; beyond it the
// site's texts are read whole.
const maxTextKeys = 1000

// texts returns the selectors' texts of keys: from click_selectors, and
// for the keys it lacks (a row whose write was rolled back), from the
// clicks themselves.
func (s *Service) texts(ctx context.Context, g group, keys []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	want := make(map[int64]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	in := func(w *sqlWriter, ks []int64) {
		w.Write(" AND sel_key IN (")
		for i, k := range ks {
			if i > 0 {
				w.Write(", ")
			}
			w.Arg(k)
		}
		w.Write(")")
	}
	read := func(r *sql.Rows) error {
		var k int64
		var t string
		if err := r.Scan(&k, &t); err != nil {
			return err
		}
		if want[k] && t != "" {
			out[k] = t
		}
		return nil
	}
	// click_selectors has no user: it is read as it is, on ClickHouse too.
	w := &sqlWriter{d: s.d}
	w.Write("SELECT sel_key, min(selector) FROM click_selectors WHERE site_id = ")
	w.Arg(g.Site)
	if len(keys) <= maxTextKeys {
		in(w, keys)
	}
	w.Write(" GROUP BY sel_key")
	if err := s.query(ctx, w, "read the selectors", read); err != nil {
		return nil, err
	}
	var missing []int64
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			missing = append(missing, k)
		}
	}
	for len(missing) > 0 {
		part := missing[:min(len(missing), maxTextKeys)]
		missing = missing[len(part):]
		w := &sqlWriter{d: s.d}
		w.Write("SELECT sel_key, min(selector) FROM (SELECT sel_key, selector ")
		w.d.From(w, compiler.Clicks, g.Site, nil)
		in(w, part)
		w.Write(" AND selector IS NOT NULL")
		w.d.EndFrom(w)
		w.Write(") AS e GROUP BY sel_key")
		if err := s.query(ctx, w, "read the selectors of the clicks", read); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// users counts the distinct users of a kind's events, once each across
// elements.
func (s *Service) users(ctx context.Context, g group, kind Kind) (int64, error) {
	w := &sqlWriter{d: s.d}
	w.Write("SELECT count(DISTINCT user_key) FROM ")
	if err := s.signals(w, g, sig(kind.signal())); err != nil {
		return 0, err
	}
	var users int64
	err := s.query(ctx, w, "count the users", func(r *sql.Rows) error { return r.Scan(&users) })
	return users, err
}

// spots reads where inside each element the kind's events landed, by
// selector key, in a SpotCells × SpotCells grid.
func (s *Service) spots(ctx context.Context, g group, kind Kind) (map[int64][][3]int64, error) {
	out := map[int64][][3]int64{}
	w := &sqlWriter{d: s.d}
	w.Write("SELECT sel, spot, count(*) FROM ")
	if err := s.signals(w, g, sig(kind.signal())+" AND sel_key <> 0"); err != nil {
		return nil, err
	}
	w.Write(" GROUP BY sel, spot")
	err := s.query(ctx, w, "read where in the elements", func(r *sql.Rows) error {
		var sel, spot, n int64
		if err := r.Scan(&sel, &spot, &n); err != nil {
			return err
		}
		out[sel] = append(out[sel], [3]int64{spot % SpotCells, spot / SpotCells, n})
		return nil
	})
	for _, sp := range out {
		sort.Slice(sp, func(i, j int) bool {
			a, b := sp[i], sp[j]
			return a[1] < b[1] || (a[1] == b[1] && a[0] < b[0])
		})
	}
	return out, err
}

// grid reads the density grid of a kind's events.
func (s *Service) grid(ctx context.Context, gr group, kind Kind) (Grid, error) {
	g := Grid{Columns: GridColumns, RowPx: GridRowPx, Cells: [][3]int64{}}
	w := &sqlWriter{d: s.d}
	w.Write("SELECT cell, count(*) FROM ")
	if err := s.signals(w, gr, sig(kind.signal())+" AND cell IS NOT NULL"); err != nil {
		return g, err
	}
	w.Write(" GROUP BY cell")
	err := s.query(ctx, w, "read the density grid", func(r *sql.Rows) error {
		var cell, n int64
		if err := r.Scan(&cell, &n); err != nil {
			return err
		}
		g.Cells = append(g.Cells, [3]int64{cell % GridColumns, cell / GridColumns, n})
		return nil
	})
	if err != nil {
		return g, err
	}
	sort.Slice(g.Cells, func(i, j int) bool {
		a, b := g.Cells[i], g.Cells[j]
		if a[2] != b[2] {
			return a[2] > b[2]
		}
		if a[1] != b[1] {
			return a[1] < b[1]
		}
		return a[0] < b[0]
	})
	if len(g.Cells) > MaxCells {
		for _, c := range g.Cells[MaxCells:] {
			g.Omitted += c[2]
		}
		g.Cells = g.Cells[:MaxCells]
	}
	return g, nil
}

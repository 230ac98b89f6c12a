package heatmap

import (
	"context"
	"database/sql"
	"math"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
)

// Page is a page seen on the site: a path with its page views.
type Page struct {
	Path      string `json:"path"`
	PageViews int64  `json:"page_views"`
	URLs      int64  `json:"urls"` // distinct full URLs (queries) of the path
	Clicks    int64  `json:"clicks"`
}

// Pages lists the paths seen between from and to (zero: open), most
// viewed first, at most maxPages.
func (s *Service) Pages(ctx context.Context, site int64, from, to time.Time) ([]Page, error) {
	w := &sqlWriter{d: s.d}
	open, end := s.d.CountWhere()
	view, click := sig(store.SignalPageView), sig(store.SignalClick)
	w.Write("SELECT path, ", open, view, end, " AS views, count(DISTINCT CASE WHEN ", view, " THEN url END), ",
		open, click, end, " FROM (SELECT path, url, sig ")
	w.d.From(w, compiler.Clicks, site, nil)
	w.Write(" AND ", sig(store.SignalPageView, store.SignalClick))
	if !from.IsZero() {
		w.Write(" AND ts >= ")
		w.Arg(from)
	}
	if !to.IsZero() {
		w.Write(" AND ts < ")
		w.Arg(to)
	}
	w.d.EndFrom(w)
	w.Write(") AS e GROUP BY path")
	out := []Page{}
	err := s.query(ctx, w, "list the pages seen", func(r *sql.Rows) error {
		var p Page
		if err := r.Scan(&p.Path, &p.PageViews, &p.URLs, &p.Clicks); err != nil {
			return err
		}
		if p.PageViews > 0 {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].PageViews != out[j].PageViews {
			return out[i].PageViews > out[j].PageViews
		}
		return out[i].Path < out[j].Path
	})
	if len(out) > maxPages {
		out = out[:maxPages]
	}
	return out, nil
}

// Difference is one element in a comparison of two segments.
type Difference struct {
	Selector string `json:"selector"`
	// ClicksA and ClicksB are its clicks in each segment; ShareA and
	// ShareB those over all the segment's clicks on the page group;
	// Difference is ShareA − ShareB.
	ClicksA    int64   `json:"clicks_a"`
	ClicksB    int64   `json:"clicks_b"`
	UsersA     int64   `json:"users_a"`
	UsersB     int64   `json:"users_b"`
	ShareA     float64 `json:"share_a"`
	ShareB     float64 `json:"share_b"`
	Difference float64 `json:"difference"`
	// Z is the two-proportion z statistic of the shares; Marked says the
	// difference is one to look at: |Z| ≥ 1.96 and at least 2 points.
	Z      float64 `json:"z"`
	Marked bool    `json:"marked"`
}

// Comparison compares two segments' clicks on one page group.
type Comparison struct {
	TotalA      int64        `json:"total_a"`
	TotalB      int64        `json:"total_b"`
	PageViewsA  int64        `json:"page_views_a"`
	PageViewsB  int64        `json:"page_views_b"`
	Elements    []Difference `json:"elements"` // ranked by |Difference|
	MapA        *Map         `json:"a"`
	MapB        *Map         `json:"b"`
	Took        int64        `json:"took_ms"`
	MoreOmitted int          `json:"more_elements"`
}

// Compare compares the clicks of segments a and b (a and b differ only
// in Members and Exclude).
func (s *Service) Compare(ctx context.Context, a, b Query) (*Comparison, error) {
	start := time.Now()
	if err := a.Check(); err != nil {
		return nil, err
	}
	if err := b.Check(); err != nil {
		return nil, err
	}
	// a and b differ only in their segment: the page group is resolved
	// once for both.
	ga, err := s.resolve(ctx, a)
	if err != nil {
		return nil, err
	}
	gb := ga
	gb.Query = b
	var ma, mb *Map
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { ma, err = s.clicks(gctx, ga, KindClick, true); return err })
	g.Go(func() (err error) { mb, err = s.clicks(gctx, gb, KindClick, true); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	took := time.Since(start).Milliseconds()
	ma.Took, mb.Took = took, took
	c := &Comparison{TotalA: ma.Total, TotalB: mb.Total, PageViewsA: ma.PageViews, PageViewsB: mb.PageViews, MapA: ma, MapB: mb}
	byID := map[string]*Difference{}
	var order []string
	add := func(e Element, side int) {
		d := byID[e.Selector]
		if d == nil {
			d = &Difference{Selector: e.Selector}
			byID[e.Selector] = d
			order = append(order, e.Selector)
		}
		if side == 0 {
			d.ClicksA, d.UsersA = e.Clicks, e.Users
		} else {
			d.ClicksB, d.UsersB = e.Clicks, e.Users
		}
	}
	for _, e := range ma.Elements {
		add(e, 0)
	}
	for _, e := range mb.Elements {
		add(e, 1)
	}
	for _, sel := range order {
		d := byID[sel]
		if c.TotalA > 0 {
			d.ShareA = float64(d.ClicksA) / float64(c.TotalA)
		}
		if c.TotalB > 0 {
			d.ShareB = float64(d.ClicksB) / float64(c.TotalB)
		}
		d.Difference = d.ShareA - d.ShareB
		if c.TotalA > 0 && c.TotalB > 0 {
			p := float64(d.ClicksA+d.ClicksB) / float64(c.TotalA+c.TotalB)
			se := math.Sqrt(p * (1 - p) * (1/float64(c.TotalA) + 1/float64(c.TotalB)))
			if se > 0 {
				d.Z = math.Round(d.Difference/se*100) / 100
			}
		}
		d.Marked = math.Abs(d.Z) >= 1.96 && math.Abs(d.Difference) >= 0.02
		d.ShareA, d.ShareB, d.Difference = round4(d.ShareA), round4(d.ShareB), round4(d.Difference)
		c.Elements = append(c.Elements, *d)
	}
	sort.SliceStable(c.Elements, func(i, j int) bool {
		x, y := math.Abs(c.Elements[i].Difference), math.Abs(c.Elements[j].Difference)
		if x != y {
			return x > y
		}
		return c.Elements[i].Selector < c.Elements[j].Selector
	})
	if c.Elements == nil {
		c.Elements = []Difference{}
	}
	if len(c.Elements) > MaxElements {
		c.MoreOmitted = len(c.Elements) - MaxElements
		c.Elements = c.Elements[:MaxElements]
	}
	c.Took = time.Since(start).Milliseconds()
	return c, nil
}

// Click is one click on an element: who, when, in which session.
type Click struct {
	UserKey   int64     `json:"-"`
	SessionID int64     `json:"session_id"`
	At        time.Time `json:"at"`
}

// ElementClicks returns the latest clicks of kind on one element of q,
// newest first, at most maxClickRows.
func (s *Service) ElementClicks(ctx context.Context, q Query, kind Kind, selector string) ([]Click, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	// One query: the page group is matched row by row.
	g := group{Query: q}
	w := &sqlWriter{d: s.d}
	w.Write("SELECT user_key, session_id, ts FROM (SELECT user_key, session_id, ts ")
	// The element by its selector's key, then by the text itself (keys
	// of two selectors may meet, at a chance of 2⁻⁶⁰).
	w.d.From(w, compiler.Clicks, g.Site, nil)
	w.Write(" AND ", sig(kind.signal()), " AND sel_key = ")
	w.Arg(store.TextKey(selector))
	w.Write(" AND selector = ")
	w.Arg(selector)
	if err := w.where(g, true); err != nil {
		return nil, err
	}
	w.Write(") AS e")
	w.members(q)
	w.Write(" ORDER BY ts DESC LIMIT " + itoa(maxClickRows))
	out := []Click{}
	err := s.query(ctx, w, "read an element's clicks", func(r *sql.Rows) error {
		var c Click
		var ts any
		if err := r.Scan(&c.UserKey, &c.SessionID, &ts); err != nil {
			return err
		}
		switch t := ts.(type) {
		case time.Time:
			c.At = t.UTC()
		case int64:
			c.At = time.UnixMicro(t).UTC()
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

package heatmap

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Scroll is a scroll map: how far down the page the page views got.
type Scroll struct {
	Kind      Kind  `json:"kind"`
	PageViews int64 `json:"page_views"` // with a $scroll
	// Reached[i] is the share of page views whose deepest point reached
	// i × Step % of the page's height (Reached[0] is 1 when there are any).
	Step    int       `json:"step"`
	Reached []float64 `json:"reached"`
	// AverageFold is the mean share of the page's height (in %) the
	// first screen showed, AverageFoldPx the viewport's mean height;
	// AverageDepth the mean deepest point, in %.
	AverageFold   float64 `json:"average_fold"`
	AverageFoldPx float64 `json:"average_fold_px"`
	AverageDepth  float64 `json:"average_depth"`
	Took          int64   `json:"took_ms"`
}

// Scroll answers the scroll map of q. A page view may send more than one
// $scroll (each time the page is hidden after the visitor scrolled
// further): its deepest counts. $scroll events without a pageview_id
// (sent by trackers before it existed) count one page view each.
func (s *Service) Scroll(ctx context.Context, q Query) (*Scroll, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	start := time.Now()
	// One query: the page group is matched row by row.
	g := group{Query: q}
	steps := 100/ScrollStep + 1
	out := &Scroll{Kind: KindScroll, Step: ScrollStep, Reached: make([]float64, steps)}
	w := &sqlWriter{d: s.d}
	w.Write("SELECT least(floor(d / ", fmt.Sprint(ScrollStep), "), ", fmt.Sprint(steps-1), ") AS b, count(*), ",
		"sum(d), sum(CASE WHEN ph > 0 AND vh > 0 THEN least(100, vh * 100 / ph) END), ",
		"count(CASE WHEN ph > 0 AND vh > 0 THEN 1 END), sum(vh), count(vh) FROM (",
		"SELECT max(depth0) AS d, max(vh0) AS vh, max(ph0) AS ph FROM (SELECT user_key, ts, pv_key AS pv, ",
		"depth AS depth0, viewport_height AS vh0, page_height AS ph0 ")
	if err := w.clicks(g, sig(store.SignalScroll)); err != nil {
		return nil, err
	}
	w.Write(") AS e")
	w.members(q)
	// (ClickHouse resolves a name in WHERE to the SELECT's alias first:
	// the inner columns are named apart from the aggregates.)
	w.Write(" AND depth0 IS NOT NULL GROUP BY user_key, pv, CASE WHEN pv = 0 THEN ts END) AS v GROUP BY b")
	counts := make([]int64, steps)
	var depth, fold, foldPx float64
	var folds, foldsPx int64
	err := s.query(ctx, w, "read the scroll depths", func(r *sql.Rows) error {
		var b, d float64
		var n, fn, vn int64
		var f, vh sql.NullFloat64
		if err := r.Scan(&b, &n, &d, &f, &fn, &vh, &vn); err != nil {
			return err
		}
		i := max(0, min(steps-1, int(b)))
		counts[i] += n
		out.PageViews += n
		depth += d
		fold += f.Float64
		folds += fn
		foldPx += vh.Float64
		foldsPx += vn
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out.PageViews > 0 {
		var reached int64
		for i := steps - 1; i >= 0; i-- {
			reached += counts[i]
			out.Reached[i] = round4(float64(reached) / float64(out.PageViews))
		}
		out.AverageDepth = math.Round(depth/float64(out.PageViews)*10) / 10
	}
	if folds > 0 {
		out.AverageFold = math.Round(fold/float64(folds)*10) / 10
	}
	if foldsPx > 0 {
		out.AverageFoldPx = math.Round(foldPx / float64(foldsPx))
	}
	out.Took = time.Since(start).Milliseconds()
	return out, nil
}

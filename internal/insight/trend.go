package insight

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
)

// TrendResult is a trend: a row of values per series and breakdown
// value, one value per bucket.
type TrendResult struct {
	Interval Interval `json:"interval"`
	TZ       string   `json:"tz"`
	// Buckets are the buckets' starts, local wall time (YYYY-MM-DD, or
	// YYYY-MM-DDTHH:MM for hours).
	Buckets []string `json:"buckets"`
	// PreviousBuckets are the previous period's, when compared.
	PreviousBuckets []string    `json:"previous_buckets,omitempty"`
	Series          []TrendLine `json:"series"`
}

// TrendLine is one series for one breakdown value.
type TrendLine struct {
	Series  int    `json:"series"` // index in the definition
	Name    string `json:"name"`
	Measure string `json:"measure"`
	Group   string `json:"group"` // the breakdown value: "All users", a segment, a value
	// Values has one number per bucket; per_user and avg are 0 where
	// nothing was counted.
	Values   []float64 `json:"values"`
	Previous []float64 `json:"previous,omitempty"`
	// Total is the range's total for count and sum; the range's figure
	// over all its events for per_user and avg is not additive and left
	// out, as are distinct users.
	Total *float64 `json:"total,omitempty"`
}

// Measures of a series.
const (
	MeasureCount   = "count"
	MeasureUsers   = "users"
	MeasurePerUser = "per_user"
	MeasureSum     = "sum"
	MeasureAvg     = "avg"
)

// trendSeries is a validated series.
type trendSeries struct {
	Series
	sessions bool
	ev       event
	value    *compiler.Query // the numeric property, for sum and avg
}

// Trend computes a trend.
func (e *Engine) Trend(ctx context.Context, site int64, def Trend) (*TrendResult, error) {
	sp, err := def.resolve(e.now())
	if err != nil {
		return nil, err
	}
	if def.Interval == "" {
		def.Interval = Day
	}
	switch def.Interval {
	case Hour, Day, Week, Month:
	default:
		return nil, invalid("invalid_interval", "interval", "interval is hour, day, week or month, not %q", def.Interval)
	}
	if len(def.Series) == 0 || len(def.Series) > MaxSeries {
		return nil, invalid("invalid_series", "series", "a trend has 1 to %d series", MaxSeries)
	}
	series, err := e.trendSeries(ctx, site, def.Series)
	if err != nil {
		return nil, err
	}
	g, err := newGrid(sp.loc, def.Interval, sp.first, sp.last, sp.last)
	if err != nil {
		return nil, invalid("invalid_range", "interval", "%v", err)
	}
	groups, byProperty, err := e.trendGroups(ctx, site, def.Breakdown)
	if err != nil {
		return nil, err
	}
	for i, s := range series {
		if s.sessions && byProperty != "" {
			return nil, invalid("invalid_breakdown", fmt.Sprintf("series[%d].of", i),
				"sessions have no event properties to break down by")
		}
	}
	res := &TrendResult{Interval: def.Interval, TZ: sp.loc.String()}
	for i := range g.len() {
		res.Buckets = append(res.Buckets, g.label(i))
	}
	var prev *grid
	if def.Compare {
		p := sp.previous()
		if prev, err = newGrid(sp.loc, def.Interval, p.first, p.last, p.last); err != nil {
			return nil, invalid("invalid_range", "interval", "%v", err)
		}
		for i := range prev.len() {
			res.PreviousBuckets = append(res.PreviousBuckets, prev.label(i))
		}
	}
	for si, s := range series {
		lines, err := e.trendLines(ctx, site, s, g, groups, byProperty)
		if err != nil {
			return nil, err
		}
		if prev != nil {
			old, err := e.trendLines(ctx, site, s, prev, groups, byProperty)
			if err != nil {
				return nil, err
			}
			for i := range lines {
				for _, o := range old {
					if o.Group == lines[i].Group {
						lines[i].Previous = o.Values
					}
				}
				if lines[i].Previous == nil {
					lines[i].Previous = make([]float64, prev.len())
				}
			}
		}
		for i := range lines {
			lines[i].Series, lines[i].Name, lines[i].Measure = si, s.Name, s.Measure
		}
		res.Series = append(res.Series, lines...)
	}
	return res, nil
}

// trendSeries validates and compiles the series.
func (e *Engine) trendSeries(ctx context.Context, site int64, in []Series) ([]trendSeries, error) {
	out := make([]trendSeries, len(in))
	for i, s := range in {
		field := fmt.Sprintf("series[%d]", i)
		if s.Measure == "" {
			s.Measure = MeasureCount
		}
		ts := trendSeries{Series: s, sessions: keyword(s.Of, "sessions")}
		switch s.Measure {
		case MeasureCount, MeasureUsers, MeasurePerUser:
			if s.Property != "" {
				return nil, invalid("invalid_measure", field+".property", "a property goes with measure sum or avg")
			}
		case MeasureSum, MeasureAvg:
			if s.Property == "" {
				return nil, invalid("invalid_measure", field+".property", "measure %s needs a numeric event property", s.Measure)
			}
			if ts.sessions {
				return nil, invalid("invalid_measure", field+".measure", "sessions are counted, not summed")
			}
		default:
			return nil, invalid("invalid_measure", field+".measure", "measure is count, users, per_user, sum or avg, not %q", s.Measure)
		}
		if !ts.sessions {
			ev, err := e.event(ctx, site, s.Of, field+".of")
			if err != nil {
				return nil, err
			}
			ts.ev = ev
			if ts.Name == "" {
				ts.Name = ev.text
			}
		} else if ts.Name == "" {
			ts.Name = "sessions"
		}
		if s.Property != "" {
			c, err := e.seg.Compiler(ctx, site, nil)
			if err != nil {
				return nil, err
			}
			p := c.Property(s.Property)
			p.SQL = e.d.ToNumber(p.SQL)
			ts.value = &p
		}
		out[i] = ts
	}
	return out, nil
}

// trendGroups resolves a trend's breakdown: segments, an attribute's top
// values (each a segment, attribute = value), or a property, whose top
// values trendLines finds.
func (e *Engine) trendGroups(ctx context.Context, site int64, b Breakdown) ([]group, string, error) {
	n := 0
	for _, set := range []bool{len(b.Segments) > 0, b.Attribute != "", b.Property != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, "", invalid("invalid_breakdown", "breakdown", "break down by segments, an attribute or a property: one of them")
	}
	if b.Limit < 0 || b.Limit > MaxValues {
		return nil, "", invalid("invalid_breakdown", "breakdown.limit", "limit is 1 to %d", MaxValues)
	}
	if b.Limit == 0 {
		b.Limit = 5
	}
	switch {
	case b.Attribute != "":
		groups, err := e.attributeGroups(ctx, site, b.Attribute, b.Limit)
		return groups, "", err
	case b.Property != "":
		return []group{{label: "All users"}}, b.Property, nil
	}
	groups, err := e.groups(ctx, site, b)
	return groups, "", err
}

// attributeGroups returns a group per top value of a user attribute (the
// values most users have now), after everyone.
func (e *Engine) attributeGroups(ctx context.Context, site int64, key string, limit int) ([]group, error) {
	cat, err := e.seg.Catalog(ctx, site)
	if err != nil {
		return nil, err
	}
	typ, ok := cat.AttributeType(segment.ScopeUser, key)
	if !ok {
		return nil, invalid("unknown_attribute", "breakdown.attribute", "no user attribute %q on this site", key)
	}
	col := map[attr.Type]string{attr.String: "s", attr.Number: "n", attr.Boolean: "b"}[typ]
	if col == "" {
		return nil, invalid("invalid_breakdown", "breakdown.attribute", "%q is a %s: break down by a string, number or boolean attribute", key, typ)
	}
	q := newQuery(e.d)
	q.Write("SELECT ", col, " AS v, count(*) AS c ")
	e.d.CurrentFrom(q, []string{key}, site, nil)
	e.d.EndFrom(q)
	q.Write(" GROUP BY ", col, " ORDER BY c DESC, v LIMIT ", strconv.Itoa(limit))
	groups := []group{{label: "All users"}}
	var values []segment.Value
	err = e.rows(ctx, "top attribute values", q, func(r *sql.Rows) error {
		var v any
		var c int64
		if err := r.Scan(&v, &c); err != nil {
			return err
		}
		switch x := v.(type) {
		case string:
			values = append(values, segment.Value{Kind: segment.ValString, Str: x})
		case float64:
			values = append(values, segment.Value{Kind: segment.ValNumber, Num: x})
		case bool:
			values = append(values, segment.Value{Kind: segment.ValBool, Bool: x})
		case uint8:
			values = append(values, segment.Value{Kind: segment.ValBool, Bool: x != 0})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, v := range values {
		n := &segment.Attribute{Scope: segment.ScopeUser, Key: key, Op: segment.OpEq, Values: []segment.Value{v}}
		label := v.Str
		switch v.Kind {
		case segment.ValNumber:
			label = strconv.FormatFloat(v.Num, 'f', -1, 64)
		case segment.ValBool:
			label = strconv.FormatBool(v.Bool)
		}
		g, err := e.segmentGroup(ctx, site, key+" = "+label, n)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// bucketRow is one row of a trend query for one group: a bucket's
// aggregates, of one property value when broken down by a property.
type bucketRow struct {
	value        string
	count, users int64
	sum          sql.NullFloat64
	summed       int64 // events with a numeric value
	bucket       int
}

// trendLines runs one series over a grid for every group in one query,
// grouped by bucket (and property value): each group's aggregates are
// filtered by its membership, and only those the measure needs are
// computed. A count of one track event without property filters over
// buckets of whole UTC days reads event_days (dayRows), a row per user
// and day of that event with their number, instead of the events: its
// rows of one name are together, where the events of one name are spread
// over the whole table (at 1M users, 1M rows read for 1.9M events, and
// none of the other 47M events' names compared). Other counts of an event
// or page without property filters read events_by_name (nameRows), where
// the rows of one name or path are together too.
func (e *Engine) trendLines(ctx context.Context, site int64, s trendSeries, g *grid, groups []group, property string) ([]TrendLine, error) {
	q := newQuery(e.d)
	col := "ts"
	if s.sessions {
		col = "started_at"
	}
	needCount := s.Measure == MeasureCount || s.Measure == MeasurePerUser || property != "" // top values rank by count
	needUsers := s.Measure == MeasureUsers || s.Measure == MeasurePerUser
	needSum := s.value != nil
	days := false
	if _, ok := s.dayRows(g, property); ok {
		// Each row is a user's day: the bucket of its first event is
		// the day's, and its events count as many.
		col, days = "first_ts", true
	}
	q.Write("SELECT ")
	g.bucketID(q, col)
	q.Write(" AS bkt")
	if property != "" {
		c, err := e.seg.Compiler(ctx, site, nil)
		if err != nil {
			return nil, err
		}
		q.Write(", coalesce(")
		q.Frag(c.Property(property))
		q.Write(", '') AS grp")
	} else {
		q.Write(", '' AS grp")
	}
	for _, grp := range groups {
		cond := func() string {
			if grp.members == nil {
				return ""
			}
			return q.capture(func() {
				q.Write("user_key IN (")
				q.Frag(*grp.members)
				q.Write(")")
			})
		}
		agg := func(fn, expr string) {
			if c := cond(); c != "" {
				q.Write(", ", e.d.AggWhere(fn, expr, c))
			} else {
				q.Write(", ", e.d.AggWhere(fn, expr, ""))
			}
		}
		if needCount && days {
			q.Write(", CAST(coalesce(", e.d.AggWhere("sum", "events", cond()), ", 0) AS BIGINT)")
		} else if needCount {
			agg("count", "*")
		} else {
			q.Write(", 0")
		}
		if needUsers {
			agg("distinct", "user_key")
		} else {
			q.Write(", 0")
		}
		if needSum {
			v := q.capture(func() { q.Frag(*s.value) })
			if c := cond(); c != "" {
				q.Write(", ", e.d.AggWhere("sum", v, c))
			} else {
				q.Write(", ", e.d.AggWhere("sum", v, ""))
			}
			v = q.capture(func() { q.Frag(*s.value) })
			if c := cond(); c != "" {
				q.Write(", ", e.d.AggWhere("count", v, c))
			} else {
				q.Write(", ", e.d.AggWhere("count", v, ""))
			}
		} else {
			q.Write(", 0, 0")
		}
	}
	q.Write(" ")
	if name, ok := s.dayRows(g, property); ok {
		// A day's row holds its events' number and user.
		e.d.From(q, compiler.EventDayCounts, site, nil)
		q.Write(" AND name = ")
		q.Arg(name)
		q.Write(" AND first_ts >= ")
		q.Arg(g.start())
		q.Write(" AND first_ts < ")
		q.Arg(g.end())
		e.d.EndFrom(q)
	} else if named, ok := s.nameRows(property); ok {
		e.d.From(q, compiler.EventsByName, site, nil)
		q.Frag(named)
		q.Write(" AND ts >= ")
		q.Arg(g.start())
		q.Write(" AND ts < ")
		q.Arg(g.end())
		e.d.EndFrom(q)
	} else if s.sessions {
		e.d.From(q, compiler.Sessions, site, nil)
		q.Write(" AND started_at >= ")
		q.Arg(g.start())
		q.Write(" AND started_at < ")
		q.Arg(g.end())
		e.d.EndFrom(q)
	} else {
		e.events(q, site, s.ev.rows, g.start(), g.end(), group{}, nil)
	}
	q.Write(" GROUP BY bkt, grp")
	rows := make([][]bucketRow, len(groups))
	err := e.rows(ctx, "trend", q, func(r *sql.Rows) error {
		var id int64
		var value string
		dest := []any{&id, &value}
		row := make([]bucketRow, len(groups))
		for i := range row {
			dest = append(dest, &row[i].count, &row[i].users, &row[i].sum, &row[i].summed)
		}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		b, ok := g.bucket(id)
		if !ok {
			return nil
		}
		for i := range row {
			row[i].value, row[i].bucket = value, b
			rows[i] = append(rows[i], row[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []TrendLine
	for gi, grp := range groups {
		labels := []string{grp.label}
		if property != "" {
			labels = topValues(rows[gi], s.Measure, MaxValues)
		}
		for _, label := range labels {
			line := TrendLine{Group: label, Values: make([]float64, g.len())}
			var total float64
			for _, row := range rows[gi] {
				if property != "" && displayValue(row.value) != label {
					continue
				}
				v := measure(s.Measure, row)
				line.Values[row.bucket] = v
				total += v
			}
			if s.Measure == MeasureCount || s.Measure == MeasureSum {
				line.Total = &total
			}
			out = append(out, line)
		}
	}
	return out, nil
}

// dayRows reports whether the series can be counted from event_days over
// g, and of which event: did("name") without property filters, counted
// (events, users or per user) over buckets of whole UTC days, without a
// property breakdown.
func (s trendSeries) dayRows(g *grid, property string) (string, bool) {
	ev, ok := s.ev.node.(*segment.Event)
	if s.sessions || s.value != nil || property != "" || !ok || len(ev.Where) > 0 || ev.First || !g.utcDays() {
		return "", false
	}
	switch s.Measure {
	case MeasureCount, MeasureUsers, MeasurePerUser:
		return ev.Name, true
	}
	return "", false
}

// nameRows returns the conditions on compiler.EventsByName's rows of a
// series counted (events, users or per user) without property filters
// or a property breakdown, which only the events have.
func (s trendSeries) nameRows(property string) (compiler.Query, bool) {
	if s.sessions || s.value != nil || property != "" || s.ev.named == nil {
		return compiler.Query{}, false
	}
	switch s.Measure {
	case MeasureCount, MeasureUsers, MeasurePerUser:
		return *s.ev.named, true
	}
	return compiler.Query{}, false
}

// measure returns a row's figure for a measure.
func measure(m string, r bucketRow) float64 {
	switch m {
	case MeasureUsers:
		return float64(r.users)
	case MeasurePerUser:
		if r.users == 0 {
			return 0
		}
		return float64(r.count) / float64(r.users)
	case MeasureSum:
		return r.sum.Float64
	case MeasureAvg:
		if r.summed == 0 {
			return 0
		}
		return r.sum.Float64 / float64(r.summed)
	}
	return float64(r.count)
}

// displayValue is how a property value is labelled: "(none)" for events
// without it.
func displayValue(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// topValues returns the labels of the limit property values with the
// most events over the range.
func topValues(rows []bucketRow, m string, limit int) []string {
	counts := map[string]int64{}
	for _, r := range rows {
		counts[displayValue(r.value)] += r.count
	}
	labels := make([]string, 0, len(counts))
	for l := range counts {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool {
		if counts[labels[i]] != counts[labels[j]] {
			return counts[labels[i]] > counts[labels[j]]
		}
		return labels[i] < labels[j]
	})
	return labels[:min(limit, len(labels))]
}

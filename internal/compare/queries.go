package compare

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/stats"
)

// Event kinds as stored in events.kind (store.Kind): track events and
// page views are compared; a page is its path.
const (
	kindTrack = 2
	kindPage  = 3
)

// sessionFields are the session properties compared: the name the segment
// language gives each (session.device …) and its column.
var sessionFields = [][2]string{
	{"device", "device_type"}, {"browser", "browser"}, {"os", "os"}, {"country", "country"},
	{"channel", "channel"}, {"utm_source", "utm_source"}, {"utm_medium", "utm_medium"},
	{"utm_campaign", "utm_campaign"},
}

// maxCategories is the most distinct values a text attribute may have to
// be compared value by value; attributes with more (names, e-mails) are
// identifiers, not categories.
const maxCategories = 50

// sums are the count, sum and sum of squares of a per-unit value.
type sums struct {
	N       float64
	Sum, Sq float64
	Present float64 // units with a non-zero value, where it matters
}

func (s sums) summary() stats.Summary {
	n := int64(s.N)
	if n == 0 {
		return stats.Summary{}
	}
	mean := s.Sum / s.N
	out := stats.Summary{N: n, Mean: mean}
	if n > 1 {
		out.Var = max(0, (s.Sq-s.N*mean*mean)/(s.N-1))
	}
	return out
}

// eventKey names an event (kind 2, its name) or a page (kind 3, its path).
type eventKey struct {
	Kind int
	Name string
}

// valueKey is one value of an attribute or session field.
type valueKey struct {
	Key, Value string
}

// data is what the database returned for both groups, indexed by group.
type data struct {
	size     [2]int64
	events   [2]sums // per user
	days     [2]sums // active days per user
	sessions [2]sums // per user
	duration [2]sums // per session, seconds
	rage     [2]sums // per session
	dead     [2]sums
	errors   [2]sums
	nps      [2][]stats.Freq // latest score per user
	rating   [2][]stats.Freq // feedback ratings
	perEvent map[eventKey]*[2][]stats.Freq
	fields   map[valueKey]*[2]int64 // sessions with the value
	cats     map[valueKey]*[2]int64 // users whose attribute has the value
	catType  map[string]attr.Type
	numbers  map[string]*[2][]stats.Freq
	dates    map[string]*[2][]stats.Freq // days from the value to the period's end
	active   [2][]int64                  // users with a session in each whole week of the period
	weeks    float64
	company  companyData
	answers  answerData
	mu       sync.Mutex
}

// querier runs the queries of one comparison.
type querier struct {
	c        *Comparer
	site     int64
	from, to time.Time
}

// collect runs every query, for both groups at once when they do not
// overlap (one scan of each table instead of two), else for each.
func (q *querier) collect(ctx context.Context, cat *engine.Catalog, sizes [2]int64, sels []sel, questions []Question) (*data, error) {
	d := &data{active: [2][]int64{make([]int64, q.weeks()), make([]int64, q.weeks())}, perEvent: map[eventKey]*[2][]stats.Freq{}, fields: map[valueKey]*[2]int64{},
		cats: map[valueKey]*[2]int64{}, catType: map[string]attr.Type{}, numbers: map[string]*[2][]stats.Freq{},
		dates: map[string]*[2][]stats.Freq{},
		weeks: q.to.Sub(q.from).Hours() / (24 * 7),
		company: companyData{cats: map[valueKey]*[2]int64{}, catType: map[string]attr.Type{},
			numbers: map[string]*[2][]stats.Freq{}, dates: map[string]*[2][]stats.Freq{}},
		answers: answerData{questions: map[questionKey]Question{}, respondents: map[questionKey]*[2]int64{},
			options: map[questionKey]map[string]*[2]int64{}, scores: map[questionKey]*[2][]stats.Freq{}}}
	for _, qu := range questions {
		d.answers.questions[questionKey{qu.Survey, qu.ID}] = qu
	}
	var keys [2]attrKeys
	for e, scope := range []segment.Scope{segment.ScopeUser, segment.ScopeCompany} {
		types := d.catType
		if scope == segment.ScopeCompany {
			types = d.company.catType
		}
		var texts []string
		for _, k := range cat.AttributeKeys(scope) {
			t, _ := cat.AttributeType(scope, k)
			switch t {
			case attr.String:
				texts = append(texts, k)
			case attr.Boolean:
				keys[e].bools = append(keys[e].bools, k)
				types[k] = attr.Boolean
			case attr.Number:
				keys[e].nums = append(keys[e].nums, k)
			case attr.Datetime:
				keys[e].dates = append(keys[e].dates, k)
			}
		}
		var err error
		if keys[e].cats, err = q.categorical(ctx, e, texts); err != nil {
			return nil, err
		}
		for _, k := range keys[e].cats {
			types[k] = attr.String
		}
	}
	cats, bools, nums, dates := keys[0].cats, keys[0].bools, keys[0].nums, keys[0].dates
	co := keys[1]
	d.size = sizes
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, s := range sels {
		s.site, s.d = q.site, q.c.dialect
		g.Go(func() error { return q.perEvent(ctx, s, d) })
		g.Go(func() error { return q.sessionSums(ctx, s, d) })
		g.Go(func() error { return q.sessionFields(ctx, s, d) })
		if len(cats) > 0 {
			g.Go(func() error { return q.values(ctx, s, cats, "s", d) })
		}
		if len(bools) > 0 {
			g.Go(func() error { return q.values(ctx, s, bools, "b", d) })
		}
		if len(nums) > 0 {
			g.Go(func() error { return q.numbers(ctx, s, nums, d) })
		}
		if len(dates) > 0 {
			g.Go(func() error { return q.dates(ctx, s, dates, d) })
		}
		if len(co.cats) > 0 {
			g.Go(func() error { return q.companyValues(ctx, s, co.cats, "s", d) })
		}
		if len(co.bools) > 0 {
			g.Go(func() error { return q.companyValues(ctx, s, co.bools, "b", d) })
		}
		if len(co.nums) > 0 {
			g.Go(func() error { return q.companyNumbers(ctx, s, co.nums, false, d) })
		}
		if len(co.dates) > 0 {
			g.Go(func() error { return q.companyNumbers(ctx, s, co.dates, true, d) })
		}
		if len(questions) > 0 {
			g.Go(func() error { return q.answers(ctx, s, questions, d) })
		}
		g.Go(func() error { return q.activeWeeks(ctx, s, d) })
		g.Go(func() error { return q.nps(ctx, s, d) })
		g.Go(func() error { return q.ratings(ctx, s, d) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Users without any activity count as zeros.
	for i := range 2 {
		d.events[i].N = float64(d.size[i])
		d.days[i].N = float64(d.size[i])
		d.sessions[i].N = float64(d.size[i])
	}
	return d, nil
}

// query runs a query and calls row for each row with dest scanned.
func (q *querier) query(ctx context.Context, w *sqlw, row func() error, dest ...any) error {
	rows, err := q.c.store.SQL().QueryContext(ctx, w.String(), w.args...)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, w.String())
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := row(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// eventsIn writes the rows of events in the period of the given kinds.
func (q *querier) eventsIn(w *sqlw, kinds string, cols string) {
	w.Write("SELECT ", cols, " ")
	q.c.dialect.From(w, compiler.Events, q.site, nil)
	w.Write(" AND kind IN (", kinds, ") AND ts >= ")
	w.Arg(q.from)
	w.Write(" AND ts < ")
	w.Arg(q.to)
	q.c.dialect.EndFrom(w)
}

// sessionsIn writes the rows of sessions started in the period.
func (q *querier) sessionsIn(w *sqlw, cols string) {
	w.Write("SELECT ", cols, " ")
	q.c.dialect.From(w, compiler.SessionCounts, q.site, nil)
	w.Write(" AND started_at >= ")
	w.Arg(q.from)
	w.Write(" AND started_at < ")
	w.Arg(q.to)
	q.c.dialect.EndFrom(w)
}

// sessionSums reads, per user, sessions, active days (days a session
// started) and events (those of the sessions), and per session its
// duration and frustration signals: one scan of the sessions, none of
// the events.
func (q *querier) sessionSums(ctx context.Context, s sel, d *data) error {
	dur := q.c.dialect.Seconds("started_at", "ended_at")
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "x.user_key")
	w.Write(" AS g, count(*), sum(x.n), sum(x.n * x.n), sum(x.dur), sum(x.dur2), sum(x.r), sum(x.r2),",
		" sum(x.dc), sum(x.dc2), sum(x.er), sum(x.er2), sum(x.days), sum(x.days * x.days), sum(x.ev), sum(x.ev * x.ev) FROM (")
	q.sessionsIn(w, "user_key, count(*) AS n, sum("+dur+") AS dur, sum("+dur+" * "+dur+") AS dur2,"+
		" count(DISTINCT "+q.c.dialect.Day("started_at")+") AS days, sum(event_count) AS ev,"+
		" sum(rage_clicks) AS r, sum(rage_clicks * rage_clicks) AS r2, sum(dead_clicks) AS dc,"+
		" sum(dead_clicks * dead_clicks) AS dc2, sum(errors) AS er, sum(errors * errors) AS er2")
	w.Write(" GROUP BY user_key) AS x WHERE ")
	s.filter(w, "x.user_key")
	w.Write(" GROUP BY g")
	var v [16]num
	dest := make([]any, len(v))
	for k := range v {
		dest[k] = &v[k]
	}
	return q.query(ctx, w, func() error {
		i := s.base + int(v[0].v)
		d.sessions[i] = sums{Sum: v[2].v, Sq: v[3].v, Present: v[1].v}
		n := v[2].v
		d.duration[i] = sums{N: n, Sum: v[4].v, Sq: v[5].v}
		d.rage[i] = sums{N: n, Sum: v[6].v, Sq: v[7].v}
		d.dead[i] = sums{N: n, Sum: v[8].v, Sq: v[9].v}
		d.errors[i] = sums{N: n, Sum: v[10].v, Sq: v[11].v}
		d.days[i] = sums{Sum: v[12].v, Sq: v[13].v, Present: v[1].v}
		d.events[i] = sums{Sum: v[14].v, Sq: v[15].v, Present: v[1].v}
		return nil
	}, dest...)
}

// perEvent reads, for every event and page, how many users did it how
// many times (users who did not are the rest of the group).
func (q *querier) perEvent(ctx context.Context, s sel, d *data) error {
	ev := "CASE WHEN kind = 3 THEN path ELSE name END"
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "x.user_key")
	w.Write(" AS g, x.k, x.ev, x.c, count(*) FROM (")
	q.eventsIn(w, "2, 3", "user_key, kind AS k, "+ev+" AS ev, count(*) AS c")
	w.Write(" GROUP BY user_key, kind, ", ev, ") AS x WHERE ")
	s.filter(w, "x.user_key")
	w.Write(" GROUP BY g, x.k, x.ev, x.c")
	var g, k, c, n num
	var name string
	return q.query(ctx, w, func() error {
		i := s.base + int(g.v)
		key := eventKey{Kind: int(k.v), Name: name}
		d.mu.Lock()
		defer d.mu.Unlock()
		f := d.perEvent[key]
		if f == nil {
			f = &[2][]stats.Freq{}
			d.perEvent[key] = f
		}
		f[i] = append(f[i], stats.Freq{Value: c.v, Count: int64(n.v)})
		return nil
	}, &g, &k, &name, &c, &n)
}

// sessionFields reads how many of the group's sessions had each value of
// each session field. Sessions, not users: the share of users with at
// least one session of a kind grows with how many sessions they have, and
// would only restate activity. One scan groups the sessions by every
// field at once; the counts per field are summed here.
func (q *querier) sessionFields(ctx context.Context, s sel, d *data) error {
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "x.user_key")
	w.Write(" AS g")
	cols := "user_key"
	for _, f := range sessionFields {
		w.Write(", x.", f[1])
		cols += ", " + f[1]
	}
	w.Write(", count(*) FROM (")
	q.sessionsIn(w, cols)
	w.Write(")")
	inGroupSel(w, s)
	w.Write(" GROUP BY g")
	for _, f := range sessionFields {
		w.Write(", x.", f[1])
	}
	var g, n num
	vals := make([]string, len(sessionFields))
	dest := []any{&g}
	for k := range vals {
		dest = append(dest, &vals[k])
	}
	dest = append(dest, &n)
	return q.query(ctx, w, func() error {
		i := s.base + int(g.v)
		d.mu.Lock()
		defer d.mu.Unlock()
		for k, f := range sessionFields {
			if vals[k] != "" {
				addCount(d.fields, valueKey{f[0], vals[k]}, i, int64(n.v))
			}
		}
		return nil
	}, dest...)
}

func addCount(m map[valueKey]*[2]int64, k valueKey, i int, n int64) {
	c := m[k]
	if c == nil {
		c = &[2]int64{}
		m[k] = c
	}
	c[i] += n
}

// attrKeys are the attributes of one entity compared, by type: the
// text attributes with few values (cats), booleans, numbers and dates.
type attrKeys struct {
	cats, bools, nums, dates []string
}

// categorical returns the text attributes of entity (0 users, 1
// companies) with few enough values to compare value by value.
func (q *querier) categorical(ctx context.Context, entity int, keys []string) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	w := newSQL(q.c.dialect)
	w.Write("SELECT key, count(DISTINCT s) ")
	q.c.dialect.CurrentOf(w, entity, keys, q.site, nil)
	q.c.dialect.EndFrom(w)
	w.Write(" GROUP BY key")
	var out []string
	var key string
	var n num
	err := q.query(ctx, w, func() error {
		if n.v <= maxCategories {
			out = append(out, key)
		}
		return nil
	}, &key, &n)
	return out, err
}

// values reads how many of each group's users have each value of the
// attributes keys, of column col (s or b).
func (q *querier) values(ctx context.Context, s sel, keys []string, col string, d *data) error {
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "entity_key")
	w.Write(" AS g, key, ", col, ", count(*) ")
	q.c.dialect.CurrentFrom(w, keys, q.site, nil)
	w.Write(" AND ")
	s.filter(w, "entity_key")
	q.c.dialect.EndFrom(w)
	w.Write(" GROUP BY g, key, ", col)
	var key string
	var v text
	var g, n num
	return q.query(ctx, w, func() error {
		if !v.ok {
			return nil
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		addCount(d.cats, valueKey{key, v.s}, s.base+int(g.v), int64(n.v))
		return nil
	}, &g, &key, &v, &n)
}

// numbers reads the distribution of each numeric attribute in each group.
func (q *querier) numbers(ctx context.Context, s sel, keys []string, d *data) error {
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "entity_key")
	w.Write(" AS g, key, n, count(*) ")
	q.c.dialect.CurrentFrom(w, keys, q.site, nil)
	w.Write(" AND ")
	s.filter(w, "entity_key")
	w.Write(" AND n IS NOT NULL")
	q.c.dialect.EndFrom(w)
	w.Write(" GROUP BY g, key, n")
	var key string
	var g, v, n num
	return q.query(ctx, w, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		f := d.numbers[key]
		if f == nil {
			f = &[2][]stats.Freq{}
			d.numbers[key] = f
		}
		i := s.base + int(g.v)
		f[i] = append(f[i], stats.Freq{Value: v.v, Count: int64(n.v)})
		return nil
	}, &g, &key, &v, &n)
}

// dates reads the distribution of each date-time attribute in each
// group as whole days from its value to the period's end ("days since",
// negative for a date after it), so that it is compared as a number.
func (q *querier) dates(ctx context.Context, s sel, keys []string, d *data) error {
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "entity_key")
	w.Write(" AS g, key, floor(", q.c.dialect.Seconds("t", "?"), " / 86400) AS days, count(*) ")
	w.args = append(w.args, q.c.dialect.Arg(q.to))
	q.c.dialect.CurrentFrom(w, keys, q.site, nil)
	w.Write(" AND ")
	s.filter(w, "entity_key")
	w.Write(" AND t IS NOT NULL")
	q.c.dialect.EndFrom(w)
	w.Write(" GROUP BY g, key, days")
	var key string
	var g, v, n num
	return q.query(ctx, w, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		f := d.dates[key]
		if f == nil {
			f = &[2][]stats.Freq{}
			d.dates[key] = f
		}
		i := s.base + int(g.v)
		f[i] = append(f[i], stats.Freq{Value: v.v, Count: int64(n.v)})
		return nil
	}, &g, &key, &v, &n)
}

// maxWeeks is the most weeks of retention compared.
const maxWeeks = 12

// weeks is how many whole weeks the period holds (at most maxWeeks).
func (q *querier) weeks() int {
	return min(maxWeeks, int(q.to.Sub(q.from)/(7*24*time.Hour)))
}

// activeWeeks reads, for each whole week of the period counted from its
// start, how many of each group's users started a session in it: the
// group's retention over the period.
func (q *querier) activeWeeks(ctx context.Context, s sel, d *data) error {
	n := q.weeks()
	if n == 0 {
		return nil
	}
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "x.user_key")
	w.Write(" AS g, x.wk, count(DISTINCT x.user_key) FROM (")
	w.Write("SELECT user_key, floor(", q.c.dialect.Seconds("?", "started_at"), " / 604800) AS wk ")
	w.args = append(w.args, q.c.dialect.Arg(q.from))
	q.c.dialect.From(w, compiler.SessionCounts, q.site, nil)
	w.Write(" AND started_at >= ")
	w.Arg(q.from)
	w.Write(" AND started_at < ")
	w.Arg(q.from.Add(time.Duration(n) * 7 * 24 * time.Hour))
	q.c.dialect.EndFrom(w)
	w.Write(")")
	inGroupSel(w, s)
	w.Write(" GROUP BY g, x.wk")
	var g, wk, c num
	return q.query(ctx, w, func() error {
		if k := int(wk.v); k >= 0 && k < n {
			d.mu.Lock()
			d.active[s.base+int(g.v)][k] += int64(c.v)
			d.mu.Unlock()
		}
		return nil
	}, &g, &wk, &c)
}

// nps reads the distribution of each group's latest NPS scores in the
// period, over all NPS surveys.
func (q *querier) nps(ctx context.Context, s sel, d *data) error {
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "x.u")
	w.Write(" AS g, x.score, count(*) FROM (SELECT i.entity_key AS u, argMax(r.nps, r.updated_at) AS score ")
	q.c.dialect.Responses(w, "survey_responses", q.site, nil)
	w.Write(" AND r.nps IS NOT NULL AND r.updated_at >= ")
	w.Arg(q.from)
	w.Write(" AND r.updated_at < ")
	w.Arg(q.to)
	w.Write(" GROUP BY i.entity_key) AS x WHERE ")
	s.filter(w, "x.u")
	w.Write(" GROUP BY g, x.score")
	var g, v, n num
	return q.query(ctx, w, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		i := s.base + int(g.v)
		d.nps[i] = append(d.nps[i], stats.Freq{Value: v.v, Count: int64(n.v)})
		return nil
	}, &g, &v, &n)
}

// ratings reads the distribution of each group's feedback ratings.
func (q *querier) ratings(ctx context.Context, s sel, d *data) error {
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "i.entity_key")
	w.Write(" AS g, r.rating, count(*) ")
	q.c.dialect.Responses(w, "feedback", q.site, nil)
	w.Write(" AND r.created_at >= ")
	w.Arg(q.from)
	w.Write(" AND r.created_at < ")
	w.Arg(q.to)
	w.Write(" AND ")
	s.filter(w, "i.entity_key")
	w.Write(" GROUP BY g, r.rating")
	var g, v, n num
	return q.query(ctx, w, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		i := s.base + int(g.v)
		d.rating[i] = append(d.rating[i], stats.Freq{Value: v.v, Count: int64(n.v)})
		return nil
	}, &g, &v, &n)
}

package compare

import (
	"context"
	"fmt"
	"slices"
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
	var texts [2][]string
	for e, scope := range []segment.Scope{segment.ScopeUser, segment.ScopeCompany} {
		types := d.catType
		if scope == segment.ScopeCompany {
			types = d.company.catType
		}
		for _, k := range cat.AttributeKeys(scope) {
			t, _ := cat.AttributeType(scope, k)
			switch t {
			case attr.String:
				texts[e] = append(texts[e], k)
			case attr.Boolean:
				keys[e].bools = append(keys[e].bools, k)
				types[k] = attr.Boolean
			case attr.Number:
				keys[e].nums = append(keys[e].nums, k)
			case attr.Datetime:
				keys[e].dates = append(keys[e].dates, k)
			}
		}
	}
	d.size = sizes
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	// Which text attributes are categories is read first, while the
	// other queries start; the queries of text values wait for it.
	catsDone := make(chan struct{})
	g.Go(func() error {
		defer close(catsDone)
		for e := range 2 {
			cats, err := q.categorical(ctx, e, texts[e])
			if err != nil {
				return err
			}
			keys[e].cats = cats
		}
		for _, k := range keys[0].cats {
			d.catType[k] = attr.String
		}
		for _, k := range keys[1].cats {
			d.company.catType[k] = attr.String
		}
		return nil
	})
	afterCats := func(f func() error) func() error {
		return func() error {
			select {
			case <-catsDone:
			case <-ctx.Done():
				return nil // the failure is reported by the query that failed
			}
			if ctx.Err() != nil {
				return nil
			}
			return f()
		}
	}
	for _, s := range sels {
		s.site, s.d = q.site, q.c.dialect
		g.Go(func() error { return q.perEvent(ctx, s, true, d) })
		g.Go(func() error { return q.perEvent(ctx, s, false, d) })
		g.Go(func() error { return q.activity(ctx, s, d) })
		g.Go(func() error { return q.sessionFields(ctx, s, d) })
		g.Go(afterCats(func() error {
			if u := keys[0]; len(u.cats)+len(u.bools)+len(u.nums)+len(u.dates) > 0 {
				return q.attributes(ctx, s, u, d)
			}
			return nil
		}))
		g.Go(afterCats(func() error {
			if co := keys[1]; len(co.cats)+len(co.bools)+len(co.nums)+len(co.dates) > 0 {
				return q.companies(ctx, s, co, d)
			}
			return nil
		}))
		if len(questions) > 0 {
			g.Go(func() error { return q.answers(ctx, s, questions, d) })
		}
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

// perEvent reads, for every track event (pages false) or page (true),
// how many users did it how many times (users who did not are the rest
// of the group): track events from event_days on the period's whole
// days and from the events on its edges, page views from the events.
func (q *querier) perEvent(ctx context.Context, s sel, pages bool, d *data) error {
	dl := q.c.dialect
	sp := cut(q.from, q.to)
	w := newSQL(dl)
	w.Write("SELECT ")
	s.label(w, "y.u")
	w.Write(" AS g, y.ev, y.c, count(*) FROM (")
	kind := kindTrack
	if pages {
		kind = kindPage
		w.Write("SELECT user_key AS u, path AS ev, count(*) AS c ")
		dl.From(w, compiler.Events, q.site, nil)
		w.Write(" AND kind = ", itoa(kindPage), " AND ts >= ")
		w.Arg(q.from)
		w.Write(" AND ts < ")
		w.Arg(q.to)
		dl.EndFrom(w)
		w.Write(" GROUP BY user_key, path")
	} else {
		w.Write("SELECT x.u AS u, x.ev AS ev, sum(x.c) AS c FROM (")
		union := ""
		if sp.hasWhole() {
			w.Write("SELECT user_key AS u, name AS ev, ", dl.BigInt("events"), " AS c ")
			dl.From(w, compiler.EventDayCounts, q.site, nil)
			w.Write(" AND first_ts >= ")
			w.Arg(sp.whole[0])
			w.Write(" AND first_ts < ")
			w.Arg(sp.whole[1])
			dl.EndFrom(w)
			union = " UNION ALL "
		}
		for _, e := range sp.edges {
			w.Write(union, "SELECT user_key AS u, name AS ev, ", dl.Int(1), " AS c ")
			dl.From(w, compiler.Events, q.site, nil)
			w.Write(" AND kind = ", itoa(kindTrack), " AND ts >= ")
			w.Arg(e.from)
			w.Write(" AND ts < ")
			w.Arg(e.to)
			dl.EndFrom(w)
			union = " UNION ALL "
		}
		w.Write(") AS x GROUP BY x.u, x.ev")
	}
	w.Write(") AS y GROUP BY g, y.ev, y.c")
	var g, c, n num
	var name string
	return q.query(ctx, w, func() error {
		i, ok := s.group(g.v)
		if !ok {
			return nil
		}
		key := eventKey{Kind: kind, Name: name}
		d.mu.Lock()
		defer d.mu.Unlock()
		f := d.perEvent[key]
		if f == nil {
			f = &[2][]stats.Freq{}
			d.perEvent[key] = f
		}
		f[i] = append(f[i], stats.Freq{Value: c.v, Count: int64(n.v)})
		return nil
	}, &g, &name, &c, &n)
}

// sessionFields reads how many of the group's sessions had each value of
// each session field, and the sums over the group's sessions of their
// duration and frustration signals. Sessions, not users: the share of
// users with at least one session of a kind grows with how many sessions
// they have, and would only restate activity. One scan groups the
// sessions by every field at once; the counts per field and the sums
// are added up here.
func (q *querier) sessionFields(ctx context.Context, s sel, d *data) error {
	dur := q.c.dialect.Seconds("started_at", "ended_at")
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "x.user_key")
	w.Write(" AS g")
	cols := "user_key, " + dur + " AS dur, rage_clicks, dead_clicks, errors"
	for _, f := range sessionFields {
		w.Write(", x.", f[1])
		cols += ", " + f[1]
	}
	w.Write(", count(*), sum(x.dur), sum(x.dur * x.dur), sum(x.rage_clicks), sum(x.rage_clicks * x.rage_clicks),",
		" sum(x.dead_clicks), sum(x.dead_clicks * x.dead_clicks), sum(x.errors), sum(x.errors * x.errors) FROM (")
	q.sessionsIn(w, cols)
	w.Write(") AS x GROUP BY g")
	for _, f := range sessionFields {
		w.Write(", x.", f[1])
	}
	var g num
	var v [9]num
	vals := make([]string, len(sessionFields))
	dest := []any{&g}
	for k := range vals {
		dest = append(dest, &vals[k])
	}
	for k := range v {
		dest = append(dest, &v[k])
	}
	return q.query(ctx, w, func() error {
		i, ok := s.group(g.v)
		if !ok {
			return nil
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		n := int64(v[0].v)
		for k, f := range sessionFields {
			if vals[k] != "" {
				addCount(d.fields, valueKey{f[0], vals[k]}, i, n)
			}
		}
		for k, m := range []*sums{&d.duration[i], &d.rage[i], &d.dead[i], &d.errors[i]} {
			m.N += v[0].v
			m.Sum += v[1+2*k].v
			m.Sq += v[2+2*k].v
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

// attributes reads, for the user attributes keys (text ones with few
// values, booleans, numbers and date-times, as days before the period's
// end), how many of each group's users have each value: one scan of the
// current values.
func (q *querier) attributes(ctx context.Context, s sel, keys attrKeys, d *data) error {
	all := append(append(append(append([]string(nil), keys.cats...), keys.bools...), keys.nums...), keys.dates...)
	w := newSQL(q.c.dialect)
	w.Write("SELECT ")
	s.label(w, "entity_key")
	w.Write(" AS g, key, s, b, n, ", q.daysBefore("t"), " AS days, count(*) ")
	q.c.dialect.CurrentFrom(w, all, q.site, nil)
	q.c.dialect.EndFrom(w)
	w.Write(" GROUP BY g, key, s, b, n, days")
	var key string
	var str, b text
	var n, days maybeNum
	var g, c num
	return q.query(ctx, w, func() error {
		i, ok := s.group(g.v)
		if !ok {
			return nil
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		switch {
		case slices.Contains(keys.cats, key) && str.ok:
			addCount(d.cats, valueKey{key, str.s}, i, int64(c.v))
		case slices.Contains(keys.bools, key) && b.ok:
			addCount(d.cats, valueKey{key, b.s}, i, int64(c.v))
		case slices.Contains(keys.nums, key) && n.ok:
			addFreq(d.numbers, key, i, n.v, int64(c.v))
		case slices.Contains(keys.dates, key) && days.ok:
			addFreq(d.dates, key, i, days.v, int64(c.v))
		}
		return nil
	}, &g, &key, &str, &b, &n, &days, &c)
}

// addFreq counts n units of value v in group i of m's key.
func addFreq(m map[string]*[2][]stats.Freq, key string, i int, v float64, n int64) {
	f := m[key]
	if f == nil {
		f = &[2][]stats.Freq{}
		m[key] = f
	}
	f[i] = append(f[i], stats.Freq{Value: v, Count: n})
}

// daysBefore writes the whole days from the timestamp expression col to
// the period's end (negative after it), in integer arithmetic on
// microseconds.
func (q *querier) daysBefore(col string) string {
	d := q.c.dialect
	return "floor((" + d.Int(q.to.UnixMicro()) + " - " + d.Micros(col) + ") / 86400000000.0)"
}

// maxWeeks is the most weeks of retention compared.
const maxWeeks = 12

// weeks is how many whole weeks the period holds (at most maxWeeks).
func (q *querier) weeks() int {
	return min(maxWeeks, int(q.to.Sub(q.from)/(7*24*time.Hour)))
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
	w.Write(" GROUP BY i.entity_key) AS x GROUP BY g, x.score")
	var g, v, n num
	return q.query(ctx, w, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		i, ok := s.group(g.v)
		if !ok {
			return nil
		}
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
	w.Write(" GROUP BY g, r.rating")
	var g, v, n num
	return q.query(ctx, w, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		i, ok := s.group(g.v)
		if !ok {
			return nil
		}
		d.rating[i] = append(d.rating[i], stats.Freq{Value: v.v, Count: int64(n.v)})
		return nil
	}, &g, &v, &n)
}

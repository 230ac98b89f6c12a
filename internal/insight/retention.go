package insight

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/segment/compiler"
)

// RetentionResult is a retention table per breakdown group.
type RetentionResult struct {
	Interval Interval         `json:"interval"`
	TZ       string           `json:"tz"`
	Start    string           `json:"start"`  // the cohort's event, as text, or first_seen
	Return   string           `json:"return"` // the return event, as text, or any
	Periods  int              `json:"periods"`
	Groups   []RetentionGroup `json:"groups"`
}

// RetentionGroup is one group's cohorts.
type RetentionGroup struct {
	Group   string   `json:"group"`
	Cohorts []Cohort `json:"cohorts"`
	// Average is, per period, the returned users over the cohorts' users,
	// among the cohorts whose period has begun; nil when none has.
	Average []*float64 `json:"average"`
}

// Cohort is the users whose first start event fell in one period, and
// how many of them did the return event in each period from it (period
// 0 is the cohort's own, counting return events at or after the start).
// Periods that have not begun yet are nil.
type Cohort struct {
	Start    string     `json:"start"`
	Users    int64      `json:"users"`
	Returned []*int64   `json:"returned"`
	Shares   []*float64 `json:"shares"`
}

// Retention computes a retention table: one query per breakdown group.
func (e *Engine) Retention(ctx context.Context, site int64, def Retention) (*RetentionResult, error) {
	sp, err := def.resolve(e.now())
	if err != nil {
		return nil, err
	}
	if def.Interval == "" {
		def.Interval = Week
	}
	if def.Interval != Day && def.Interval != Week {
		return nil, invalid("invalid_interval", "interval", "a retention's interval is day or week, not %q", def.Interval)
	}
	if def.Periods == 0 {
		def.Periods = 8
	}
	if def.Periods < 1 || def.Periods > MaxPeriods {
		return nil, invalid("invalid_periods", "periods", "periods is 1 to %d", MaxPeriods)
	}
	res := &RetentionResult{Interval: def.Interval, TZ: sp.loc.String(), Periods: def.Periods}
	start, ret := anyEvent, anyEvent
	res.Start, res.Return = "first_seen", "any"
	if !keyword(def.Start, "first_seen") {
		ev, err := e.event(ctx, site, def.Start, "start")
		if err != nil {
			return nil, err
		}
		start, res.Start = ev.rows, ev.text
	}
	if !keyword(def.Return, "any") {
		ev, err := e.event(ctx, site, def.Return, "return")
		if err != nil {
			return nil, err
		}
		ret, res.Return = ev.rows, ev.text
	}
	step := 24 * time.Hour
	if def.Interval == Week {
		step *= 7
	}
	// Periods are calendar days or weeks: a change of daylight saving
	// time moves the end by an hour at most, which the extra day covers.
	g, err := newGrid(sp.loc, def.Interval, sp.first, sp.last, sp.last)
	if err != nil {
		return nil, invalid("invalid_range", "to", "%v", err)
	}
	until := g.end().Add(time.Duration(def.Periods)*step + 24*time.Hour)
	if g, err = newGrid(sp.loc, def.Interval, sp.first, sp.last, until); err != nil {
		return nil, invalid("invalid_range", "to", "%v", err)
	}
	groups, err := e.groups(ctx, site, def.Breakdown)
	if err != nil {
		return nil, err
	}
	if res.Groups, err = e.retentionGroups(ctx, site, g, start, ret, def.Periods, until, groups); err != nil {
		return nil, err
	}
	return res, nil
}

// retentionGroups computes every group's table in one query that reads
// the cohorts once: each user's cohort (the bucket of their first start
// moment) joined with their return events, grouped by user into a mask
// of the periods they came back in (bit k: period k; bit periods+1
// collects the events outside them), then counted per cohort and mask,
// each group's under its membership flag (g1, g2, …, computed once per
// user). A cohort's size is the sum over its masks; its returns in
// period k the sum over the masks with bit k.
func (e *Engine) retentionGroups(ctx context.Context, site int64, g *grid, start, ret compiler.Query, periods int,
	until time.Time, groups []group) ([]RetentionGroup, error) {
	q := newQuery(e.d)
	bucket := func(col string) {
		q.Write("CAST(")
		g.bucketOf(q, col)
		q.Write(" AS BIGINT)")
	}
	flags := func() {
		for gi, grp := range groups {
			if grp.members != nil {
				q.Write(", g", strconv.Itoa(gi))
			}
		}
	}
	q.Write("SELECT c, CAST(m AS BIGINT) AS m")
	for gi, grp := range groups {
		flag := ""
		if grp.members != nil {
			flag = "g" + strconv.Itoa(gi)
		}
		q.Write(", ", e.d.AggWhere("count", "*", flag), " AS n", strconv.Itoa(gi))
	}
	out := strconv.Itoa(periods + 1)
	k := "CASE WHEN us >= t0 AND r >= c AND r - c <= " + strconv.Itoa(periods) + " THEN r - c ELSE " + out + " END"
	q.Write(" FROM (SELECT user_key, c")
	flags()
	q.Write(", ", e.d.BitOr(e.d.PowerOfTwo("k")), " AS m FROM (SELECT user_key, c")
	flags()
	q.Write(", ", k, " AS k FROM (SELECT user_key, t0, ")
	bucket("t0")
	q.Write(" AS c")
	for gi, grp := range groups {
		if grp.members != nil {
			q.Write(", (user_key IN (")
			q.Frag(*grp.members)
			q.Write(")) AS g", strconv.Itoa(gi))
		}
	}
	// The users' first start moments. Activity of any kind reads
	// user_days: the first time of a user's first day is their first.
	days := isAnyEvent(start)
	from, col := compiler.Events, "ts"
	if days {
		from, col = compiler.UserDays, "first_ts"
	}
	q.Write(" FROM (SELECT user_key, min(", e.d.Micros(col), ") AS t0 ")
	e.d.From(q, from, site, nil)
	if !days {
		q.Frag(start)
	}
	q.Write(" AND ", col, " < ")
	q.Arg(g.end())
	e.d.EndFrom(q)
	q.Write(" GROUP BY user_key HAVING min(", e.d.Micros(col), ") >= ")
	q.Int(g.start().UnixMicro())
	q.Write(") AS c0) AS a ", e.d.LeftJoin(), " (SELECT user_key, us, ")
	bucket("us")
	q.Write(" AS r FROM (")
	returns := func(from compiler.Table, col string, cond *compiler.Query) {
		q.Write("SELECT user_key, ", e.d.Micros(col), " AS us ")
		e.d.From(q, from, site, nil)
		if cond != nil {
			q.Frag(*cond)
		}
		q.Write(" AND ", col, " >= ")
		q.Arg(g.start())
		q.Write(" AND ", col, " < ")
		q.Arg(until)
		e.d.EndFrom(q)
	}
	if days && isAnyEvent(ret) {
		// A UTC day's events lie between its first and last, which
		// are events themselves: the periods (local days or weeks,
		// whose bounds the range starts on) that a day's events fall
		// in are those of its first and its last.
		returns(compiler.UserDays, "first_ts", nil)
		q.Write(" UNION ALL ")
		returns(compiler.UserDays, "last_ts", nil)
	} else {
		returns(compiler.Events, "ts", &ret)
	}
	q.Write(") AS b0) AS b USING (user_key)) AS x GROUP BY user_key, c")
	flags()
	q.Write(") AS y GROUP BY c, m")

	sizes := make([][]int64, len(groups))
	returned := make([][][]int64, len(groups))
	for gi := range groups {
		sizes[gi] = make([]int64, g.len())
		returned[gi] = make([][]int64, g.len())
		for i := range returned[gi] {
			returned[gi][i] = make([]int64, periods+1)
		}
	}
	err := e.rows(ctx, "retention", q, func(r *sql.Rows) error {
		var c, m int64
		ns := make([]int64, len(groups))
		dest := []any{&c, &m}
		for i := range ns {
			dest = append(dest, &ns[i])
		}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		i, ok := g.bucket(c)
		if !ok {
			return nil
		}
		for gi, n := range ns {
			sizes[gi][i] += n
			for k := 0; k <= periods; k++ {
				if m>>k&1 == 1 {
					returned[gi][i][k] += n
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := make([]RetentionGroup, len(groups))
	for gi, grp := range groups {
		res[gi] = e.retentionTable(grp.label, g, periods, sizes[gi], returned[gi])
	}
	return res, nil
}

// retentionTable builds a group's cohorts from its counts, leaving out
// the periods that have not begun.
func (e *Engine) retentionTable(label string, g *grid, periods int, sizes []int64, returned [][]int64) RetentionGroup {
	out := RetentionGroup{Group: label}
	now := e.now()
	sums, bases := make([]int64, periods+1), make([]int64, periods+1)
	for i := range g.len() {
		co := Cohort{Start: g.label(i), Users: sizes[i], Returned: make([]*int64, periods+1), Shares: make([]*float64, periods+1)}
		begin := g.starts[i]
		for k := 0; k <= periods; k++ {
			if k > 0 {
				begin = g.next(begin)
			}
			if begin.After(now) {
				break
			}
			n := returned[i][k]
			share := ratio(n, sizes[i])
			co.Returned[k], co.Shares[k] = &n, &share
			sums[k] += n
			bases[k] += sizes[i]
		}
		out.Cohorts = append(out.Cohorts, co)
	}
	out.Average = make([]*float64, periods+1)
	for k := range out.Average {
		if bases[k] > 0 {
			a := ratio(sums[k], bases[k])
			out.Average[k] = &a
		}
	}
	return out
}

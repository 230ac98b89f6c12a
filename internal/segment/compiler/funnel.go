package compiler

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// Funnel is ordered steps, each a did(…) or visited(…) condition, and a
// conversion window. A user enters at the first time they do step 1 in
// [From, To); each later step counts at the user's first event of it
// strictly after the previous step's, and no later than Window after
// entering (the window's end included). Taking the earliest next event
// leaves the most room for the steps after, so a user reaches the
// deepest step any sequence from that entry would reach.
type Funnel struct {
	Steps    []segment.Node
	From, To time.Time
	Window   time.Duration
}

// FunnelTimes compiles the query of the users who entered f, restricted
// to members (a set of u) when it is not nil, with the moment they
// reached each of the first upto steps: columns user_key, t1, …, t<upto>,
// microseconds since the epoch, 0 for a step not reached.
//
// The dialect chooses the plan (InsightDialect.FunnelByLists): a join per
// step, or one grouping of every step's events by user.
func (c *Compiler) FunnelTimes(f Funnel, upto int, members *Query) (Query, error) {
	d, ok := c.Dialect.(InsightDialect)
	if !ok {
		return Query{}, fmt.Errorf("dialect %T cannot compute funnels", c.Dialect)
	}
	if upto < 1 || upto > len(f.Steps) {
		return Query{}, fmt.Errorf("BUG: funnel times up to step %d of %d", upto, len(f.Steps))
	}
	if d.FunnelByLists() {
		return c.funnelByLists(d, f, upto, members)
	}
	return c.funnelByJoins(d, f, upto, members)
}

// stepRow is what a funnel step reads: a table, and the conditions on
// its rows (" AND …") that make the step count.
type stepRow struct {
	Query
	table Table
}

// stepRows returns the reads of the funnel's first upto steps: of
// EventsByName, where one step's rows are together, unless the step has
// property filters, which only the events have.
func (c *Compiler) stepRows(f Funnel, upto int) ([]stepRow, error) {
	rows := make([]stepRow, upto)
	for i := range upto {
		q, ok, err := c.NameRows(f.Steps[i])
		if err != nil {
			return nil, err
		}
		if ok {
			rows[i] = stepRow{q, EventsByName}
			continue
		}
		if q, err = c.EventRows(f.Steps[i]); err != nil {
			return nil, err
		}
		rows[i] = stepRow{q, Events}
	}
	return rows, nil
}

// funnelByJoins joins the users with their step-j events for each step
// (one LEFT JOIN per SELECT, as ClickHouse 18.16 allows) and keeps the
// earliest that qualifies, so the query reads the events of each step
// once. DuckDB runs it fastest: its joins filter the next scan by the
// keys of the users who entered.
func (c *Compiler) funnelByJoins(d InsightDialect, f Funnel, upto int, members *Query) (Query, error) {
	rows, err := c.stepRows(f, upto)
	if err != nil {
		return Query{}, err
	}
	b := &builder{c: c, visiting: map[string]bool{}}
	us := d.Micros("ts")
	var level func(j int) error
	level = func(j int) error {
		if j == 1 {
			b.w("SELECT user_key, min(", us, ") AS t1 ")
			return b.from(rows[0].table, func() error {
				b.w(rows[0].SQL)
				b.args = append(b.args, rows[0].Args...)
				b.w(" AND ts >= ")
				b.arg(f.From)
				b.w(" AND ts < ")
				b.arg(f.To)
				if members != nil {
					b.w(" AND user_key IN (", members.SQL, ")")
					b.args = append(b.args, members.Args...)
				}
				return nil
			})
		}
		prev := times(j - 1)
		tj, tp := "t"+strconv.Itoa(j), "t"+strconv.Itoa(j-1)
		b.w("SELECT user_key, ", prev, ", ", d.MinWhere("us",
			tp+" > 0 AND us > "+tp+" AND us <= t1 + CAST("+strconv.FormatInt(f.Window.Microseconds(), 10)+" AS BIGINT)"),
			" AS ", tj, " FROM (")
		if err := level(j - 1); err != nil {
			return err
		}
		if j-1 > 1 {
			b.w(" GROUP BY user_key, ", times(j-2))
		} else {
			b.w(" GROUP BY user_key")
		}
		b.w(") AS p ", d.LeftJoin(), " (SELECT user_key, ", us, " AS us ")
		if err := b.from(rows[j-1].table, func() error {
			b.w(rows[j-1].SQL)
			b.args = append(b.args, rows[j-1].Args...)
			b.w(" AND ts >= ")
			b.arg(f.From)
			b.w(" AND ts <= ")
			b.arg(f.To.Add(f.Window))
			return nil
		}); err != nil {
			return err
		}
		b.w(") AS e USING (user_key)")
		return nil
	}
	if err := level(upto); err != nil {
		return Query{}, err
	}
	if upto > 1 {
		b.w(" GROUP BY user_key, ", times(upto-1))
	} else {
		b.w(" GROUP BY user_key")
	}
	return Query{SQL: b.sql.String(), Args: b.args}, nil
}

// funnelByLists reads the events of each step (a UNION ALL of one read
// per step, each filtered on its own columns, which the databases push
// into their scans) and groups them by user once: the entry t1 is the
// user's first step-1 event in the range, and each later step's events
// are collected in a list of their moments (InsightDialect.ListWhere).
// Step j is then the smallest moment of its list after step j-1 and
// within the window (ListMin), row by row, one derived table per step:
// no join.
func (c *Compiler) funnelByLists(d InsightDialect, f Funnel, upto int, members *Query) (Query, error) {
	rows, err := c.stepRows(f, upto)
	if err != nil {
		return Query{}, err
	}
	b := &builder{c: c, visiting: map[string]bool{}}
	lists := func(from int) string {
		s := ""
		for j := from; j <= upto; j++ {
			s += ", s" + strconv.Itoa(j)
		}
		return s
	}
	win := d.Int(f.Window.Microseconds())
	// The steps after the first, each a derived table over the one
	// before, from the last inwards.
	for j := upto; j >= 2; j-- {
		tj, tp := "t"+strconv.Itoa(j), "t"+strconv.Itoa(j-1)
		b.w("SELECT user_key, ", times(j-1), ", CASE WHEN ", tp, " > 0 THEN ",
			d.ListMin("s"+strconv.Itoa(j), tp, "t1 + "+win), " ELSE 0 END AS ", tj, lists(j+1), " FROM (")
	}
	// The users who entered, with their entry and the lists of the
	// moments of the later steps' events.
	b.w("SELECT user_key, t1", lists(2), " FROM (SELECT user_key, ", d.MinWhere("us", "st = 1"), " AS t1")
	for j := 2; j <= upto; j++ {
		b.w(", ", d.ListWhere("us", "st = "+strconv.Itoa(j)), " AS s", strconv.Itoa(j))
	}
	b.w(" FROM (")
	for i := range upto {
		if i > 0 {
			b.w(" UNION ALL ")
		}
		b.w("SELECT user_key, ", d.Micros("ts"), " AS us, ", strconv.Itoa(i+1), " AS st ")
		if err := b.from(rows[i].table, func() error {
			b.w(rows[i].SQL)
			b.args = append(b.args, rows[i].Args...)
			b.w(" AND ts >= ")
			b.arg(f.From)
			if i == 0 {
				b.w(" AND ts < ")
				b.arg(f.To)
				if members != nil {
					b.w(" AND user_key IN (", members.SQL, ")")
					b.args = append(b.args, members.Args...)
				}
			} else {
				b.w(" AND ts <= ")
				b.arg(f.To.Add(f.Window))
			}
			return nil
		}); err != nil {
			return Query{}, err
		}
	}
	b.w(") AS e GROUP BY user_key) AS a WHERE t1 > 0")
	for j := 2; j <= upto; j++ {
		b.w(") AS l", strconv.Itoa(j))
	}
	return Query{SQL: b.sql.String(), Args: b.args}, nil
}

// times returns "t1, t2, …, tn".
func times(n int) string {
	s := ""
	for i := 1; i <= n; i++ {
		if i > 1 {
			s += ", "
		}
		s += "t" + strconv.Itoa(i)
	}
	return s
}

// FunnelResolver returns a saved funnel, for funnel_step conditions.
type FunnelResolver func(id string) (Funnel, error)

// funnelStep writes the users whose deepest step in a saved funnel
// satisfies the count: users who never entered it are at step 0, so a
// count that admits zero takes everyone but those entered whose depth
// fails it. completed_funnel is a depth of at least the funnel's steps.
// The funnel's range is the saved one's as of now, also in a historical
// query.
func (b *builder) funnelStep(n *segment.FunnelStep) error {
	if b.c.ResolveFunnel == nil {
		return fmt.Errorf("funnel %q: no saved funnels to refer to", n.ID)
	}
	f, err := b.c.ResolveFunnel(n.ID)
	if err != nil {
		return fmt.Errorf("funnel %q: %w", n.ID, err)
	}
	times, err := b.c.FunnelTimes(f, len(f.Steps), nil)
	if err != nil {
		return err
	}
	depth := ""
	for j := 1; j <= len(f.Steps); j++ {
		if j > 1 {
			depth += " + "
		}
		depth += "CASE WHEN t" + strconv.Itoa(j) + " > 0 THEN 1 ELSE 0 END"
	}
	c := normCount(n.Count)
	if n.Completed {
		c = segment.Count{Op: segment.OpGe, N: float64(len(f.Steps))}
	}
	rows := func(not bool) func() error {
		return func() error {
			b.w("SELECT user_key AS u FROM (", times.SQL, ") AS f WHERE ")
			b.args = append(b.args, times.Args...)
			if not {
				b.w("NOT ")
			}
			b.w("(", depth, " ", string(c.Op), " ")
			b.arg(c.N)
			b.w(")")
			if b.one {
				b.w(" AND user_key = ")
				b.arg(b.user)
			}
			return nil
		}
	}
	if admitsZero(c) {
		return b.minus(b.universe, func() error { return b.leaf(rows(true)) })
	}
	return b.leaf(rows(false))
}

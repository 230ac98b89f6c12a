package experiment

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// A funnel goal converts a user who, after their exposure and before the
// experiment's end, did the funnel's first step and then each next step
// after the one before, the last within the window of the first. As in
// insights' funnels, each step counts at the user's first event of it
// after the previous step's, which leaves the most room for the steps
// after; unlike them, the first step counts from the exposure, so that a
// user who went through the funnel before seeing a variant does not
// convert on it.

// funnelSteps compiles a funnel goal's steps to conditions on an event
// row (compiler.EventRows).
func (q *query) funnelSteps(ctx context.Context, gi int) ([]compiler.Query, error) {
	g := q.d.Goals[gi]
	c, err := q.r.seg.Compiler(ctx, q.site, nil)
	if err != nil {
		return nil, err
	}
	var out []compiler.Query
	for i, step := range g.Steps {
		field := fmt.Sprintf("goals[%d].steps[%d]", gi, i)
		text := step
		if !strings.Contains(step, "(") {
			text = segment.Format(&segment.Event{Name: step})
		}
		n, err := q.r.seg.Prepare(ctx, q.site, engine.Definition{Text: text}, "")
		if err != nil {
			return nil, apierr.Invalid("invalid_experiment", field, "%v", err)
		}
		rows, err := c.EventRows(n)
		if err != nil {
			return nil, apierr.Invalid("invalid_experiment", field, "%v", err)
		}
		out = append(out, rows)
	}
	return out, nil
}

// funnelGoal reads how many users of each variant, in each part,
// converted on funnel goal gi: one derived table per step, each joining
// the users as far as the step before with the step's events (one JOIN
// per SELECT, as ClickHouse 18.16 allows).
func (q *query) funnelGoal(ctx context.Context, gi int, segs []*store.KeySet, out *sums) error {
	d, ok := q.r.dialect.(compiler.InsightDialect)
	if !ok {
		return fmt.Errorf("dialect %T cannot compute funnels", q.r.dialect)
	}
	steps, err := q.funnelSteps(ctx, gi)
	if err != nil {
		return err
	}
	window, err := ParseWindow(q.d.Goals[gi].Window)
	if err != nil {
		return apierr.Invalid("invalid_experiment", fmt.Sprintf("goals[%d].window", gi), "%v", err)
	}
	parts := 1 + len(segs)
	// The columns every level carries: the user, the variant, the
	// exposure (microseconds), the breakdown flags.
	keep := "p.u AS u, p.v AS v, p.t AS t"
	for i := range segs {
		f := "f" + strconv.Itoa(i+1)
		keep += ", p." + f + " AS " + f
	}
	w := &sqlw{d: d}
	var level func(j int)
	level = func(j int) {
		tj := "t" + strconv.Itoa(j)
		w.Write("SELECT ", keep)
		for k := 1; k < j; k++ {
			w.Write(", p.t", strconv.Itoa(k), " AS t", strconv.Itoa(k))
		}
		cond := "s.us >= p.t"
		if j > 1 {
			tp := "p.t" + strconv.Itoa(j-1)
			cond = tp + " > 0 AND s.us > " + tp + " AND s.us <= p.t1 + " + d.Int(window.Microseconds())
		}
		w.Write(", ", d.MinWhere("s.us", cond), " AS ", tj, " FROM (")
		if j == 1 {
			w.Write("SELECT x.u AS u, x.lo AS v, ", d.Micros("x.first"), " AS t")
			flags(w, "x.u", segs)
			w.Write(" FROM ")
			q.exposed(w, nil)
			w.Write(" AND x.lo = x.hi")
		} else {
			level(j - 1)
		}
		w.Write(") AS p ", d.LeftJoin(), " (SELECT user_key, ", d.Micros("ts"), " AS us ")
		d.From(w, compiler.Events, q.site, nil)
		w.Write(steps[j-1].SQL)
		w.args = append(w.args, steps[j-1].Args...)
		w.Write(" AND ts >= ")
		w.Arg(q.start)
		w.Write(" AND ts < ")
		w.Arg(q.end)
		d.EndFrom(w)
		w.Write(") AS s ON s.user_key = p.u GROUP BY p.u, p.v, p.t")
		for i := range segs {
			w.Write(", p.f", strconv.Itoa(i+1))
		}
		for k := 1; k < j; k++ {
			w.Write(", p.t", strconv.Itoa(k))
		}
	}
	last := "y.t" + strconv.Itoa(len(steps))
	sel := &sqlw{d: d}
	sel.Write("SELECT y.v")
	for p := range parts {
		sel.Write(", sum(CASE WHEN ", partCond("y", p), " AND ", last, " > 0 THEN 1 ELSE 0 END)")
	}
	sel.Write(" FROM (")
	level(len(steps))
	sel.Write(w.b.String(), ") AS y GROUP BY y.v")
	sel.args = append(sel.args, w.args...)
	var v string
	conv := make([]num, parts)
	dest := []any{&v}
	for p := range conv {
		dest = append(dest, &conv[p])
	}
	return q.run(ctx, sel, func() {
		for p := range parts {
			c := conv[p].v
			out.goals[p][gi][v] = goalSums{converted: int64(c), sum: c, sq: c}
		}
	}, dest...)
}

package experiment

import (
	"context"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
)

// sums holds what the database returned for every part at once: part 0
// is everyone exposed, part i the exposed members of breakdown i.
type sums struct {
	counts   []map[string]int64      // users exposed to each variant alone
	multiple []int64                 // users exposed to more than one
	goals    [][]map[string]goalSums // by part, goal and variant
}

// flags writes, for each breakdown segment, the column f<i>: whether
// the user col is one of its members.
func flags(w *sqlw, col string, segs []*store.KeySet) {
	for i, ks := range segs {
		w.Write(", CASE WHEN ", col, " IN (")
		w.members(*ks)
		w.Write(") THEN 1 ELSE 0 END AS f", strconv.Itoa(i+1))
	}
}

// partCond is the condition of part p's rows on a derived table's flag
// columns (alias t).
func partCond(t string, p int) string {
	if p == 0 {
		return "1 = 1"
	}
	return t + ".f" + strconv.Itoa(p) + " = 1"
}

// together computes the exposures and every goal's sums of every part
// in two queries, each reading the exposures once, the second reading
// the goals' events once: the breakdowns are flags on each exposed user
// (computed once per user), and each part's aggregates are filtered by
// its flag.
func (q *query) together(ctx context.Context, segs []*store.KeySet) (*sums, error) {
	parts := 1 + len(segs)
	out := &sums{counts: make([]map[string]int64, parts), multiple: make([]int64, parts),
		goals: make([][]map[string]goalSums, parts)}
	for p := range parts {
		out.counts[p] = map[string]int64{}
		out.goals[p] = make([]map[string]goalSums, len(q.d.Goals))
		for j := range q.d.Goals {
			out.goals[p][j] = map[string]goalSums{}
		}
	}
	d := q.r.dialect

	// The exposures.
	w := &sqlw{d: d}
	w.Write("SELECT z.variant")
	for p := range parts {
		w.Write(", sum(CASE WHEN ", partCond("z", p), " THEN 1 ELSE 0 END)")
	}
	w.Write(" FROM (SELECT CASE WHEN x.lo = x.hi THEN x.lo ELSE '' END AS variant")
	flags(w, "x.u", segs)
	w.Write(" FROM ")
	q.exposed(w, nil)
	w.Write(") AS z GROUP BY z.variant")
	var v string
	ns := make([]num, parts)
	dest := []any{&v}
	for p := range ns {
		dest = append(dest, &ns[p])
	}
	err := q.run(ctx, w, func() {
		for p, n := range ns {
			if v == "" {
				out.multiple[p] += int64(n.v)
			} else if n.v > 0 {
				out.counts[p][v] += int64(n.v)
			}
		}
	}, dest...)
	if err != nil {
		return nil, err
	}

	// Each funnel goal, in a query of its own.
	var goals []int
	for j, g := range q.d.Goals {
		if g.Kind == "funnel" {
			if err := q.funnelGoal(ctx, j, segs, out); err != nil {
				return nil, err
			}
			continue
		}
		goals = append(goals, j)
	}
	var events, props []int
	for _, j := range goals {
		if q.d.Goals[j].Kind == "event" {
			events = append(events, j)
		} else {
			props = append(props, j)
		}
	}
	for _, g := range [][]int{events, props} {
		if len(g) > 0 {
			if err := q.goals(ctx, segs, g, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// goals computes the sums of the goals (indexes into the definition's;
// all event goals, or all property goals) over the users exposed to one
// variant: per user, for each goal, how many of its events came at or
// after the exposure and the sum of their values. Event goals read the
// experiment's whole days from event_days (a day converts a user
// exposed by its last event) and only its last partial day from the
// events; property goals read the events, for their values.
func (q *query) goals(ctx context.Context, segs []*store.KeySet, goals []int, out *sums) error {
	d := q.r.dialect
	parts := 1 + len(segs)
	days := q.d.Goals[goals[0]].Kind == "event"
	w := &sqlw{d: d}
	w.Write("SELECT y.variant")
	for p := range parts {
		c := partCond("y", p)
		for _, j := range goals {
			n, t := "y.n"+strconv.Itoa(j), "y.t"+strconv.Itoa(j)
			w.Write(", sum(CASE WHEN ", c, " AND ", n, " > 0 THEN 1 ELSE 0 END), sum(CASE WHEN ", c, " THEN ", t,
				" ELSE 0 END), sum(CASE WHEN ", c, " THEN ", t, " * ", t, " ELSE 0 END)")
		}
	}
	cw, cend := d.CountWhere()
	w.Write(" FROM (SELECT e.u AS u, e.v AS variant")
	for i := range segs {
		w.Write(", e.f", strconv.Itoa(i+1), " AS f", strconv.Itoa(i+1))
	}
	for _, j := range goals {
		g := q.d.Goals[j]
		val := "1"
		if g.Kind == "property" {
			val = "g.v" + strconv.Itoa(j)
		}
		w.Write(", ", cw, "g.name = ")
		w.Arg(g.Event)
		w.Write(" AND g.us >= e.t", cend, " AS n", strconv.Itoa(j), ", sum(CASE WHEN g.name = ")
		w.Arg(g.Event)
		w.Write(" AND g.us >= e.t THEN ", val, " ELSE 0 END) AS t", strconv.Itoa(j))
	}
	w.Write(" FROM (SELECT x.u AS u, x.lo AS v, ", d.Micros("x.first"), " AS t")
	flags(w, "x.u", segs)
	w.Write(" FROM ")
	q.exposed(w, nil)
	w.Write(" AND x.lo = x.hi) AS e", leftJoin(d), "(")
	names := func() {
		w.Write(" AND name IN (")
		for i, j := range goals {
			if i > 0 {
				w.Write(", ")
			}
			w.Arg(q.d.Goals[j].Event)
		}
		w.Write(")")
	}
	lastDay := q.end.UTC().Truncate(24 * time.Hour)
	edge := q.start
	if days {
		if firstDay := q.start.UTC().Truncate(24 * time.Hour); firstDay.Before(lastDay) {
			edge = lastDay
			w.Write("SELECT user_key, name, ", d.Micros("last_ts"), " AS us ")
			d.From(w, compiler.EventDays, q.site, nil)
			names()
			w.Write(" AND first_ts >= ")
			w.Arg(firstDay)
			w.Write(" AND first_ts < ")
			w.Arg(lastDay)
			d.EndFrom(w)
			w.Write(" UNION ALL ")
		}
	}
	w.Write("SELECT user_key, name, ", d.Micros("ts"), " AS us")
	for _, j := range goals {
		if g := q.d.Goals[j]; g.Kind == "property" {
			prop, args := d.Property(g.Property)
			w.Write(", ")
			w.expr(d.ToNumber(prop), args)
			w.Write(" AS v", strconv.Itoa(j))
		}
	}
	w.Write(" ")
	d.From(w, compiler.Events, q.site, nil)
	w.Write(" AND kind = 2")
	names()
	w.Write(" AND ts >= ")
	w.Arg(edge)
	w.Write(" AND ts < ")
	w.Arg(q.end)
	d.EndFrom(w)
	w.Write(") AS g ON g.user_key = e.u GROUP BY e.u, e.v")
	for i := range segs {
		w.Write(", e.f", strconv.Itoa(i+1))
	}
	w.Write(") AS y GROUP BY y.variant")
	var v string
	vals := make([]num, parts*len(goals)*3)
	dest := []any{&v}
	for k := range vals {
		dest = append(dest, &vals[k])
	}
	return q.run(ctx, w, func() {
		k := 0
		for p := range parts {
			for _, j := range goals {
				conv, sum, sq := vals[k], vals[k+1], vals[k+2]
				k += 3
				s := goalSums{converted: int64(conv.v), sum: sum.v, sq: sq.v}
				if q.d.Goals[j].Kind == "event" {
					// The value of a conversion goal is whether
					// the user converted.
					s.sum, s.sq = conv.v, conv.v
				}
				out.goals[p][j][v] = s
			}
		}
	}, dest...)
}

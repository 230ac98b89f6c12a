package insight

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
)

// FunnelResult is a funnel per breakdown group.
type FunnelResult struct {
	From   string        `json:"from"`
	To     string        `json:"to"`
	TZ     string        `json:"tz"`
	Window string        `json:"window"`
	Steps  []string      `json:"steps"` // each step's condition, as text
	Groups []FunnelGroup `json:"groups"`
}

// FunnelGroup is a funnel for one group of users.
type FunnelGroup struct {
	Group string       `json:"group"`
	Steps []FunnelStep `json:"steps"`
}

// FunnelStep is what a funnel counts at one step.
type FunnelStep struct {
	Step  int    `json:"step"` // from 1
	Name  string `json:"name"`
	Users int64  `json:"users"` // who reached the step
	// FromPrevious and FromStart are Users over the previous step's and
	// the first step's users (1 for the first step, 0 when it is 0).
	FromPrevious float64 `json:"conversion_from_previous"`
	FromStart    float64 `json:"conversion_from_start"`
	// Dropped is the previous step's users who did not reach this one.
	Dropped int64 `json:"dropped"`
	// MedianSeconds is the median time from the previous step to this
	// one, over the users who reached it (the element at n/2 of the
	// sorted times); nil for the first step and when no one reached it.
	MedianSeconds *float64 `json:"median_seconds"`
}

// funnel is a validated funnel definition.
type funnel struct {
	compiler.Funnel
	names  []string
	window time.Duration
	sp     span
}

// prepareFunnel validates a funnel.
func (e *Engine) prepareFunnel(ctx context.Context, site int64, def Funnel) (*funnel, error) {
	if len(def.Steps) < MinSteps || len(def.Steps) > MaxSteps {
		return nil, invalid("invalid_steps", "steps", "a funnel has %d to %d steps", MinSteps, MaxSteps)
	}
	sp, err := def.resolve(e.now())
	if err != nil {
		return nil, err
	}
	w, err := parseWindow(def.Window)
	if err != nil {
		return nil, err
	}
	f := &funnel{window: w, sp: sp}
	for i, raw := range def.Steps {
		field := fmt.Sprintf("steps[%d]", i)
		ev, err := e.event(ctx, site, raw, field)
		if err != nil {
			return nil, err
		}
		n, err := e.parseCondition(ctx, site, json.RawMessage(raw), field)
		if err != nil {
			return nil, err
		}
		f.Steps = append(f.Steps, n)
		f.names = append(f.names, ev.text)
	}
	g, err := newGrid(sp.loc, Day, sp.first, sp.last, sp.last)
	if err != nil {
		return nil, invalid("invalid_range", "to", "%v", err)
	}
	f.From, f.To, f.Window = g.start(), g.end(), w
	return f, nil
}

// Funnel computes a funnel: one query per breakdown group.
func (e *Engine) Funnel(ctx context.Context, site int64, def Funnel) (*FunnelResult, error) {
	f, err := e.prepareFunnel(ctx, site, def)
	if err != nil {
		return nil, err
	}
	groups, err := e.groups(ctx, site, def.Breakdown)
	if err != nil {
		return nil, err
	}
	res := &FunnelResult{From: f.sp.first.Format(time.DateOnly), To: f.sp.last.Format(time.DateOnly),
		TZ: f.sp.loc.String(), Window: f.window.String(), Steps: f.names}
	if def.Window != "" {
		res.Window = def.Window
	}
	steps, err := e.funnelSteps(ctx, site, f, groups)
	if err != nil {
		return nil, err
	}
	for i, g := range groups {
		res.Groups = append(res.Groups, FunnelGroup{Group: g.label, Steps: steps[i]})
	}
	return res, nil
}

// funnelSteps counts every group's funnel in one query: the users'
// step times once, each user's membership of each group's segment once
// (flags g1, g2, …), and per group the aggregates filtered by its flag.
func (e *Engine) funnelSteps(ctx context.Context, site int64, f *funnel, groups []group) ([][]FunnelStep, error) {
	c, err := e.seg.Compiler(ctx, site, nil)
	if err != nil {
		return nil, err
	}
	n := len(f.Steps)
	times, err := c.FunnelTimes(f.Funnel, n, nil)
	if err != nil {
		return nil, err
	}
	q := newQuery(e.d)
	and := func(cond, flag string) string {
		switch {
		case flag == "":
			return cond
		case cond == "":
			return flag
		}
		return cond + " AND " + flag
	}
	q.Write("SELECT ")
	for gi := range groups {
		flag := ""
		if groups[gi].members != nil {
			flag = "g" + strconv.Itoa(gi)
		}
		if gi > 0 {
			q.Write(", ")
		}
		q.Write(e.d.AggWhere("count", "*", flag))
		for j := 2; j <= n; j++ {
			q.Write(", ", e.d.AggWhere("count", "*", and("t"+strconv.Itoa(j)+" > 0", flag)))
		}
		for j := 2; j <= n; j++ {
			tj, tp := "t"+strconv.Itoa(j), "t"+strconv.Itoa(j-1)
			q.Write(", ", e.d.MedianWhere(tj+" - "+tp, and(tj+" > 0", flag)))
		}
	}
	q.Write(" FROM (SELECT user_key, ", timeColumns(n))
	for gi, g := range groups {
		if g.members != nil {
			q.Write(", (user_key IN (")
			q.Frag(*g.members)
			q.Write(")) AS g", strconv.Itoa(gi))
		}
	}
	q.Write(" FROM (")
	q.Frag(times)
	q.Write(") AS f0) AS f")
	users := make([][]int64, len(groups))
	medians := make([][]sql.NullFloat64, len(groups))
	err = e.rows(ctx, "funnel", q, func(r *sql.Rows) error {
		var dest []any
		for gi := range groups {
			users[gi] = make([]int64, n)
			medians[gi] = make([]sql.NullFloat64, n)
			for i := range users[gi] {
				dest = append(dest, &users[gi][i])
			}
			for i := 1; i < n; i++ {
				dest = append(dest, &medians[gi][i])
			}
		}
		return r.Scan(dest...)
	})
	if err != nil {
		return nil, err
	}
	out := make([][]FunnelStep, len(groups))
	for gi := range groups {
		steps := make([]FunnelStep, n)
		us := users[gi]
		for i := range steps {
			s := FunnelStep{Step: i + 1, Name: f.names[i], Users: us[i]}
			s.FromStart = ratio(us[i], us[0])
			s.FromPrevious = s.FromStart
			if i > 0 {
				s.FromPrevious = ratio(us[i], us[i-1])
				s.Dropped = us[i-1] - us[i]
				if us[i] > 0 && medians[gi][i].Valid {
					m := medians[gi][i].Float64 / 1e6
					s.MedianSeconds = &m
				}
			}
			steps[i] = s
		}
		out[gi] = steps
	}
	return out, nil
}

// timeColumns returns "t1, t2, …, tn", the columns of compiler.FunnelTimes.
func timeColumns(n int) string {
	cols := make([]string, n)
	for i := range cols {
		cols[i] = "t" + strconv.Itoa(i+1)
	}
	return strings.Join(cols, ", ")
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Dropped returns the query of the users of a funnel's group (everyone,
// or the members of segment) who reached step-1 but not step (1-based,
// at least 2): a set of u, as segments are, to list them, filter
// recordings by them or save them as a segment.
func (e *Engine) Dropped(ctx context.Context, site int64, def Funnel, step int, seg segment.Node) (compiler.Query, error) {
	f, err := e.prepareFunnel(ctx, site, def)
	if err != nil {
		return compiler.Query{}, err
	}
	if step < 2 || step > len(f.Steps) {
		return compiler.Query{}, invalid("invalid_step", "step", "step is 2 to %d: the users who dropped before it", len(f.Steps))
	}
	g := group{}
	if seg != nil {
		if g, err = e.segmentGroup(ctx, site, "", seg); err != nil {
			return compiler.Query{}, err
		}
	}
	c, err := e.seg.Compiler(ctx, site, seg)
	if err != nil {
		return compiler.Query{}, err
	}
	times, err := c.FunnelTimes(f.Funnel, step, g.members)
	if err != nil {
		return compiler.Query{}, err
	}
	q := newQuery(e.d)
	q.Write("SELECT user_key AS u FROM (")
	q.Frag(times)
	q.Write(") AS f WHERE t", strconv.Itoa(step-1), " > 0 AND t", strconv.Itoa(step), " = 0")
	return compiler.Query{SQL: q.String(), Args: q.args}, nil
}

// DroppedKeys runs Dropped and returns the user keys, ascending.
func (e *Engine) DroppedKeys(ctx context.Context, site int64, def Funnel, step int, seg segment.Node) ([]int64, error) {
	dq, err := e.Dropped(ctx, site, def, step, seg)
	if err != nil {
		return nil, err
	}
	q := newQuery(e.d)
	q.Write("SELECT u FROM (")
	q.Frag(dq)
	q.Write(") AS d ORDER BY u")
	var keys []int64
	err = e.rows(ctx, "funnel drop-offs", q, func(r *sql.Rows) error {
		var k int64
		if err := r.Scan(&k); err != nil {
			return err
		}
		keys = append(keys, k)
		return nil
	})
	return keys, err
}

// DroppedPage lists the users who dropped at a step, as segment members
// are listed: at most limit with keys above after, with their number.
func (e *Engine) DroppedPage(ctx context.Context, site int64, def Funnel, step int, seg segment.Node, after int64,
	limit int) ([]store.Member, int64, error) {
	dq, err := e.Dropped(ctx, site, def, step, seg)
	if err != nil {
		return nil, 0, err
	}
	q := newQuery(e.d)
	err = e.d.Page(q, site, func() error { q.Frag(dq); return nil }, after, limit, true)
	if err != nil {
		return nil, 0, err
	}
	var out []store.Member
	var total int64
	err = e.rows(ctx, "funnel drop-offs", q, func(r *sql.Rows) error {
		var m store.Member
		if err := r.Scan(&m.Key, &total, &m.UserID); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if len(out) == 0 {
		// The size is counted with the page's rows: none past the last.
		cq := newQuery(e.d)
		cq.Write("SELECT count(*) FROM (")
		cq.Frag(dq)
		cq.Write(") AS d")
		err = e.rows(ctx, "funnel drop-offs", cq, func(r *sql.Rows) error { return r.Scan(&total) })
	}
	return out, total, err
}

// SavedFunnel returns a saved funnel as of now, for funnel_step
// conditions (engine.SavedFunnels).
func (e *Engine) SavedFunnel(ctx context.Context, site int64, id string) (compiler.Funnel, error) {
	in, err := e.saved.Insight(ctx, site, id)
	if err != nil {
		return compiler.Funnel{}, err
	}
	if in.Kind != "funnel" {
		return compiler.Funnel{}, fmt.Errorf("insight %s is a %s, not a funnel: %w", id, in.Kind, store.ErrNotFound)
	}
	var def Funnel
	if err := json.Unmarshal(in.Definition, &def); err != nil {
		return compiler.Funnel{}, fmt.Errorf("saved funnel %s is unreadable: %w", id, err)
	}
	f, err := e.prepareFunnel(ctx, site, def)
	if err != nil {
		return compiler.Funnel{}, fmt.Errorf("saved funnel %s no longer fits the site: %w", id, err)
	}
	return f.Funnel, nil
}

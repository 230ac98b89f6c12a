package engine_test

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/insight"
	"github.com/sightline/sightline/internal/segment"
)

// --- trends ---

func (ir *insightRun) checkTrend(i int) bool {
	def := insight.Trend{Interval: pick(ir.r, insight.Hour, insight.Day, insight.Day, insight.Week, insight.Month),
		Compare: ir.r.IntN(3) == 0, Range: ir.span()}
	if def.Interval == insight.Hour && def.LastDays > 30 {
		def.LastDays = 7
	}
	var steps []segment.Node
	for range 1 + ir.r.IntN(2) {
		s := insight.Series{Measure: pick(ir.r, "count", "users", "per_user", "sum", "avg")}
		var n segment.Node
		switch {
		case ir.r.IntN(6) == 0:
			s.Of = insight.Event(`"sessions"`)
			s.Measure = pick(ir.r, "count", "users", "per_user")
		case s.Measure == "sum" || s.Measure == "avg":
			e := &segment.Event{Name: pick(ir.r, "checkout_started", "order_completed", "export", "invite_sent")}
			n = e
			s.Property = map[string]string{"checkout_started": "amount", "order_completed": "items", "export": "rows",
				"invite_sent": "count"}[e.Name]
			s.Of = ir.rawEvent(n)
		default:
			n = ir.step()
			s.Of = ir.rawEvent(n)
		}
		steps = append(steps, n)
		def.Series = append(def.Series, s)
	}
	b, groups := ir.breakdown()
	switch {
	case len(b.Segments) > 0:
	case ir.r.IntN(4) == 0 && !slices.Contains(steps, nil):
		b.Property = pick(ir.r, "format", "currency", "plan", "amount", "missing")
	case ir.r.IntN(4) == 0:
		// A user attribute's top values, each the segment key = value.
		b.Attribute, b.Limit = pick(ir.r, "plan", "role"), 1+ir.r.IntN(4)
		groups = ir.attributeGroups(b.Attribute, b.Limit)
	}
	def.Breakdown = b
	desc, _ := jsonText(def)
	got, err := ir.ins.Trend(ir.ctx, ir.site, def)
	if err != nil {
		ir.t.Errorf("seed %d trend %d: %s\n%v", ir.seed, i, desc, err)
		return false
	}
	sp := ir.oracleSpan(def.Range, def.Interval)
	var prev oSpan
	if def.Compare {
		p := def.Range
		first, last := ir.days(def.Range, sp.loc)
		n := int(last.Sub(first).Hours()/24+0.5) + 1
		p.LastDays, p.From, p.To = 0, first.AddDate(0, 0, -n).Format(time.DateOnly), first.AddDate(0, 0, -1).Format(time.DateOnly)
		prev = ir.oracleSpan(p, def.Interval)
	}
	any := false
	li := 0
	for si, s := range def.Series {
		for _, grp := range groups {
			if b.Property == "" {
				li++
				line := got.Series[li-1]
				want := ir.trendValues(s, steps[si], grp, sp, def.Interval, "", "")
				if !ir.sameValues(got.Buckets, line.Values, want) {
					ir.t.Errorf("seed %d trend %d: %s\nseries %d, group %q: got %v\nwant %v", ir.seed, i, desc, si, line.Group, line.Values, want)
					return false
				}
				if def.Compare {
					wantPrev := ir.trendValues(s, steps[si], grp, prev, def.Interval, "", "")
					if !ir.sameValues(got.PreviousBuckets, line.Previous, wantPrev) {
						ir.t.Errorf("seed %d trend %d: %s\nprevious, series %d, group %q: got %v\nwant %v", ir.seed, i, desc, si,
							line.Group, line.Previous, wantPrev)
						return false
					}
				}
				for _, v := range line.Values {
					any = any || v != 0
				}
				continue
			}
			labels := ir.topValues(steps[si], sp, b.Property)
			var lines []insight.TrendLine
			for _, l := range got.Series {
				if l.Series == si {
					lines = append(lines, l)
				}
			}
			var gotLabels []string
			for _, l := range lines {
				gotLabels = append(gotLabels, l.Group)
			}
			if !slices.Equal(gotLabels, labels) {
				ir.t.Errorf("seed %d trend %d: %s\nseries %d: values %q, want %q", ir.seed, i, desc, si, gotLabels, labels)
				return false
			}
			for _, l := range lines {
				want := ir.trendValues(s, steps[si], nil, sp, def.Interval, b.Property, l.Group)
				if !ir.sameValues(got.Buckets, l.Values, want) {
					ir.t.Errorf("seed %d trend %d: %s\nseries %d, %s = %q: got %v\nwant %v", ir.seed, i, desc, si, b.Property,
						l.Group, l.Values, want)
					return false
				}
				any = true
			}
		}
	}
	return any
}

// days returns a range's first and last local days.
func (ir *insightRun) days(r insight.Range, loc *time.Location) (time.Time, time.Time) {
	now := oracleNow.In(loc)
	last := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	switch {
	case r.LastDays > 0:
		return last.AddDate(0, 0, 1-r.LastDays), last
	case r.From != "":
		first, _ := time.ParseInLocation(time.DateOnly, r.From, loc)
		l, _ := time.ParseInLocation(time.DateOnly, r.To, loc)
		return first, l
	}
	return last.AddDate(0, 0, -29), last
}

// trendValues computes a series by label; with property set, only the
// events whose property reads value.
func (ir *insightRun) trendValues(s insight.Series, n segment.Node, grp segment.Node, sp oSpan, interval insight.Interval,
	property, value string) map[string]float64 {
	type agg struct {
		count, summed int
		sum           float64
		users         map[int64]bool
	}
	by := map[string]*agg{}
	add := func(t time.Time, u int64, v *float64) {
		l := oLabel(t, interval, sp.loc)
		a := by[l]
		if a == nil {
			a = &agg{users: map[int64]bool{}}
			by[l] = a
		}
		a.count++
		a.users[u] = true
		if v != nil {
			a.sum += *v
			a.summed++
		}
	}
	inRange := func(t time.Time) bool { return !t.Before(sp.start) && t.Before(sp.end) }
	for _, u := range ir.groupUsers(grp) {
		if n == nil { // sessions
			for _, ss := range u.sessions {
				if inRange(ss.start) {
					add(ss.start, u.key, nil)
				}
			}
			continue
		}
		for _, e := range u.events {
			if !inRange(e.ts) || !stepMatches(n, e) {
				continue
			}
			if property != "" {
				text := e.props[property]
				if text == "" {
					text = "(none)"
				}
				if text != value {
					continue
				}
			}
			var v *float64
			if s.Property != "" {
				if f, err := strconv.ParseFloat(e.props[s.Property], 64); err == nil {
					v = &f
				}
			}
			add(e.ts, u.key, v)
		}
	}
	out := map[string]float64{}
	for l, a := range by {
		switch s.Measure {
		case "users":
			out[l] = float64(len(a.users))
		case "per_user":
			out[l] = float64(a.count) / float64(len(a.users))
		case "sum":
			out[l] = a.sum
		case "avg":
			if a.summed > 0 {
				out[l] = a.sum / float64(a.summed)
			}
		default:
			out[l] = float64(a.count)
		}
	}
	return out
}

// topValues returns the property values with the most events, at most
// insight.MaxValues, ties by value.
func (ir *insightRun) topValues(n segment.Node, sp oSpan, property string) []string {
	counts := map[string]int{}
	for _, u := range ir.groupUsers(nil) {
		for _, e := range u.events {
			if !e.ts.Before(sp.start) && e.ts.Before(sp.end) && stepMatches(n, e) {
				text := e.props[property]
				if text == "" {
					text = "(none)"
				}
				counts[text]++
			}
		}
	}
	var labels []string
	for l := range counts {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool {
		if counts[labels[i]] != counts[labels[j]] {
			return counts[labels[i]] > counts[labels[j]]
		}
		return labels[i] < labels[j]
	})
	return labels[:min(len(labels), insight.MaxValues)]
}

// sameValues compares a line with the oracle's values by label: every
// label the oracle counted must be a bucket.
func (ir *insightRun) sameValues(buckets []string, got []float64, want map[string]float64) bool {
	if len(got) != len(buckets) {
		return false
	}
	seen := 0
	for i, l := range buckets {
		if !near(got[i], want[l]) {
			return false
		}
		if _, ok := want[l]; ok {
			seen++
		}
	}
	return seen == len(want)
}

// --- funnels ---

func (ir *insightRun) checkFunnel(i int) bool {
	var steps []segment.Node
	k := 2 + ir.r.IntN(3)
	for j := range k {
		if j > 0 && ir.r.IntN(5) == 0 {
			steps = append(steps, steps[j-1]) // a repeated step
			continue
		}
		steps = append(steps, ir.step())
	}
	def := insight.Funnel{Range: ir.span()}
	for _, s := range steps {
		def.Steps = append(def.Steps, ir.rawEvent(s))
	}
	window := pick(ir.r, time.Hour, 24*time.Hour, 7*24*time.Hour, 30*24*time.Hour)
	def.Window = pick(ir.r, "1h", "1d", "7d", "30d")
	window = map[string]time.Duration{"1h": time.Hour, "1d": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}[def.Window]
	if ir.r.IntN(2) == 0 {
		// The window's edge: exactly the time from a user's entry to one
		// of their later events of step 2.
		sp := ir.oracleSpan(def.Range, insight.Day)
		var edges []time.Duration
		for _, k := range ir.w.universe {
			var entry time.Time
			for _, e := range ir.w.users[k].events {
				if !e.ts.Before(sp.start) && e.ts.Before(sp.end) && stepMatches(steps[0], e) && (entry.IsZero() || e.ts.Before(entry)) {
					entry = e.ts
				}
			}
			for _, e := range ir.w.users[k].events {
				if d := e.ts.Sub(entry); !entry.IsZero() && d > 0 && d%time.Second == 0 && d <= 90*24*time.Hour && stepMatches(steps[1], e) {
					edges = append(edges, d)
				}
			}
		}
		if len(edges) > 0 {
			window = pick(ir.r, edges...)
			def.Window = strconv.FormatInt(int64(window/time.Second), 10) + "s"
		}
	}
	b, groups := ir.breakdown()
	def.Breakdown = b
	desc, _ := jsonText(def)
	got, err := ir.ins.Funnel(ir.ctx, ir.site, def)
	if err != nil {
		ir.t.Errorf("seed %d funnel %d: %s\n%v", ir.seed, i, desc, err)
		return false
	}
	sp := ir.oracleSpan(def.Range, insight.Day)
	any := false
	for gi, grp := range groups {
		want, dropped := ir.funnelOracle(steps, window, sp, grp)
		g := got.Groups[gi]
		for j, s := range g.Steps {
			w := want[j]
			if s.Users != w.Users || s.Dropped != w.Dropped || !near(s.FromPrevious, w.FromPrevious) ||
				!near(s.FromStart, w.FromStart) || (s.MedianSeconds == nil) != (w.MedianSeconds == nil) ||
				(s.MedianSeconds != nil && !near(*s.MedianSeconds, *w.MedianSeconds)) {
				ir.t.Errorf("seed %d funnel %d: %s\ngroup %q step %d: got %+v (median %v)\nwant %+v (median %v)", ir.seed, i, desc,
					g.Group, j+1, s, fmtPtr(s.MedianSeconds), w, fmtPtr(w.MedianSeconds))
				return false
			}
		}
		any = any || (len(want) > 1 && want[1].Users > 0)
		if gi > 0 {
			continue
		}
		// The funnel saved, as a segment condition: funnel_step, or
		// completed_funnel.
		id := ir.saveFunnel(def, steps, window)
		cond := &segment.FunnelStep{ID: id, Count: segment.Count{Op: pick(ir.r, segment.OpEq, segment.OpGe, segment.OpLt, segment.OpNe),
			N: float64(ir.r.IntN(len(steps) + 1))}}
		if ir.r.IntN(4) == 0 {
			cond = &segment.FunnelStep{ID: id, Completed: true}
		}
		var tree segment.Node = cond
		if ir.r.IntN(3) == 0 {
			tree = &segment.Group{Op: segment.All, Conditions: []segment.Node{cond, ir.g.attribute(segment.ScopeUser)}}
		}
		if segment.Validate(tree, ir.cat) == nil {
			if _, ok := ir.check(i, tree); !ok {
				return false
			}
		}
		// The users who dropped at a step, as a set.
		step := 2 + ir.r.IntN(len(steps)-1)
		keys, err := ir.ins.DroppedKeys(ir.ctx, ir.site, def, step, nil)
		if err != nil {
			ir.t.Errorf("seed %d funnel %d: %s\ndropped at %d: %v", ir.seed, i, desc, step, err)
			return false
		}
		if !slices.Equal(keys, dropped[step]) {
			ir.t.Errorf("seed %d funnel %d: %s\ndropped at %d: got %v\nwant %v", ir.seed, i, desc, step, keys, dropped[step])
			return false
		}
	}
	return any
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// funnelOracle computes a group's funnel: each user enters at their
// first step-1 event in the range; the depth reached is the longest
// sequence of later events, each strictly after the one before and at
// most window after entering, found by trying every sequence. Times are
// the earliest each step can be reached. It also returns, by step, the
// users who reached the step before but not it.
func (ir *insightRun) funnelOracle(steps []segment.Node, window time.Duration, sp oSpan, grp segment.Node) ([]insight.FunnelStep, map[int][]int64) {
	n := len(steps)
	users := make([]int64, n)
	gaps := make([][]float64, n)
	dropped := map[int][]int64{}
	for _, u := range ir.groupUsers(grp) {
		depth, times := funnelUser(u, steps, window, sp)
		if depth == 0 {
			continue
		}
		for j := range depth {
			users[j]++
			if j > 0 {
				gaps[j] = append(gaps[j], float64(times[j].Sub(times[j-1]).Microseconds())/1e6)
			}
		}
		if depth < n {
			dropped[depth+1] = append(dropped[depth+1], u.key)
		}
	}
	out := make([]insight.FunnelStep, n)
	for j := range n {
		s := insight.FunnelStep{Step: j + 1, Users: users[j]}
		if users[0] > 0 {
			s.FromStart = float64(users[j]) / float64(users[0])
		}
		s.FromPrevious = s.FromStart
		if j > 0 {
			s.FromPrevious = 0
			if users[j-1] > 0 {
				s.FromPrevious = float64(users[j]) / float64(users[j-1])
			}
			s.Dropped = users[j-1] - users[j]
			if len(gaps[j]) > 0 {
				slices.Sort(gaps[j])
				m := gaps[j][len(gaps[j])/2]
				s.MedianSeconds = &m
			}
		}
		out[j] = s
	}
	for k := range dropped {
		slices.Sort(dropped[k])
	}
	return out, dropped
}

// funnelUser returns the deepest step a user reached in a funnel (0:
// never entered) and the earliest moment of each step reached.
func funnelUser(u *oUser, steps []segment.Node, window time.Duration, sp oSpan) (int, []time.Time) {
	n := len(steps)
	evs := slices.Clone(u.events)
	slices.SortFunc(evs, func(a, b oEvent) int { return a.ts.Compare(b.ts) })
	var entry *oEvent
	for i, e := range evs {
		if !e.ts.Before(sp.start) && e.ts.Before(sp.end) && stepMatches(steps[0], e) {
			entry = &evs[i]
			break
		}
	}
	if entry == nil {
		return 0, nil
	}
	deadline := entry.ts.Add(window)
	// Depth by exhaustive search.
	var deepest func(j int, after time.Time) int
	deepest = func(j int, after time.Time) int {
		if j == n {
			return n
		}
		best := j
		for _, e := range evs {
			if e.ts.After(after) && !e.ts.After(deadline) && stepMatches(steps[j], e) {
				best = max(best, deepest(j+1, e.ts))
				if best == n {
					break
				}
			}
		}
		return best
	}
	depth := deepest(1, entry.ts)
	// Earliest times, step by step.
	times := []time.Time{entry.ts}
	for j := 1; j < depth; j++ {
		for _, e := range evs {
			if e.ts.After(times[j-1]) && !e.ts.After(deadline) && stepMatches(steps[j], e) {
				times = append(times, e.ts)
				break
			}
		}
	}
	if len(times) != depth {
		panic(fmt.Sprintf("BUG: oracle: earliest times reach %d steps, the search %d", len(times), depth))
	}
	return depth, times
}

// --- retention ---

func (ir *insightRun) checkRetention(i int) bool {
	def := insight.Retention{Interval: pick(ir.r, insight.Day, insight.Week), Periods: 1 + ir.r.IntN(10), Range: ir.span()}
	var start, ret segment.Node
	def.Start, def.Return = insight.Event(`"first_seen"`), insight.Event(`"any"`)
	if ir.r.IntN(3) > 0 {
		start = ir.step()
		def.Start = ir.rawEvent(start)
	}
	if ir.r.IntN(3) > 0 {
		ret = ir.step()
		if ir.r.IntN(4) == 0 && start != nil {
			ret = start
		}
		def.Return = ir.rawEvent(ret)
	}
	b, groups := ir.breakdown()
	def.Breakdown = b
	desc, _ := jsonText(def)
	got, err := ir.ins.Retention(ir.ctx, ir.site, def)
	if err != nil {
		ir.t.Errorf("seed %d retention %d: %s\n%v", ir.seed, i, desc, err)
		return false
	}
	sp := ir.oracleSpan(def.Range, def.Interval)
	any := false
	for gi, grp := range groups {
		want := ir.retentionOracle(start, ret, def.Interval, def.Periods, sp, grp)
		g := got.Groups[gi]
		for _, c := range g.Cohorts {
			w := want[c.Start]
			var gotReturned []int64
			for _, r := range c.Returned {
				if r == nil {
					break
				}
				gotReturned = append(gotReturned, *r)
			}
			if c.Users != w.users || !slices.Equal(gotReturned, w.returned) {
				ir.t.Errorf("seed %d retention %d: %s\ngroup %q cohort %s: got %d users, returned %v\nwant %d, %v", ir.seed, i, desc,
					g.Group, c.Start, c.Users, gotReturned, w.users, w.returned)
				return false
			}
			delete(want, c.Start)
			any = any || w.users > 0
		}
		for l, w := range want {
			if w.users > 0 {
				ir.t.Errorf("seed %d retention %d: %s\ngroup %q: no cohort %s; the oracle has %d users", ir.seed, i, desc, g.Group, l, w.users)
				return false
			}
		}
	}
	return any
}

type oCohort struct {
	users    int64
	returned []int64
}

// retentionOracle computes a group's cohorts by label: a user's cohort
// is the bucket of their first start event ever, when it is in the
// range; they return in period k when a return event at or after that
// first one falls k buckets later. Periods that have not begun by now
// are left out.
func (ir *insightRun) retentionOracle(start, ret segment.Node, interval insight.Interval, periods int, sp oSpan,
	grp segment.Node) map[string]*oCohort {
	matches := func(n segment.Node, e oEvent) bool { return n == nil || stepMatches(n, e) }
	out := map[string]*oCohort{}
	for t := sp.start; t.Before(sp.end); {
		c := &oCohort{}
		b := t
		for k := 0; k <= periods && !b.After(oracleNow); k++ {
			c.returned = append(c.returned, 0)
			b = oNext(b, interval, sp.loc)
		}
		out[oLabel(t, interval, sp.loc)] = c
		t = oNext(t, interval, sp.loc)
	}
	for _, u := range ir.groupUsers(grp) {
		var t0 time.Time
		for _, e := range u.events {
			if matches(start, e) && (t0.IsZero() || e.ts.Before(t0)) {
				t0 = e.ts
			}
		}
		if t0.IsZero() || t0.Before(sp.start) || !t0.Before(sp.end) {
			continue
		}
		c := out[oLabel(t0, interval, sp.loc)]
		c.users++
		cb := oBucket(t0, interval, sp.loc)
		seen := map[int]bool{}
		for _, e := range u.events {
			if e.ts.Before(t0) || !matches(ret, e) {
				continue
			}
			k := oBuckets(cb, oBucket(e.ts, interval, sp.loc), interval)
			if k < len(c.returned) && !seen[k] {
				seen[k] = true
				c.returned[k]++
			}
		}
	}
	return out
}

// oNext is the start of the bucket after the one starting at t.
func oNext(t time.Time, interval insight.Interval, loc *time.Location) time.Time {
	if interval == insight.Week {
		return time.Date(t.Year(), t.Month(), t.Day()+7, 0, 0, 0, 0, loc)
	}
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
}

// oBuckets counts the buckets from the one starting at a to the one at b.
func oBuckets(a, b time.Time, interval insight.Interval) int {
	da := time.Date(a.Year(), a.Month(), a.Day(), 12, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 12, 0, 0, 0, time.UTC)
	days := int(db.Sub(da).Hours() / 24)
	if interval == insight.Week {
		return days / 7
	}
	return days
}

func jsonText(v any) (string, error) {
	b, err := jsonMarshal(v)
	return string(b), err
}

// attributeGroups returns everyone, then a segment per value of a string
// attribute among the limit values most users have now (ties by value).
func (ir *insightRun) attributeGroups(key string, limit int) []segment.Node {
	counts := map[string]int{}
	for _, k := range ir.w.universe {
		if v, ok := ir.w.users[k].attrs[key]; ok && !v.Null {
			counts[v.Str]++
		}
	}
	var values []string
	for v := range counts {
		values = append(values, v)
	}
	sort.Slice(values, func(i, j int) bool {
		if counts[values[i]] != counts[values[j]] {
			return counts[values[i]] > counts[values[j]]
		}
		return values[i] < values[j]
	})
	groups := []segment.Node{nil}
	for _, v := range values[:min(limit, len(values))] {
		groups = append(groups, &segment.Attribute{Scope: segment.ScopeUser, Key: key, Op: segment.OpEq,
			Values: []segment.Value{{Kind: segment.ValString, Str: v}}})
	}
	return groups
}

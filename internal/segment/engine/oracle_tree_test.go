package engine_test

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
)

// This file generates random segment trees over what a dataset holds: its
// attribute keys and values, event names and properties, pages, session
// fields and durations, and moments taken from the data, so that many
// trees match some users but not all, and comparisons meet their
// boundaries.

// vocabulary is what the data holds, for the generator to draw from.
type vocabulary struct {
	userValues    map[string][]attr.Value
	companyValues map[string][]attr.Value
	historyTimes  []time.Time
	// moments are when things happened, by what conditions read them:
	// "track", "page", "event" (either), "session" (starts), "history".
	// Some periods start or end on one.
	moments    map[string][]time.Time
	eventNames []string
	props      map[string]map[string][]string // event name → key → texts
	paths      []string
	fields     map[string][]string // session field → values
	durations  []time.Duration     // session lengths, to the second
	sessions   []oSession
}

func newVocabulary(w *world) *vocabulary {
	v := &vocabulary{userValues: map[string][]attr.Value{}, companyValues: map[string][]attr.Value{},
		props: map[string]map[string][]string{}, fields: map[string][]string{}, moments: map[string][]time.Time{}}
	addValue := func(m map[string][]attr.Value, key string, x attr.Value) {
		if !x.Null && !slices.ContainsFunc(m[key], x.Equal) {
			m[key] = append(m[key], x)
		}
	}
	add := func(xs *[]string, s string) {
		if !slices.Contains(*xs, s) {
			*xs = append(*xs, s)
		}
	}
	for _, k := range w.universe {
		u := w.users[k]
		v.addSurveys(u)
		for key, x := range u.attrs {
			addValue(v.userValues, key, x)
		}
		for key, h := range u.history {
			for _, e := range h {
				addValue(v.userValues, key, e.v)
				v.historyTimes = append(v.historyTimes, e.at)
				v.moments["history"] = append(v.moments["history"], e.at)
			}
		}
		for _, e := range u.events {
			kind := map[bool]string{true: "track", false: "page"}[e.kind == 2]
			v.moments[kind] = append(v.moments[kind], e.ts)
			v.moments["event"] = append(v.moments["event"], e.ts)
			if e.kind == 2 {
				add(&v.eventNames, e.name)
				if v.props[e.name] == nil {
					v.props[e.name] = map[string][]string{}
				}
				for pk, text := range e.props {
					texts := v.props[e.name][pk]
					add(&texts, text)
					v.props[e.name][pk] = texts
				}
			} else if e.path != "" {
				add(&v.paths, e.path)
			}
		}
		v.sessions = append(v.sessions, u.sessions...)
		for _, s := range u.sessions {
			v.moments["session"] = append(v.moments["session"], s.start)
			// A length to the second, and the seconds either side of one
			// with a fraction.
			d := s.end.Sub(s.start)
			for _, d := range []time.Duration{d.Truncate(time.Second), (d + time.Second - 1).Truncate(time.Second)} {
				if d > 0 && !slices.Contains(v.durations, d) {
					v.durations = append(v.durations, d)
				}
			}
			for f, x := range s.fields {
				texts := v.fields[f]
				add(&texts, x)
				v.fields[f] = texts
			}
		}
	}
	for _, attrs := range w.companies {
		for key, x := range attrs {
			addValue(v.companyValues, key, x)
		}
	}
	// Map iteration put these in random order; the generator must be
	// reproducible from its seed.
	for _, m := range []map[string][]attr.Value{v.userValues, v.companyValues} {
		for _, xs := range m {
			slices.SortFunc(xs, func(a, b attr.Value) int { return strings.Compare(a.Text(), b.Text()) })
		}
	}
	slices.SortFunc(v.historyTimes, time.Time.Compare)
	for _, ts := range v.moments {
		slices.SortFunc(ts, time.Time.Compare)
	}
	slices.Sort(v.eventNames)
	slices.Sort(v.paths)
	slices.Sort(v.durations)
	slices.SortFunc(v.sessions, func(a, b oSession) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return a.end.Compare(b.end)
	})
	for _, byKey := range v.props {
		for _, xs := range byKey {
			slices.Sort(xs)
		}
	}
	for _, xs := range v.fields {
		slices.Sort(xs)
	}
	return v
}

// treeGen generates random trees.
type treeGen struct {
	r        *rand.Rand
	now      time.Time
	cat      segment.Catalog
	voc      *vocabulary
	segments []string // saved segment IDs in_segment may name
	funnels  []string // saved funnel IDs funnel_step may name
	// wide, when above 0, makes the root a group of up to wide
	// conditions, most of them did(…) and user attributes, which the
	// compiler merges into scans of maxMergedTerms at most.
	wide      int
	wideAttrs bool // this tree's conditions are mostly attributes, else did(…)
}

func (g *treeGen) chance(p float64) bool { return g.r.Float64() < p }

// node returns a random condition; groups and negations nest up to depth 3.
func (g *treeGen) node(depth int) segment.Node {
	switch {
	case g.wide > 0 && depth == 0:
		g.wideAttrs = g.chance(0.5)
		grp := &segment.Group{Op: pick(g.r, segment.All, segment.Any)}
		for range 2 + g.r.IntN(g.wide) {
			grp.Conditions = append(grp.Conditions, g.node(1))
		}
		return grp
	case g.wide > 0 && g.chance(0.8):
		var n segment.Node = g.event()
		if g.wideAttrs != g.chance(0.1) {
			n = g.attribute(segment.ScopeUser)
		}
		if g.chance(0.3) {
			n = &segment.Not{Condition: n}
		}
		return n
	}
	if depth < 3 && g.chance([]float64{0.55, 0.3, 0.15}[depth]) {
		if g.chance(0.25) {
			return &segment.Not{Condition: g.node(depth + 1)}
		}
		grp := &segment.Group{Op: pick(g.r, segment.All, segment.Any)}
		for range 2 + g.r.IntN(2) {
			grp.Conditions = append(grp.Conditions, g.node(depth+1))
		}
		return grp
	}
	return g.leaf()
}

func (g *treeGen) leaf() segment.Node {
	switch x := g.r.IntN(110); {
	case x < 24:
		return g.attribute(segment.ScopeUser)
	case x < 31:
		return g.attribute(segment.ScopeCompany)
	case x < 39:
		return g.changed()
	case x < 52:
		return g.event()
	case x < 56:
		return &segment.Event{Name: g.eventName(), First: true, Period: g.period(false, "track")}
	case x < 61:
		return &segment.ActiveDays{Count: g.count(false), Period: g.period(true, "event")}
	case x < 68:
		return g.visited()
	case x < 73:
		return &segment.Sessions{Count: g.count(false), Period: g.period(true, "session")}
	case x < 80:
		return g.sessionDuration()
	case x < 86:
		return g.sessionField()
	case x < 93:
		return g.signal()
	case x < 98 && len(g.segments) > 0:
		return &segment.InSegment{ID: pick(g.r, g.segments...)}
	case x >= 98 && x < 106:
		return g.surveyCondition()
	case x >= 106 && x < 109:
		return &segment.Identified{}
	case x == 109 && len(g.funnels) > 0:
		if g.r.IntN(3) == 0 {
			return &segment.FunnelStep{ID: pick(g.r, g.funnels...), Completed: true}
		}
		return &segment.FunnelStep{ID: pick(g.r, g.funnels...), Count: g.count(false)}
	}
	return g.attribute(segment.ScopeUser)
}

func str(s string) segment.Value  { return segment.Value{Kind: segment.ValString, Str: s} }
func num(f float64) segment.Value { return segment.Value{Kind: segment.ValNumber, Num: f} }
func date(t time.Time) segment.Value {
	return segment.Value{Kind: segment.ValDate, Time: t.UTC()}
}

func (g *treeGen) attribute(scope segment.Scope) segment.Node {
	return g.attributeOf(scope, attr.Invalid)
}

// attributeOf returns an attribute condition on a key of type want, or
// of a random type (datetimes most often) for attr.Invalid.
func (g *treeGen) attributeOf(scope segment.Scope, want attr.Type) segment.Node {
	if want == attr.Invalid {
		// Datetimes have the most boundaries: days, instants, now.
		want = pick(g.r, attr.String, attr.String, attr.Number, attr.Number, attr.Boolean, attr.Datetime, attr.Datetime, attr.Datetime)
	}
	keys := slices.DeleteFunc(g.cat.AttributeKeys(scope), func(k string) bool {
		typ, _ := g.cat.AttributeType(scope, k)
		return typ != want
	})
	if len(keys) == 0 {
		return g.sessionField()
	}
	key := pick(g.r, keys...)
	typ, _ := g.cat.AttributeType(scope, key)
	observed := g.voc.userValues[key]
	if scope == segment.ScopeCompany {
		observed = g.voc.companyValues[key]
	}
	a := &segment.Attribute{Scope: scope, Key: key}
	a.Op, a.Values = g.attrCondition(typ, observed)
	if scope == segment.ScopeUser && a.Op != segment.OpWithin && a.Op != segment.OpOlderThan && g.chance(0.25) {
		a.AsOf = g.moment()
	}
	return a
}

// attrCondition returns an operator that fits typ and values for it, most
// of them taken from the values observed.
func (g *treeGen) attrCondition(typ attr.Type, observed []attr.Value) (segment.Op, []segment.Value) {
	var ops []segment.Op
	switch typ {
	case attr.String:
		ops = []segment.Op{segment.OpEq, segment.OpNe, segment.OpIn, segment.OpNotIn, segment.OpContains,
			segment.OpStarts, segment.OpEnds, segment.OpMatches, segment.OpSet, segment.OpNotSet}
	case attr.Number:
		ops = []segment.Op{segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe,
			segment.OpBetween, segment.OpIn, segment.OpNotIn, segment.OpSet, segment.OpNotSet}
	case attr.Boolean:
		ops = []segment.Op{segment.OpEq, segment.OpNe, segment.OpSet, segment.OpNotSet}
	case attr.Datetime:
		ops = []segment.Op{segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe,
			segment.OpBetween, segment.OpWithin, segment.OpOlderThan, segment.OpSet, segment.OpNotSet}
	}
	op := pick(g.r, ops...)
	lit := func() segment.Value { return g.literal(typ, observed) }
	switch op {
	case segment.OpSet, segment.OpNotSet:
		return op, nil
	case segment.OpIn, segment.OpNotIn:
		vals := []segment.Value{lit()}
		for range g.r.IntN(3) {
			vals = append(vals, lit())
		}
		return op, vals
	case segment.OpBetween:
		lo, hi := lit(), lit()
		if typ == attr.Datetime && len(observed) > 0 && g.chance(0.7) {
			// Around one value t, each bound a whole day or an instant:
			// from t's day or an instant before it (or t), to t's day or
			// t (or an instant after it).
			t := pick(g.r, observed...).Time
			hours := time.Duration(1+g.r.IntN(72)) * time.Hour
			if g.chance(0.5) {
				lo = date(t.Truncate(day))
			} else {
				lo = date(pick(g.r, t.Truncate(day).Add(-hours), t))
			}
			if g.chance(0.5) {
				hi = date(t.Truncate(day))
			} else {
				hi = date(pick(g.r, t, t.Add(hours)))
			}
		}
		if lo.Kind == segment.ValNumber && hi.Num < lo.Num || lo.Kind == segment.ValDate && hi.Time.Before(lo.Time) {
			lo, hi = hi, lo
		}
		return op, []segment.Value{lo, hi}
	case segment.OpWithin, segment.OpOlderThan:
		d := pick(g.r, time.Hour, day, 7*day, 30*day, 60*day, 90*day, 365*day)
		if len(observed) > 0 && g.chance(0.5) { // at the boundary: exactly, or within a second
			if t := pick(g.r, observed...).Time; t.Before(g.now.Add(-time.Second)) {
				d = g.now.Sub(t).Truncate(time.Second)
			}
		}
		return op, []segment.Value{{Kind: segment.ValDuration, Dur: d}}
	case segment.OpContains, segment.OpStarts, segment.OpEnds, segment.OpMatches:
		s := "x"
		if len(observed) > 0 {
			s = pick(g.r, observed...).Str
		}
		return op, []segment.Value{str(g.fragment(op, s))}
	}
	return op, []segment.Value{lit()}
}

// literal returns a value of type typ: mostly an observed one, sometimes
// one near it or one nobody has.
func (g *treeGen) literal(typ attr.Type, observed []attr.Value) segment.Value {
	var o attr.Value
	have := len(observed) > 0 && g.chance(0.85)
	if have {
		o = pick(g.r, observed...)
	}
	switch typ {
	case attr.String:
		if !have {
			return str(pick(g.r, "nobody", "PRO", ""))
		}
		return str(o.Str)
	case attr.Number:
		if !have {
			return num(pick(g.r, 0, -1, 12.5, 1e6))
		}
		return num(o.Num + pick(g.r, 0, 0, 0, 0.5, -0.5, 1))
	case attr.Boolean:
		return segment.Value{Kind: segment.ValBool, Bool: g.chance(0.5)}
	case attr.Datetime:
		if !have {
			return date(g.instant(g.now.Add(-100*day), g.now.Add(40*day)))
		}
		switch g.r.IntN(6) {
		case 0:
			return date(o.Time.Truncate(day)) // its whole day
		case 1:
			// The whole day of a value late in its day.
			o = g.pickTime(observed, func(t time.Time) bool { return t.Hour() == 23 })
			return date(o.Time.Truncate(day))
		case 2:
			// The day before a value at midnight, which ends just as
			// the value's day starts.
			o = g.pickTime(observed, func(t time.Time) bool { return t.Equal(t.Truncate(day)) })
			return date(o.Time.Truncate(day).Add(-day))
		case 3:
			return date(o.Time) // the instant itself (a whole day when at midnight)
		case 4:
			// Less than a second before a value with a fraction.
			o = g.pickTime(observed, func(t time.Time) bool { return t.Nanosecond() != 0 })
			return date(o.Time.Truncate(time.Second))
		}
		return date(o.Time.Add(pick(g.r, time.Second, -time.Second, time.Hour, -time.Hour)))
	}
	panic("BUG: no literal for " + typ.String())
}

// pickTime picks an observed datetime for which keep holds, or any.
func (g *treeGen) pickTime(observed []attr.Value, keep func(time.Time) bool) attr.Value {
	var kept []attr.Value
	for _, v := range observed {
		if keep(v.Time) {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 {
		kept = observed
	}
	return pick(g.r, kept...)
}

// fragment returns a pattern for a string operator that s may match.
func (g *treeGen) fragment(op segment.Op, s string) string {
	i := g.r.IntN(len(s) + 1)
	j := i + g.r.IntN(len(s)-i+1)
	switch op {
	case segment.OpStarts:
		i = 0
	case segment.OpEnds:
		j = len(s)
	case segment.OpMatches:
		part := regexp.QuoteMeta(s[i:j])
		return pick(g.r, "^"+part, part+"$", "(?i)"+part, "^"+regexp.QuoteMeta(s)+"$", "[0-9]", "^[a-z]+$", "o|e")
	}
	if i == j && g.chance(0.7) { // prefer a fragment that narrows
		j = min(len(s), i+1+g.r.IntN(3))
	}
	if g.chance(0.1) {
		return "Q"
	}
	return s[i:j]
}

// moment returns a moment for as of: often exactly when some attribute
// changed, or a second either side.
func (g *treeGen) moment() time.Time {
	if len(g.voc.historyTimes) > 0 && g.chance(0.6) {
		t := pick(g.r, g.voc.historyTimes...)
		return t.Add(pick(g.r, 0, 0, time.Second, -time.Second))
	}
	if g.chance(0.5) {
		return g.instant(g.now.Add(-70*day), g.now).Truncate(day)
	}
	return g.instant(g.now.Add(-70*day), g.now)
}

// instant returns a moment in [from, to), to the second.
func (g *treeGen) instant(from, to time.Time) time.Time {
	return from.Add(time.Duration(g.r.Int64N(int64(to.Sub(from)/time.Second))) * time.Second)
}

func (g *treeGen) changed() segment.Node {
	keys := g.cat.AttributeKeys(segment.ScopeUser)
	key := pick(g.r, keys...)
	typ, _ := g.cat.AttributeType(segment.ScopeUser, key)
	c := &segment.Changed{Key: key, Period: g.period(true, "history")}
	observed := g.voc.userValues[key]
	lit := func() *segment.Value {
		v := g.literal(typ, observed)
		return &v
	}
	if g.chance(0.4) {
		c.From = lit()
	}
	if g.chance(0.5) {
		c.To = lit()
	}
	if c.From != nil && c.To != nil && sameLiteral(*c.From, *c.To) {
		c.To = nil // from and to the same value never matches, and validation says so
	}
	return c
}

func sameLiteral(a, b segment.Value) bool {
	return a.Kind == b.Kind && a.Str == b.Str && a.Num == b.Num && a.Bool == b.Bool && a.Time.Equal(b.Time)
}

func (g *treeGen) eventName() string {
	if len(g.voc.eventNames) == 0 || g.chance(0.07) {
		return "never_done"
	}
	return pick(g.r, g.voc.eventNames...)
}

func (g *treeGen) event() segment.Node {
	e := &segment.Event{Name: g.eventName(), Period: g.period(true, "track"), Count: g.count(true)}
	props := g.voc.props[e.Name]
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for range pick(g.r, 0, 0, 1, 1, 2) {
		key := "missing_prop"
		if len(keys) > 0 && g.chance(0.9) {
			key = pick(g.r, keys...)
		}
		e.Where = append(e.Where, g.property(key, props[key]))
	}
	return e
}

// property returns a property condition. An observed text that is a
// number is mostly compared as a number.
func (g *treeGen) property(key string, texts []string) segment.Property {
	p := segment.Property{Key: key, Op: pick(g.r, segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt,
		segment.OpGe, segment.OpIn, segment.OpNotIn, segment.OpContains, segment.OpStarts, segment.OpEnds,
		segment.OpMatches, segment.OpSet, segment.OpNotSet)}
	lit := func() segment.Value {
		if len(texts) == 0 {
			return pick(g.r, str("csv"), num(3))
		}
		t := pick(g.r, texts...)
		if f, err := strconv.ParseFloat(t, 64); err == nil && g.chance(0.8) {
			return num(f + pick(g.r, 0, 0, 0.5, -1))
		}
		if t == "true" || t == "false" {
			if g.chance(0.7) {
				return segment.Value{Kind: segment.ValBool, Bool: t == "true"}
			}
		}
		return str(t)
	}
	switch p.Op {
	case segment.OpSet, segment.OpNotSet:
	case segment.OpIn, segment.OpNotIn:
		p.Values = []segment.Value{lit()}
		for range g.r.IntN(3) {
			p.Values = append(p.Values, lit())
		}
	case segment.OpContains, segment.OpStarts, segment.OpEnds, segment.OpMatches:
		s := "csv"
		if len(texts) > 0 {
			s = pick(g.r, texts...)
		}
		p.Values = []segment.Value{str(g.fragment(p.Op, s))}
	default:
		p.Values = []segment.Value{lit()}
	}
	return p
}

// count returns a comparison of a count; optional allows the zero Count
// ("at least once"). Many admit zero.
func (g *treeGen) count(optional bool) segment.Count {
	if optional && g.chance(0.4) {
		return segment.Count{}
	}
	return segment.Count{Op: pick(g.r, segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe),
		N: float64(pick(g.r, 0, 0, 1, 1, 2, 3, 5, 8))}
}

// period returns the last N, a range of whole days or of instants, or
// (when allowed) all time. Some periods start or end exactly when
// something happened.
func (g *treeGen) period(allowZero bool, moments string) segment.Period {
	x := g.r.IntN(100)
	switch {
	case x < 30 && allowZero:
		return segment.Period{}
	case x < 50 && len(g.voc.moments[moments]) > 0:
		m := pick(g.r, g.voc.moments[moments]...)
		switch {
		case m.Before(g.now) && g.now.Sub(m)%time.Second == 0 && g.chance(0.4):
			return segment.Period{Last: g.now.Sub(m)}
		case g.chance(0.5):
			return segment.Period{From: m, To: m.Add(time.Duration(1+g.r.IntN(30)) * day)}
		}
		return segment.Period{From: m.Add(-time.Duration(1+g.r.IntN(30)) * day), To: m}
	case x < 65:
		return segment.Period{Last: pick(g.r, time.Hour, 12*time.Hour, day, 3*day, 7*day, 14*day, 30*day, 60*day, 90*day, 100*day)}
	}
	from := g.instant(g.now.Add(-100*day), g.now.Add(day))
	to := from.Add(time.Duration(1+g.r.IntN(45)) * day)
	if g.chance(0.7) {
		from, to = from.Truncate(day), to.Truncate(day)
	} else {
		to = to.Add(time.Duration(g.r.IntN(86400)) * time.Second)
	}
	return segment.Period{From: from, To: to}
}

func (g *treeGen) visited() segment.Node {
	v := &segment.Visited{Match: pick(g.r, segment.OpEq, segment.OpContains, segment.OpStarts, segment.OpMatches),
		Count: g.count(true), Period: g.period(true, "page")}
	path := "/nowhere"
	if len(g.voc.paths) > 0 && g.chance(0.95) {
		path = pick(g.r, g.voc.paths...)
	}
	v.Pattern = path
	if v.Match != segment.OpEq {
		v.Pattern = g.fragment(v.Match, path)
	}
	if v.Pattern == "" {
		v.Pattern = "/"
	}
	return v
}

func (g *treeGen) sessionDuration() segment.Node {
	s := &segment.SessionDuration{Agg: pick(g.r, segment.AggAny, segment.AggAvg),
		Op:     pick(g.r, segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe),
		Value:  pick(g.r, 30*time.Second, time.Minute, 5*time.Minute, 15*time.Minute, 30*time.Minute, time.Hour, 2*time.Hour, 3*time.Hour),
		Period: g.period(true, "session")}
	switch x := g.r.IntN(100); {
	case x < 30 && len(g.voc.sessions) > 0:
		// About as long as one session, often over a period that holds
		// it and few others: the second before or after its length.
		one := pick(g.r, g.voc.sessions...)
		d := one.end.Sub(one.start)
		s.Value = max(time.Second, pick(g.r, d.Truncate(time.Second), (d+time.Second-1).Truncate(time.Second)))
		if g.chance(0.6) {
			s.Period = segment.Period{From: one.start, To: one.start.Add(time.Duration(1+g.r.IntN(3)) * day)}
		}
	case x < 50 && len(g.voc.durations) > 0: // about as long as some session
		s.Value = pick(g.r, g.voc.durations...)
	}
	return s
}

func (g *treeGen) sessionField() segment.Node {
	s := &segment.SessionField{Field: pick(g.r, segment.SessionFields()...), Period: g.period(true, "session"),
		Op: pick(g.r, segment.OpEq, segment.OpNe, segment.OpIn, segment.OpNotIn, segment.OpContains, segment.OpStarts,
			segment.OpEnds, segment.OpMatches, segment.OpSet, segment.OpNotSet)}
	values := g.voc.fields[s.Field]
	lit := func() segment.Value {
		if len(values) == 0 || g.chance(0.05) {
			return str("nothing")
		}
		return str(pick(g.r, values...))
	}
	switch s.Op {
	case segment.OpSet, segment.OpNotSet:
	case segment.OpIn, segment.OpNotIn:
		s.Values = []segment.Value{lit()}
		for range g.r.IntN(3) {
			s.Values = append(s.Values, lit())
		}
	case segment.OpContains, segment.OpStarts, segment.OpEnds, segment.OpMatches:
		s.Values = []segment.Value{str(g.fragment(s.Op, lit().Str))}
	default:
		s.Values = []segment.Value{lit()}
	}
	return s
}

// signal returns a frustration signal condition, on a page for about half.
func (g *treeGen) signal() segment.Node {
	s := &segment.Signal{Kind: pick(g.r, segment.SignalKinds()...), Count: g.count(true), Period: g.period(true, "track")}
	if g.chance(0.5) {
		s.Match = pick(g.r, segment.OpEq, segment.OpContains, segment.OpStarts, segment.OpMatches)
		s.Page = "/nowhere"
		if len(g.voc.paths) > 0 && g.chance(0.95) {
			s.Page = pick(g.r, g.voc.paths...)
		}
		if s.Match != segment.OpEq {
			s.Page = g.fragment(s.Match, s.Page)
		}
		if s.Page == "" {
			s.Page = "/"
		}
	}
	return s
}

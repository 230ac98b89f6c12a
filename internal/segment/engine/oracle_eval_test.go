package engine_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
)

// This file is the oracle: a brute-force evaluator of segment trees, one
// user at a time, over the rows loadWorld read. It is written from the
// language's definition (docs/segments.md, "What conditions mean") and
// shares nothing with the SQL compiler, so that the two can check each
// other.

const day = 24 * time.Hour

// members returns the keys of the users matching n, ascending.
func (w *world) members(n segment.Node) []int64 {
	var out []int64
	for _, k := range w.universe {
		if w.match(n, w.users[k]) {
			out = append(out, k)
		}
	}
	return out
}

// match reports whether user u matches n.
func (w *world) match(n segment.Node, u *oUser) bool {
	switch n := n.(type) {
	case *segment.Group:
		for _, c := range n.Conditions {
			if w.match(c, u) != (n.Op == segment.All) {
				return n.Op != segment.All
			}
		}
		return n.Op == segment.All
	case *segment.Not:
		return !w.match(n.Condition, u)
	case *segment.Attribute:
		return w.attribute(n, u)
	case *segment.Changed:
		return changed(n, u.history[n.Key], w.now)
	case *segment.Event:
		return w.event(n, u)
	case *segment.ActiveDays:
		days := map[time.Time]bool{}
		for _, e := range u.events {
			if inPeriod(e.ts, n.Period, w.now) {
				days[time.Date(e.ts.Year(), e.ts.Month(), e.ts.Day(), 0, 0, 0, 0, time.UTC)] = true
			}
		}
		return countMatches(len(days), n.Count)
	case *segment.Visited:
		count := 0
		for _, e := range u.events {
			if (e.kind == 3 || e.kind == 4) && inPeriod(e.ts, n.Period, w.now) && textTest(n.Match, e.path, n.Pattern) {
				count++
			}
		}
		return countMatches(count, n.Count)
	case *segment.Sessions:
		count := 0
		for _, s := range u.sessions {
			if inPeriod(s.start, n.Period, w.now) {
				count++
			}
		}
		return countMatches(count, n.Count)
	case *segment.SessionDuration:
		return w.sessionDuration(n, u)
	case *segment.Signal:
		name := map[segment.SignalKind]string{"rage_clicks": "$rage_click", "dead_clicks": "$dead_click",
			"u_turns": "$u_turn", "errors": "$error"}[n.Kind]
		count := 0
		for _, e := range u.events {
			if e.kind == 2 && e.name == name && inPeriod(e.ts, n.Period, w.now) &&
				(n.Match == "" || textTest(n.Match, e.path, n.Page)) {
				count++
			}
		}
		return countMatches(count, n.Count)
	case *segment.SessionField:
		neg, op := positive(n.Op)
		found := false
		for _, s := range u.sessions {
			if inPeriod(s.start, n.Period, w.now) && stringTest(op, s.fields[n.Field], n.Values) {
				found = true
				break
			}
		}
		return found != neg
	case *segment.NPS:
		return w.nps(n, u)
	case *segment.Answer:
		return w.answer(n, u)
	case *segment.FeedbackRating:
		return w.feedbackRating(n, u)
	case *segment.Identified:
		// A user ID among the user's identities (loadWorld reads them
		// all, anonymous ones too).
		for _, id := range u.ids {
			if strings.HasPrefix(id, "user:") {
				return true
			}
		}
		return false
	case *segment.FunnelStep:
		return w.funnelStep(n, u)
	case *segment.InSegment:
		ref, ok := w.segments[n.ID]
		if !ok {
			panic(fmt.Sprintf("BUG: oracle knows no segment %q", n.ID))
		}
		return w.match(ref, u)
	}
	panic(fmt.Sprintf("BUG: oracle cannot evaluate %T", n))
}

// positive splits a negative operator into "negated" and the positive
// operator it is the complement of.
func positive(op segment.Op) (neg bool, pos segment.Op) {
	switch op {
	case segment.OpNe:
		return true, segment.OpEq
	case segment.OpNotIn:
		return true, segment.OpIn
	case segment.OpNotSet:
		return true, segment.OpSet
	}
	return false, op
}

// inPeriod reports whether t falls in p: all time, the last p.Last (with
// no upper bound), or [From, To).
func inPeriod(t time.Time, p segment.Period, now time.Time) bool {
	switch {
	case p.Last != 0:
		return !t.Before(now.Add(-p.Last))
	case !p.From.IsZero():
		return !t.Before(p.From) && t.Before(p.To)
	}
	return true
}

// countMatches compares a count with c; the zero Count means at least once.
func countMatches(n int, c segment.Count) bool {
	return compare(float64(n), c.Effective().Op, c.Effective().N)
}

func compare[T int64 | float64 | string](a T, op segment.Op, b T) bool {
	switch op {
	case segment.OpEq:
		return a == b
	case segment.OpNe:
		return a != b
	case segment.OpLt:
		return a < b
	case segment.OpLe:
		return a <= b
	case segment.OpGt:
		return a > b
	case segment.OpGe:
		return a >= b
	}
	panic("BUG: oracle: no comparison " + string(op))
}

// attribute decides a user or company attribute condition: the positive
// operator on the value, and its complement for !=, not in and is not set.
func (w *world) attribute(a *segment.Attribute, u *oUser) bool {
	neg, op := positive(a.Op)
	found := false
	if a.Scope == segment.ScopeCompany {
		for _, g := range u.groups {
			if v, ok := w.companies[g][a.Key]; ok && w.valueTest(op, v, a.Values) {
				found = true
				break
			}
		}
	} else if v, ok := valueOf(u, a.Key, a.AsOf); ok {
		found = w.valueTest(op, v, a.Values)
	}
	return found != neg
}

// valueOf returns a user's attribute now, or as of a moment from its
// history: the latest entry set at or before then, unless it is an unset.
func valueOf(u *oUser, key string, asOf time.Time) (attr.Value, bool) {
	if asOf.IsZero() {
		v, ok := u.attrs[key]
		return v, ok
	}
	var last *histEntry
	for i, e := range u.history[key] {
		if !e.at.After(asOf) {
			last = &u.history[key][i]
		}
	}
	if last == nil || last.v.Null {
		return attr.Value{}, false
	}
	return last.v, true
}

// valueTest applies a positive operator to a set value.
func (w *world) valueTest(op segment.Op, v attr.Value, vals []segment.Value) bool {
	switch op {
	case segment.OpSet:
		return true
	case segment.OpIn:
		for _, x := range vals {
			if valueCompare(v, segment.OpEq, x) {
				return true
			}
		}
		return false
	case segment.OpBetween:
		return valueCompare(v, segment.OpGe, vals[0]) && valueCompare(v, segment.OpLe, vals[1])
	case segment.OpWithin:
		return !v.Time.Before(w.now.Add(-vals[0].Dur)) && !v.Time.After(w.now)
	case segment.OpOlderThan:
		return v.Time.Before(w.now.Add(-vals[0].Dur))
	case segment.OpContains, segment.OpStarts, segment.OpEnds, segment.OpMatches:
		return v.Type == attr.String && textTest(op, v.Str, vals[0].Str)
	}
	return valueCompare(v, op, vals[0])
}

// valueCompare compares a typed value with a literal. A datetime compared
// with a whole day reads the day as [day, day+24h).
func valueCompare(v attr.Value, op segment.Op, x segment.Value) bool {
	switch v.Type {
	case attr.String:
		return x.Kind == segment.ValString && compare(v.Str, op, x.Str)
	case attr.Number:
		return x.Kind == segment.ValNumber && compare(v.Num, op, x.Num)
	case attr.Boolean:
		if x.Kind != segment.ValBool {
			return false
		}
		switch op {
		case segment.OpEq:
			return v.Bool == x.Bool
		case segment.OpNe:
			return v.Bool != x.Bool
		}
		panic("BUG: oracle: boolean comparison " + string(op))
	case attr.Datetime:
		if x.Kind != segment.ValDate {
			return false
		}
		t := v.Time
		if !x.WholeDay() {
			return compare(t.UnixMicro(), op, x.Time.UnixMicro())
		}
		start, end := x.Time, x.Time.Add(day)
		switch op {
		case segment.OpEq:
			return !t.Before(start) && t.Before(end)
		case segment.OpNe:
			return t.Before(start) || !t.Before(end)
		case segment.OpLt:
			return t.Before(start)
		case segment.OpLe:
			return t.Before(end)
		case segment.OpGt:
			return !t.Before(end)
		case segment.OpGe:
			return !t.Before(start)
		}
	}
	panic(fmt.Sprintf("BUG: oracle: %s %s %v", v.Type, op, x))
}

// textTest applies a string operator; matches is a regular expression
// search, not a whole-string match.
func textTest(op segment.Op, s, pattern string) bool {
	switch op {
	case segment.OpEq:
		return s == pattern
	case segment.OpContains:
		return strings.Contains(s, pattern)
	case segment.OpStarts:
		return strings.HasPrefix(s, pattern)
	case segment.OpEnds:
		return strings.HasSuffix(s, pattern)
	case segment.OpMatches:
		return regexp.MustCompile(pattern).MatchString(s)
	}
	panic("BUG: oracle: no text test " + string(op))
}

// stringTest applies a positive operator to a session field; "is set"
// means not empty.
func stringTest(op segment.Op, s string, vals []segment.Value) bool {
	switch op {
	case segment.OpSet:
		return s != ""
	case segment.OpIn:
		for _, x := range vals {
			if s == x.Str {
				return true
			}
		}
		return false
	}
	return textTest(op, s, vals[0].Str)
}

// changed reports whether the history has an entry in the period that
// differs from the one before it (none before the first; an unset is
// none), from From and to To when they are given.
func changed(c *segment.Changed, h []histEntry, now time.Time) bool {
	for i, e := range h {
		if !inPeriod(e.at, c.Period, now) {
			continue
		}
		prev := attr.Value{Null: true}
		if i > 0 {
			prev = h[i-1].v
		}
		if prev.Equal(e.v) {
			continue
		}
		if c.From != nil && (prev.Null || !valueCompare(prev, segment.OpEq, *c.From)) {
			continue
		}
		if c.To != nil && (e.v.Null || !valueCompare(e.v, segment.OpEq, *c.To)) {
			continue
		}
		return true
	}
	return false
}

// event decides did(…) and did_first(…).
func (w *world) event(n *segment.Event, u *oUser) bool {
	if n.First {
		var first *oEvent
		for i, e := range u.events {
			if e.kind == 2 && e.name == n.Name && propertiesMatch(n.Where, e.props) && (first == nil || e.ts.Before(first.ts)) {
				first = &u.events[i]
			}
		}
		return first != nil && inPeriod(first.ts, n.Period, w.now)
	}
	count := 0
	for _, e := range u.events {
		if e.kind == 2 && e.name == n.Name && inPeriod(e.ts, n.Period, w.now) && propertiesMatch(n.Where, e.props) {
			count++
		}
	}
	return countMatches(count, n.Count)
}

func propertiesMatch(where []segment.Property, props map[string]string) bool {
	for _, p := range where {
		if !propertyMatches(p, props) {
			return false
		}
	}
	return true
}

// propertyMatches decides one property condition. A missing property
// fails a positive condition and passes a negative one; a present one
// passes a negative condition when it fails the positive one.
func propertyMatches(p segment.Property, props map[string]string) bool {
	neg, op := positive(p.Op)
	text, ok := props[p.Key]
	if !ok {
		return neg
	}
	var found bool
	switch op {
	case segment.OpSet:
		found = true
	case segment.OpIn:
		for _, x := range p.Values {
			found = found || propertyCompare(text, segment.OpEq, x)
		}
	case segment.OpContains, segment.OpStarts, segment.OpEnds, segment.OpMatches:
		found = textTest(op, text, p.Values[0].Str)
	default:
		found = propertyCompare(text, op, p.Values[0])
	}
	return found != neg
}

// propertyCompare compares a property's text with a literal: numerically
// when the literal is a number (text that is not a number fails), as text
// otherwise.
func propertyCompare(text string, op segment.Op, x segment.Value) bool {
	switch x.Kind {
	case segment.ValNumber:
		f, err := strconv.ParseFloat(text, 64)
		return err == nil && compare(f, op, x.Num)
	case segment.ValBool:
		return compare(text, op, strconv.FormatBool(x.Bool))
	}
	return compare(text, op, x.Str)
}

// sessionDuration decides session_duration (some session in the period)
// and avg_session_duration (their average; no sessions, no match). The
// average is compared exactly: sum op n×D.
func (w *world) sessionDuration(n *segment.SessionDuration, u *oUser) bool {
	var sum, count int64
	for _, s := range u.sessions {
		if !inPeriod(s.start, n.Period, w.now) {
			continue
		}
		d := s.end.Sub(s.start).Microseconds()
		if n.Agg == segment.AggAny && compare(d, n.Op, n.Value.Microseconds()) {
			return true
		}
		sum += d
		count++
	}
	return n.Agg == segment.AggAvg && count > 0 && compare(sum, n.Op, count*n.Value.Microseconds())
}

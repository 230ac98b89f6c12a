package engine_test

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/segment"
)

// This file tallies what the checked trees held, so that TestOracle can
// tell when the generator stops reaching some kind of condition.

// features names what a tree exercises: node kinds, operators by type,
// whole days and instants, periods and counts.
func features(n segment.Node, cat segment.Catalog) []string {
	var out []string
	add := func(parts ...string) { out = append(out, strings.Join(parts, " ")) }
	period := func(kind string, p segment.Period) {
		switch {
		case p.Last != 0:
			add(kind, "period last")
		case !p.From.IsZero():
			add(kind, "period range")
		default:
			add(kind, "period all time")
		}
	}
	count := func(kind string, c segment.Count) {
		if c.IsZero() {
			add(kind, "count at least once")
		} else {
			add(kind, "count", string(c.Op))
		}
	}
	segment.Walk(n, func(n segment.Node) bool {
		switch n := n.(type) {
		case *segment.Group:
			add("group", string(n.Op))
			// Conditions the compiler merges into one scan.
			events, attrs := 0, 0
			for _, c := range n.Conditions {
				if not, ok := c.(*segment.Not); ok {
					c = not.Condition
				}
				switch c := c.(type) {
				case *segment.Event:
					if !c.First {
						events++
					}
				case *segment.Attribute:
					if c.Scope == segment.ScopeUser && c.AsOf.IsZero() {
						attrs++
					}
				}
			}
			if events >= 2 {
				add("group", string(n.Op), "of did")
			}
			if attrs >= 2 {
				add("group", string(n.Op), "of attributes")
			}
		case *segment.Not:
			add("not")
		case *segment.Attribute:
			typ, _ := cat.AttributeType(n.Scope, n.Key)
			scope := "user"
			if n.Scope == segment.ScopeCompany {
				scope = "company"
			}
			add("attribute", scope, typ.String())
			add("attribute", scope, typ.String(), string(n.Op))
			if !n.AsOf.IsZero() {
				add("attribute as of")
			}
			if n.Op == segment.OpBetween && n.Values[0].Kind == segment.ValDate {
				add("attribute datetime between", kindOfDay(n.Values[0]), "and", kindOfDay(n.Values[1]))
			}
			for _, v := range n.Values {
				if v.Kind == segment.ValDate {
					add("attribute datetime", string(n.Op), kindOfDay(v))
				}
			}
		case *segment.Changed:
			add("changed", fmt.Sprintf("from %v to %v", n.From != nil, n.To != nil))
			period("changed", n.Period)
		case *segment.Event:
			if n.First {
				add("did_first")
				break
			}
			count("did", n.Count)
			period("did", n.Period)
			for _, p := range n.Where {
				add("did property", string(p.Op))
			}
		case *segment.ActiveDays:
			count("active_days", n.Count)
			period("active_days", n.Period)
		case *segment.Visited:
			add("visited", string(n.Match))
			count("visited", n.Count)
		case *segment.Sessions:
			count("sessions", n.Count)
			period("sessions", n.Period)
		case *segment.SessionDuration:
			add("session_duration", string(n.Agg), string(n.Op))
		case *segment.SessionField:
			add("session field", string(n.Op))
		case *segment.Signal:
			add("signal", string(n.Kind))
			add("signal page", string(n.Match))
			count("signal", n.Count)
			period("signal", n.Period)
		case *segment.NPS:
			add(map[bool]string{true: "nps_group", false: "nps_score"}[n.Group], string(n.Op))
			period("nps", n.Period)
		case *segment.Answer:
			kind := map[bool]string{true: "number", false: "string"}[n.Values[0].Kind == segment.ValNumber]
			add("answer", kind, string(n.Op))
			period("answer", n.Period)
		case *segment.FeedbackRating:
			add("feedback_rating", string(n.Op))
			period("feedback_rating", n.Period)
		case *segment.InSegment:
			add("in_segment")
		}
		return true
	})
	return out
}

func kindOfDay(v segment.Value) string {
	if v.WholeDay() {
		return "whole day"
	}
	return "instant"
}

// requiredFeatures are what the default run must reach.
func requiredFeatures() []string {
	var out []string
	cmp := []segment.Op{segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe}
	stringOps := []segment.Op{segment.OpEq, segment.OpNe, segment.OpIn, segment.OpNotIn, segment.OpContains,
		segment.OpStarts, segment.OpEnds, segment.OpMatches, segment.OpSet, segment.OpNotSet}
	for _, op := range stringOps {
		out = append(out, "attribute user string "+string(op), "session field "+string(op))
	}
	for _, op := range append(cmp, segment.OpBetween, segment.OpIn, segment.OpNotIn, segment.OpSet, segment.OpNotSet) {
		out = append(out, "attribute user number "+string(op))
	}
	for _, op := range []segment.Op{segment.OpEq, segment.OpNe, segment.OpSet, segment.OpNotSet} {
		out = append(out, "attribute user boolean "+string(op))
	}
	for _, op := range append(cmp, segment.OpBetween, segment.OpWithin, segment.OpOlderThan, segment.OpSet, segment.OpNotSet) {
		out = append(out, "attribute user datetime "+string(op))
	}
	for _, op := range append(cmp, segment.OpBetween) {
		out = append(out, "attribute datetime "+string(op)+" whole day", "attribute datetime "+string(op)+" instant")
	}
	for _, lo := range []string{"whole day", "instant"} {
		for _, hi := range []string{"whole day", "instant"} {
			out = append(out, "attribute datetime between "+lo+" and "+hi)
		}
	}
	for _, op := range append(slices.Clone(cmp), segment.OpIn, segment.OpNotIn, segment.OpContains, segment.OpStarts,
		segment.OpEnds, segment.OpMatches, segment.OpSet, segment.OpNotSet) {
		out = append(out, "did property "+string(op))
	}
	for _, op := range cmp {
		out = append(out, "did count "+string(op), "active_days count "+string(op), "visited count "+string(op),
			"sessions count "+string(op), "session_duration any "+string(op), "session_duration avg "+string(op))
	}
	for _, k := range segment.SignalKinds() {
		out = append(out, "signal "+string(k))
	}
	for _, op := range []segment.Op{"", segment.OpEq, segment.OpContains, segment.OpStarts, segment.OpMatches} {
		out = append(out, "signal page "+string(op))
	}
	for _, op := range cmp {
		out = append(out, "signal count "+string(op))
	}
	for _, op := range []segment.Op{segment.OpEq, segment.OpNe, segment.OpIn, segment.OpNotIn} {
		out = append(out, "nps_group "+string(op), "answer string "+string(op))
	}
	for _, op := range []segment.Op{segment.OpLt, segment.OpGe, segment.OpBetween, segment.OpIn} {
		out = append(out, "nps_score "+string(op), "answer number "+string(op))
	}
	for _, op := range append(cmp, segment.OpBetween) {
		out = append(out, "feedback_rating "+string(op))
	}
	for _, kind := range []string{"did", "active_days", "sessions", "changed", "signal", "nps", "answer", "feedback_rating"} {
		out = append(out, kind+" period last", kind+" period range", kind+" period all time")
	}
	return append(out, "group all", "group any", "not", "group all of did", "group any of did",
		"group all of attributes", "group any of attributes", "attribute as of", "attribute company string",
		"attribute company number", "attribute company datetime", "attribute company boolean",
		"changed from true to true", "changed from true to false", "changed from false to true",
		"changed from false to false", "did count at least once", "visited count at least once", "did_first",
		"visited =", "visited contains", "visited starts_with", "visited matches", "in_segment",
		"signal count at least once")
}

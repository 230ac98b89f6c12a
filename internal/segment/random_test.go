package segment_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// TestRandomTrees builds random trees of the shape Parse produces and
// checks that each survives Format → Parse and MarshalNode → ParseJSON
// unchanged. It reaches combinations that byte-level fuzzing rarely
// assembles.
func TestRandomTrees(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := 0; i < n; i++ {
		tree := randomNode(r, 0)
		checkRoundTrips(t, tree)
	}
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func randomString(r *rand.Rand) string {
	return pick(r, "", "pro", "a b", "2024-05-01", "2024-05-01T10:00", "2024-05-01T10:00:00+02:00", "2024-05-01 10:00:00",
		"0000-01-01", "say \"hi\"\\", "line\nbreak\ttab\r", "\x00\x1f\x7f", "\u2028é😀", "not", "30d", "/pricing?x=1")
}

func randomKey(r *rand.Rand) string {
	return pick(r, "plan", "address.city", "company.size", "session.x", "not", "Not.x", "AND", "did", "in", "a b", "", "x.", "_1", "é")
}

func randomTime(r *rand.Rand) time.Time {
	return pick(r, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 1, 10, 30, 0, 250, time.UTC),
		time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)).UTC()
}

func randomDuration(r *rand.Rand) time.Duration {
	return pick(r, time.Second, 90*time.Minute, 3*time.Hour, 14*24*time.Hour, 7*24*time.Hour+time.Second, 1<<33*time.Second)
}

func randomPeriod(r *rand.Rand) segment.Period {
	switch r.IntN(3) {
	case 0:
		return segment.Period{}
	case 1:
		return segment.Period{Last: randomDuration(r)}
	}
	return segment.Period{From: randomTime(r), To: randomTime(r)}
}

func randomValue(r *rand.Rand) segment.Value {
	switch r.IntN(3) {
	case 0:
		return segment.Value{Kind: segment.ValString, Str: randomString(r)}
	case 1:
		return segment.Value{Kind: segment.ValNumber, Num: pick(r, 0, -1, 1.5, 1e21, 1e-7, 123456789.125, math.MaxFloat64, 5e-324, -2.5e-300)}
	}
	return segment.Value{Kind: segment.ValBool, Bool: r.IntN(2) == 0}
}

func randomOp(r *rand.Rand, ops ...segment.Op) (segment.Op, []segment.Value) {
	op := pick(r, ops...)
	switch op {
	case segment.OpSet, segment.OpNotSet:
		return op, nil
	case segment.OpBetween:
		return op, []segment.Value{randomValue(r), randomValue(r)}
	case segment.OpIn, segment.OpNotIn:
		vals := make([]segment.Value, 1+r.IntN(3))
		for i := range vals {
			vals[i] = randomValue(r)
		}
		return op, vals
	case segment.OpContains, segment.OpStarts, segment.OpEnds, segment.OpMatches:
		return op, []segment.Value{{Kind: segment.ValString, Str: randomString(r)}}
	case segment.OpWithin, segment.OpOlderThan:
		return op, []segment.Value{{Kind: segment.ValDuration, Dur: randomDuration(r)}}
	}
	return op, []segment.Value{randomValue(r)}
}

var (
	cmpOps      = []segment.Op{segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe}
	propertyOps = append(cmpOps[:6:6], segment.OpIn, segment.OpNotIn, segment.OpContains, segment.OpStarts, segment.OpEnds,
		segment.OpMatches, segment.OpSet, segment.OpNotSet)
	sessionOps = append(propertyOps[:len(propertyOps):len(propertyOps)], segment.OpBetween)
	attrOps    = append(sessionOps[:len(sessionOps):len(sessionOps)], segment.OpWithin, segment.OpOlderThan)
)

func randomCount(r *rand.Rand, optional bool) segment.Count {
	if optional && r.IntN(2) == 0 {
		return segment.Count{}
	}
	return segment.Count{Op: pick(r, cmpOps...), N: pick(r, 0, 1, 3, 1.5, -2, 1e300)}
}

func randomNode(r *rand.Rand, depth int) segment.Node {
	if depth < 4 && r.IntN(3) == 0 {
		if r.IntN(3) == 0 {
			return &segment.Not{Condition: randomNode(r, depth+1)}
		}
		g := &segment.Group{Op: pick(r, segment.All, segment.Any)}
		for range 2 + r.IntN(3) {
			g.Conditions = append(g.Conditions, randomNode(r, depth+1))
		}
		return g
	}
	switch r.IntN(12) {
	case 0:
		a := &segment.Attribute{Scope: pick(r, segment.ScopeUser, segment.ScopeCompany), Key: randomKey(r)}
		a.Op, a.Values = randomOp(r, attrOps...)
		if r.IntN(3) == 0 {
			a.AsOf = randomTime(r)
		}
		return a
	case 1:
		c := &segment.Changed{Key: randomKey(r), Period: randomPeriod(r)}
		if r.IntN(2) == 0 {
			v := randomValue(r)
			c.From = &v
		}
		if r.IntN(2) == 0 {
			v := randomValue(r)
			c.To = &v
		}
		return c
	case 2:
		e := &segment.Event{Name: randomString(r), Period: randomPeriod(r)}
		if r.IntN(4) == 0 {
			e.First = true
			return e
		}
		for range r.IntN(3) {
			p := segment.Property{Key: randomKey(r)}
			p.Op, p.Values = randomOp(r, propertyOps...)
			e.Where = append(e.Where, p)
		}
		e.Count = randomCount(r, true)
		return e
	case 3:
		return &segment.ActiveDays{Count: randomCount(r, false), Period: randomPeriod(r)}
	case 4:
		return &segment.Visited{Match: pick(r, segment.OpEq, segment.OpContains, segment.OpStarts, segment.OpEnds, segment.OpMatches),
			Pattern: randomString(r), Count: randomCount(r, true), Period: randomPeriod(r)}
	case 5:
		return &segment.Sessions{Count: randomCount(r, false), Period: randomPeriod(r)}
	case 6:
		return &segment.SessionDuration{Agg: pick(r, segment.AggAny, segment.AggAvg), Op: pick(r, cmpOps...),
			Value: randomDuration(r), Period: randomPeriod(r)}
	case 7:
		s := &segment.SessionField{Field: pick(r, "device", "Device", "x_1"), Period: randomPeriod(r)}
		s.Op, s.Values = randomOp(r, sessionOps...)
		return s
	case 8:
		if r.IntN(2) == 0 {
			return &segment.Identified{}
		}
		return &segment.InSegment{ID: randomString(r)}
	case 9:
		if r.IntN(2) == 0 {
			return &segment.InSegment{ID: randomString(r)}
		}
		s := &segment.Signal{Kind: pick(r, segment.SignalKinds()...), Count: randomCount(r, true), Period: randomPeriod(r)}
		if r.IntN(3) > 0 {
			s.Match = pick(r, segment.OpEq, segment.OpNe, segment.OpContains, segment.OpStarts, segment.OpEnds, segment.OpMatches)
			s.Page = randomString(r)
		}
		return s
	case 10:
		answerOps := []segment.Op{segment.OpEq, segment.OpNe, segment.OpLt, segment.OpGe, segment.OpBetween,
			segment.OpIn, segment.OpNotIn, segment.OpContains, segment.OpStarts}
		switch r.IntN(3) {
		case 0:
			n := &segment.NPS{Group: r.IntN(2) == 0, Period: randomPeriod(r)}
			if r.IntN(2) == 0 {
				n.Survey = randomString(r)
			}
			n.Op, n.Values = randomOp(r, answerOps...)
			return n
		case 1:
			a := &segment.Answer{Survey: randomString(r), Question: randomString(r), Period: randomPeriod(r)}
			a.Op, a.Values = randomOp(r, answerOps...)
			return a
		}
		f := &segment.FeedbackRating{Period: randomPeriod(r)}
		f.Op, f.Values = randomOp(r, answerOps...)
		return f
	}
	return &segment.Changed{Key: randomKey(r)}
}

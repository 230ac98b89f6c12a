package gen

import (
	"context"
	"math"
	"slices"
	"time"
)

// Session shape. Durations are log-normal around a median that grows with
// engagement, with a tail that makes "three hours a session" rare but real
// for the most engaged; sessions stop at 4 hours, as the tracker's do.
const (
	durSigma   = 1.0
	maxSession = 239 * minute // under the 4-hour cap
	minSession = 12           // seconds
	// eventGap is the longest average gap between events: sessions end
	// after 30 idle minutes, so events come at least this often.
	eventGap = 15 * minute
	// weekendFactor is how much less often people come on Saturdays and
	// Sundays: it is a work tool.
	weekendFactor = 0.3
	// idleGap separates consecutive sessions of a person by more than the
	// 30 minutes that would merge them.
	idleGap = 31 * minute
)

// dayWeight is 1 for a weekday and weekendFactor for a weekend day.
func dayWeight(midnight int64) float64 {
	switch time.Unix(midnight, 0).UTC().Weekday() {
	case time.Saturday, time.Sunday:
		return weekendFactor
	}
	return 1
}

// extraSession is the chance of another session on a day already active.
func extraSession(u float64) float64 { return 0.2 + 0.3*u }

// activity writes the window's sessions and events day by day, so that
// events are stored in roughly the order they happened, as with real
// ingestion: time filters then skip whole row groups.
func (g *generator) activity(ctx context.Context) error {
	r := g.r
	base := g.dayBase()
	nd := g.days()
	var starts []planned
	for d := range nd {
		if err := ctx.Err(); err != nil {
			return err
		}
		if g.sink.Err() != nil {
			return nil // Run reports it
		}
		midnight := base + int64(d)*day
		weight := dayWeight(midnight)
		ms := g.milestones[d]
		for i := range g.people {
			p := &g.people[i]
			var mine []milestone
			for len(ms) > 0 && int(ms[0].person) == i {
				mine = append(mine, ms[0])
				ms = ms[1:]
			}
			starts = starts[:0]
			if p.flags&fAnon == 0 && p.activeOn(midnight) && r.Float64() < float64(p.pDay)*weight {
				starts = append(starts, planned{at: midnight + 7*hour + r.Int64N(10*hour)})
				for len(starts) < 4 && r.Float64() < extraSession(float64(p.u)) {
					starts = append(starts, planned{at: midnight + 7*hour + r.Int64N(13*hour)})
				}
			}
			for _, m := range mine {
				starts = append(starts, planned{at: m.at, m: m, special: true})
			}
			if len(starts) == 0 {
				continue
			}
			slices.SortFunc(starts, func(a, b planned) int { return int(a.at - b.at) })
			for _, s := range starts {
				t := s.at
				if p.lastSeen > 0 {
					t = max(t, p.lastSeen+idleGap)
				}
				if t < g.start || t >= g.now-minute {
					continue
				}
				if !s.special && (t < p.signup || p.until != 0 && t >= p.until) {
					continue // not before signing up, nor after leaving
				}
				if p.flags&fAnon != 0 {
					g.visitSession(p, t)
					continue
				}
				var m *milestone
				if s.special {
					m = &s.m
				}
				g.userSession(p, t, m)
			}
		}
		g.report("activity", d+1, nd)
	}
	return nil
}

// planned is a session to start at a time, for a milestone or not.
type planned struct {
	at      int64
	m       milestone
	special bool
}

// activeOn reports whether a user still uses the product on the day
// starting at midnight.
func (p *person) activeOn(midnight int64) bool {
	return p.signup < midnight+day && (p.until == 0 || midnight < p.until)
}

// duration draws a session length in seconds.
func (g *generator) duration(median float32) int64 {
	m := math.Exp(math.Log(float64(median)) + durSigma*g.r.NormFloat64())
	return min(max(int64(m*minute), minSession), maxSession)
}

// eventCount draws how many page views and track events a session of this
// length has: one per eventGap at least, and more by the calibrated density.
func (g *generator) eventCount(dur int64) int {
	return 1 + int((dur+eventGap-1)/eventGap) + g.poisson(g.density*float64(dur)/minute)
}

// poisson draws from a Poisson distribution: Knuth's method for small
// means, a normal approximation for large ones.
func (g *generator) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(int(math.Round(mean+math.Sqrt(mean)*g.r.NormFloat64())), 0)
	}
	limit, k, prod := math.Exp(-mean), 0, g.r.Float64()
	for prod > limit {
		k++
		prod *= g.r.Float64()
	}
	return k
}

// calibrate sets the event density so that people have cfg.EventsPerUser
// events on average. It computes the expected sessions and session minutes
// of everyone from the plan, without drawing anything.
func (g *generator) calibrate() {
	base := g.dayBase()
	nd := g.days()
	weights := make([]float64, nd+1) // prefix sums of day weights
	for d := range nd {
		weights[d+1] = weights[d] + dayWeight(base+int64(d)*day)
	}
	dayOf := func(t int64) int { return min(max(int((t-base)/day), 0), nd) }
	var events, minutes float64
	add := func(p *person, sessions, opening float64) {
		mean := cappedMean(float64(p.durMed), durSigma, maxSession/minute)
		// The entry page, the per-gap minimum (half a gap rounds up), an
		// identify now and then, and the opening of a milestone session.
		events += sessions * (1 + mean*minute/eventGap + 0.5 + 0.15 + opening)
		minutes += sessions * mean
	}
	for i := range g.people {
		p := &g.people[i]
		if p.flags&fAnon != 0 {
			continue
		}
		from, to := max(p.signup, g.start), g.now
		if p.until != 0 {
			to = min(to, p.until)
		}
		if to <= from {
			continue
		}
		q := extraSession(float64(p.u))
		perDay := 1 + q + q*q + q*q*q
		add(p, float64(p.pDay)*(weights[dayOf(to)+1]-weights[dayOf(from)])*perDay, 0)
	}
	for _, ms := range g.milestones {
		for _, m := range ms {
			opening := 5.0 // sign-up, onboarding and plan changes open with a few steps
			if m.kind == msVisit {
				opening = 0
			}
			add(&g.people[m.person], 1, opening)
		}
	}
	target := g.cfg.EventsPerUser * float64(len(g.people))
	if minutes > 0 {
		g.density = max(0, (target-events)/minutes)
	}
}

// cappedMean is E[min(X, limit)] for X log-normal with this median and
// sigma.
func cappedMean(median, sigma, limit float64) float64 {
	mu := math.Log(median)
	phi := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	lc := math.Log(limit)
	return math.Exp(mu+sigma*sigma/2)*phi((lc-mu-sigma*sigma)/sigma) + limit*(1-phi((lc-mu)/sigma))
}

package gen

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// person is one generated user or anonymous visitor: everything the
// activity and attribute phases need, packed because there may be millions.
type person struct {
	key       int64
	signup    int64    // Unix seconds; an anonymous visitor's first visit
	until     int64    // activity stops here (churn, dormancy); 0: it does not
	lastSeen  int64    // end of the latest session so far
	onboarded int64    // when onboarding was completed; 0: never
	plans     [4]int64 // plan history, each change as at<<3 | plan
	nPlans    uint8
	company   int32
	invoices  int32   // invoices sent in the window
	u         float32 // engagement in [0, 1): the draw behind the power law
	pDay      float32 // chance of a session on a weekday while active
	durMed    float32 // median session length, minutes
	seats     int16
	persona   uint8
	country   uint8
	device    uint8 // usual device, index into devices
	referral  uint8 // index into referralSources
	steps     uint8 // onboarding steps reached
	flags     uint8
}

// Person flags.
const (
	fAnon     = 1 << iota // an anonymous visitor
	fTrial                // started on a trial
	fInTest               // in the onboarding A/B test
	fVariantB             // saw variant B
	fBeta
	fOptIn
)

func (p *person) addPlan(at int64, plan int) {
	p.plans[p.nPlans] = at<<3 | int64(plan)
	p.nPlans++
}

func (p *person) planStep(i int) (at int64, plan int) {
	return p.plans[i] >> 3, int(p.plans[i] & 7)
}

// planAt returns the plan in force at t.
func (p *person) planAt(t int64) int {
	plan := planNone
	for i := range int(p.nPlans) {
		if at, pl := p.planStep(i); at <= t {
			plan = pl
		}
	}
	return plan
}

// company is a customer company (a Segment group).
type company struct {
	key       int64
	created   int64
	employees int32
	industry  uint8
	country   uint8
	mrr       float64 // what its paying users pay a month
}

// milestone is a moment that needs a session of its own: a sign-up, a late
// onboarding, a plan change, an anonymous visit.
type milestone struct {
	person int32
	kind   uint8
	plan   uint8 // msPlan: the new plan
	at     int64
}

const (
	msSignup = iota
	msOnboarding
	msPlan
	msVisit
)

// planPeople creates the companies and people: their identities, company
// links and company attributes, and the plan, engagement and milestones
// that drive the other phases.
func (g *generator) planPeople(ctx context.Context) error {
	r := g.r
	n := g.cfg.Users
	anon := n / 10
	if n < 10 {
		anon = 0
	}
	g.people = make([]person, n)
	g.milestones = make([][]milestone, g.days())
	g.companies = make([]company, max((n-anon)/4, 1))
	cweights := make([]float64, len(g.companies))
	for i := range g.companies {
		c := &g.companies[i]
		c.employees = int32(min(max(math.Exp(math.Log(8)+1.5*r.NormFloat64()), 1), 20000))
		c.industry = uint8(r.IntN(len(industries)))
		c.country = uint8(g.pick.country.pick(r))
		c.created = g.now - 365*day - r.Int64N(5*365*day)
		c.key = g.sink.NewGroup(g.site, at(c.created), "co-"+strconv.Itoa(i+1))
		cweights[i] = math.Pow(float64(c.employees), 0.4)
	}
	g.stats.Companies = len(g.companies)
	pickCompany := newWeighted(cweights)
	for i := range g.people {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := &g.people[i]
		// Anonymous visitors are spread among users rather than at the end,
		// so that any prefix of the people looks like the whole.
		if anon > 0 && i%10 == 9 {
			g.planVisitor(i, p)
			g.stats.Anonymous++
		} else {
			g.planUser(i, p, int(pickCompany.pick(r)))
			g.stats.Users++
		}
		g.report("people", i+1, n)
	}
	for i := range g.companies {
		g.companyAttrs(i)
	}
	g.calibrate()
	return nil
}

// planVisitor plans an anonymous visitor: one to three visits of the
// marketing site within about ten days.
func (g *generator) planVisitor(i int, p *person) {
	r := g.r
	p.flags = fAnon
	p.signup = g.start + r.Int64N(g.now-g.start)
	p.country = uint8(g.pick.country.pick(r))
	p.device = uint8(g.pick.device.pick(r))
	p.referral = uint8(g.pick.referral.pick(r))
	p.durMed = 2
	p.key = g.sink.NewUser(g.site, at(p.signup), "", g.anonID())
	visits := 1
	for visits < 3 && r.Float64() < 0.4 {
		visits++
	}
	for v := range visits {
		t := p.signup
		if v > 0 {
			t += r.Int64N(10 * day)
		}
		g.addMilestone(i, msVisit, 0, t)
	}
}

// planUser plans an identified user of company c.
func (g *generator) planUser(i int, p *person, c int) {
	r := g.r
	co := &g.companies[c]
	p.company = int32(c)
	p.u = float32(r.Float64())
	u := float64(p.u)
	// Newer users are more frequent: the product grows.
	p.signup = g.now - int64(730*day*math.Pow(r.Float64(), 1.6)) - r.Int64N(hour)
	p.pDay = float32(0.015 + 0.85*math.Pow(u, 10))
	p.durMed = float32(2 + 50*math.Pow(u, 10))
	p.persona = uint8(personaFor(r.Float64(), co.employees))
	p.country = co.country
	if r.Float64() < 0.15 {
		p.country = uint8(g.pick.country.pick(r))
	}
	p.device = uint8(g.pick.device.pick(r))
	p.referral = uint8(g.pick.referral.pick(r))
	if r.Float64() < 0.04+0.15*u {
		p.flags |= fBeta
	}
	if r.Float64() < 0.45 {
		p.flags |= fOptIn
	}
	g.planPlans(p, co)
	g.planOnboarding(p)

	ids := []string{g.anonID()}
	if r.Float64() < 0.25 {
		ids = append(ids, g.anonID())
	}
	p.key = g.sink.NewUser(g.site, at(p.signup), "u-"+strconv.Itoa(i+1), ids...)
	g.sink.Link(g.site, p.key, co.key, at(p.signup))

	if p.signup >= g.start {
		g.addMilestone(i, msSignup, 0, p.signup)
	}
	if p.onboarded > p.signup+hour && p.onboarded >= g.start {
		g.addMilestone(i, msOnboarding, 0, p.onboarded)
	}
	for j := 1; j < int(p.nPlans); j++ {
		t, plan := p.planStep(j)
		_, prev := p.planStep(j - 1)
		if t < g.start || t >= g.now {
			continue
		}
		if prev == planTrial && (plan == planChurned || plan == planNone) {
			continue // a trial that runs out needs no visit: the user just stops coming
		}
		g.addMilestone(i, msPlan, plan, t)
	}
	if _, plan := p.planStep(int(p.nPlans) - 1); plan == planPro || plan == planEnterprise {
		co.mrr += monthly(plan, int(p.seats))
	}
}

// planPlans draws the user's plan history: a trial that converts or churns,
// or the free plan with a chance to upgrade; paid users may move up to
// enterprise or cancel. Engaged users and bigger companies pay more often.
func (g *generator) planPlans(p *person, co *company) {
	r := g.r
	u := float64(p.u)
	paid := func() int {
		if r.Float64() < enterpriseShare(co.employees)+0.15*u {
			return planEnterprise
		}
		return planPro
	}
	t := p.signup
	p.seats = 1
	if r.Float64() < 0.55 {
		p.flags |= fTrial
		p.addPlan(t, planTrial)
		end := t + 14*day
		if end > g.now {
			return
		}
		convert := 0.12 + 0.55*u
		if co.employees > 50 {
			convert += 0.1
		}
		if r.Float64() >= convert {
			gone := planChurned
			if r.Float64() < 0.3 {
				gone = planNone
			}
			p.addPlan(end, gone)
			p.until = end + r.Int64N(3*day)
			return
		}
		t = end - r.Int64N(3*day)
		p.addPlan(t, paid())
	} else {
		p.addPlan(t, planFree)
		up := t + 3*day + r.Int64N(max(g.now-t, day))
		if r.Float64() >= 0.05+0.35*u || up >= g.now {
			if r.Float64() < 0.5*(1-u)*(1-u) {
				p.until = t + r.Int64N(max(g.now-t, hour))
			}
			return
		}
		t = up
		p.addPlan(t, paid())
	}
	p.seats = int16(min(float64(co.employees), 1+math.Round(math.Exp(math.Log(2)+0.8*r.NormFloat64()))))
	if _, plan := p.planStep(int(p.nPlans) - 1); plan == planPro && co.employees > 50 && r.Float64() < 0.1+0.3*u {
		if up := t + r.Int64N(max(g.now-t, hour)); up < g.now {
			t = up
			p.addPlan(t, planEnterprise)
		}
	}
	if r.Float64() < 0.12*(1-u) {
		if gone := t + r.Int64N(max(g.now-t, hour)); gone < g.now {
			p.addPlan(gone, planChurned)
			p.until = gone
			return
		}
	}
	if r.Float64() < 0.15*(1-u)*(1-u) {
		p.until = t + r.Int64N(max(g.now-t, hour))
	}
}

// planOnboarding decides whether and when the user completed the four
// onboarding steps. Engaged users mostly did; most others did not, which is
// the seed's insight. Users who signed up in the last 60 days are in an A/B
// test whose variant B completes more often.
func (g *generator) planOnboarding(p *person) {
	r := g.r
	u := float64(p.u)
	chance := 0.12 + 0.75*u*u
	if p.signup >= g.now-60*day {
		p.flags |= fInTest
		if r.Float64() < 0.5 {
			p.flags |= fVariantB
			chance += 0.25 // a real effect: the experiment reads it significant from a few hundred users per variant
		}
	}
	if r.Float64() >= chance {
		if r.Float64() >= 0.3 {
			p.steps = uint8(1 + r.IntN(3))
		}
		return
	}
	p.steps = 4
	done := p.signup + 3*minute + r.Int64N(12*minute)
	if r.Float64() >= 0.7 {
		done = p.signup + day + r.Int64N(9*day)
	}
	if done < g.now && (p.until == 0 || done < p.until) {
		p.onboarded = done
	} else {
		p.steps = 3
	}
}

func (g *generator) addMilestone(i, kind, plan int, t int64) {
	d := int((t - g.dayBase()) / day)
	if d < 0 || d >= len(g.milestones) {
		return
	}
	g.milestones[d] = append(g.milestones[d], milestone{person: int32(i), kind: uint8(kind), plan: uint8(plan), at: t})
}

// companyAttrs writes company i's attributes.
func (g *generator) companyAttrs(i int) {
	c := &g.companies[i]
	name, _ := companyName(uint64(g.cfg.Seed), i)
	created := at(c.created)
	set := func(key string, v attr.Value) {
		g.sink.SetAttr(g.site, store.EntityGroup, c.key, key, v, created)
		g.stats.AttrValues++
		g.stats.AttrChanges++
	}
	set("name", text(name))
	set("industry", text(industries[c.industry]))
	set("employees", number(float64(c.employees)))
	set("mrr", number(math.Round(c.mrr*100)/100))
	set("country", text(countries[c.country].code))
	set("created_at", datetime(c.created))
}

// anonID returns a new random anonymous ID, as a browser would make one.
func (g *generator) anonID() string {
	g.buf = append(g.buf[:0], "a-"...)
	g.buf = strconv.AppendUint(g.buf, g.r.Uint64(), 36)
	return string(g.buf)
}

// companyName names company i, with a web domain to match; it depends
// only on the seed and i, so it needs no storage.
func companyName(seed uint64, i int) (name, domain string) {
	h := splitmix(seed ^ uint64(i)*0x9e3779b97f4a7c15)
	w := companyWords[h%uint64(len(companyWords))]
	n := companyNouns[(h>>16)%uint64(len(companyNouns))]
	title := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
	return title(w) + " " + title(n), w + n + strconv.Itoa(i%97) + ".com"
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// personaFor draws a persona that fits a company of this size.
func personaFor(x float64, employees int32) int {
	var w [numPersonas]float64
	switch {
	case employees <= 1:
		w = [numPersonas]float64{0.2, 0, 0.1, 0.7, 0}
	case employees <= 10:
		w = [numPersonas]float64{0.55, 0.15, 0.2, 0.1, 0}
	case employees <= 200:
		w = [numPersonas]float64{0.15, 0.4, 0.3, 0, 0.15}
	default:
		w = [numPersonas]float64{0, 0.45, 0.3, 0, 0.25}
	}
	for i, p := range w {
		if x < p {
			return i
		}
		x -= p
	}
	return personaOwner
}

// enterpriseShare is how often a paying user of a company this size takes
// the enterprise plan.
func enterpriseShare(employees int32) float64 {
	switch {
	case employees > 1000:
		return 0.6
	case employees > 200:
		return 0.45
	case employees > 50:
		return 0.25
	case employees > 10:
		return 0.08
	}
	return 0.03
}

// companySize is the size bucket people pick in a sign-up form.
func companySize(employees int32) string {
	switch {
	case employees <= 1:
		return "1"
	case employees <= 10:
		return "2-10"
	case employees <= 50:
		return "11-50"
	case employees <= 200:
		return "51-200"
	case employees <= 1000:
		return "201-1000"
	}
	return "1000+"
}

// monthly is what a seat count costs a month on a plan.
func monthly(plan, seats int) float64 {
	switch plan {
	case planPro:
		return 29 + 9*float64(seats-1)
	case planEnterprise:
		return 249 + 19*float64(seats-1)
	}
	return 0
}

func text(s string) attr.Value      { return attr.Value{Type: attr.String, Str: s} }
func number(f float64) attr.Value   { return attr.Value{Type: attr.Number, Num: f} }
func boolean(b bool) attr.Value     { return attr.Value{Type: attr.Boolean, Bool: b} }
func datetime(sec int64) attr.Value { return attr.Value{Type: attr.Datetime, Time: at(sec)} }

package gen

import (
	"math"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// step is one event of the session being built.
type step struct {
	kind  store.Kind
	page  *page  // where it happened
	event string // track: the event's name
	props string // track and identify: a JSON object
}

// newSession empties the session being built.
func (g *generator) newSession() { g.steps, g.counted = g.steps[:0], 0 }

// addPage adds a view of p and, sometimes, the frustration signals that
// follow it.
func (g *generator) addPage(p *page) {
	var prev *page
	for i := len(g.steps) - 1; i >= 0; i-- {
		if g.steps[i].kind == store.KindPage {
			prev = g.steps[i].page
			break
		}
	}
	g.steps = append(g.steps, step{kind: store.KindPage, page: p})
	g.counted++
	g.addSignals(p, prev)
}

func (g *generator) addTrack(p *page, event, props string) {
	g.steps = append(g.steps, step{kind: store.KindTrack, page: p, event: event, props: props})
	g.counted++
}

func (g *generator) addIdentify(p *page, traits string) {
	g.steps = append(g.steps, step{kind: store.KindIdentify, page: p, props: traits})
}

// userSession builds and writes a session of an identified user starting
// at t. A milestone (sign-up, late onboarding, plan change) gives the
// session its opening; the rest is a walk through the app.
func (g *generator) userSession(p *person, t int64, m *milestone) {
	r := g.r
	dur := g.duration(p.durMed)
	g.newSession()
	plan := p.planAt(t)
	ch := returnChannels[g.pick.returning.pick(r)]
	cur := pDashboard
	dash, pricing, billing := &appPages[pDashboard], &appPages[pPricing], &appPages[pBilling]
	switch {
	case m != nil && m.kind == msSignup:
		ch = referralSources[p.referral].ch
		if r.Float64() < 0.4 {
			g.addPage(pricing)
		}
		g.addPage(&signupPage)
		g.addTrack(&signupPage, "Signed Up", g.obj().str("plan", planNames[plan]).
			str("source", referralSources[p.referral].name).end())
		g.addIdentify(&signupPage, g.obj().str("plan", planNames[plan]).str("persona", personaNames[p.persona]).
			str("signed_up_at", at(p.signup).Format(time.RFC3339)).end())
		for k := range int(p.steps) {
			g.addPage(&onboardingPages[k])
		}
		if p.onboarded != 0 && p.onboarded < p.signup+hour {
			g.onboardingDone(p)
		}
		g.addPage(dash)
	case m != nil && m.kind == msOnboarding:
		g.addPage(dash)
		for k := range onboardingPages {
			g.addPage(&onboardingPages[k])
		}
		g.onboardingDone(p)
		g.addPage(dash)
	case m != nil && m.kind == msPlan && (m.plan == planPro || m.plan == planEnterprise):
		from, to := planNames[p.planAt(t-1)], planNames[m.plan]
		g.addPage(dash)
		g.addPage(pricing)
		g.addTrack(pricing, "Upgrade Clicked", g.obj().str("from", from).str("to", to).end())
		g.addPage(billing)
		g.addTrack(billing, "Plan Upgraded", g.obj().str("plan", to).num("seats", float64(p.seats)).end())
		g.addIdentify(billing, g.obj().str("plan", to).end())
		cur = pBilling
	case m != nil && m.kind == msPlan:
		g.addPage(billing)
		g.addTrack(billing, "Subscription Cancelled", g.obj().str("plan", planNames[p.planAt(t-1)]).
			str("reason", cancelReasons[r.IntN(len(cancelReasons))]).end())
		g.addIdentify(billing, g.obj().str("plan", planNames[m.plan]).end())
		cur = pBilling
		dur = min(dur, 10*minute)
	default:
		if r.Float64() >= 0.7 {
			cur = g.pick.pages[p.persona].pick(r)
		}
		g.addPage(&appPages[cur])
		if r.Float64() < 0.15 && plan != planNone {
			g.addIdentify(&appPages[cur], g.obj().str("plan", planNames[plan]).end())
		}
	}
	g.walk(p, cur, g.eventCount(dur), plan)
	g.emit(p, t, dur, ch)
}

var cancelReasons = []string{"too expensive", "missing features", "switched to a competitor", "closed the business"}

func (g *generator) onboardingDone(p *person) {
	last := &onboardingPages[len(onboardingPages)-1]
	variant := "none"
	if p.flags&fInTest != 0 {
		variant = abVariant(p)
	}
	g.addTrack(last, "Onboarding Completed", g.obj().str("variant", variant).end())
	g.addIdentify(last, `{"onboarding_completed":true}`)
}

// walk continues the session from app page cur until it has n page views
// and track events: on each page the user does something the page offers or
// moves on to a page their persona favours.
func (g *generator) walk(p *person, cur, n int, plan int) {
	r := g.r
	for g.counted < n {
		pg := &appPages[cur]
		if r.Float64() < pg.act {
			ev := pg.actions[g.pick.actions[cur].pick(r)].event
			g.addTrack(pg, ev, g.props(p, ev, cur))
			continue
		}
		next := g.pick.pages[p.persona].pick(r)
		if next == cur {
			next = pDashboard
		}
		cur = next
		g.addPage(&appPages[cur])
		if cur == pPricing && (plan == planFree || plan == planTrial) && r.Float64() < 0.3 {
			g.addTrack(&appPages[cur], "Upgrade Clicked", g.obj().str("from", planNames[plan]).str("to", "pro").end())
		}
	}
}

// visitSession builds and writes an anonymous visit of the marketing site:
// a few pages, sometimes a sign-up started and abandoned.
func (g *generator) visitSession(p *person, t int64) {
	r := g.r
	g.newSession()
	ch := referralSources[p.referral].ch
	if p.lastSeen != 0 {
		ch = returnChannels[g.pick.returning.pick(r)]
	}
	entry := 0 // home
	switch ch.name {
	case "organic_search":
		entry = 4 + r.IntN(2) // a blog post
	case "paid_search", "paid_social", "referral":
		entry = 1 // pricing
	}
	dur := g.duration(p.durMed)
	n := g.eventCount(dur)
	pg := &marketingPages[entry]
	g.addPage(pg)
	for g.counted < n && pg.path != "/signup" {
		pg = &marketingPages[r.IntN(len(marketingPages))]
		g.addPage(pg)
	}
	if pg.path == "/signup" {
		g.addTrack(pg, "Signup Started", g.obj().str("source", ch.name).end())
	}
	g.emit(p, t, dur, ch)
}

// emit spreads the built steps over the session, evenly with some jitter so
// that no gap reaches the 30 idle minutes that would split it, and writes
// the session and its events.
func (g *generator) emit(p *person, t, dur int64, ch channel) {
	r := g.r
	n := len(g.steps)
	start := t*1000 + r.Int64N(1000)
	if n == 1 {
		dur = 0
	}
	span := min(dur*1000, (g.now-t)*1000-1000)
	ts := func(k int) int64 {
		switch k {
		case 0:
			return start
		case n - 1:
			return start + span
		}
		x := (float64(k) + (r.Float64()-0.5)*0.5) / float64(n-1)
		return start + int64(x*float64(span))
	}
	dev := devices[p.device]
	if r.Float64() < 0.15 {
		dev = devices[g.pick.device.pick(r)]
	}
	c := countries[p.country]
	s := &g.sess
	*s = store.Session{Start: time.UnixMilli(start).UTC(), End: time.UnixMilli(start + span).UTC(),
		Context: store.Context{Browser: dev.browser, OS: dev.os, DeviceType: dev.deviceType, Country: c.code,
			Locale: c.locale, Timezone: c.timezone, Channel: ch.name, Referrer: ch.referrer,
			UTMSource: ch.utmSource, UTMMedium: ch.utmMedium, UTMCampaign: ch.utmCampaign}}
	for i := range g.steps {
		st := &g.steps[i]
		if st.kind == store.KindIdentify {
			continue
		}
		s.Events++
		if st.kind == store.KindTrack {
			s.Signals.Count(st.event, st.props)
		}
		if st.kind == store.KindPage {
			s.Pages++
			if s.EntryPage == "" {
				s.EntryPage = st.page.path
			}
			s.ExitPage = st.page.path
		}
	}
	id := g.sink.Session(g.site, p.key, s)
	referrer := ch.referrer
	m := &g.msg
	for k := range g.steps {
		st := &g.steps[k]
		when := time.UnixMilli(ts(k)).UTC()
		*m = store.Message{SiteID: g.site, Kind: st.kind, MessageID: g.messageID(), Timestamp: when, ReceivedAt: when,
			Properties: st.props, Page: store.Page{URL: st.page.url, Path: st.page.path, Title: st.page.title}}
		switch st.kind {
		case store.KindPage:
			m.Name = st.page.name
			m.Page.Referrer = referrer
			referrer = st.page.url
		case store.KindTrack:
			m.Name = st.event
			if st.event == "Invoice Sent" {
				p.invoices++
			}
		}
		g.sink.Event(p.key, id, m)
	}
	p.lastSeen = (start+span)/1000 + 1
	g.stats.Sessions++
	g.stats.Events += int64(n)
}

func (g *generator) messageID() string {
	g.seq++
	g.buf = append(g.buf[:0], "g-"...)
	g.buf = strconv.AppendInt(g.buf, g.seq, 10)
	return string(g.buf)
}

// props returns the properties of a track event done on app page pg.
func (g *generator) props(p *person, event string, pg int) string {
	r := g.r
	switch event {
	case "Invoice Created", "Invoice Sent":
		return g.obj().num("amount", money(450*math.Exp(0.9*r.NormFloat64()))).
			str("currency", countries[p.country].currency).end()
	case "Expense Added":
		return g.obj().num("amount", money(80*math.Exp(r.NormFloat64()))).
			str("category", categories[r.IntN(len(categories))]).end()
	case "Export":
		source := "reports"
		switch pg {
		case pInvoices:
			source = "invoices"
		case pExpenses:
			source = "expenses"
		case pBanking:
			source = "transactions"
		case pCustomers:
			source = "customers"
		}
		return g.obj().str("format", formats[r.IntN(2)]).str("source", source).end()
	case "Report Viewed", "Report Exported":
		report := reports[r.IntN(len(reports))]
		switch pg {
		case pProfitLoss:
			report = "profit-and-loss"
		case pTax:
			report = "tax-summary"
		}
		o := g.obj().str("report", report)
		if event == "Report Exported" {
			o = o.str("format", formats[1+r.IntN(2)])
		}
		return o.end()
	case "Transactions Reconciled":
		return g.obj().num("count", float64(1+g.poisson(12))).end()
	case "Bank Connected":
		return g.obj().str("bank", banks[r.IntN(len(banks))]).end()
	case "Search":
		return g.obj().num("query_length", float64(3+r.IntN(18))).end()
	case "Integration Connected":
		return g.obj().str("integration", integrations[r.IntN(len(integrations))]).end()
	}
	return ""
}

// money rounds an amount to cents.
func money(x float64) float64 { return math.Round(x*100) / 100 }

// jsonObj builds a JSON object in the generator's scratch buffer. Keys and
// string values are the generator's own and never need escaping.
type jsonObj struct{ g *generator }

func (g *generator) obj() jsonObj {
	g.buf = append(g.buf[:0], '{')
	return jsonObj{g}
}

func (o jsonObj) key(k string) {
	if b := o.g.buf; b[len(b)-1] != '{' {
		o.g.buf = append(o.g.buf, ',')
	}
	o.g.buf = append(append(append(o.g.buf, '"'), k...), '"', ':')
}

func (o jsonObj) str(k, v string) jsonObj {
	o.key(k)
	o.g.buf = append(append(append(o.g.buf, '"'), v...), '"')
	return o
}

func (o jsonObj) num(k string, v float64) jsonObj {
	o.key(k)
	o.g.buf = strconv.AppendFloat(o.g.buf, v, 'f', -1, 64)
	return o
}

func (o jsonObj) end() string { return string(append(o.g.buf, '}')) }

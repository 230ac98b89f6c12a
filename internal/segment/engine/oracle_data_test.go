package engine_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// This file generates the oracle's random datasets: a site's users with
// their identities, traits, companies, events, page views and sessions,
// as Segment-spec messages that go through the store's real ingestion.

// oracleNow is the moment segments are evaluated at. It is not on a day
// or hour boundary, so that "the last 7 days" and "7 calendar days" differ.
var oracleNow = time.Date(2026, 3, 15, 12, 34, 56, 0, time.UTC)

// Vocabulary of the generated data. The trees draw from what the data
// holds, read back from the database, so these lists only shape the data.
var (
	plans      = []string{"free", "trial", "pro", "enterprise"}
	roles      = []string{"admin", "member", "viewer", "Billing Admin"}
	cities     = []string{"Oslo", "Bergen", "Berlin", "New York"}
	countries  = []string{"NO", "DE", "US"}
	domains    = []string{"example.com", "corp.io", "Mail.NO"}
	industries = []string{"retail", "tax", "saas", "health"}
	companies  = []string{"acme", "globex", "initech", "umbrella", "hooli", "stark"}
	paths      = []string{"/", "/pricing", "/Pricing", "/docs/start", "/docs/api", "/blog/launch-2026",
		"/app/dashboard", "/app/settings", "/app/reports/42", "/checkout"}
	screens  = []string{"Home", "Settings", "Reports"}
	devices  = []string{"desktop", "mobile", "tablet", ""}
	browsers = []string{"Chrome", "Firefox", "Safari"}
	oses     = []string{"macOS", "Windows", "iOS", "Android"}
	locales  = []string{"en-US", "nb-NO", "de-DE"}
	zones    = []string{"Europe/Oslo", "America/New_York", ""}
	channels = []string{"direct", "search", "social", "email", "referral"}
	sources  = []string{"google", "newsletter", "twitter", ""}
	mediums  = []string{"cpc", "email", "organic", ""}
	campaign = []string{"spring", "launch", ""}
	referrer = []string{"https://www.google.com/", "https://news.ycombinator.com/", ""}
)

// userShape says how a generated user's identities come about.
type userShape int

const (
	shapeAnonymous    userShape = iota // only ever an anonymous ID
	shapeIdentified                    // a user ID from the start
	shapeLateIdentify                  // anonymous first, then identifies on that device
	shapeSecondDevice                  // identified, then anonymous on a second device, then identifies there: a merge
	shapeAliasOld                      // activity under an old user ID, then alias to the new one: a merge
	shapeAliasFirst                    // alias before the previous ID is seen; later messages join
)

// dataGen builds one dataset.
type dataGen struct {
	r       *rand.Rand
	site    int64
	now     time.Time
	msgs    []store.Message
	late    []store.Message // arrive in a last batch, after newer messages
	nextMsg int
	// attrTimes holds the timestamps of identify and group messages, kept
	// unique so that no two history entries of a key share a moment.
	attrTimes map[time.Time]bool
	companies []string
	groupSeen map[string]bool
	// Survey responses and feedback, written after the messages; their
	// moments are unique across the site.
	responses   []genResponse
	feedback    []store.FeedbackItem
	surveyTimes map[time.Time]bool
}

// generateDataset returns a dataset: its messages in the batches to
// write, users to load in bulk, then its survey responses and feedback.
func generateDataset(seed uint64, site int64, now time.Time) dataset {
	g := &dataGen{r: rand.New(rand.NewPCG(seed, 1)), site: site, now: now, attrTimes: map[time.Time]bool{},
		groupSeen: map[string]bool{}, surveyTimes: map[time.Time]bool{}}
	g.companies = companies[:3+g.r.IntN(len(companies)-2)]
	users := 30 + g.r.IntN(51)
	for i := range users {
		shape := userShape(g.r.IntN(6))
		if i == 0 {
			shape = shapeIdentified
		}
		g.user(i, shape)
	}
	g.aheadVisitors()
	slices.SortStableFunc(g.msgs, func(a, b store.Message) int { return a.Timestamp.Compare(b.Timestamp) })
	var batches [][]store.Message
	for rest := g.msgs; len(rest) > 0; {
		n := min(len(rest), 1+g.r.IntN(len(g.msgs)/2+1))
		batches = append(batches, rest[:n])
		rest = rest[n:]
	}
	if len(g.late) > 0 {
		batches = append(batches, g.late)
	}
	return dataset{site: site, batches: batches, bulk: g.bulkUsers(), responses: g.responses, feedback: g.feedback}
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func (g *dataGen) chance(p float64) bool { return g.r.Float64() < p }

// between returns a random moment in [from, to), to the second.
func (g *dataGen) between(from, to time.Time) time.Time {
	d := to.Sub(from) / time.Second
	if d <= 0 {
		return from
	}
	return from.Add(time.Duration(g.r.Int64N(int64(d))) * time.Second)
}

func (g *dataGen) emit(m store.Message) {
	g.nextMsg++
	m.SiteID = g.site
	m.MessageID = fmt.Sprintf("m%d", g.nextMsg)
	m.ReceivedAt = m.Timestamp
	g.msgs = append(g.msgs, m)
}

// attrTime returns t, moved on by seconds until no other attribute
// message uses it.
func (g *dataGen) attrTime(t time.Time) time.Time {
	for g.attrTimes[t] {
		t = t.Add(time.Second)
	}
	g.attrTimes[t] = true
	return t
}

// ident returns the identity a user's message at t is sent under.
type identFunc func(t time.Time, device int) (userID, anonID string)

func (g *dataGen) user(i int, shape userShape) {
	u := fmt.Sprintf("u%d", i)
	a := fmt.Sprintf("a%d", i)
	b := fmt.Sprintf("b%d", i)
	old := fmt.Sprintf("old%d", i)
	switchAt := g.between(g.now.Add(-60*24*time.Hour), g.now.Add(-2*24*time.Hour))
	var ident identFunc
	var identifies []time.Time // moments of plain identifies under u
	switch shape {
	case shapeAnonymous:
		ident = func(time.Time, int) (string, string) { return "", a }
	case shapeIdentified:
		ident = func(time.Time, int) (string, string) { return u, "" }
		identifies = g.identifyTimes(g.now.Add(-60*24*time.Hour), 1+g.r.IntN(5))
	case shapeLateIdentify:
		ident = func(t time.Time, _ int) (string, string) {
			if t.Before(switchAt) {
				return "", a
			}
			return u, pick(g.r, a, "")
		}
		g.identify(u, a, g.attrTime(switchAt), false)
		identifies = g.identifyTimes(switchAt, g.r.IntN(4))
	case shapeSecondDevice:
		ident = func(t time.Time, device int) (string, string) {
			switch {
			case device == 0:
				return u, ""
			case t.Before(switchAt):
				return "", b
			}
			return u, b
		}
		g.identify(u, "", g.attrTime(g.between(g.now.Add(-60*24*time.Hour), switchAt)), false)
		g.identify(u, b, g.attrTime(switchAt), false)
		identifies = g.identifyTimes(g.now.Add(-60*24*time.Hour), g.r.IntN(3))
	case shapeAliasOld:
		ident = func(t time.Time, _ int) (string, string) {
			if t.Before(switchAt) {
				return old, ""
			}
			return u, ""
		}
		for _, t := range g.identifyTimes(g.now.Add(-60*24*time.Hour), 1+g.r.IntN(3)) {
			if t.Before(switchAt) {
				g.identify(old, "", t, false)
			}
		}
		if g.chance(0.5) { // the new ID has traits of its own before the merge
			g.identify(u, "", g.attrTime(g.between(g.now.Add(-60*24*time.Hour), switchAt)), false)
		}
		g.emit(store.Message{Kind: store.KindAlias, UserID: u, PreviousID: old, Timestamp: switchAt})
		identifies = g.identifyTimes(switchAt, g.r.IntN(3))
	case shapeAliasFirst:
		p := fmt.Sprintf("p%d", i)
		ident = func(time.Time, int) (string, string) {
			switch g.r.IntN(3) {
			case 0:
				return p, ""
			case 1:
				return "", p
			}
			return u, ""
		}
		g.emit(store.Message{Kind: store.KindAlias, UserID: u, PreviousID: p, Timestamp: g.now.Add(-95 * 24 * time.Hour)})
		identifies = g.identifyTimes(g.now.Add(-60*24*time.Hour), g.r.IntN(4))
	}
	for k, t := range identifies {
		if i == 0 && k == 0 {
			// The site's first attribute message: it fixes every key's
			// type, so that later mismatched values are refused rather
			// than typing a key.
			t = g.attrTime(g.now.Add(-61 * 24 * time.Hour))
		}
		msg := g.identify(u, "", t, i == 0 && k == 0)
		if k > 0 && g.chance(0.1) {
			// A late arrival: an older value that comes after newer ones.
			g.msgs = g.msgs[:len(g.msgs)-1]
			g.late = append(g.late, msg)
		}
	}
	if i == 0 {
		g.group(u, g.companies[0], g.attrTime(g.now.Add(-61*24*time.Hour)), true)
	}
	if shape != shapeAnonymous {
		for range pick(g.r, 0, 0, 1, 1, 1, 2) {
			g.group(u, pick(g.r, g.companies...), g.attrTime(g.between(switchAt, g.now)), false)
		}
	}
	g.sessions(ident, shape)
}

// identifyTimes returns n unique moments from since to now, in order.
func (g *dataGen) identifyTimes(since time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = g.attrTime(g.between(since, g.now.Add(-time.Hour)))
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// identify emits an identify with random traits and returns it.
func (g *dataGen) identify(userID, anonID string, t time.Time, all bool) store.Message {
	m := store.Message{Kind: store.KindIdentify, UserID: userID, AnonymousID: anonID, Timestamp: t,
		Traits: attr.Flatten(g.userTraits(t, all))}
	g.emit(m)
	return g.msgs[len(g.msgs)-1]
}

// userTraits returns a random subset of the user traits, with all every
// key well typed. Otherwise some values unset their key and a few do not
// fit its type (and are refused).
func (g *dataGen) userTraits(t time.Time, all bool) map[string]any {
	p := func(x float64) bool { return all || g.chance(x) }
	tr := map[string]any{}
	if p(0.7) {
		tr["plan"] = pick(g.r, plans...)
	}
	if p(0.4) {
		tr["role"] = pick(g.r, roles...)
	}
	if p(0.3) {
		tr["email"] = fmt.Sprintf("%s%d@%s", pick(g.r, "ann", "bo", "Cy"), g.r.IntN(20), pick(g.r, domains...))
	}
	if p(0.5) {
		tr["ltv"] = float64(g.r.IntN(40))*25 + pick(g.r, 0, 0, 0.5)
	}
	if p(0.3) {
		tr["seats"] = float64(1 + g.r.IntN(20))
	}
	if p(0.4) {
		tr["beta"] = g.chance(0.5)
	}
	if p(0.3) {
		tr["signed_up_at"] = g.timeText(g.between(g.now.Add(-400*24*time.Hour), g.now.Add(-24*time.Hour)))
	}
	if p(0.5) {
		login := t.Add(-time.Duration(g.r.IntN(600)) * time.Minute)
		switch x := g.r.Float64(); {
		case x < 0.3: // the database keeps microseconds
			login = login.Add(time.Duration(g.r.IntN(1000)) * time.Millisecond)
		case x < 0.4: // just before midnight
			login = login.Truncate(24 * time.Hour).Add(24*time.Hour - time.Second)
		}
		tr["last_login_at"] = login.Format(time.RFC3339Nano)
	}
	if p(0.3) {
		renews := g.between(g.now.Add(-40*24*time.Hour), g.now.Add(40*24*time.Hour))
		if g.chance(0.1) {
			renews = g.now // the edge of "within"
		}
		tr["renews_at"] = g.timeText(renews)
	}
	if p(0.3) {
		tr["address"] = map[string]any{"city": pick(g.r, cities...), "country": pick(g.r, countries...)}
	}
	if p(0.2) {
		tr["nps"] = float64(g.r.IntN(11))
	}
	if all {
		return tr
	}
	for _, k := range slices.Sorted(maps.Keys(tr)) { // in order, for the seed to decide
		if g.chance(0.06) {
			tr[k] = nil
		}
	}
	if g.chance(0.1) {
		switch g.r.IntN(5) {
		case 0:
			tr["ltv"] = "lots"
		case 1:
			tr["beta"] = "yes"
		case 2:
			tr["plan"] = 3.0
		case 3:
			tr["signed_up_at"] = "yesterday"
		default:
			tr["seats"] = true
		}
	}
	return tr
}

// timeText writes a moment as a datetime trait: a whole day (2026-01-05)
// or an instant.
func (g *dataGen) timeText(t time.Time) string {
	switch x := g.r.Float64(); {
	case x < 0.4:
		return t.Format(time.DateOnly)
	case x < 0.5: // the day's last moment
		return t.Truncate(24 * time.Hour).Add(24*time.Hour - time.Millisecond).Format(time.RFC3339Nano)
	}
	return t.Format(time.RFC3339)
}

// group links a user to a company, with company traits.
func (g *dataGen) group(userID, company string, t time.Time, all bool) {
	first := !g.groupSeen[company]
	g.groupSeen[company] = true
	p := func(x float64) bool { return all || first || g.chance(x) }
	tr := map[string]any{}
	if p(0.3) {
		tr["industry"] = pick(g.r, industries...)
	}
	if p(0.4) {
		tr["employees"] = float64(5 + g.r.IntN(500))
	}
	if p(0.2) {
		tr["enterprise"] = g.chance(0.5)
	}
	if p(0.2) {
		tr["founded_at"] = g.timeText(g.between(g.now.Add(-3000*24*time.Hour), g.now))
	}
	if first {
		tr["name"] = fmt.Sprintf("%s Inc", company)
	}
	if !all && !first {
		for _, k := range slices.Sorted(maps.Keys(tr)) {
			if g.chance(0.1) {
				tr[k] = nil
			}
		}
		if g.chance(0.1) {
			tr["employees"] = "many"
		}
	}
	g.emit(store.Message{Kind: store.KindGroup, UserID: userID, GroupID: company, Timestamp: t,
		Traits: attr.Flatten(tr)})
}

// sessions emits a user's visits: page views, screens and events close
// together, some visits long, some in the future (a skewed clock).
func (g *dataGen) sessions(ident identFunc, shape userShape) {
	n := g.r.IntN(12)
	if shape == shapeAnonymous {
		n = g.r.IntN(6)
	}
	for range n {
		start := g.between(g.now.Add(-90*24*time.Hour), g.now)
		if g.chance(0.03) {
			start = g.between(g.now.Add(-10*time.Minute), g.now.Add(2*time.Hour))
		}
		device := 0
		if g.chance(0.3) {
			device = 1
		}
		ctx := store.Context{DeviceType: pick(g.r, devices...), Browser: pick(g.r, browsers...), OS: pick(g.r, oses...),
			Country: pick(g.r, countries...), Locale: pick(g.r, locales...), Timezone: pick(g.r, zones...),
			Channel: pick(g.r, channels...), Referrer: pick(g.r, referrer...), UTMSource: pick(g.r, sources...),
			UTMMedium: pick(g.r, mediums...), UTMCampaign: pick(g.r, campaign...)}
		events, maxGap := 1+g.r.IntN(8), 20*60
		if g.chance(0.12) { // a long visit, up to the four-hour cap
			events, maxGap = 10+g.r.IntN(8), 28*60
		}
		t := start
		for range events {
			userID, anonID := ident(t, device)
			g.event(userID, anonID, t, ctx)
			gap := time.Duration(5+g.r.IntN(maxGap)) * time.Second
			if g.chance(0.08) {
				gap = time.Duration(31*60+g.r.IntN(3600)) * time.Second // idle long enough to start a new session
			}
			if g.chance(0.05) { // durations with fractions of a second
				gap += time.Duration(g.r.IntN(1000)) * time.Millisecond
			}
			t = t.Add(gap)
		}
		g.visitAnswers(ident, start, device)
	}
}

// event emits one page view, screen or track event.
func (g *dataGen) event(userID, anonID string, t time.Time, ctx store.Context) {
	m := store.Message{UserID: userID, AnonymousID: anonID, Timestamp: t, Context: ctx}
	switch x := g.r.IntN(20); {
	case x < 11:
		path := pick(g.r, paths...)
		m.Kind = store.KindPage
		m.Page = store.Page{Path: path, URL: "https://app.example.com" + path, Title: "Page " + path}
	case x < 13:
		m.Kind = store.KindScreen
		m.Name = pick(g.r, screens...)
		if g.chance(0.5) {
			m.Page.Path = "/app/" + m.Name
		}
	default:
		m.Kind = store.KindTrack
		m.Name, m.Properties = g.track()
		if g.chance(0.3) { // a frustration signal from the tracker, on a page
			m.Name = pick(g.r, "$rage_click", "$rage_click", "$dead_click", "$u_turn", "$error")
			m.Properties = `{"selector":"button"}`
			m.Page = store.Page{Path: pick(g.r, paths...)}
		}
	}
	g.emit(m)
}

// track returns a random event name and its properties as JSON.
func (g *dataGen) track() (string, string) {
	props := map[string]any{}
	name := pick(g.r, "signup", "export", "export", "checkout_started", "order_completed", "invite_sent")
	maybe := func(k string, v any) {
		switch x := g.r.Float64(); {
		case x < 0.04:
			props[k] = nil // reads as missing
		case x < 0.8:
			props[k] = v
		}
	}
	switch name {
	case "signup":
		maybe("source", pick(g.r, "ad", "friend", "search"))
	case "export":
		maybe("format", pick(g.r, "csv", "json", "pdf", "CSV"))
		if g.chance(0.1) {
			props["rows"] = pick[any](g.r, "many", "1200")
		} else {
			maybe("rows", float64(pick(g.r, 10, 200, 1200, 5000, 1000000)))
		}
	case "checkout_started", "order_completed":
		maybe("amount", pick(g.r, 9.99, 49.0, 120.5, 1000.0))
		maybe("currency", pick(g.r, "EUR", "USD"))
		maybe("items", float64(1+g.r.IntN(5)))
		maybe("coupon", g.chance(0.3))
		maybe("plan", pick(g.r, plans...))
	case "invite_sent":
		maybe("role", pick(g.r, roles...))
		maybe("count", float64(1+g.r.IntN(3)))
		maybe("ui.theme", pick(g.r, "dark", "light")) // one key with a dot, not a path
		if g.chance(0.3) {
			props["meta"] = map[string]any{"via": pick(g.r, "email", "link")} // compared as its JSON text
		}
	}
	data, err := json.Marshal(props)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return name, string(data)
}

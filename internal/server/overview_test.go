package server_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/store"
)

// The overview tests generate a small site whose every message has a
// known timestamp, and compute what the overview must say from the
// generated messages alone (ovSite.expect), independently of the server.

// ovMsg is one generated message.
type ovMsg struct {
	kind string // identify, page or track
	name string // track: the event
	path string
	plan string // identify: the plan trait
	ts   time.Time
}

// ovVisit is a visit: one session of one visitor.
type ovVisit struct {
	user, anon string // the user ID, or else the anonymous ID
	msgs       []ovMsg
}

func (v ovVisit) who() string { return cmp.Or(v.user, "anon:"+v.anon) }

// ovAnswer is an NPS answer given at a known moment.
type ovAnswer struct {
	score int
	at    time.Time
}

// ovSite is the generated site and the server it is in.
type ovSite struct {
	*recServer
	clock   *clock
	now     time.Time
	visits  []ovVisit
	answers []ovAnswer
	survey  string
	segment string // plan = "pro"
	// loc is the site's time zone, whose days the overview counts (UTC
	// until the test sets another).
	loc *time.Location
}

var ovPaths = []string{"/dashboard", "/pricing", "/docs", "/checkout", "/settings", "/invoices/new"}

// startOverviewSite starts a server and fills a site with 40 days of
// visits: 12 identified users (each sends identify with a plan on their
// first visit) and 3 anonymous visitors, a visit every two hours at most,
// with page views, rage and dead clicks; a live NPS survey answered in
// both periods; a saved segment; and one recording, of an anonymous
// visitor who rage-clicks during it.
func startOverviewSite(t *testing.T) *ovSite {
	t.Helper()
	clk := &clock{t: time.Now().UTC()}
	var data string
	s := startServer(t, func(c *config.Config) {
		data = c.DataDir
		c.Now = clk.now
	})
	o := &ovSite{recServer: &recServer{testServer: s, data: data}, clock: clk, now: time.Now().UTC(), loc: time.UTC}
	r := rand.New(rand.NewPCG(7, 12))
	var visitors []ovVisit
	for i := range 12 {
		visitors = append(visitors, ovVisit{user: fmt.Sprintf("u%02d", i)})
	}
	for i := range 3 {
		visitors = append(visitors, ovVisit{anon: fmt.Sprintf("anon-%d", i)})
	}
	identified := map[string]bool{}
	today := o.now.Truncate(24 * time.Hour)
	// Visits of one visitor start at least 66 minutes apart and last at
	// most 5 minutes, so each is a session of its own; none starts in the
	// last hour, where the recording's visit is.
	for back := 39; back >= 0; back-- {
		for slot := 0; slot < 24; slot += 2 {
			for _, v := range visitors {
				if r.Float64() > 0.09 {
					continue
				}
				start := today.AddDate(0, 0, -back).Add(time.Duration(slot)*time.Hour +
					time.Duration(r.IntN(50*60))*time.Second + time.Duration(r.IntN(1000))*time.Millisecond)
				if start.After(o.now.Add(-time.Hour)) {
					continue
				}
				if v.user != "" && !identified[v.user] {
					identified[v.user] = true
					v.msgs = append(v.msgs, ovMsg{kind: "identify", plan: []string{"pro", "free"}[r.IntN(2)], ts: start})
				}
				pages := 1 + r.IntN(4)
				var seen []string
				for i := range pages {
					p := ovPaths[r.IntN(len(ovPaths))]
					seen = append(seen, p)
					v.msgs = append(v.msgs, ovMsg{kind: "page", path: p, ts: start.Add(time.Duration(i)*time.Minute + time.Second)})
				}
				for _, name := range []string{store.EventRageClick, store.EventDeadClick} {
					if r.Float64() < 0.3 {
						v.msgs = append(v.msgs, ovMsg{kind: "track", name: name, path: seen[r.IntN(len(seen))],
							ts: start.Add(time.Duration(r.IntN(pages))*time.Minute + 30*time.Second)})
					}
				}
				o.visits = append(o.visits, v)
				v.msgs = nil
			}
		}
	}
	// The recording: anon-0 on /dashboard now, with a rage click in it.
	recStart := time.Now().UTC().Add(-2 * time.Second)
	o.visits = append(o.visits, ovVisit{anon: "anon-0", msgs: []ovMsg{
		{kind: "track", name: store.EventRageClick, path: "/dashboard", ts: recStart.Add(500 * time.Millisecond)}}})
	o.send(t, o.visits)
	o.mustUpload(t, chunk("sesov-tab1", "anon-0", 0, recStart), false)

	o.segment = o.saveSegment(t, "Pro plan", `plan = "pro"`)
	o.survey = o.createSurvey(t, npsSurvey(`{}`), true)
	for i, a := range []ovAnswer{{9, o.now.Add(-9 * 24 * time.Hour)}, {3, o.now.Add(-9 * 24 * time.Hour)},
		{10, o.now.Add(-3 * 24 * time.Hour)}, {10, o.now.Add(-2 * 24 * time.Hour)}, {8, o.now.Add(-26 * time.Hour)},
		{2, o.now.Add(-5 * time.Hour)}, {9, o.now.Add(-time.Hour)}} {
		clk.mu.Lock()
		clk.t = a.at
		clk.mu.Unlock()
		body := fmt.Sprintf(`{"survey":%q,"response":"response-%d","anonymousId":"resp-%d","url":"%s/app","answers":{"score":%d%s},"completed":true}`,
			o.survey, i, i, pageOrigin, a.score, map[bool]string{true: `,"why":"Price"`}[a.score < 7])
		// The response is also a $survey_response event of its visitor,
		// stamped when it arrives.
		o.visits = append(o.visits, ovVisit{anon: fmt.Sprintf("resp-%d", i), msgs: []ovMsg{
			{kind: "track", name: "$survey_response", path: "/app", ts: time.Now().UTC()}}})
		if code, e := o.answer(t, o.writeKey, body); code != 200 {
			t.Fatalf("answer %d: %d %s", i, code, e)
		}
		o.answers = append(o.answers, a)
	}
	clk.mu.Lock()
	clk.t = time.Now().UTC()
	clk.mu.Unlock()
	return o
}

// send posts the visits' messages in time order, as real traffic comes.
func (o *ovSite) send(t *testing.T, visits []ovVisit) {
	t.Helper()
	type line struct {
		ts   time.Time
		json string
	}
	var lines []line
	for vi, v := range visits {
		who := fmt.Sprintf(`"anonymousId":%q`, v.anon)
		if v.user != "" {
			who = fmt.Sprintf(`"userId":%q`, v.user)
		}
		for mi, m := range v.msgs {
			id := fmt.Sprintf("ov-%d-%d", vi, mi)
			ts := m.ts.Format(time.RFC3339Nano)
			var j string
			switch m.kind {
			case "identify":
				j = fmt.Sprintf(`{"type":"identify",%s,"messageId":%q,"timestamp":%q,"traits":{"plan":%q}}`, who, id, ts, m.plan)
			case "page":
				j = fmt.Sprintf(`{"type":"page",%s,"messageId":%q,"timestamp":%q,"properties":{"path":%q,"url":"%s%s"}}`,
					who, id, ts, m.path, pageOrigin, m.path)
			case "track":
				j = fmt.Sprintf(`{"type":"track",%s,"messageId":%q,"timestamp":%q,"event":%q,"properties":{"selector":"#b"},`+
					`"context":{"page":{"path":%q,"url":"%s%s"}}}`, who, id, ts, m.name, m.path, pageOrigin, m.path)
			}
			lines = append(lines, line{m.ts, j})
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int { return a.ts.Compare(b.ts) })
	for len(lines) > 0 {
		n := min(len(lines), 200)
		var batch []string
		for _, l := range lines[:n] {
			batch = append(batch, l.json)
		}
		if code, out := o.testServer.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
			t.Fatalf("batch: %d %v", code, out)
		}
		lines = lines[n:]
	}
}

// ovCount, ovPage and so on are the parts of the overview's answer the
// tests read.
type ovCount struct {
	Current  int64    `json:"current"`
	Previous int64    `json:"previous"`
	Change   *float64 `json:"change"`
}

type ovDay struct {
	Date     string `json:"date"`
	Users    int64  `json:"users"`
	Sessions int64  `json:"sessions"`
	Events   int64  `json:"events"`
	Partial  bool   `json:"partial"`
}

type ovPage struct {
	Path          string `json:"path"`
	Views         int64  `json:"views"`
	Users         int64  `json:"users"`
	PreviousViews int64  `json:"previous_views"`
}

type ovSpot struct {
	Path       string `json:"path"`
	RageClicks int64  `json:"rage_clicks"`
	DeadClicks int64  `json:"dead_clicks"`
	Users      int64  `json:"users"`
	Recordings *struct {
		RageClicks int64 `json:"rage_clicks"`
		DeadClicks int64 `json:"dead_clicks"`
	} `json:"recordings"`
}

type ovNPSPeriod struct {
	Score      *float64 `json:"score"`
	Responses  int      `json:"responses"`
	Promoters  int      `json:"promoters"`
	Passives   int      `json:"passives"`
	Detractors int      `json:"detractors"`
	Few        bool     `json:"few"`
}

type ovSegment struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Size       *int64   `json:"size"`
	SizeBefore *int64   `json:"size_before"`
	Change     *float64 `json:"change"`
	Counting   bool     `json:"counting"`
}

type ovAnswerJSON struct {
	Period struct {
		Days         int       `json:"days"`
		TZ           string    `json:"tz"`
		From         time.Time `json:"from"`
		To           time.Time `json:"to"`
		PreviousFrom time.Time `json:"previous_from"`
		PreviousTo   time.Time `json:"previous_to"`
	} `json:"period"`
	Users    ovCount  `json:"users"`
	Sessions ovCount  `json:"sessions"`
	Events   ovCount  `json:"events"`
	Series   []ovDay  `json:"series"`
	TopPages []ovPage `json:"top_pages"`
	HotSpots []ovSpot `json:"hot_spots"`
	NPS      *struct {
		SurveyID string      `json:"survey_id"`
		Current  ovNPSPeriod `json:"current"`
		Previous ovNPSPeriod `json:"previous"`
		Change   *float64    `json:"change"`
	} `json:"nps"`
	Recordings []struct {
		ID          string `json:"id"`
		AnonymousID string `json:"anonymous_id"`
	} `json:"recordings"`
	Segments    []ovSegment `json:"segments"`
	LastEventAt *time.Time  `json:"last_event_at"`
	Pending     []string    `json:"pending"`
}

// ovExpected is what the overview must say for a period, computed from
// the generated messages.
type ovExpected struct {
	users, sessions, events [2]int64 // current, previous
	days                    map[string]*ovDay
	pages                   []ovPage
	spots                   []ovSpot
	nps                     [2]ovNPSPeriod
	size, sizeBefore        int64
}

// expect computes the overview of the period [from, to) and of the one
// before, [prevFrom, from), from the generated data alone.
func (o *ovSite) expect(from, to, prevFrom time.Time) ovExpected {
	in := func(ts time.Time) int { // 0 current, 1 previous, -1 neither
		switch {
		case !ts.Before(from) && ts.Before(to):
			return 0
		case !ts.Before(prevFrom) && ts.Before(from):
			return 1
		}
		return -1
	}
	e := ovExpected{days: map[string]*ovDay{}}
	date := func(ts time.Time) string { return ts.In(o.loc).Format(time.DateOnly) }
	for d := from.In(o.loc); d.Before(to); d = d.AddDate(0, 0, 1) {
		e.days[date(d)] = &ovDay{Date: date(d)}
	}
	users := [2]map[string]bool{{}, {}}
	dayUsers := map[string]map[string]bool{}
	type pageAcc struct {
		views, prev int64
		users       map[string]bool
	}
	pages := map[string]*pageAcc{}
	type spotAcc struct {
		rage, dead int64
		users      map[string]bool
	}
	spots := map[string]*spotAcc{}
	plans := map[string]string{}
	planAt := map[string]time.Time{}
	for _, v := range o.visits {
		// A visit is a session: it starts with its first page view or
		// event (an identify is neither), and its events count where it
		// starts.
		var acts []ovMsg
		for _, m := range v.msgs {
			if m.kind == "identify" {
				plans[v.user], planAt[v.user] = m.plan, m.ts
			} else {
				acts = append(acts, m)
			}
		}
		if p := in(acts[0].ts); p >= 0 {
			e.sessions[p]++
			e.events[p] += int64(len(acts))
			if p == 0 {
				day := e.days[date(acts[0].ts)]
				day.Sessions++
				day.Events += int64(len(acts))
			}
		}
		for _, m := range acts {
			p := in(m.ts)
			if p < 0 {
				continue
			}
			users[p][v.who()] = true
			if m.kind == "page" {
				if pages[m.path] == nil {
					pages[m.path] = &pageAcc{users: map[string]bool{}}
				}
				if p == 0 {
					pages[m.path].views++
					pages[m.path].users[v.who()] = true
				} else {
					pages[m.path].prev++
				}
			}
			if p != 0 {
				continue
			}
			day := date(m.ts)
			if dayUsers[day] == nil {
				dayUsers[day] = map[string]bool{}
			}
			dayUsers[day][v.who()] = true
			if m.name == store.EventRageClick || m.name == store.EventDeadClick {
				if spots[m.path] == nil {
					spots[m.path] = &spotAcc{users: map[string]bool{}}
				}
				if m.name == store.EventRageClick {
					spots[m.path].rage++
				} else {
					spots[m.path].dead++
				}
				spots[m.path].users[v.who()] = true
			}
		}
	}
	e.users = [2]int64{int64(len(users[0])), int64(len(users[1]))}
	for day, us := range dayUsers {
		e.days[day].Users = int64(len(us))
	}
	for path, p := range pages {
		if p.views > 0 {
			e.pages = append(e.pages, ovPage{Path: path, Views: p.views, Users: int64(len(p.users)), PreviousViews: p.prev})
		}
	}
	slices.SortFunc(e.pages, func(a, b ovPage) int { return cmp.Or(cmp.Compare(b.Views, a.Views), cmp.Compare(a.Path, b.Path)) })
	for path, s := range spots {
		e.spots = append(e.spots, ovSpot{Path: path, RageClicks: s.rage, DeadClicks: s.dead, Users: int64(len(s.users))})
	}
	slices.SortFunc(e.spots, func(a, b ovSpot) int {
		return cmp.Or(cmp.Compare(b.RageClicks+b.DeadClicks, a.RageClicks+a.DeadClicks), cmp.Compare(b.RageClicks, a.RageClicks),
			cmp.Compare(a.Path, b.Path))
	})
	e.spots = e.spots[:min(len(e.spots), 5)]
	for _, a := range o.answers {
		if p := in(a.at); p >= 0 {
			n := &e.nps[p]
			n.Responses++
			switch {
			case a.score >= 9:
				n.Promoters++
			case a.score >= 7:
				n.Passives++
			default:
				n.Detractors++
			}
		}
	}
	for i := range e.nps {
		n := &e.nps[i]
		n.Few = n.Responses < 10
		if n.Responses > 0 {
			v := math.Round(float64(n.Promoters-n.Detractors)*1000/float64(n.Responses)) / 10
			n.Score = &v
		}
	}
	// The segment's size 30 days ago is as of the end of that UTC day.
	moment := o.now.Truncate(24*time.Hour).AddDate(0, 0, -29).Add(-time.Microsecond)
	for u, plan := range plans {
		if plan == "pro" {
			e.size++
			if !planAt[u].After(moment) {
				e.sizeBefore++
			}
		}
	}
	return e
}

// overviewOf reads a site's overview until no part is pending and no
// segment counting (the overview answers after a second with what it has).
func overviewOf(t *testing.T, s *testServer, query string) ovAnswerJSON {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var out ovAnswerJSON
		s.getJSON(t, "/overview"+query, &out)
		if len(out.Pending) == 0 && !slices.ContainsFunc(out.Segments, func(s ovSegment) bool { return s.Counting }) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the overview is still computing %v after a minute: %+v", out.Pending, out.Segments)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// overview reads the overview of days days once it is computed.
func (o *ovSite) overview(t *testing.T, days string) ovAnswerJSON {
	t.Helper()
	return overviewOf(t, o.testServer, "?days="+days)
}

func TestOverviewCountsAgainstGeneratedData(t *testing.T) {
	o := startOverviewSite(t)
	for _, days := range []int{7, 30} {
		t.Run(fmt.Sprintf("%dd", days), func(t *testing.T) { o.checkOverview(t, days) })
	}
	// In a zone 14 hours east of UTC the period starts at its midnight
	// and each day of the series is one of its days.
	if code, body := o.call(t, store.ScopeAdmin, "PATCH", "", `{"time_zone":"Pacific/Kiritimati"}`); code != 200 {
		t.Fatalf("set the site's time zone: %d %v", code, body)
	}
	o.loc, _ = time.LoadLocation("Pacific/Kiritimati")
	t.Run("7d in Kiritimati", func(t *testing.T) { o.checkOverview(t, 7) })
	o.loc = time.UTC
	if code, body := o.call(t, store.ScopeAdmin, "PATCH", "", `{"time_zone":""}`); code != 200 {
		t.Fatalf("set the site's time zone back: %d %v", code, body)
	}
	// A changed definition is counted anew at once.
	if code, body := o.call(t, store.ScopeWrite, "PUT", "/segments/"+o.segment, `{"name":"Everyone","text":"plan is set or not plan is set"}`); code != 200 {
		t.Fatalf("change the segment: %d %v", code, body)
	}
	if segs := o.overview(t, "7").Segments; segs[0].Name != "Everyone" || segs[0].Size == nil || *segs[0].Size != int64(len(o.everyone())) {
		t.Errorf("after the change: %+v, want everyone (%d)", segs, len(o.everyone()))
	}
}

// checkOverview compares the overview of days days with what the
// generated data says, in the site's zone o.loc.
func (o *ovSite) checkOverview(t *testing.T, days int) {
	t.Helper()
	got := o.overview(t, fmt.Sprint(days))
	p := got.Period
	// The period: days days of the site's zone ending now, from its
	// midnight, and as long a time before it.
	l := p.To.In(o.loc)
	wantFrom := time.Date(l.Year(), l.Month(), l.Day()-(days-1), 0, 0, 0, 0, o.loc)
	if p.Days != days || p.TZ != o.loc.String() || !p.From.Equal(wantFrom) || !p.PreviousTo.Equal(p.From) ||
		!p.PreviousFrom.Equal(p.From.Add(-p.To.Sub(p.From))) || p.To.Before(o.now) || time.Since(p.To) > time.Minute {
		t.Fatalf("period %+v, want %d days from %s", p, days, wantFrom)
	}
	want := o.expect(p.From, p.To, p.PreviousFrom)
	for _, c := range []struct {
		name string
		got  ovCount
		want [2]int64
	}{{"users", got.Users, want.users}, {"sessions", got.Sessions, want.sessions}, {"events", got.Events, want.events}} {
		if c.got.Current != c.want[0] || c.got.Previous != c.want[1] {
			t.Errorf("%s: %d and %d before, want %d and %d", c.name, c.got.Current, c.got.Previous, c.want[0], c.want[1])
		}
		wantChange := float64(c.want[0]-c.want[1]) / float64(c.want[1])
		if c.got.Change == nil || math.Abs(*c.got.Change-wantChange) > 1e-9 {
			t.Errorf("%s: change %v, want %v", c.name, c.got.Change, wantChange)
		}
	}
	if len(got.Series) != days {
		t.Errorf("%d days in the series, want %d", len(got.Series), days)
	}
	for i, d := range got.Series {
		w := want.days[d.Date]
		if w == nil || d.Users != w.Users || d.Sessions != w.Sessions || d.Events != w.Events || d.Partial != (i == len(got.Series)-1) {
			t.Errorf("day %+v, want %+v (partial only today)", d, w)
		}
	}
	if !slices.Equal(got.TopPages, want.pages) {
		t.Errorf("top pages\n got %+v\nwant %+v", got.TopPages, want.pages)
	}
	if len(got.HotSpots) != len(want.spots) {
		t.Fatalf("hot spots\n got %+v\nwant %+v", got.HotSpots, want.spots)
	}
	for i, s := range got.HotSpots {
		w := want.spots[i]
		if s.Path != w.Path || s.RageClicks != w.RageClicks || s.DeadClicks != w.DeadClicks || s.Users != w.Users {
			t.Errorf("hot spot %d: %+v, want %+v", i, s, w)
		}
		// The one recording shows /dashboard and /settings and has
		// a rage click.
		wantRecs := int64(0)
		if s.Path == "/dashboard" || s.Path == "/settings" {
			wantRecs = 1
		}
		if s.Recordings == nil || s.Recordings.RageClicks != wantRecs || s.Recordings.DeadClicks != 0 {
			t.Errorf("hot spot %s: recordings %+v, want %d with rage clicks", s.Path, s.Recordings, wantRecs)
		}
	}
	if got.NPS == nil || got.NPS.SurveyID != o.survey {
		t.Fatalf("NPS %+v, want the survey %s", got.NPS, o.survey)
	}
	for i, n := range []ovNPSPeriod{got.NPS.Current, got.NPS.Previous} {
		w := want.nps[i]
		if n.Responses != w.Responses || n.Promoters != w.Promoters || n.Detractors != w.Detractors || n.Few != w.Few ||
			fmt.Sprint(n.Score) != fmt.Sprint(w.Score) && (n.Score == nil || w.Score == nil || *n.Score != *w.Score) {
			t.Errorf("NPS period %d: %+v, want %+v", i, n, w)
		}
	}
	if len(got.Recordings) != 1 || got.Recordings[0].AnonymousID != "anon-0" {
		t.Errorf("newest recordings %+v, want anon-0's", got.Recordings)
	}
	if segs := got.Segments; len(segs) != 1 || segs[0].ID != o.segment || segs[0].Size == nil || *segs[0].Size != want.size ||
		*segs[0].SizeBefore != want.sizeBefore {
		t.Errorf("segments %+v, want %s of %d users, %d 30 days ago", segs, o.segment, want.size, want.sizeBefore)
	}
	if got.LastEventAt == nil {
		t.Error("no last event")
	}
}

// everyone lists the generated site's users, identified or not.
func (o *ovSite) everyone() map[string]bool {
	out := map[string]bool{}
	for _, v := range o.visits {
		out[v.who()] = true
	}
	return out
}

// TestOverviewStaysInItsSite: another site's token gets a 404, another
// site's data does not count, and bad parameters are refused.
func TestOverviewStaysInItsSite(t *testing.T) {
	s := startServer(t, nil)
	ctx := context.Background()
	other, err := s.admin.CreateSite(ctx, "Other", []string{"https://other.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.admin.CreateToken(ctx, other.ID, store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	o := &testServer{base: s.base, site: other.ID, writeKey: other.WriteKey, tokens: map[store.Scope]string{store.ScopeRead: tok.Token}}
	now := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	if code, out := o.send(t, "/v1/batch", `{"batch":[{"type":"page","userId":"x","timestamp":"`+now+`","properties":{"path":"/secret"}},`+
		`{"type":"track","userId":"x","event":"$rage_click","timestamp":"`+now+`","context":{"page":{"path":"/secret"}}}]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	if code, out := s.send(t, "/v1/page", `{"userId":"mine","timestamp":"`+now+`","properties":{"path":"/home"}}`); code != 200 {
		t.Fatalf("page: %d %v", code, out)
	}
	mine := overviewOf(t, s, "")
	if mine.Users.Current != 1 || mine.Events.Current != 1 || len(mine.TopPages) != 1 || mine.TopPages[0].Path != "/home" ||
		len(mine.HotSpots) != 0 || mine.Period.Days != 7 {
		t.Errorf("the site's overview counts another site's data: %+v", mine)
	}
	for _, c := range []struct {
		name, token, site, query string
		status                   int
		code                     string
	}{
		{"another site's token", tok.Token, s.site, "", http.StatusNotFound, "site_not_found"},
		{"a site that does not exist", s.tokens[store.ScopeRead], "s_nope", "", http.StatusNotFound, "site_not_found"},
		{"no token", "", s.site, "", http.StatusUnauthorized, "unauthorized"},
		{"days=14", s.tokens[store.ScopeRead], s.site, "?days=14", http.StatusBadRequest, "invalid_parameter"},
	} {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+c.site+"/overview"+c.query, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		code, body := do(t, req)
		if code != c.status || errorCode(body) != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, code, body, c.status, c.code)
		}
		if c.status == http.StatusBadRequest {
			if e, _ := body["error"].(map[string]any); e["field"] != "days" {
				t.Errorf("%s: the error names %v, want days", c.name, e["field"])
			}
		}
	}
	theirs := overviewOf(t, o, "?days=30")
	if theirs.Users.Current != 1 || len(theirs.HotSpots) != 1 || theirs.HotSpots[0].Path != "/secret" || theirs.Period.Days != 30 {
		t.Errorf("the other site's overview: %+v", theirs)
	}
	// A site without data: zeros without a change, nothing listed, and
	// no last event (the page shows how to install).
	empty, err := s.admin.CreateSite(ctx, "Empty", nil)
	if err != nil {
		t.Fatal(err)
	}
	etok, err := s.admin.CreateToken(ctx, empty.ID, store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	none := overviewOf(t, &testServer{base: s.base, site: empty.ID, tokens: map[store.Scope]string{store.ScopeRead: etok.Token}}, "")
	if none.Users != (ovCount{}) || none.Events != (ovCount{}) || none.LastEventAt != nil || none.NPS != nil ||
		len(none.TopPages)+len(none.HotSpots)+len(none.Recordings)+len(none.Segments) != 0 || len(none.Series) != 7 {
		t.Errorf("an empty site's overview: %+v", none)
	}
}

// consoleProbe records console.error calls with the page's errors.
const consoleProbe = `(function () {
  var orig = console.error;
  console.error = function () {
    if (window.__probe) window.__probe.errors.push('console.error: ' + Array.prototype.map.call(arguments, String).join(' '));
    return orig.apply(console, arguments);
  };
})();`

// changeText is the overview's "+13%" for a change.
func changeText(cur, prev int64) string {
	if prev == 0 {
		if cur > 0 {
			return "new"
		}
		return "—"
	}
	pct := int(math.Round(float64(cur-prev) / float64(prev) * 100))
	switch {
	case pct > 0:
		return fmt.Sprintf("+%d%%", pct)
	case pct < 0:
		return fmt.Sprintf("−%d%%", -pct)
	}
	return "±0%"
}

// TestOverviewInChromium signs in and lands on the overview, checks every
// card against the generated data, switches to 30 days, follows a hot
// spot to its recordings, shows an empty site's guidance, and lays the
// page out at 390 px; with no JavaScript or console error throughout. It
// logs how long the page took to show every card, from navigation start.
func TestOverviewInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	o := startOverviewSite(t)
	site := "/s/" + o.site
	d := newDashboard(t, o.base)
	_, err := chromedp.Run(d.b, func(ctx context.Context, tg *chromedp.Target) (page.ScriptIdentifier, error) {
		r, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: consoleProbe})
		return r.Identifier, err
	})
	if err != nil {
		t.Fatal(err)
	}
	d.do("open the dashboard", chromedp.Navigate(o.base+"/"))
	d.waitPath("/setup")
	d.fill("Your name", "Olive Owner")
	d.fill("Email", "owner@example.com")
	d.fill("Password", ownerPassword)
	d.do("submit with Enter", chromedp.SendKeys(chromedp.CSS(d.control("Password", 0)), "\r"))
	d.waitPath(site + "/overview")
	// Signing in lands here too.
	d.click("Sign out")
	d.waitPath("/signin")
	d.fill("Email", "owner@example.com")
	d.fill("Password", ownerPassword)
	d.do("sign in with Enter", chromedp.SendKeys(chromedp.CSS(d.control("Password", 0)), "\r"))
	d.waitPath(site + "/overview")
	if got := d.str(`document.querySelector('#nav a[aria-current="page"]').textContent`); got != "Overview" {
		t.Errorf("the navigation marks %q, want Overview", got)
	}

	// A fresh load of the page, timed from navigation start to every card
	// filled.
	d.clean()
	d.do("load the overview", chromedp.Navigate(o.base+site+"/overview"))
	d.waitFor("every card", `document.querySelector('section.overview[data-ready="7"]') && performance.getEntriesByName('sl-overview-ready').length > 0`)
	var ms float64
	d.eval(`performance.getEntriesByName('sl-overview-ready')[0].startTime`, &ms)
	t.Logf("the overview showed every card %.0f ms after navigation start", ms)
	if ms > 10000 {
		t.Errorf("the overview took %.0f ms to fill", ms)
	}
	d.shot("overview")

	api := o.overview(t, "7")
	p := api.Period
	want := o.expect(p.From, p.To, p.PreviousFrom)
	var stats map[string]struct{ Value, Change string }
	d.eval(`Object.fromEntries(Array.prototype.map.call(document.querySelectorAll('[data-stat]'), function (e) {
		return [e.dataset.stat, {value: e.querySelector('.stat-value').dataset.value, change: e.querySelector('[data-change]').dataset.change}] }))`, &stats)
	for i, m := range []string{"users", "sessions", "events"} {
		w := [][2]int64{want.users, want.sessions, want.events}[i]
		if got := stats[m]; got.Value != fmt.Sprint(w[0]) || got.Change != changeText(w[0], w[1]) {
			t.Errorf("%s shows %+v, want %d and %s", m, got, w[0], changeText(w[0], w[1]))
		}
	}
	today := p.To.UTC().Format(time.DateOnly)
	if label := d.str(`document.querySelector('#overview-activity [role=img]').getAttribute('aria-label')`); !strings.HasSuffix(label,
		fmt.Sprintf(": 7 points, %d on %s", want.days[today].Users, today)) {
		t.Errorf("the chart reads %q, want 7 days ending with %d users today", label, want.days[today].Users)
	}
	var pages []struct{ Path, Views string }
	d.eval(`Array.prototype.map.call(document.querySelectorAll('tr[data-page]'), function (r) {
		return {path: r.dataset.page, views: r.querySelector('[data-views]').dataset.views} })`, &pages)
	if len(pages) != len(want.pages) {
		t.Errorf("%d top pages, want %d", len(pages), len(want.pages))
	}
	for i := range min(len(pages), len(want.pages)) {
		if pages[i].Path != want.pages[i].Path || pages[i].Views != fmt.Sprint(want.pages[i].Views) {
			t.Errorf("top page %d: %+v, want %+v", i, pages[i], want.pages[i])
		}
	}
	var spots []struct{ Path, Rage, Dead, Links string }
	d.eval(`Array.prototype.map.call(document.querySelectorAll('li[data-hotspot]'), function (li) {
		return {path: li.dataset.hotspot, rage: li.querySelector('[data-rage]').dataset.rage, dead: li.querySelector('[data-dead]').dataset.dead,
			links: Array.prototype.map.call(li.querySelectorAll('a'), function (a) { return a.textContent }).join('|')} })`, &spots)
	if len(spots) != len(want.spots) {
		t.Fatalf("%d hot spots, want %d", len(spots), len(want.spots))
	}
	for i, s := range spots {
		w := want.spots[i]
		wantLinks := ""
		if w.Path == "/dashboard" || w.Path == "/settings" {
			wantLinks = "1 recording with rage clicks"
		}
		if s.Path != w.Path || s.Rage != fmt.Sprint(w.RageClicks) || s.Dead != fmt.Sprint(w.DeadClicks) || s.Links != wantLinks {
			t.Errorf("hot spot %d: %+v, want %+v with links %q", i, s, w, wantLinks)
		}
	}
	if got, w := d.str(`document.querySelector('[data-nps-score]').textContent`), fmt.Sprint(*want.nps[0].Score); got != w {
		t.Errorf("NPS %s, want %s", got, w)
	}
	if got := d.str(`document.querySelector('[data-nps-responses]').dataset.npsResponses`); got != fmt.Sprint(want.nps[0].Responses) {
		t.Errorf("NPS answers %s, want %d", got, want.nps[0].Responses)
	}
	if n := d.str(`String(document.querySelectorAll('#overview-recordings li[data-recording]').length)`); n != "1" {
		t.Errorf("%s newest recordings, want 1", n)
	}
	if got := d.str(fmt.Sprintf(`document.querySelector('tr[data-segment=%q] td[data-size]').dataset.size`, o.segment)); got != fmt.Sprint(want.size) {
		t.Errorf("the segment's size %s, want %d", got, want.size)
	}
	if got := d.str(fmt.Sprintf(`document.querySelector('tr[data-segment=%q] [data-change]').dataset.change`, o.segment)); got != changeText(want.size, want.sizeBefore) {
		t.Errorf("the segment's change %s, want %s", got, changeText(want.size, want.sizeBefore))
	}

	// 30 days: the address keeps the choice.
	d.click("30 days")
	d.waitFor("the 30 days", `document.querySelector('section.overview[data-ready="30"]') && new URLSearchParams(location.search).get('days') === '30'`)
	p30 := o.overview(t, "30").Period
	want30 := o.expect(p30.From, p30.To, p30.PreviousFrom)
	if got := d.str(`document.querySelector('[data-stat=users] .stat-value').dataset.value`); got != fmt.Sprint(want30.users[0]) {
		t.Errorf("30 days: %s users, want %d", got, want30.users[0])
	}
	if got := d.str(`document.querySelector('[data-stat=events] .stat-value').dataset.value`); got != fmt.Sprint(want30.events[0]) {
		t.Errorf("30 days: %s events, want %d", got, want30.events[0])
	}
	d.shot("overview-30")

	// A hot spot's recordings: the list filtered to the page and signal.
	d.do("follow /dashboard's recordings", js(`document.querySelector('li[data-hotspot="/dashboard"] a').click()`))
	d.waitPath(site + "/recordings")
	q := d.str(`location.search`)
	for _, part := range []string{"page=%2Fdashboard", "signal=rage_clicks", "from=" + url.QueryEscape(p30.From.Format(time.RFC3339))} {
		if !strings.Contains(q, part) {
			t.Errorf("the recordings' address %s lacks %s", q, part)
		}
	}
	d.waitFor("the recording", `document.querySelectorAll('tr[data-recording]').length === 1`)
	d.clean()

	// An empty site says what to do.
	ctx := context.Background()
	empty, err := o.admin.CreateSite(ctx, "Empty", nil)
	if err != nil {
		t.Fatal(err)
	}
	d.open("/s/" + empty.ID + "/overview")
	d.waitFor("the empty overview", `document.querySelector('section.overview[data-ready]') && /Nothing received from this site yet/.test(document.querySelector('main').textContent)`)
	if href := d.str(`Array.prototype.find.call(document.querySelectorAll('main a'), function (a) { return a.textContent === 'Install the tracker' }).getAttribute('href')`); href != "/s/"+empty.ID+"/settings" {
		t.Errorf("the install link goes to %q", href)
	}
	for _, card := range []string{"#overview-pages", "#overview-hotspots", "#overview-nps", "#overview-recordings", "#overview-segments"} {
		if txt := d.str(`document.querySelector('` + card + ` .muted').textContent`); len(txt) < 20 {
			t.Errorf("%s says %q when empty", card, txt)
		}
	}
	d.shot("overview-empty")

	// 390 px wide: nothing wider than the screen.
	d.do("a phone's width", chromedp.EmulateViewport(390, 844))
	d.open(site + "/overview")
	d.waitFor("the overview at 390 px", `document.querySelector('section.overview[data-ready="7"]')`)
	var widths struct{ Page, View int }
	d.eval(`({page: document.documentElement.scrollWidth, view: window.innerWidth})`, &widths)
	if widths.Page > widths.View {
		t.Errorf("at 390 px the page is %d px wide", widths.Page)
		t.Logf("past the right edge: %s", d.str(`Array.prototype.filter.call(document.querySelectorAll('body *'), function (e) { var r = e.getBoundingClientRect(); return r.right > window.innerWidth + 1 }).slice(0, 12).map(function (e) { return e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) }).join('\n')`))
	}
	d.shot("overview-390")
	d.clean()
}

// TestOverviewComputedAtStart: a server computes its sites' overviews as
// it starts, so that the first person to sign in does not wait for them.
func TestOverviewComputedAtStart(t *testing.T) {
	dir := t.TempDir()
	start := func() (*testServer, func()) {
		t.Helper()
		cfg := config.Default()
		cfg.DataDir, cfg.Addr, cfg.MetricsAddr = dir, "127.0.0.1:0", ""
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan server.Addrs, 1)
		done := make(chan error, 1)
		go func() { done <- server.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
		var addrs server.Addrs
		select {
		case addrs = <-ready:
		case err := <-done:
			t.Fatalf("server: %v", err)
		}
		ac, err := admin.Dial(cfg.SocketPath())
		if err != nil {
			t.Fatal(err)
		}
		return &testServer{base: "http://" + addrs.HTTP, tokens: map[store.Scope]string{}, admin: ac}, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("shutdown: %v", err)
			}
		}
	}
	s, stop := start()
	site, err := s.admin.CreateSite(context.Background(), "Warm", []string{"https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.admin.CreateToken(context.Background(), site.ID, store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	s.site, s.writeKey, s.tokens[store.ScopeRead] = site.ID, site.WriteKey, tok.Token
	if code, out := s.send(t, "/v1/page", `{"userId":"ann","properties":{"path":"/home"}}`); code != 200 {
		t.Fatalf("page: %d %v", code, out)
	}
	stop()

	s2, stop := start()
	defer stop()
	s2.site, s2.tokens = s.site, s.tokens
	time.Sleep(3 * time.Second) // far more than computing this site's overview takes
	asked := time.Now()
	var got struct {
		Pending []string             `json:"pending"`
		AsOf    map[string]time.Time `json:"as_of"`
		Users   ovCount              `json:"users"`
	}
	s2.getJSON(t, "/overview", &got)
	if len(got.Pending) > 0 || got.Users.Current != 1 {
		t.Fatalf("the first overview after the start: %+v", got)
	}
	for _, part := range []string{"activity", "pages", "hot_spots", "recordings"} {
		if at, ok := got.AsOf[part]; !ok || !at.Before(asked) {
			t.Errorf("%s was computed at %v, not before it was asked for (%v)", part, at, asked)
		}
	}
}

package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
)

// The overview's bounds: how many rows each list has, and how many saved
// segments' sizes it counts (each costs two counts; the rest are listed
// without them, for the segments page to count).
const (
	overviewPages      = 10
	overviewHotSpots   = 5
	overviewRecordings = 5
	overviewSegments   = 12
	// segmentChangeDays is how far back a segment's size is compared.
	segmentChangeDays = 30
	// overviewWait is how long the overview waits for parts and segment
	// sizes not computed yet; they are answered as pending after it.
	overviewWait = time.Second
)

// usersCounted says what the overview counts as a user.
const usersCounted = "users with at least one page view or event (track, page or screen) in the period: " +
	"identified users and anonymous visitors alike, identities merged into one user counting once (as segments count users); " +
	"sessions are those that started in the period, events the page views and events of those sessions"

// countJSON is a count in the period and in the period before.
type countJSON struct {
	Current  int64 `json:"current"`
	Previous int64 `json:"previous"`
	// Change is (current - previous) / previous; null when previous is 0.
	Change *float64 `json:"change"`
}

func countOf(cur, prev int64) countJSON {
	c := countJSON{Current: cur, Previous: prev}
	if prev > 0 {
		v := float64(cur-prev) / float64(prev)
		c.Change = &v
	}
	return c
}

type dayJSON struct {
	// Date is a day of the site's time zone (period.tz), midnight to
	// midnight there.
	Date     string `json:"date"`
	Users    int64  `json:"users"`
	Sessions int64  `json:"sessions"`
	Events   int64  `json:"events"`
	// Partial marks today, which has not ended.
	Partial bool `json:"partial,omitempty"`
}

type pageJSON struct {
	Path          string `json:"path"`
	Views         int64  `json:"views"`
	Users         int64  `json:"users"`
	PreviousViews int64  `json:"previous_views"`
}

type hotSpotJSON struct {
	Path       string `json:"path"`
	RageClicks int64  `json:"rage_clicks"`
	DeadClicks int64  `json:"dead_clicks"`
	Users      int64  `json:"users"`
	// Recordings counts the recordings of the period that show the page
	// with each signal: what the recordings list shows with page=PATH,
	// signal=rage_clicks (or dead_clicks) and from=the period's start.
	Recordings *signalRecordingsJSON `json:"recordings"`
}

type signalRecordingsJSON struct {
	RageClicks int64 `json:"rage_clicks"`
	DeadClicks int64 `json:"dead_clicks"`
}

// npsPeriodJSON is the NPS of the responses started in a period.
type npsPeriodJSON struct {
	survey.NPSSummary
	// Few marks fewer than survey.MinTrendResponses answers, whose score
	// says little; Partial a period that has not ended (the current one).
	Few     bool `json:"few"`
	Partial bool `json:"partial"`
}

type npsJSON struct {
	SurveyID   string        `json:"survey_id"`
	SurveyName string        `json:"survey_name"`
	Current    npsPeriodJSON `json:"current"`
	Previous   npsPeriodJSON `json:"previous"`
	// Change is the current score less the previous one, in points; null
	// when either has no answer.
	Change *float64 `json:"change"`
	// OtherLive counts the other live surveys with an NPS question.
	OtherLive int `json:"other_live"`
}

type segmentSizeJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Size is the live size; SizeBefore the size at the end of the UTC
	// day segmentChangeDays days ago (UTC's, whatever the site's time
	// zone: the day tables segments read are UTC days). Both are null
	// when not counted.
	Size       *int64   `json:"size"`
	SizeBefore *int64   `json:"size_before"`
	Change     *float64 `json:"change"`
	// CountedAt is when the sizes were counted: the overview keeps them
	// a while (see keep). Counting says they are being counted.
	CountedAt *time.Time `json:"counted_at,omitempty"`
	Counting  bool       `json:"counting,omitempty"`
	// Error says why the sizes are missing (a segment too costly to
	// count now, or no longer valid).
	Error *apierr.Error `json:"error,omitempty"`
}

type periodJSON struct {
	Days int `json:"days"`
	// TZ is the site's time zone, whose midnight starts the period and
	// each day of the series.
	TZ           string    `json:"tz"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	PreviousFrom time.Time `json:"previous_from"`
	PreviousTo   time.Time `json:"previous_to"`
}

// overviewJSON is the answer of GET /overview.
type overviewJSON struct {
	Period       periodJSON `json:"period"`
	UsersCounted string     `json:"users_counted"`
	Users        countJSON  `json:"users"`
	Sessions     countJSON  `json:"sessions"`
	Events       countJSON  `json:"events"`
	Series       []dayJSON  `json:"series"`
	TopPages     []pageJSON `json:"top_pages"`
	// PageUsersApproximate says the top pages' users are estimates
	// (about 2% off), as on sites with a million events or more.
	PageUsersApproximate bool              `json:"page_users_approximate"`
	HotSpots             []hotSpotJSON     `json:"hot_spots"`
	NPS                  *npsJSON          `json:"nps"`
	Recordings           []recordingJSON   `json:"recordings"`
	Segments             []segmentSizeJSON `json:"segments"`
	SegmentsLeft         int               `json:"segments_not_counted"`
	SegmentDays          int               `json:"segment_change_days"`
	// LastEventAt is when the site's last message arrived; null before
	// the first, when the page has nothing to show but how to install.
	LastEventAt *time.Time `json:"last_event_at"`
	// Pending names the parts not computed yet (activity, pages,
	// hot_spots, recordings): ask again shortly. AsOf says when each
	// part was computed: the overview keeps them a while (see keep).
	Pending []string             `json:"pending"`
	AsOf    map[string]time.Time `json:"as_of"`
	// TookMS is this answer's time; Timings what computing each part
	// took (when it was computed).
	TookMS  int64            `json:"took_ms"`
	Timings map[string]int64 `json:"timings_ms"`
}

// overviewKeeps are the overview's kept answers (see keep).
type overviewKeeps struct {
	bg         *background
	activity   *keep[partKey, activityPart]
	pages      *keep[partKey, pagesPart]
	hotSpots   *keep[partKey, []hotSpotJSON]
	recordings *keep[recordingsKey, []recordingJSON]
	sizes      *keep[sizeKey, sizes]
}

func newOverviewKeeps() *overviewKeeps {
	bg := newBackground()
	return &overviewKeeps{bg: bg, activity: newKeep[partKey, activityPart](bg), pages: newKeep[partKey, pagesPart](bg),
		hotSpots: newKeep[partKey, []hotSpotJSON](bg), recordings: newKeep[recordingsKey, []recordingJSON](bg),
		sizes: newKeep[sizeKey, sizes](bg)}
}

// partKey names a part of a site's overview of days days in the zone tz
// (a changed zone is computed anew).
type partKey struct {
	site int64
	days int
	tz   string
}

func (k partKey) zone() *time.Location { return siteLocation(store.Site{TimeZone: k.tz}) }

func (a *API) registerOverview(mux *http.ServeMux, p string) {
	mux.Handle("GET "+p+"/overview", a.auth(store.ScopeRead, a.getOverview))
}

// Stop ends the overview's background computations and waits for them,
// or for ctx to end.
func (a *API) Stop(ctx context.Context) error { return a.overview.bg.stop(ctx) }

// overviewPeriods returns the overview's period of days days of the
// zone loc ending now (today so far included), from local midnight, and
// the period of the same length before it.
func overviewPeriods(now time.Time, days int, loc *time.Location) (cur, prev store.Period) {
	l := now.In(loc)
	from := time.Date(l.Year(), l.Month(), l.Day()-(days-1), 0, 0, 0, 0, loc)
	cur = store.Period{From: from.UTC(), To: now.UTC()}
	prev = store.Period{From: cur.From.Add(-cur.To.Sub(cur.From)), To: cur.From}
	return cur, prev
}

// siteLocation returns the site's time zone, whose days the overview counts;
// UTC when its name is not one Go knows (names are checked when set).
func siteLocation(site store.Site) *time.Location {
	if loc, err := time.LoadLocation(site.TimeZone); err == nil && site.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// getOverview answers GET /overview?days=7|30: the site at a glance. The
// parts are read at the same time, kept ones as they are kept; those not
// computed within overviewWait are named in pending.
func (a *API) getOverview(w http.ResponseWriter, r *http.Request, site store.Site) error {
	days := 7
	switch s := r.URL.Query().Get("days"); s {
	case "", "7":
	case "30":
		days = 30
	default:
		return apierr.Invalid("invalid_parameter", "days", "days is 7 or 30")
	}
	start := time.Now()
	cur, prev := overviewPeriods(start, days, siteLocation(site))
	out := &overviewJSON{UsersCounted: usersCounted, SegmentDays: segmentChangeDays, Pending: []string{},
		AsOf: map[string]time.Time{}, Timings: map[string]int64{}, Series: []dayJSON{}, TopPages: []pageJSON{},
		HotSpots: []hotSpotJSON{}, Recordings: []recordingJSON{}, Segments: []segmentSizeJSON{},
		Period: periodJSON{Days: days, TZ: siteLocation(site).String(), From: cur.From, To: cur.To, PreviousFrom: prev.From, PreviousTo: prev.To}}
	wait, cancel := context.WithDeadline(r.Context(), start.Add(overviewWait))
	defer cancel()
	var mu sync.Mutex // guards out's maps and lists while the parts run
	var errs []error
	// part records a kept part's answer: its error, when and in how long
	// it was computed, or that it is pending.
	part := func(name string, at time.Time, took time.Duration, err error, ok bool) bool {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case !ok:
			out.Pending = append(out.Pending, name)
		case err != nil:
			errs = append(errs, err)
		default:
			out.AsOf[name], out.Timings[name] = at, took.Milliseconds()
		}
		return ok && err == nil
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		v, ok := a.keptActivity(wait, site, days)
		if part("activity", v.at, v.took, v.err, ok) {
			v.val.fill(out) // the period as computed
		}
	})
	wg.Go(func() {
		v, ok := a.keptPages(wait, site, days)
		if part("pages", v.at, v.took, v.err, ok) {
			out.TopPages, out.PageUsersApproximate = v.val.pages, v.val.approximate
		}
	})
	wg.Go(func() {
		v, ok := a.keptHotSpots(wait, site, days)
		if part("hot_spots", v.at, v.took, v.err, ok) {
			out.HotSpots = v.val
		}
	})
	if a.recordings != nil {
		wg.Go(func() {
			v, ok := a.keptRecordings(wait, site)
			if part("recordings", v.at, v.took, v.err, ok) {
				out.Recordings = v.val
			}
		})
	}
	// Cheap enough to read at every request.
	wg.Go(func() {
		t := time.Now()
		nps, err := a.overviewNPS(r.Context(), site, cur, prev)
		mu.Lock()
		defer mu.Unlock()
		out.NPS, out.Timings["nps"] = nps, time.Since(t).Milliseconds()
		if err != nil {
			errs = append(errs, err)
		}
	})
	wg.Go(func() {
		t := time.Now()
		st, err := a.store.InstallStatus(r.Context(), site.ID, start)
		mu.Lock()
		defer mu.Unlock()
		out.Timings["install"] = time.Since(t).Milliseconds()
		if err != nil {
			errs = append(errs, err)
		} else if !st.LastEventAt.IsZero() {
			out.LastEventAt = &st.LastEventAt
		}
	})
	wg.Go(func() {
		segs, left, err := a.overviewSegments(r.Context(), wait, site)
		mu.Lock()
		defer mu.Unlock()
		out.Segments, out.SegmentsLeft = segs, left
		if err != nil {
			errs = append(errs, err)
		}
	})
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	slices.Sort(out.Pending)
	out.TookMS = time.Since(start).Milliseconds()
	apierr.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) keptActivity(wait context.Context, site store.Site, days int) (answer[activityPart], bool) {
	return a.overview.activity.get(wait, partKey{site: site.ID, days: days, tz: site.TimeZone}, func(ctx context.Context) (activityPart, error) {
		return a.activityPart(ctx, site, days)
	})
}

func (a *API) keptPages(wait context.Context, site store.Site, days int) (answer[pagesPart], bool) {
	return a.overview.pages.get(wait, partKey{site: site.ID, days: days, tz: site.TimeZone}, func(ctx context.Context) (pagesPart, error) {
		return a.pagesPart(ctx, site, days)
	})
}

func (a *API) keptHotSpots(wait context.Context, site store.Site, days int) (answer[[]hotSpotJSON], bool) {
	return a.overview.hotSpots.get(wait, partKey{site: site.ID, days: days, tz: site.TimeZone}, func(ctx context.Context) ([]hotSpotJSON, error) {
		return a.hotSpotsPart(ctx, site, days)
	})
}

func (a *API) keptRecordings(wait context.Context, site store.Site) (answer[[]recordingJSON], bool) {
	attrs := recordingAttributes(site)
	return a.overview.recordings.get(wait, recordingsKey{site: site.ID, attrs: strings.Join(attrs, "\n")},
		func(ctx context.Context) ([]recordingJSON, error) { return a.recordingsPart(ctx, site, attrs) })
}

// overviewWarmSites bounds the sites whose overview WarmOverviews
// computes.
const overviewWarmSites = 20

// WarmOverviews starts computing the 7-day overviews of the first
// overviewWarmSites sites and their segments' sizes in the background,
// keepSlots at once, so that the first person to sign in after a start
// finds them computed; it returns at once. A request for a part under way
// waits for that computation rather than starting another.
func (a *API) WarmOverviews(ctx context.Context, sites []store.Site) {
	started, cancel := context.WithCancel(ctx)
	cancel() // get then only starts the computations
	for _, site := range sites[:min(len(sites), overviewWarmSites)] {
		a.keptActivity(started, site, 7)
		a.keptPages(started, site, 7)
		a.keptHotSpots(started, site, 7)
		if a.recordings != nil {
			a.keptRecordings(started, site)
		}
		if _, _, err := a.overviewSegments(ctx, started, site); err != nil {
			a.log.Warn("start counting the overview's segments", "site", site.PublicID, "err", err)
		}
	}
}

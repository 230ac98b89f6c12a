package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/segment/engine"
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
	// overviewParallel is how many parts are read at once.
	overviewParallel = 2
	// overviewWait is how long the overview waits for segment sizes that
	// are not counted yet; they are answered as counting after it.
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
	// Size is the live size; SizeBefore the size at the end of the day
	// segmentChangeDays days ago. Both are null when not counted.
	Size       *int64   `json:"size"`
	SizeBefore *int64   `json:"size_before"`
	Change     *float64 `json:"change"`
	// CountedAt is when the sizes were counted: the overview keeps them
	// a while (see sizeCache). Counting says they are being counted.
	CountedAt *time.Time `json:"counted_at,omitempty"`
	Counting  bool       `json:"counting,omitempty"`
	// Error says why the sizes are missing (a segment too costly to
	// count now, or no longer valid).
	Error *apierr.Error `json:"error,omitempty"`
}

type periodJSON struct {
	Days         int       `json:"days"`
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
	TookMS      int64      `json:"took_ms"`
	// Timings are each part's milliseconds (parts run two at a time).
	Timings map[string]int64 `json:"timings_ms"`
}

func (a *API) registerOverview(mux *http.ServeMux, p string) {
	mux.Handle("GET "+p+"/overview", a.auth(store.ScopeRead, a.getOverview))
	mux.Handle("GET "+p+"/overview/segments", a.auth(store.ScopeRead, a.getOverviewSegments))
}

// Stop ends the overview's background counts and waits for them, or for
// ctx to end.
func (a *API) Stop(ctx context.Context) error { return a.sizes.stop(ctx) }

// overviewPeriods returns the overview's period of days UTC days ending
// now (today so far included) and the period of the same length before
// it.
func overviewPeriods(now time.Time, days int) (cur, prev store.Period) {
	now = now.UTC()
	cur = store.Period{From: now.Truncate(24*time.Hour).AddDate(0, 0, -(days - 1)), To: now}
	prev = store.Period{From: cur.From.Add(-now.Sub(cur.From)), To: cur.From}
	return cur, prev
}

// getOverview answers GET /overview?days=7|30: the site at a glance. The
// parts are read at the same time, each timed.
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
	cur, prev := overviewPeriods(start, days)
	out := &overviewJSON{UsersCounted: usersCounted, SegmentDays: segmentChangeDays, Timings: map[string]int64{},
		Period: periodJSON{Days: days, From: cur.From, To: cur.To, PreviousFrom: prev.From, PreviousTo: prev.To}}
	g, ctx := errgroup.WithContext(r.Context())
	g.SetLimit(overviewParallel)
	var mu sync.Mutex // guards out.Timings
	part := func(name string, fn func(ctx context.Context) error) {
		g.Go(func() error {
			t := time.Now()
			err := fn(ctx)
			mu.Lock()
			out.Timings[name] = time.Since(t).Milliseconds()
			mu.Unlock()
			return err
		})
	}
	part("activity", func(ctx context.Context) error { return a.overviewActivity(ctx, site, cur, prev, out) })
	part("pages", func(ctx context.Context) error { return a.overviewPages(ctx, site, cur, prev, out) })
	part("hot_spots", func(ctx context.Context) error { return a.overviewHotSpots(ctx, site, cur, out) })
	part("nps", func(ctx context.Context) error { return a.overviewNPS(ctx, site, cur, prev, out) })
	part("recordings", func(ctx context.Context) error { return a.overviewRecordings(ctx, site, out) })
	part("install", func(ctx context.Context) error {
		st, err := a.store.InstallStatus(ctx, site.ID, start)
		if err == nil && !st.LastEventAt.IsZero() {
			out.LastEventAt = &st.LastEventAt
		}
		return err
	})
	part("segments", func(ctx context.Context) error {
		var err error
		out.Segments, out.SegmentsLeft, err = a.overviewSegments(ctx, site, start.Add(overviewWait))
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	out.TookMS = time.Since(start).Milliseconds()
	apierr.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) overviewActivity(ctx context.Context, site store.Site, cur, prev store.Period, out *overviewJSON) error {
	act, err := a.store.Activity(ctx, site.ID, cur, prev)
	if err != nil {
		return err
	}
	out.Users = countOf(act.Current.Users, act.Previous.Users)
	out.Sessions = countOf(act.Current.Sessions, act.Previous.Sessions)
	out.Events = countOf(act.Current.Events, act.Previous.Events)
	today := cur.To.UTC().Truncate(24 * time.Hour)
	out.Series = make([]dayJSON, len(act.Days))
	for i, d := range act.Days {
		out.Series[i] = dayJSON{Date: d.Day.Format(time.DateOnly), Users: d.Users, Sessions: d.Sessions, Events: d.Events,
			Partial: d.Day.Equal(today)}
	}
	return nil
}

func (a *API) overviewPages(ctx context.Context, site store.Site, cur, prev store.Period, out *overviewJSON) error {
	pages, err := a.store.TopPages(ctx, site.ID, cur, prev, overviewPages)
	if err != nil {
		return err
	}
	out.TopPages = make([]pageJSON, len(pages.Pages))
	for i, p := range pages.Pages {
		out.TopPages[i] = pageJSON(p)
	}
	out.PageUsersApproximate = pages.UsersApproximate
	return nil
}

func (a *API) overviewHotSpots(ctx context.Context, site store.Site, cur store.Period, out *overviewJSON) error {
	spots, err := a.store.FrustrationSpots(ctx, site.ID, cur, overviewHotSpots)
	if err != nil {
		return err
	}
	out.HotSpots = make([]hotSpotJSON, len(spots))
	var paths []string
	for i, s := range spots {
		out.HotSpots[i] = hotSpotJSON{Path: s.Path, RageClicks: s.RageClicks, DeadClicks: s.DeadClicks, Users: s.Users}
		if s.Path != "" {
			paths = append(paths, s.Path)
		}
	}
	if a.recordings == nil || len(paths) == 0 {
		return nil
	}
	recs, err := a.store.SignalRecordings(ctx, site.ID, cur.From, paths)
	if err != nil {
		return err
	}
	for i := range out.HotSpots {
		if s := &out.HotSpots[i]; s.Path != "" {
			c := signalRecordingsJSON(recs[s.Path])
			s.Recordings = &c
		}
	}
	return nil
}

// overviewNPS gives the NPS of the live survey with an NPS question that
// has the most answers in the period (of equals, the newest).
func (a *API) overviewNPS(ctx context.Context, site store.Site, cur, prev store.Period, out *overviewJSON) error {
	if a.survey == nil {
		return nil
	}
	list, err := a.survey.surveys.List(ctx, site.ID)
	if err != nil {
		return err
	}
	var best *survey.Survey
	var bestNPS survey.NPSSummary
	live := 0
	for i, s := range list {
		if s.Status != survey.StatusLive || !hasNPS(s.Definition) {
			continue
		}
		live++
		c, err := a.store.NPSCounts(ctx, site.ID, s.ID, cur)
		if err != nil {
			return err
		}
		n := survey.NPSOfCounts(c)
		if best == nil || n.Responses > bestNPS.Responses || (n.Responses == bestNPS.Responses && s.CreatedAt.After(best.CreatedAt)) {
			best, bestNPS = &list[i], n
		}
	}
	if best == nil {
		return nil
	}
	c, err := a.store.NPSCounts(ctx, site.ID, best.ID, prev)
	if err != nil {
		return err
	}
	res := &npsJSON{SurveyID: best.ID, SurveyName: best.Definition.Name, Current: npsPeriod(bestNPS, true),
		Previous: npsPeriod(survey.NPSOfCounts(c), false), OtherLive: live - 1}
	if res.Current.Score != nil && res.Previous.Score != nil {
		d := math.Round((*res.Current.Score-*res.Previous.Score)*10) / 10
		res.Change = &d
	}
	out.NPS = res
	return nil
}

func hasNPS(d survey.Definition) bool {
	for _, q := range d.Questions {
		if q.Type == survey.NPS {
			return true
		}
	}
	return false
}

func npsPeriod(n survey.NPSSummary, partial bool) npsPeriodJSON {
	return npsPeriodJSON{NPSSummary: n, Few: n.Responses < survey.MinTrendResponses, Partial: partial}
}

// overviewRecordings lists the newest recordings. The list's query reads
// the signals of every recording it considers, so it is bounded to those
// started since the one it is to end with.
func (a *API) overviewRecordings(ctx context.Context, site store.Site, out *overviewJSON) error {
	out.Recordings = []recordingJSON{}
	if a.recordings == nil {
		return nil
	}
	from, err := a.store.NewestRecordingStart(ctx, site.ID, overviewRecordings)
	if err != nil {
		return err
	}
	attrs := site.KeyAttributes
	if len(attrs) == 0 {
		// The default pick reads the attribute catalog, which costs
		// seconds at a million users: the usual names only.
		attrs = []string{"name", "email", "plan"}
	}
	rows, err := a.recordings.List(ctx, site.ID, store.RecordingQuery{Limit: overviewRecordings, Sort: store.SortDate,
		From: from, Attributes: attrs})
	if err != nil {
		return err
	}
	for _, row := range rows {
		out.Recordings = append(out.Recordings, recordingOut(row))
	}
	return nil
}

// overviewSegments lists the saved segments with the sizes of the first
// overviewSegments of them, as the size cache has them by the deadline:
// counted (now or a little earlier), or still counting.
func (a *API) overviewSegments(ctx context.Context, site store.Site, deadline time.Time) ([]segmentSizeJSON, int, error) {
	segs, err := a.store.ListSegments(ctx, site.ID)
	if err != nil {
		return nil, 0, err
	}
	out := make([]segmentSizeJSON, len(segs))
	left := 0
	wait, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var wg sync.WaitGroup
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for i, s := range segs {
		out[i] = segmentSizeJSON{ID: s.ID, Name: s.Name}
		if i >= overviewSegments {
			left++
			continue
		}
		wg.Go(func() {
			k := sizeKey{site: site.ID, id: s.ID, updated: s.UpdatedAt, day: day}
			v, ok := a.sizes.get(wait, k, func(ctx context.Context) sizes { return a.countSizes(ctx, site, s) })
			a.sizesOut(&out[i], v, ok)
		})
	}
	wg.Wait()
	return out, left, ctx.Err()
}

// countSizes counts a saved segment's size now and segmentChangeDays days
// ago with the trend's machinery: the past size as of the end of that
// day, the present one live.
func (a *API) countSizes(ctx context.Context, site store.Site, s store.SavedSegment) sizes {
	n, err := a.segments.Saved(ctx, site.ID, s)
	if err != nil {
		return sizes{err: err}
	}
	trend, err := a.segments.Trend(ctx, site.ID, n, segmentChangeDays+1, segmentChangeDays)
	if err != nil {
		return sizes{err: err}
	}
	return sizes{now: trend[len(trend)-1].Size, before: trend[0].Size, at: time.Now().UTC()}
}

// sizesOut fills a segment's row from its counts. A segment that could
// not be counted (too costly now, or no longer valid) says why instead of
// failing the page.
func (a *API) sizesOut(out *segmentSizeJSON, v sizes, ok bool) {
	if !ok {
		out.Counting = true
		return
	}
	if v.err != nil {
		err := v.err
		if errors.Is(err, engine.ErrInvalid) {
			err = segmentError(err)
		}
		var e *apierr.Error
		if !errors.As(translate(err), &e) {
			a.log.Error("count a segment for the overview", "segment", out.ID, "err", v.err)
			e = &apierr.Error{Status: http.StatusInternalServerError, Code: "internal", Message: "the size could not be counted"}
		}
		out.Error = e
		return
	}
	out.Size, out.SizeBefore, out.CountedAt = &v.now, &v.before, &v.at
	if v.before > 0 {
		c := float64(v.now-v.before) / float64(v.before)
		out.Change = &c
	}
}

// getOverviewSegments answers GET /overview/segments: the overview's
// segments alone, for the page to ask again while some are counting.
func (a *API) getOverviewSegments(w http.ResponseWriter, r *http.Request, site store.Site) error {
	segs, left, err := a.overviewSegments(r.Context(), site, time.Now().Add(overviewWait))
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"segments": segs, "segments_not_counted": left,
		"segment_change_days": segmentChangeDays})
	return nil
}

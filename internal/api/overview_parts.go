package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
)

// activityPart is the overview's users, sessions and events, computed for
// the periods it names.
type activityPart struct {
	act       store.Activity
	cur, prev store.Period
	loc       *time.Location
}

func (a *API) activityPart(ctx context.Context, site store.Site, days int) (activityPart, error) {
	loc := siteLocation(site)
	cur, prev := overviewPeriods(time.Now(), days, loc)
	act, err := a.store.Activity(ctx, site.ID, cur, prev, loc)
	return activityPart{act: act, cur: cur, prev: prev, loc: loc}, err
}

// fill writes the part into the answer, with the periods it was computed
// for.
func (p activityPart) fill(out *overviewJSON) {
	out.Period.From, out.Period.To, out.Period.PreviousFrom, out.Period.PreviousTo = p.cur.From, p.cur.To, p.prev.From, p.prev.To
	out.Users = countOf(p.act.Current.Users, p.act.Previous.Users)
	out.Sessions = countOf(p.act.Current.Sessions, p.act.Previous.Sessions)
	out.Events = countOf(p.act.Current.Events, p.act.Previous.Events)
	today := p.cur.To.In(p.loc).Format(time.DateOnly)
	out.Series = make([]dayJSON, len(p.act.Days))
	for i, d := range p.act.Days {
		date := d.Day.In(p.loc).Format(time.DateOnly)
		out.Series[i] = dayJSON{Date: date, Users: d.Users, Sessions: d.Sessions, Events: d.Events, Partial: date == today}
	}
}

// pagesPart is the overview's top pages.
type pagesPart struct {
	pages       []pageJSON
	approximate bool
}

func (a *API) pagesPart(ctx context.Context, site store.Site, days int) (pagesPart, error) {
	cur, prev := overviewPeriods(time.Now(), days, siteLocation(site))
	top, err := a.store.TopPages(ctx, site.ID, cur, prev, overviewPages)
	if err != nil {
		return pagesPart{}, err
	}
	out := pagesPart{pages: make([]pageJSON, len(top.Pages)), approximate: top.UsersApproximate}
	for i, p := range top.Pages {
		out.pages[i] = pageJSON(p)
	}
	return out, nil
}

// hotSpotsPart is the overview's frustration hot spots, each with the
// recordings that show it.
func (a *API) hotSpotsPart(ctx context.Context, site store.Site, days int) ([]hotSpotJSON, error) {
	cur, _ := overviewPeriods(time.Now(), days, siteLocation(site))
	spots, err := a.store.FrustrationSpots(ctx, site.ID, cur, overviewHotSpots)
	if err != nil {
		return nil, err
	}
	out := make([]hotSpotJSON, len(spots))
	var paths []string
	for i, s := range spots {
		out[i] = hotSpotJSON{Path: s.Path, RageClicks: s.RageClicks, DeadClicks: s.DeadClicks, Users: s.Users}
		if s.Path != "" {
			paths = append(paths, s.Path)
		}
	}
	if a.recordings == nil || len(paths) == 0 {
		return out, nil
	}
	recs, err := a.store.SignalRecordings(ctx, site.ID, cur.From, paths)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if s := &out[i]; s.Path != "" {
			c := signalRecordingsJSON(recs[s.Path])
			s.Recordings = &c
		}
	}
	return out, nil
}

// recordingsKey names a site's newest recordings with the attributes they
// show.
type recordingsKey struct {
	site  int64
	attrs string
}

// recordingAttributes are the user attributes the overview's recordings
// show: the site's key attributes, else the usual names (the default pick
// reads the attribute catalog, which costs seconds on a million users).
func recordingAttributes(site store.Site) []string {
	if len(site.KeyAttributes) > 0 {
		return site.KeyAttributes
	}
	return []string{"name", "email", "plan"}
}

// recordingsPart lists the newest recordings. The list's query reads the
// signals of every recording it considers, so it is bounded to those
// started since the one it is to end with.
func (a *API) recordingsPart(ctx context.Context, site store.Site, attrs []string) ([]recordingJSON, error) {
	from, err := a.store.NewestRecordingStart(ctx, site.ID, overviewRecordings)
	if err != nil {
		return nil, err
	}
	rows, err := a.recordings.List(ctx, site.ID, store.RecordingQuery{Limit: overviewRecordings, Sort: store.SortDate,
		From: from, Attributes: attrs})
	if err != nil {
		return nil, err
	}
	out := make([]recordingJSON, 0, len(rows))
	for _, row := range rows {
		out = append(out, recordingOut(row))
	}
	return out, nil
}

// overviewNPS gives the NPS of the live survey with an NPS question that
// has the most answers in the period (of equals, the newest); nil when no
// live survey asks for one.
func (a *API) overviewNPS(ctx context.Context, site store.Site, cur, prev store.Period) (*npsJSON, error) {
	if a.survey == nil {
		return nil, nil
	}
	list, err := a.survey.surveys.List(ctx, site.ID)
	if err != nil {
		return nil, err
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
			return nil, err
		}
		n := survey.NPSOfCounts(c)
		if best == nil || n.Responses > bestNPS.Responses || (n.Responses == bestNPS.Responses && s.CreatedAt.After(best.CreatedAt)) {
			best, bestNPS = &list[i], n
		}
	}
	if best == nil {
		return nil, nil
	}
	c, err := a.store.NPSCounts(ctx, site.ID, best.ID, prev)
	if err != nil {
		return nil, err
	}
	res := &npsJSON{SurveyID: best.ID, SurveyName: best.Definition.Name, Current: npsPeriod(bestNPS, true),
		Previous: npsPeriod(survey.NPSOfCounts(c), false), OtherLive: live - 1}
	if res.Current.Score != nil && res.Previous.Score != nil {
		d := math.Round((*res.Current.Score-*res.Previous.Score)*10) / 10
		res.Change = &d
	}
	return res, nil
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

// sizeKey names a segment's counts: the segment as saved (a changed
// definition is counted anew).
type sizeKey struct {
	site    int64
	id      string
	updated time.Time
}

// sizes are a segment's size now and segmentChangeDays days ago.
type sizes struct {
	now, before int64
}

// overviewSegments lists the saved segments with the sizes of the first
// overviewSegments of them, as kept or counted before wait ends, else as
// counting. ctx is the request's.
func (a *API) overviewSegments(ctx, wait context.Context, site store.Site) ([]segmentSizeJSON, int, error) {
	segs, err := a.store.ListSegments(ctx, site.ID)
	if err != nil {
		return nil, 0, err
	}
	out := make([]segmentSizeJSON, len(segs))
	left := 0
	var wg sync.WaitGroup
	for i, s := range segs {
		out[i] = segmentSizeJSON{ID: s.ID, Name: s.Name}
		if i >= overviewSegments {
			left++
			continue
		}
		wg.Go(func() {
			k := sizeKey{site: site.ID, id: s.ID, updated: s.UpdatedAt}
			v, ok := a.overview.sizes.get(wait, k, func(ctx context.Context) (sizes, error) { return a.countSizes(ctx, site, s) })
			a.sizesOut(&out[i], v, ok)
		})
	}
	wg.Wait()
	return out, left, ctx.Err()
}

// countSizes counts a saved segment's size now and segmentChangeDays days
// ago with the trend's machinery: the past size as of the end of that
// day, the present one live.
func (a *API) countSizes(ctx context.Context, site store.Site, s store.SavedSegment) (sizes, error) {
	n, err := a.segments.Saved(ctx, site.ID, s)
	if err != nil {
		return sizes{}, err
	}
	trend, err := a.segments.Trend(ctx, site.ID, n, segmentChangeDays+1, segmentChangeDays)
	if err != nil {
		return sizes{}, err
	}
	return sizes{now: trend[len(trend)-1].Size, before: trend[0].Size}, nil
}

// sizesOut fills a segment's row from its counts. A segment that could
// not be counted (too costly now, or no longer valid) says why instead of
// failing the page.
func (a *API) sizesOut(out *segmentSizeJSON, v answer[sizes], ok bool) {
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
	now, before, at := v.val.now, v.val.before, v.at
	out.Size, out.SizeBefore, out.CountedAt = &now, &before, &at
	if before > 0 {
		c := float64(now-before) / float64(before)
		out.Change = &c
	}
}

package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

func (a *API) getFeedbackSettings(w http.ResponseWriter, r *http.Request, site store.Site) error {
	s, err := a.survey.feedback.Settings(r.Context(), site.ID)
	if err != nil {
		return err
	}
	apierr.WriteJSON(w, http.StatusOK, s)
	return nil
}

func (a *API) putFeedbackSettings(w http.ResponseWriter, r *http.Request, site store.Site) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	s, err := a.survey.feedback.SaveSettings(r.Context(), site.ID, body)
	if err != nil {
		return validation(err)
	}
	apierr.WriteJSON(w, http.StatusOK, s)
	return nil
}

// feedbackJSON is one piece of feedback as the API shows it.
type feedbackJSON struct {
	ID          string              `json:"id"`
	UserID      string              `json:"user_id"`
	AnonymousID string              `json:"anonymous_id"`
	UserKey     int64               `json:"user_key"`
	Attributes  map[string]attrJSON `json:"attributes"`
	Rating      int                 `json:"rating"`
	Comment     string              `json:"comment"`
	URL         string              `json:"url"`
	Selector    string              `json:"selector"`
	SessionID   string              `json:"session_id"`
	RecordingID string              `json:"recording_id,omitempty"` // the recording playing when it was given, if any
	// HasRecordings tells whether the user has any recording.
	HasRecordings bool      `json:"has_recordings"`
	CreatedAt     time.Time `json:"created_at"`
}

// feedbackQuery reads the filters shared by the list and the summary.
func feedbackQuery(r *http.Request) (store.FeedbackQuery, error) {
	var q store.FeedbackQuery
	var err error
	if q.From, q.To, err = period(r); err != nil {
		return q, err
	}
	q.Page = r.URL.Query().Get("page")
	if s := r.URL.Query().Get("rating"); s != "" {
		if q.Rating, err = strconv.Atoi(s); err != nil || q.Rating < 1 || q.Rating > 5 {
			return q, apierr.Invalid("invalid_parameter", "rating", "rating must be 1 to 5")
		}
	}
	return q, nil
}

// listFeedback answers GET .../feedback?segment=&page=&rating=&from&to&limit&cursor.
func (a *API) listFeedback(w http.ResponseWriter, r *http.Request, site store.Site) error {
	q, err := feedbackQuery(r)
	if err != nil {
		return err
	}
	if q.Limit, err = intParam(r, "limit", 100, 1000); err != nil {
		return err
	}
	if q.Before, q.BeforeID, err = cursor(r); err != nil {
		return err
	}
	var n segment.Node
	if id := r.URL.Query().Get("segment"); id != "" {
		s, err := a.store.Segment(r.Context(), site.ID, id)
		if err != nil {
			return apierr.Invalid("unknown_segment", "segment", "no saved segment %q", id)
		}
		if n, err = a.segments.Saved(r.Context(), site.ID, s); err != nil {
			return segmentError(err)
		}
	}
	items, last, err := feedback.List(r.Context(), a.survey.store, a.segments, site.ID, q, n)
	if err != nil {
		return err
	}
	attrs, err := a.keyAttributes(r, site)
	if err != nil {
		return err
	}
	keys := make([]int64, len(items))
	moments := make([]store.SessionMoment, len(items))
	for i, f := range items {
		keys[i], moments[i] = f.UserKey, store.SessionMoment{Session: f.SessionID, At: f.CreatedAt}
	}
	byKey, err := a.attributesOf(r, site, keys, attrs)
	if err != nil {
		return err
	}
	recs, hasRecs, err := a.recordingLinks(r, site, moments, keys)
	if err != nil {
		return err
	}
	out := make([]feedbackJSON, 0, len(items))
	for i, f := range items {
		out = append(out, feedbackJSON{ID: f.ID, UserID: f.UserID, AnonymousID: f.AnonymousID, UserKey: f.UserKey,
			Attributes: attrsJSON(byKey[f.UserKey]), Rating: f.Rating, Comment: f.Comment, URL: f.URL,
			Selector: f.Selector, SessionID: f.SessionID, RecordingID: recs[i], HasRecordings: hasRecs[f.UserKey],
			CreatedAt: f.CreatedAt})
	}
	next := ""
	if last != nil {
		next = makeCursor(last.CreatedAt, last.ID)
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"feedback": out, "next_cursor": next})
	return nil
}

// feedbackSummary answers GET .../feedback/summary?interval=day|week: the
// average rating and the count of each rating per period, and overall.
func (a *API) feedbackSummary(w http.ResponseWriter, r *http.Request, site store.Site) error {
	q, err := feedbackQuery(r)
	if err != nil {
		return err
	}
	interval, err := intervalParam(r)
	if err != nil {
		return err
	}
	buckets, err := a.survey.store.FeedbackSummary(r.Context(), site.ID, q, interval)
	if err != nil {
		return err
	}
	type point struct {
		Start    time.Time        `json:"start"`
		Count    int64            `json:"count"`
		Average  float64          `json:"average"`
		ByRating map[string]int64 `json:"by_rating"`
	}
	byRating := func(c [5]int64) map[string]int64 {
		m := map[string]int64{}
		for i, n := range c {
			m[strconv.Itoa(i+1)] = n
		}
		return m
	}
	var total [5]int64
	var count, sum int64
	points := make([]point, 0, len(buckets))
	for _, b := range buckets {
		points = append(points, point{Start: b.Start, Count: b.Count, Average: round2(b.Average), ByRating: byRating(b.ByRating)})
		for i, n := range b.ByRating {
			total[i] += n
			sum += int64(i+1) * n
		}
		count += b.Count
	}
	var avg *float64
	if count > 0 {
		v := round2(float64(sum) / float64(count))
		avg = &v
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"interval": interval, "count": count, "average": avg,
		"by_rating": byRating(total), "points": points})
	return nil
}

func round2(f float64) float64 {
	return float64(int64(f*100+0.5)) / 100
}

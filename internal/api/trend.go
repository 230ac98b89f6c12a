package api

import (
	"net/http"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// trendPoint is a segment's size at the end of one UTC day (today: now).
type trendPoint struct {
	Date string `json:"date"`
	Size int64  `json:"size"`
}

// getTrend answers a saved segment's size over the last ?days= days
// (default 90), one point every ?step= days: by default daily up to a
// month, weekly beyond, as each point is a count of its own.
func (a *API) getTrend(w http.ResponseWriter, r *http.Request, site store.Site) error {
	_, n, err := a.saved(r, site)
	if err != nil {
		return err
	}
	return a.trend(w, r, site, n)
}

// postTrend is getTrend for a definition that is not saved.
func (a *API) postTrend(w http.ResponseWriter, r *http.Request, site store.Site) error {
	var b segmentBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	n, err := a.prepare(r.Context(), site, b, "")
	if err != nil {
		return err
	}
	return a.trend(w, r, site, n)
}

func (a *API) trend(w http.ResponseWriter, r *http.Request, site store.Site, n segment.Node) error {
	days, err := intParam(r, "days", 90, 365)
	if err != nil {
		return err
	}
	defStep := 1
	if days > 31 {
		defStep = 7
	}
	step, err := intParam(r, "step", defStep, 365)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	var moments []time.Time
	var dates []string
	// Oldest first; each past day counts up to its last microsecond.
	for d := days - 1; d >= 0; d -= step {
		day := today.AddDate(0, 0, -d)
		at := day.AddDate(0, 0, 1).Add(-time.Microsecond)
		if d == 0 {
			at = now
		}
		moments = append(moments, at)
		dates = append(dates, day.Format(time.DateOnly))
	}
	if dates[len(dates)-1] != today.Format(time.DateOnly) {
		moments, dates = append(moments, now), append(dates, today.Format(time.DateOnly))
	}
	start := time.Now()
	sizes, err := a.segments.SizesAt(r.Context(), site.ID, n, moments)
	if err != nil {
		return err
	}
	points := make([]trendPoint, len(sizes))
	for i, s := range sizes {
		points[i] = trendPoint{Date: dates[i], Size: s}
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"points": points,
		"took_ms": time.Since(start).Milliseconds()})
	return nil
}

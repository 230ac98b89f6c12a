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
	start := time.Now()
	trend, err := a.segments.Trend(r.Context(), site.ID, n, days, step)
	if err != nil {
		return err
	}
	points := make([]trendPoint, len(trend))
	for i, p := range trend {
		points[i] = trendPoint{Date: p.Day.Format(time.DateOnly), Size: p.Size}
	}
	apierr.WriteJSON(w, http.StatusOK, map[string]any{"points": points,
		"took_ms": time.Since(start).Milliseconds()})
	return nil
}

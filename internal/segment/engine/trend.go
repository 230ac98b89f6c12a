package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// TrendPoint is a segment's size on one UTC day: at the end of the day,
// or for today, now.
type TrendPoint struct {
	Day  time.Time // midnight UTC
	Size int64
}

// Trend returns n's size over the last days UTC days (today included),
// one point every step days, oldest first, always ending with today. Each
// point is one count.
func (e *Engine) Trend(ctx context.Context, site int64, n segment.Node, days, step int) ([]TrendPoint, error) {
	if days < 1 || step < 1 {
		return nil, fmt.Errorf("BUG: a trend of %d days every %d", days, step)
	}
	now := e.now().UTC()
	today := now.Truncate(24 * time.Hour)
	var moments []time.Time
	var points []TrendPoint
	// Oldest first; each past day counts up to its last microsecond.
	for d := days - 1; d >= 0; d -= step {
		day := today.AddDate(0, 0, -d)
		at := day.AddDate(0, 0, 1).Add(-time.Microsecond)
		if d == 0 {
			at = now
		}
		moments = append(moments, at)
		points = append(points, TrendPoint{Day: day})
	}
	if !points[len(points)-1].Day.Equal(today) {
		moments, points = append(moments, now), append(points, TrendPoint{Day: today})
	}
	sizes, err := e.SizesAt(ctx, site, n, moments)
	if err != nil {
		return nil, err
	}
	for i, s := range sizes {
		points[i].Size = s
	}
	return points, nil
}

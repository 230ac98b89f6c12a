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
// past point is n as it stood at the last microsecond of its day, as
// SizesAt counts it, all counted in one pass (sizesEvery); today's is the live size (Count), the number every other
// view of the segment shows. It is counted as such, not as a moment that
// happens to be now: a moment read from the clock is already in the past
// when the count runs, and as of a past moment, messages stamped later
// (a sender's clock ahead of ours) do not count yet.
func (e *Engine) Trend(ctx context.Context, site int64, n segment.Node, days, step int) ([]TrendPoint, error) {
	if days < 1 || step < 1 {
		return nil, fmt.Errorf("BUG: a trend of %d days every %d", days, step)
	}
	today := e.now().UTC().Truncate(24 * time.Hour)
	var points []TrendPoint
	for d := days - 1; d > 0; d -= step {
		points = append(points, TrendPoint{Day: today.AddDate(0, 0, -d)})
	}
	if len(points) > 0 {
		const day = 24 * time.Hour
		first := points[0].Day.Add(day - time.Microsecond)
		sizes, err := e.sizesEvery(ctx, site, n, first, time.Duration(step)*day, len(points))
		if err != nil {
			return nil, err
		}
		for i, s := range sizes {
			points[i].Size = s
		}
	}
	size, err := e.Count(ctx, site, n)
	if err != nil {
		return nil, err
	}
	return append(points, TrendPoint{Day: today, Size: size}), nil
}

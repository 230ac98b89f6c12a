package engine

import (
	"context"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
)

// historical returns a compiler for the site as it stood at the moment at.
func (e *Engine) historical(ctx context.Context, site int64, n segment.Node, at time.Time) (*compiler.Compiler, error) {
	c, err := e.compiler(ctx, site, n)
	if err != nil {
		return nil, err
	}
	c.Now, c.Historical = at.UTC(), true
	return c, nil
}

// SizesAt returns the size n had at each of the moments: counting only
// events, sessions and attribute values up to that moment, among the
// users first seen by then, as if it were then. A moment at or after now
// gives the live size; a trend's today is counted live by Trend, since a
// moment read from the clock before the call is past when it runs.
// Identities merged since count as one user throughout.
func (e *Engine) SizesAt(ctx context.Context, site int64, n segment.Node, moments []time.Time) ([]int64, error) {
	if err := e.store.Sync(ctx); err != nil {
		return nil, err
	}
	now := e.now()
	sizes := make([]int64, len(moments))
	for i, at := range moments {
		if !at.Before(now) {
			size, err := e.Count(ctx, site, n)
			if err != nil {
				return nil, err
			}
			sizes[i] = size
			continue
		}
		c, err := e.historical(ctx, site, n, at)
		if err != nil {
			return nil, err
		}
		q, err := c.Count(n)
		if err != nil {
			return nil, err
		}
		if err := e.queryRow(ctx, "count segment at "+at.Format(time.RFC3339), q.SQL, q.Args, &sizes[i]); err != nil {
			return nil, err
		}
	}
	return sizes, nil
}

// sizesEvery returns the sizes n had at count moments, first, first +
// step, …, all in the past, as SizesAt counts them: in one pass over the
// data for as many of them as the dialect's masks hold (compiler.Days),
// not one count per moment.
func (e *Engine) sizesEvery(ctx context.Context, site int64, n segment.Node, first time.Time, step time.Duration, count int) ([]int64, error) {
	if err := e.store.Sync(ctx); err != nil {
		return nil, err
	}
	sizes := make([]int64, 0, count)
	for len(sizes) < count {
		c, err := e.compiler(ctx, site, n)
		if err != nil {
			return nil, err
		}
		at := compiler.Moments{First: first.Add(time.Duration(len(sizes)) * step), Step: step,
			Count: min(count-len(sizes), c.Dialect.MaxMoments())}
		q, err := c.DaySizes(n, at)
		if err != nil {
			return nil, err
		}
		chunk := make([]int64, at.Count)
		dest := make([]any, at.Count)
		for i := range chunk {
			dest[i] = &chunk[i]
		}
		if err := e.queryRow(ctx, "count segment by day", q.SQL, q.Args, dest...); err != nil {
			return nil, err
		}
		sizes = append(sizes, chunk...)
	}
	return sizes, nil
}

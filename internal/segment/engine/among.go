package engine

import (
	"context"

	"github.com/sightline/sightline/internal/segment"
)

// MembersAmong reports which of the given users are members of n, in one
// query: for breaking down a set of people (survey respondents, feedback
// givers) by segment.
func (e *Engine) MembersAmong(ctx context.Context, site int64, n segment.Node, keys []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if err := e.store.Sync(ctx); err != nil {
		return nil, err
	}
	c, err := e.compiler(ctx, site, n)
	if err != nil {
		return nil, err
	}
	q, err := c.Among(n, keys)
	if err != nil {
		return nil, err
	}
	err = e.queryKeys(ctx, "check members", q.SQL, q.Args, func(k int64) { out[k] = true })
	if err != nil {
		return nil, err
	}
	return out, nil
}

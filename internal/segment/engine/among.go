package engine

import (
	"context"
	"fmt"

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
	c, err := e.compiler(ctx, site)
	if err != nil {
		return nil, err
	}
	q, err := c.Members(n)
	if err != nil {
		return nil, err
	}
	rows, err := e.store.SQL().QueryContext(ctx, "SELECT DISTINCT m.u FROM ("+q.SQL+") m WHERE m.u IN (SELECT unnest(?::BIGINT[]))",
		append(q.Args, keys)...)
	if err != nil {
		return nil, fmt.Errorf("check members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("check members: %w", err)
		}
		out[k] = true
	}
	return out, rows.Err()
}

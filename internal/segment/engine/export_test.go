package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// MembersAt returns the keys of n's members as it stood at the moment at,
// ascending, for tests to compare with an oracle.
func (e *Engine) MembersAt(ctx context.Context, site int64, n segment.Node, at time.Time) ([]int64, error) {
	if err := e.store.Sync(ctx); err != nil {
		return nil, err
	}
	c, err := e.historical(ctx, site, n, at)
	if err != nil {
		return nil, err
	}
	q, err := c.Members(n)
	if err != nil {
		return nil, err
	}
	rows, err := e.store.SQL().QueryContext(ctx, "SELECT u FROM ("+q.SQL+") m ORDER BY u", q.Args...)
	if err != nil {
		return nil, fmt.Errorf("members at %s: %w", at, err)
	}
	defer rows.Close()
	var keys []int64
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// MembershipCacheStats returns how many Contains answers came from the
// cache and how many answers it holds.
func (e *Engine) MembershipCacheStats() (hits, entries int) {
	if e.members == nil {
		return 0, 0
	}
	return e.members.stats()
}

// RunQuery runs one query as the engine runs a segment's: under the
// query timeout, with its errors classified.
func (e *Engine) RunQuery(ctx context.Context, query string, dest ...any) error {
	return e.queryRow(ctx, "test query", query, nil, dest...)
}

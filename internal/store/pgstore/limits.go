package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/account"
)

var _ account.LimitStore = (*DB)(nil)

// LimitWindows implements account.LimitStore.
func (db *DB) LimitWindows(ctx context.Context, keys []string) (map[string]account.LimitWindow, error) {
	rows, err := db.pool.Query(ctx, "SELECT key, started, failures FROM signin_limits WHERE key = ANY($1)", keys)
	if err != nil {
		return nil, fmt.Errorf("read sign-in limits: %w", err)
	}
	defer rows.Close()
	out := map[string]account.LimitWindow{}
	for rows.Next() {
		var k string
		var w account.LimitWindow
		if err := rows.Scan(&k, &w.Start, &w.Failures); err != nil {
			return nil, fmt.Errorf("read sign-in limits: %w", err)
		}
		out[k] = w
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sign-in limits: %w", err)
	}
	return out, nil
}

// AddLimitFailure implements account.LimitStore: one statement counts the
// failure under every key, so that two nodes counting at once both count,
// and windows that ended are swept.
func (db *DB) AddLimitFailure(ctx context.Context, keys []string, now time.Time, window time.Duration) error {
	now = utc(now)
	if _, err := db.pool.Exec(ctx, "DELETE FROM signin_limits WHERE started <= $1 AND NOT key = ANY($2)", now.Add(-window), keys); err != nil {
		return fmt.Errorf("sweep sign-in limits: %w", err)
	}
	// Keys in order, so that two nodes lock the same rows in the same
	// order.
	_, err := db.pool.Exec(ctx, `INSERT INTO signin_limits AS l (key, started, failures)
		SELECT k, $2, 1 FROM unnest($1::TEXT[]) AS k ORDER BY k
		ON CONFLICT (key) DO UPDATE SET
			started = CASE WHEN l.started <= $3 THEN excluded.started ELSE l.started END,
			failures = CASE WHEN l.started <= $3 THEN 1 ELSE l.failures + 1 END`,
		keys, now, now.Add(-window))
	if err != nil {
		return fmt.Errorf("count a failed sign-in: %w", err)
	}
	return nil
}

// ForgetLimit implements account.LimitStore.
func (db *DB) ForgetLimit(ctx context.Context, key string) error {
	if _, err := db.pool.Exec(ctx, "DELETE FROM signin_limits WHERE key = $1", key); err != nil {
		return fmt.Errorf("forget sign-in failures: %w", err)
	}
	return nil
}

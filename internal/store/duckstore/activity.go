package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/store"
)

var _ store.RecentActivity = (*DB)(nil)

// InstallStatus reports what site received lately, by arrival time. The
// last day is read first: events are stored in arrival order, so the
// received_at filter skips all older row groups; only a site silent for a
// day needs the whole scan to find its last event.
func (db *DB) InstallStatus(ctx context.Context, site int64, now time.Time) (store.InstallStatus, error) {
	if err := db.Sync(ctx); err != nil {
		return store.InstallStatus{}, err
	}
	var st store.InstallStatus
	var last sql.NullTime
	var url sql.NullString
	var source sql.NullInt16
	err := db.pool().QueryRowContext(ctx, `SELECT count(*), max(received_at),
			arg_max(url, received_at) FILTER (WHERE url <> ''), arg_max(source, received_at)
		FROM events WHERE site_id = ? AND received_at >= ?`, site, now.Add(-24*time.Hour).UTC()).
		Scan(&st.Events24h, &last, &url, &source)
	if err != nil {
		return store.InstallStatus{}, fmt.Errorf("read recent events: %w", err)
	}
	if st.Events24h == 0 {
		err = db.pool().QueryRowContext(ctx, `SELECT received_at, source FROM events WHERE site_id = ?
			ORDER BY received_at DESC LIMIT 1`, site).Scan(&last, &source)
		if errors.Is(err, sql.ErrNoRows) {
			return st, nil
		} else if err != nil {
			return store.InstallStatus{}, fmt.Errorf("read the last event: %w", err)
		}
	}
	if !url.Valid {
		err = db.pool().QueryRowContext(ctx, `SELECT url FROM events WHERE site_id = ? AND url <> ''
			ORDER BY received_at DESC LIMIT 1`, site).Scan(&url)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return store.InstallStatus{}, fmt.Errorf("read the last page: %w", err)
		}
	}
	st.LastEventAt, st.LastPageURL, st.LastSource = last.Time.UTC(), url.String, store.Source(source.Int16)
	return st, nil
}

// LastSeen returns the time of the latest event of each of the users.
func (db *DB) LastSeen(ctx context.Context, site int64, keys []int64) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT user_key, max(ts) FROM events
		WHERE site_id = ? AND user_key IN (SELECT unnest(?::BIGINT[])) GROUP BY user_key`, site, keys)
	if err != nil {
		return nil, fmt.Errorf("read last seen: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		var t time.Time
		if err := rows.Scan(&k, &t); err != nil {
			return nil, fmt.Errorf("read last seen: %w", err)
		}
		out[k] = t.UTC()
	}
	return out, rows.Err()
}

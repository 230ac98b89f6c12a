package duckstore

import (
	"context"
	"fmt"
)

// RecordingsBySession returns, for each of the browser session IDs that
// has a recording with at least one stored chunk, that recording's ID: how
// a survey answer or a feedback item links to what its author did.
func (db *DB) RecordingsBySession(ctx context.Context, site int64, sessions []string) (map[string]string, error) {
	out := map[string]string{}
	if len(sessions) == 0 {
		return out, nil
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT browser_session, min(id) FROM recordings
		WHERE site_id = ? AND chunk_count > 0 AND list_contains(?::VARCHAR[], browser_session)
		GROUP BY browser_session`, site, sessions)
	if err != nil {
		return nil, fmt.Errorf("find recordings by session: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s, id string
		if err := rows.Scan(&s, &id); err != nil {
			return nil, fmt.Errorf("find recordings by session: %w", err)
		}
		out[s] = id
	}
	return out, rows.Err()
}

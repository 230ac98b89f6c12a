package duckstore

import (
	"context"
	"fmt"
)

// RecordingsBySession returns, for each of the browser session IDs that
// has a recording with at least one stored chunk, that recording's ID: how
// a survey answer or a feedback item links to what its author did. The
// recorder names a recording SESSION-TAB (each tab records on its own);
// of several tabs, the first recording is given.
func (db *DB) RecordingsBySession(ctx context.Context, site int64, sessions []string) (map[string]string, error) {
	out := map[string]string{}
	if len(sessions) == 0 {
		return out, nil
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT s, arg_min(id, started_at) FROM
		(SELECT split_part(browser_session, '-', 1) AS s, id, started_at FROM recordings
		WHERE site_id = ? AND chunk_count > 0)
		WHERE list_contains(?::VARCHAR[], s) GROUP BY s`, site, sessions)
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

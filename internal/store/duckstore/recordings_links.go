package duckstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// linkSlack is how far outside a recording's first and last event a moment
// may lie and still be in it: the recorder uploads a chunk every few
// seconds, so an answer given just after the last upload is still part of
// the visit.
const linkSlack = time.Minute

// RecordingsAt returns, for each moment, the recording that was playing
// in its browser session then, or "" when none was: how a survey answer
// or a feedback item links to what its author did. The recorder names a
// recording SESSION-TAB (each tab records on its own); of the session's
// recordings the one whose time span holds the moment, or is nearest to
// it within linkSlack, is given, and of equals the one started last.
func (db *DB) RecordingsAt(ctx context.Context, site int64, moments []store.SessionMoment) ([]string, error) {
	out := make([]string, len(moments))
	if len(moments) == 0 {
		return out, nil
	}
	idx := make([]int64, 0, len(moments))
	sessions := make([]string, 0, len(moments))
	ats := make([]time.Time, 0, len(moments))
	for i, m := range moments {
		if m.Session == "" {
			continue
		}
		idx, sessions, ats = append(idx, int64(i)), append(sessions, m.Session), append(ats, m.At.UTC())
	}
	if len(idx) == 0 {
		return out, nil
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT q.i, arg_min(r.id, (
			greatest(epoch_ms(r.started_at) - epoch_ms(q.t), epoch_ms(q.t) - epoch_ms(r.ended_at), 0),
			-epoch_ms(r.started_at)))
		FROM (SELECT unnest(?::BIGINT[]) AS i, unnest(?::VARCHAR[]) AS s, unnest(?::TIMESTAMP[]) AS t) q
		JOIN recordings r ON r.site_id = ? AND r.chunk_count > 0 AND split_part(r.browser_session, '-', 1) = q.s
			AND r.started_at <= q.t + to_milliseconds(?) AND r.ended_at >= q.t - to_milliseconds(?)
		GROUP BY q.i`, idx, sessions, ats, site, linkSlack.Milliseconds(), linkSlack.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("find the recordings of answers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		var id string
		if err := rows.Scan(&i, &id); err != nil {
			return nil, fmt.Errorf("find the recordings of answers: %w", err)
		}
		out[i] = id
	}
	return out, rows.Err()
}

// UsersWithRecordings returns which of the users (by key) have at least
// one recording with a stored chunk.
func (db *DB) UsersWithRecordings(ctx context.Context, site int64, keys []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT DISTINCT user_key FROM (`+recordingUsers+`) r
		WHERE r.site_id = ? AND r.chunk_count > 0 AND list_contains(?::BIGINT[], r.user_key)`, site, keys)
	if err != nil {
		return nil, fmt.Errorf("find users with recordings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("find users with recordings: %w", err)
		}
		out[k] = true
	}
	return out, rows.Err()
}

package duckstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Deleting recordings is two steps, in this order: the index rows go in
// one transaction that also records each recording in
// recording_deletions; then the caller deletes the blobs and clears those
// records (ClearRecordingDeletions). A crash between the two leaves blobs
// that no row points to, listed by PendingRecordingDeletions until they
// are gone, and never a row whose blobs are missing.

// DeleteRecording deletes one recording's index rows.
func (db *DB) DeleteRecording(ctx context.Context, site int64, id string) error {
	n, err := db.deleteRecordings(ctx, `SELECT site_id, id FROM recordings WHERE site_id = ? AND id = ?`, site, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("recording %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// DeleteUserRecordings deletes the index rows of every recording of a
// user: those whose user ID or anonymous ID belongs to the user now. Call
// it before the user's identities are deleted, which it reads.
func (db *DB) DeleteUserRecordings(ctx context.Context, site int64, id store.Identity) (int, error) {
	key, err := db.userKey(ctx, site, id)
	if err != nil {
		return 0, err
	}
	return db.deleteRecordings(ctx, `SELECT site_id, id FROM (`+recordingUsers+`) r
		WHERE r.site_id = ? AND r.user_key = ?`, site, key)
}

// ExpireRecordings deletes the index rows of recordings older than their
// site's retention (defaultDays for a site that never set one), and of
// recordings that stayed without a chunk for a day, at most limit of them.
func (db *DB) ExpireRecordings(ctx context.Context, now time.Time, defaultDays, limit int) (int, error) {
	now = now.UTC()
	return db.deleteRecordings(ctx, `SELECT r.site_id, r.id FROM recordings r
		LEFT JOIN recording_settings s ON s.site_id = r.site_id
		WHERE (r.chunk_count > 0 AND r.started_at < CAST(? AS TIMESTAMP) - to_days(CAST(coalesce(s.retention_days, ?) AS INTEGER)))
			OR (r.chunk_count = 0 AND r.created_at < ?)
		ORDER BY r.started_at LIMIT ?`, now, defaultDays, now.Add(-24*time.Hour), limit)
}

// deleteRecordings deletes the rows of the recordings that selectSQL
// returns (site_id, id) and records their deletion, in one transaction.
func (db *DB) deleteRecordings(ctx context.Context, selectSQL string, args ...any) (int, error) {
	defer db.writing()()
	db.recMu.Lock()
	defer db.recMu.Unlock()
	tx, err := db.pool().BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin recording deletion: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, selectSQL, args...)
	if err != nil {
		return 0, fmt.Errorf("find recordings to delete: %w", err)
	}
	var sites []int64
	var ids []string
	for rows.Next() {
		var site int64
		var id string
		if err := rows.Scan(&site, &id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find recordings to delete: %w", err)
		}
		sites, ids = append(sites, site), append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find recordings to delete: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	const set = "(SELECT unnest(?::VARCHAR[]))"
	stmts := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO recording_deletions SELECT unnest(?::BIGINT[]), unnest(?::VARCHAR[]), ?`,
			[]any{sites, ids, db.opts.Now().UTC().Truncate(time.Microsecond)}},
		{"DELETE FROM recording_chunks WHERE recording_id IN " + set, []any{ids}},
		{"DELETE FROM recordings WHERE id IN " + set, []any{ids}},
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return 0, fmt.Errorf("delete recordings: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit recording deletion: %w", err)
	}
	return len(ids), nil
}

// PendingRecordingDeletions lists deleted recordings whose blobs may still
// exist, oldest first.
func (db *DB) PendingRecordingDeletions(ctx context.Context, limit int) ([]store.RecordingRef, error) {
	rows, err := db.pool().QueryContext(ctx, `SELECT site_id, recording_id, min(deleted_at) AS deleted
		FROM recording_deletions GROUP BY site_id, recording_id ORDER BY deleted, recording_id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list recording deletions: %w", err)
	}
	defer rows.Close()
	var out []store.RecordingRef
	for rows.Next() {
		var r store.RecordingRef
		var at time.Time
		if err := rows.Scan(&r.SiteID, &r.ID, &at); err != nil {
			return nil, fmt.Errorf("list recording deletions: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ClearRecordingDeletions forgets deletions whose blobs are gone.
func (db *DB) ClearRecordingDeletions(ctx context.Context, refs []store.RecordingRef) error {
	defer db.writing()()
	if len(refs) == 0 {
		return nil
	}
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	db.recMu.Lock()
	defer db.recMu.Unlock()
	if _, err := db.pool().ExecContext(ctx,
		"DELETE FROM recording_deletions WHERE recording_id IN (SELECT unnest(?::VARCHAR[]))", ids); err != nil {
		return fmt.Errorf("clear recording deletions: %w", err)
	}
	return nil
}

package scaled

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
)

// Deleting recordings is two steps, as in duckstore: the index rows go in
// one transaction that also records each recording in
// recording_deletions (and sends ClickHouse their deleted versions); then
// the recording service deletes the blobs and clears those records. A
// crash between the two leaves blobs that no row points to, listed by
// PendingRecordingDeletions until they are gone, never a row whose blobs
// are missing.

// DeleteRecording deletes one recording's index rows.
func (db *DB) DeleteRecording(ctx context.Context, site int64, id string) error {
	n, err := db.deleteRecordings(ctx, "SELECT "+indexColumns+" FROM recording_index WHERE site_id = $1 AND id = $2", site, id)
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
	key, err := db.UserKey(ctx, site, id)
	if err != nil {
		return 0, err
	}
	return db.deleteRecordings(ctx, "SELECT "+prefixed("r.", indexColumns)+" FROM ("+recordingUsers+") r WHERE r.site_id = $1 AND r.user_key = $2",
		site, key)
}

// ExpireRecordings deletes the index rows of recordings older than their
// site's retention (defaultDays for a site that never set one), and of
// recordings that stayed without a chunk for a day, at most limit of them.
func (db *DB) ExpireRecordings(ctx context.Context, now time.Time, defaultDays, limit int) (int, error) {
	now = now.UTC()
	return db.deleteRecordings(ctx, "SELECT "+indexColumns+` FROM recording_index r
		WHERE (r.chunk_count > 0 AND r.started_at < $1::TIMESTAMPTZ - make_interval(days => coalesce(
				(SELECT s.retention_days FROM recording_settings s WHERE s.site_id = r.site_id), $2::INTEGER)))
			OR (r.chunk_count = 0 AND r.created_at < $3)
		ORDER BY r.started_at LIMIT $4`, now, defaultDays, now.Add(-24*time.Hour), limit)
}

// deleteRecordings deletes the recordings that selectSQL returns
// (indexColumns), records their deletion and sends ClickHouse their
// deleted versions, in one transaction.
func (db *DB) deleteRecordings(ctx context.Context, selectSQL string, args ...any) (int, error) {
	n := 0
	err := db.inTx(ctx, func(t *txn) error {
		list, err := t.indexRows(selectSQL, args...)
		if err != nil {
			return err
		}
		if len(list) > 0 {
			// Again, locked: a chunk added meanwhile is in the last version.
			ids := make([]string, len(list))
			for i, x := range list {
				ids[i] = x.ID
			}
			if list, err = t.indexRows("SELECT "+indexColumns+" FROM recording_index WHERE id = ANY($1) FOR UPDATE", ids); err != nil {
				return err
			}
		}
		n = len(list)
		if n == 0 {
			return nil
		}
		sites, ids := make([]int64, n), make([]string, n)
		for i, x := range list {
			sites[i], ids[i] = x.SiteID, x.ID
			x.deletedAt = t.now
			t.rows.recording(x)
		}
		for _, s := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO recording_deletions (site_id, id, deleted_at) SELECT s, i, $3 FROM unnest($1::BIGINT[], $2::TEXT[]) AS x(s, i)
				ON CONFLICT DO NOTHING`, []any{sites, ids, t.now}},
			{"DELETE FROM recording_chunks WHERE recording_id = ANY($1)", []any{ids}},
			{"DELETE FROM recording_index WHERE id = ANY($1)", []any{ids}},
		} {
			if _, err := t.tx.Exec(ctx, s.sql, s.args...); err != nil {
				return fmt.Errorf("delete recordings: %w", err)
			}
		}
		return t.finish()
	})
	return n, err
}

// PendingRecordingDeletions lists deleted recordings whose blobs may still
// exist, oldest first.
func (db *DB) PendingRecordingDeletions(ctx context.Context, limit int) ([]store.RecordingRef, error) {
	rows, err := db.pg.Query(ctx, `SELECT site_id, id FROM recording_deletions ORDER BY deleted_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list recording deletions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.RecordingRef, error) {
		var ref store.RecordingRef
		err := r.Scan(&ref.SiteID, &ref.ID)
		return ref, err
	})
	if err != nil {
		return nil, fmt.Errorf("list recording deletions: %w", err)
	}
	return out, nil
}

// ClearRecordingDeletions forgets deletions whose blobs are gone.
func (db *DB) ClearRecordingDeletions(ctx context.Context, refs []store.RecordingRef) error {
	if len(refs) == 0 {
		return nil
	}
	sites, ids := make([]int64, len(refs)), make([]string, len(refs))
	for i, r := range refs {
		sites[i], ids[i] = r.SiteID, r.ID
	}
	if _, err := db.pg.Exec(ctx, `DELETE FROM recording_deletions d USING unnest($1::BIGINT[], $2::TEXT[]) AS x(s, i)
		WHERE d.site_id = x.s AND d.id = x.i`, sites, ids); err != nil {
		return fmt.Errorf("clear recording deletions: %w", err)
	}
	return nil
}

// indexRows reads rows of recording_index (indexColumns) in the
// transaction.
func (t *txn) indexRows(sql string, args ...any) ([]indexRow, error) {
	rows, err := t.tx.Query(t.ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("find recordings to delete: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (indexRow, error) { return scanIndexRow(r) })
	if err != nil {
		return nil, fmt.Errorf("find recordings to delete: %w", err)
	}
	return list, nil
}

package duckstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

// Recording index writes are serialised by recMu: admitting a recording
// checks the daily quota and inserts in one step, and a chunk updates its
// recording's row. They run on the pool, not on the ingestion writer's
// connection, and touch no table the applier writes. Each is one
// transaction, durable when it returns (DuckDB syncs its log at commit).

// RecordingSettings returns a site's recording settings: the defaults when
// the site never changed them.
func (db *DB) RecordingSettings(ctx context.Context, site int64) (store.RecordingSettings, error) {
	s := store.DefaultRecordingSettings()
	var groups string
	err := db.pool().QueryRowContext(ctx, `SELECT enabled, sample_rate, daily_quota, retention_days, coalesce(backgrounds, '[]'),
		updated_at FROM recording_settings WHERE site_id = ?`, site).Scan(&s.Enabled, &s.SampleRate, &s.DailyQuota,
		&s.RetentionDays, &groups, &s.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.DefaultRecordingSettings(), nil
	}
	if err == nil {
		err = json.Unmarshal([]byte(groups), &s.Backgrounds)
	}
	if err != nil {
		return store.RecordingSettings{}, fmt.Errorf("read recording settings: %w", err)
	}
	return s, nil
}

// SetRecordingSettings replaces a site's recording settings; the caller
// has validated them.
func (db *DB) SetRecordingSettings(ctx context.Context, site int64, s store.RecordingSettings) (store.RecordingSettings, error) {
	defer db.writing()()
	s.UpdatedAt = db.opts.Now().UTC().Truncate(time.Microsecond)
	db.recMu.Lock()
	defer db.recMu.Unlock()
	if s.Backgrounds == nil {
		s.Backgrounds = []store.PageGroup{}
	}
	groups, err := json.Marshal(s.Backgrounds)
	if err != nil {
		return store.RecordingSettings{}, fmt.Errorf("save recording settings: %w", err)
	}
	_, err = db.pool().ExecContext(ctx, `INSERT INTO recording_settings
		(site_id, enabled, sample_rate, daily_quota, retention_days, updated_at, backgrounds) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (site_id) DO UPDATE SET enabled = excluded.enabled, sample_rate = excluded.sample_rate,
			daily_quota = excluded.daily_quota, retention_days = excluded.retention_days, updated_at = excluded.updated_at,
			backgrounds = excluded.backgrounds`,
		site, s.Enabled, s.SampleRate, s.DailyQuota, s.RetentionDays, s.UpdatedAt, string(groups))
	if err != nil {
		return store.RecordingSettings{}, fmt.Errorf("save recording settings: %w", err)
	}
	return s, nil
}

const recordingColumns = `id, site_id, browser_session, anonymous_id, user_id, created_at, started_at, ended_at,
	chunk_count, bytes_stored, bytes_raw, first_url, len(pages)`

func scanRecording(r scanner, rec *store.Recording, extra ...any) error {
	return r.Scan(append([]any{&rec.ID, &rec.SiteID, &rec.BrowserSession, &rec.AnonymousID, &rec.UserID,
		&rec.CreatedAt, &rec.StartedAt, &rec.EndedAt, &rec.Chunks, &rec.BytesStored, &rec.BytesRaw,
		&rec.FirstURL, &rec.Pages}, extra...)...)
}

// StartRecording returns the recording a browser session of a visitor
// has, creating it when there is none yet. A new recording is refused with
// store.ErrQuota when quota recordings already started on the UTC day of
// r.At.
func (db *DB) StartRecording(ctx context.Context, r store.RecordingStart, quota int) (store.Recording, bool, error) {
	defer db.writing()()
	db.recMu.Lock()
	defer db.recMu.Unlock()
	var rec store.Recording
	err := scanRecording(db.pool().QueryRowContext(ctx, "SELECT "+recordingColumns+` FROM recordings
		WHERE site_id = ? AND anon_hash = ? AND anonymous_id = ? AND browser_session = ?`,
		r.SiteID, idHash(r.SiteID, idAnon, r.AnonymousID), r.AnonymousID, r.BrowserSession), &rec)
	if err == nil {
		return rec, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Recording{}, false, fmt.Errorf("find recording: %w", err)
	}
	at := r.At.UTC().Truncate(time.Microsecond)
	day := at.Truncate(24 * time.Hour)
	var today int
	if err := db.pool().QueryRowContext(ctx, "SELECT count(*) FROM recordings WHERE site_id = ? AND created_at >= ?",
		r.SiteID, day).Scan(&today); err != nil {
		return store.Recording{}, false, fmt.Errorf("count today's recordings: %w", err)
	}
	if today >= quota {
		return store.Recording{}, false, fmt.Errorf("%d recordings started today: %w", today, store.ErrQuota)
	}
	rec = store.Recording{ID: auth.NewID("rec_"), SiteID: r.SiteID, BrowserSession: r.BrowserSession,
		AnonymousID: r.AnonymousID, CreatedAt: at, StartedAt: at, EndedAt: at}
	_, err = db.pool().ExecContext(ctx, `INSERT INTO recordings VALUES (?, ?, ?, ?, ?, '', 0, ?, ?, ?, 0, 0, 0, 2147483647, '', [])`,
		rec.ID, rec.SiteID, rec.BrowserSession, rec.AnonymousID, idHash(r.SiteID, idAnon, r.AnonymousID),
		rec.CreatedAt, rec.StartedAt, rec.EndedAt)
	if err != nil {
		return store.Recording{}, false, fmt.Errorf("create recording: %w", err)
	}
	return rec, true, nil
}

// HasRecordingChunk reports whether a chunk is stored.
func (db *DB) HasRecordingChunk(ctx context.Context, recording string, seq int) (bool, error) {
	var has bool
	err := db.pool().QueryRowContext(ctx,
		"SELECT EXISTS (SELECT 1 FROM recording_chunks WHERE recording_id = ? AND seq = ?)", recording, seq).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("look up chunk: %w", err)
	}
	return has, nil
}

// AddRecordingChunk indexes a chunk whose blob is stored, updating its
// recording's times, sizes, user, first URL and pages. It reports false
// when the chunk was indexed before (the first stays), and an error
// wrapping store.ErrNotFound when the recording was deleted meanwhile.
func (db *DB) AddRecordingChunk(ctx context.Context, site int64, c store.RecordingChunk, receivedAt time.Time) (bool, error) {
	defer db.writing()()
	defer db.alerts.kick()
	db.recMu.Lock()
	defer db.recMu.Unlock()
	tx, err := db.pool().BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin chunk: %w", err)
	}
	defer tx.Rollback()
	start, end := c.Start.UTC().Truncate(time.Microsecond), c.End.UTC().Truncate(time.Microsecond)
	res, err := tx.ExecContext(ctx, `INSERT INTO recording_chunks
		SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM recordings WHERE id = $1 AND site_id = $9)
		ON CONFLICT DO NOTHING`,
		c.RecordingID, c.Seq, start, end, c.Events, c.BytesStored, c.BytesRaw,
		receivedAt.UTC().Truncate(time.Microsecond), site)
	if err != nil {
		return false, fmt.Errorf("index chunk: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, fmt.Errorf("index chunk: %w", err)
	} else if n == 0 {
		// Indexed before, or the recording is gone.
		var exists bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM recordings WHERE id = ? AND site_id = ?)",
			c.RecordingID, site).Scan(&exists); err != nil {
			return false, fmt.Errorf("look up recording: %w", err)
		}
		if !exists {
			return false, fmt.Errorf("recording %s: %w", c.RecordingID, store.ErrNotFound)
		}
		return false, nil
	}
	firstURL := ""
	if len(c.Pages) > 0 {
		firstURL = c.Pages[0]
	}
	var userHash int64
	if c.UserID != "" {
		userHash = idHash(site, idUser, c.UserID)
	}
	// Every SET expression reads the row as it was before the update.
	if _, err := tx.ExecContext(ctx, `UPDATE recordings SET
			started_at = CASE WHEN chunk_count = 0 THEN $1 ELSE least(started_at, $1) END,
			ended_at = CASE WHEN chunk_count = 0 THEN $2 ELSE greatest(ended_at, $2) END,
			chunk_count = chunk_count + 1,
			bytes_stored = bytes_stored + $3,
			bytes_raw = bytes_raw + $4,
			user_id = CASE WHEN user_id = '' THEN $5 ELSE user_id END,
			user_hash = CASE WHEN user_id = '' THEN $6 ELSE user_hash END,
			first_url = CASE WHEN $7 <> '' AND $8 < first_seq THEN $7 ELSE first_url END,
			first_seq = CASE WHEN $7 <> '' AND $8 < first_seq THEN $8 ELSE first_seq END,
			pages = CASE WHEN len($10::VARCHAR[]) = 0 THEN pages ELSE list_distinct(list_concat(pages, $10::VARCHAR[])) END
		WHERE id = $9`,
		start, end, c.BytesStored, c.BytesRaw, c.UserID, userHash, firstURL, c.Seq, c.RecordingID, pages(c.Pages)); err != nil {
		return false, fmt.Errorf("update recording: %w", err)
	}
	if err := db.recordChunk(ctx, tx, site, c.RecordingID); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit chunk: %w", err)
	}
	return true, nil
}

// pages is never nil: a nil slice binds as NULL.
func pages(p []string) []string {
	if p == nil {
		return []string{}
	}
	return p
}

// RecordingChunks lists a recording's stored chunks in seq order.
func (db *DB) RecordingChunks(ctx context.Context, site int64, recording string) ([]store.RecordingChunk, error) {
	rows, err := db.pool().QueryContext(ctx, `SELECT c.seq, c.started_at, c.ended_at, c.events, c.bytes_stored, c.bytes_raw
		FROM recordings r JOIN recording_chunks c ON c.recording_id = r.id
		WHERE r.id = ? AND r.site_id = ? ORDER BY c.seq`, recording, site)
	if err != nil {
		return nil, fmt.Errorf("list chunks: %w", err)
	}
	defer rows.Close()
	var out []store.RecordingChunk
	for rows.Next() {
		c := store.RecordingChunk{RecordingID: recording}
		if err := rows.Scan(&c.Seq, &c.Start, &c.End, &c.Events, &c.BytesStored, &c.BytesRaw); err != nil {
			return nil, fmt.Errorf("list chunks: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list chunks: %w", err)
	}
	if len(out) == 0 {
		var exists bool
		if err := db.pool().QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM recordings WHERE id = ? AND site_id = ?)",
			recording, site).Scan(&exists); err != nil {
			return nil, fmt.Errorf("look up recording: %w", err)
		}
		if !exists {
			return nil, fmt.Errorf("recording %q: %w", recording, store.ErrNotFound)
		}
	}
	return out, nil
}

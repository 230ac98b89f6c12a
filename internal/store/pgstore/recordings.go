package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

// RecordingSettings returns a site's recording settings: the defaults when
// the site never changed them.
func (db *DB) RecordingSettings(ctx context.Context, site int64) (store.RecordingSettings, error) {
	s := store.DefaultRecordingSettings()
	var groups string
	err := db.pool.QueryRow(ctx, `SELECT enabled, sample_rate, daily_quota, retention_days, backgrounds, updated_at
		FROM recording_settings WHERE site_id = $1`, site).Scan(&s.Enabled, &s.SampleRate, &s.DailyQuota, &s.RetentionDays,
		&groups, &s.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
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
	s.UpdatedAt = db.now()
	if s.Backgrounds == nil {
		s.Backgrounds = []store.PageGroup{}
	}
	groups, err := json.Marshal(s.Backgrounds)
	if err != nil {
		return store.RecordingSettings{}, fmt.Errorf("save recording settings: %w", err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO recording_settings (site_id, enabled, sample_rate, daily_quota, retention_days, updated_at,
			backgrounds)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (site_id) DO UPDATE SET enabled = excluded.enabled, sample_rate = excluded.sample_rate,
			daily_quota = excluded.daily_quota, retention_days = excluded.retention_days, updated_at = excluded.updated_at,
			backgrounds = excluded.backgrounds`,
		site, s.Enabled, s.SampleRate, s.DailyQuota, s.RetentionDays, s.UpdatedAt, string(groups))
	if err != nil {
		return store.RecordingSettings{}, fmt.Errorf("save recording settings: %w", err)
	}
	return s, nil
}

// recordingLock is the first key of the advisory locks that admissions
// take, one a site ("sl-rec"); the second is the site's ID folded to 32
// bits. Two sites may share a lock, which only makes them wait in turn.
const recordingLock = 0x736c_7265

// StartRecording returns the recording of a browser session's tab,
// creating it when there is none; a new one is refused with
// store.ErrQuota once quota recordings started on the UTC day of r.At.
//
// Counting and admitting are one transaction that holds the site's
// advisory lock, taken by every node: two nodes admitting the last
// recording of the day at once admit one. Two nodes starting the same
// tab's recording at once get one recording (the unique key on the tab
// makes the second wait for the first, then find its row).
func (db *DB) StartRecording(ctx context.Context, r store.RecordingStart, quota int) (store.Recording, bool, error) {
	at := utc(r.At)
	day := at.Truncate(24 * time.Hour)
	rec := store.Recording{SiteID: r.SiteID, BrowserSession: r.BrowserSession, AnonymousID: r.AnonymousID}
	var created bool
	err := db.inTx(ctx, "start recording", func(tx pgx.Tx) error {
		find := func() error {
			err := tx.QueryRow(ctx, `SELECT id, created_at FROM recordings
				WHERE site_id = $1 AND anonymous_id = $2 AND browser_session = $3`,
				r.SiteID, r.AnonymousID, r.BrowserSession).Scan(&rec.ID, &rec.CreatedAt)
			rec.StartedAt, rec.EndedAt = rec.CreatedAt, rec.CreatedAt
			return err
		}
		err := find()
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, $2)", int32(recordingLock), int32(r.SiteID)); err != nil {
			return err
		}
		var today int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM recordings WHERE site_id = $1 AND created_at >= $2 AND created_at < $3",
			r.SiteID, day, day.Add(24*time.Hour)).Scan(&today); err != nil {
			return err
		}
		if today >= quota {
			return fmt.Errorf("%d recordings started today: %w", today, store.ErrQuota)
		}
		rec.ID, rec.CreatedAt, rec.StartedAt, rec.EndedAt = auth.NewID("rec_"), at, at, at
		tag, err := tx.Exec(ctx, `INSERT INTO recordings (id, site_id, browser_session, anonymous_id, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (site_id, anonymous_id, browser_session) DO NOTHING`,
			rec.ID, r.SiteID, r.BrowserSession, r.AnonymousID, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			created = true
			return nil
		}
		return find() // another node made it between our look and our insert
	})
	if err != nil {
		return store.Recording{}, false, err
	}
	return rec, created, nil
}

// ForgetRecordings deletes the admission rows of recordings that are
// deleted, so that they no longer count against their day's quota (as in
// duckstore, where a deleted recording frees its place).
func (db *DB) ForgetRecordings(ctx context.Context, site int64, ids []string) error {
	if _, err := db.pool.Exec(ctx, "DELETE FROM recordings WHERE site_id = $1 AND id = ANY($2)", site, ids); err != nil {
		return fmt.Errorf("forget recordings: %w", err)
	}
	return nil
}

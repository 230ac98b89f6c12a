package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/store"
)

var (
	_ store.FeedbackSettings = (*DB)(nil)
	_ store.FeedbackItems    = (*DB)(nil)
)

// FeedbackSettings returns a site's feedback settings, nil when never set.
func (db *DB) FeedbackSettings(ctx context.Context, site int64) ([]byte, error) {
	var s string
	err := db.pool().QueryRowContext(ctx, "SELECT settings FROM feedback_settings WHERE site_id = ?", site).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read feedback settings: %w", err)
	}
	return []byte(s), nil
}

// SaveFeedbackSettings replaces a site's feedback settings.
func (db *DB) SaveFeedbackSettings(ctx context.Context, site int64, settings []byte) error {
	defer db.writing()()
	_, err := db.pool().ExecContext(ctx, `INSERT INTO feedback_settings VALUES (?, ?, ?)
		ON CONFLICT (site_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
		site, string(settings), now(db))
	if err != nil {
		return fmt.Errorf("save feedback settings: %w", err)
	}
	return nil
}

// AddFeedback stores one piece of feedback.
func (db *DB) AddFeedback(ctx context.Context, f store.FeedbackItem) error {
	defer db.writing()()
	// No segment condition reads feedback today; counting it keeps caches
	// of segment answers right when one does.
	defer db.vers.surveys.Add(1)
	defer db.alerts.kick()
	return db.tx(ctx, "store feedback", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			f.ID, f.SiteID, f.AnonymousID, f.UserID, f.SessionID, f.URL, f.Rating, f.Comment, f.Selector, f.CreatedAt.UTC()); err != nil {
			return err
		}
		return db.recordCause(ctx, tx, f.SiteID, store.CauseFeedback, f.ID, 0)
	})
}

// feedbackWhere is the filter of a feedback query on table alias x.
func feedbackWhere(site int64, q store.FeedbackQuery) (string, []any) {
	where := "x.site_id = ?"
	args := []any{site}
	if !q.From.IsZero() {
		where += " AND x.created_at >= ?"
		args = append(args, q.From.UTC())
	}
	if !q.To.IsZero() {
		where += " AND x.created_at < ?"
		args = append(args, q.To.UTC())
	}
	if q.Page != "" {
		where += " AND contains(x.url, ?)"
		args = append(args, q.Page)
	}
	if q.Rating != 0 {
		where += " AND x.rating = ?"
		args = append(args, q.Rating)
	}
	return where, args
}

// ListFeedback lists feedback, newest first.
func (db *DB) ListFeedback(ctx context.Context, site int64, q store.FeedbackQuery) ([]store.FeedbackItem, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	where, args := feedbackWhere(site, q)
	if !q.Before.IsZero() {
		where += " AND (x.created_at < ? OR (x.created_at = ? AND x.id < ?))"
		args = append(args, q.Before.UTC(), q.Before.UTC(), q.BeforeID)
	}
	limit := ""
	if q.Limit > 0 {
		limit = " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT x.id, x.site_id, x.anonymous_id, x.user_id, x.session_id, x.url,
			x.rating, x.comment, x.selector, x.created_at, coalesce(i.entity_key, 0)
		FROM feedback x `+visitorJoin+" WHERE "+where+" ORDER BY x.created_at DESC, x.id DESC"+limit, args...)
	if err != nil {
		return nil, fmt.Errorf("list feedback: %w", err)
	}
	defer rows.Close()
	var out []store.FeedbackItem
	for rows.Next() {
		var f store.FeedbackItem
		if err := rows.Scan(&f.ID, &f.SiteID, &f.AnonymousID, &f.UserID, &f.SessionID, &f.URL, &f.Rating,
			&f.Comment, &f.Selector, &f.CreatedAt, &f.UserKey); err != nil {
			return nil, fmt.Errorf("list feedback: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// FeedbackSummary buckets feedback by day or week (weeks start on Monday).
func (db *DB) FeedbackSummary(ctx context.Context, site int64, q store.FeedbackQuery, interval string) ([]store.FeedbackBucket, error) {
	if interval != "day" && interval != "week" {
		return nil, fmt.Errorf("BUG: feedback summary interval %q", interval)
	}
	where, args := feedbackWhere(site, q)
	rows, err := db.pool().QueryContext(ctx, `SELECT date_trunc(?, x.created_at) AS b, count(*), avg(x.rating),
			count(*) FILTER (x.rating = 1), count(*) FILTER (x.rating = 2), count(*) FILTER (x.rating = 3),
			count(*) FILTER (x.rating = 4), count(*) FILTER (x.rating = 5)
		FROM feedback x WHERE `+where+" GROUP BY b ORDER BY b", append([]any{interval}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("summarise feedback: %w", err)
	}
	defer rows.Close()
	var out []store.FeedbackBucket
	for rows.Next() {
		var b store.FeedbackBucket
		var start time.Time
		if err := rows.Scan(&start, &b.Count, &b.Average, &b.ByRating[0], &b.ByRating[1], &b.ByRating[2],
			&b.ByRating[3], &b.ByRating[4]); err != nil {
			return nil, fmt.Errorf("summarise feedback: %w", err)
		}
		b.Start = start.UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

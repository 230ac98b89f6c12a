package scaled

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
)

var _ store.FeedbackItems = (*DB)(nil)

// Feedback items are kept in PostgreSQL: no segment reads them, and the
// API reads them a page at a time.

// AddFeedback stores one piece of feedback.
func (db *DB) AddFeedback(ctx context.Context, f store.FeedbackItem) error {
	return db.inTx(ctx, func(t *txn) error {
		if _, err := t.tx.Exec(ctx, `INSERT INTO feedback_items (id, site_id, anonymous_id, user_id, session_id, url, rating,
				comment, selector, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			f.ID, f.SiteID, f.AnonymousID, f.UserID, f.SessionID, f.URL, f.Rating, f.Comment, f.Selector, f.CreatedAt.UTC()); err != nil {
			return fmt.Errorf("store feedback: %w", err)
		}
		t.causes = append(t.causes, store.AlertCause{SiteID: f.SiteID, Kind: store.CauseFeedback, Ref: f.ID})
		// No segment condition reads feedback today; counting it keeps
		// caches of segment answers right when one does.
		t.touch.Surveys = true
		return t.finish()
	})
}

// feedbackWhere is the filter of a feedback query on alias x.
func feedbackWhere(site int64, q store.FeedbackQuery) *pgWhere {
	w := &pgWhere{}
	w.add("x.site_id = ?", site)
	if !q.From.IsZero() {
		w.add("x.created_at >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		w.add("x.created_at < ?", q.To.UTC())
	}
	if q.Page != "" {
		w.add("strpos(x.url, ?) > 0", q.Page)
	}
	if q.Rating != 0 {
		w.add("x.rating = ?", q.Rating)
	}
	return w
}

const feedbackColumns = `x.id, x.site_id, x.anonymous_id, x.user_id, x.session_id, x.url, x.rating, x.comment, x.selector,
	x.created_at, ` + visitorKey

func scanFeedback(r pgx.Row) (store.FeedbackItem, error) {
	var f store.FeedbackItem
	err := r.Scan(&f.ID, &f.SiteID, &f.AnonymousID, &f.UserID, &f.SessionID, &f.URL, &f.Rating, &f.Comment, &f.Selector,
		&f.CreatedAt, &f.UserKey)
	f.CreatedAt = f.CreatedAt.UTC()
	return f, err
}

// ListFeedback lists feedback, newest first.
func (db *DB) ListFeedback(ctx context.Context, site int64, q store.FeedbackQuery) ([]store.FeedbackItem, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	w := feedbackWhere(site, q)
	if !q.Before.IsZero() {
		w.add("(x.created_at < ? OR (x.created_at = ? AND x.id < ?))", q.Before.UTC(), q.Before.UTC(), q.BeforeID)
	}
	sql := "SELECT " + feedbackColumns + " FROM feedback_items x " + visitorJoin + " WHERE " + w.sql() +
		" ORDER BY x.created_at DESC, x.id DESC"
	if q.Limit > 0 {
		sql += w.arg(" LIMIT ?", q.Limit)
	}
	rows, err := db.pg.Query(ctx, sql, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list feedback: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.FeedbackItem, error) { return scanFeedback(r) })
	if err != nil {
		return nil, fmt.Errorf("list feedback: %w", err)
	}
	return out, nil
}

// FeedbackByID returns one piece of feedback with its user's key.
func (db *DB) FeedbackByID(ctx context.Context, site int64, id string) (store.FeedbackItem, error) {
	f, err := scanFeedback(db.pg.QueryRow(ctx, "SELECT "+feedbackColumns+" FROM feedback_items x "+visitorJoin+
		" WHERE x.site_id = $1 AND x.id = $2", site, id))
	if errNoRows(err) {
		return f, fmt.Errorf("feedback %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("read feedback: %w", err)
	}
	return f, nil
}

// FeedbackSummary buckets feedback by UTC day or week (weeks start on
// Monday).
func (db *DB) FeedbackSummary(ctx context.Context, site int64, q store.FeedbackQuery, interval string) ([]store.FeedbackBucket, error) {
	if interval != "day" && interval != "week" {
		return nil, fmt.Errorf("BUG: feedback summary interval %q", interval)
	}
	w := feedbackWhere(site, q)
	trunc := w.arg("date_trunc(?, x.created_at, 'UTC')", interval)
	rows, err := db.pg.Query(ctx, `SELECT `+trunc+` AS b, count(*), avg(x.rating)::DOUBLE PRECISION,
			count(*) FILTER (WHERE x.rating = 1), count(*) FILTER (WHERE x.rating = 2), count(*) FILTER (WHERE x.rating = 3),
			count(*) FILTER (WHERE x.rating = 4), count(*) FILTER (WHERE x.rating = 5)
		FROM feedback_items x WHERE `+w.sql()+" GROUP BY b ORDER BY b", w.args...)
	if err != nil {
		return nil, fmt.Errorf("summarise feedback: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.FeedbackBucket, error) {
		var b store.FeedbackBucket
		err := r.Scan(&b.Start, &b.Count, &b.Average, &b.ByRating[0], &b.ByRating[1], &b.ByRating[2], &b.ByRating[3], &b.ByRating[4])
		b.Start = b.Start.UTC()
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("summarise feedback: %w", err)
	}
	return out, nil
}

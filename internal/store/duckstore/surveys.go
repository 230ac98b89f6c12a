package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

var (
	_ store.Surveys         = (*DB)(nil)
	_ store.SurveyResponses = (*DB)(nil)
)

// visitorJoin finds the user a row of x (with site_id, user_id and
// anonymous_id) belongs to now: by its user ID when it has one, else by its
// anonymous ID. Identities follow merges, so the rows need no update.
const visitorJoin = `LEFT JOIN identities i ON i.site_id = x.site_id
	AND i.kind = CASE WHEN x.user_id <> '' THEN 1 ELSE 2 END
	AND i.external_id = CASE WHEN x.user_id <> '' THEN x.user_id ELSE x.anonymous_id END`

func now(db *DB) time.Time { return db.opts.Now().UTC().Truncate(time.Microsecond) }

const surveyColumns = "id, site_id, name, status, definition, created_at, updated_at"

func scanSurvey(r scanner) (store.SurveyRecord, error) {
	var s store.SurveyRecord
	var def string
	err := r.Scan(&s.ID, &s.SiteID, &s.Name, &s.Status, &def, &s.CreatedAt, &s.UpdatedAt)
	s.Definition = []byte(def)
	return s, err
}

// CreateSurvey stores a new survey with a new ID, created now unless
// s.CreatedAt is set (an import).
func (db *DB) CreateSurvey(ctx context.Context, s store.SurveyRecord) (store.SurveyRecord, error) {
	defer db.writing()()
	s.ID = auth.NewID("srv_")
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now(db)
	}
	s.CreatedAt = s.CreatedAt.UTC().Truncate(time.Microsecond)
	s.UpdatedAt = s.CreatedAt
	_, err := db.pool().ExecContext(ctx, "INSERT INTO surveys ("+surveyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		s.ID, s.SiteID, s.Name, s.Status, string(s.Definition), s.CreatedAt, s.UpdatedAt)
	if err != nil {
		return store.SurveyRecord{}, fmt.Errorf("create survey: %w", err)
	}
	return s, nil
}

// UpdateSurvey replaces a survey's name and definition if its status is
// one of ifStatus.
func (db *DB) UpdateSurvey(ctx context.Context, s store.SurveyRecord, ifStatus []string) (store.SurveyRecord, error) {
	defer db.writing()()
	res, err := db.pool().ExecContext(ctx, `UPDATE surveys SET name = ?, definition = ?, updated_at = ?
		WHERE id = ? AND site_id = ? AND status IN (SELECT unnest(?::VARCHAR[]))`,
		s.Name, string(s.Definition), now(db), s.ID, s.SiteID, ifStatus)
	if err != nil {
		return store.SurveyRecord{}, fmt.Errorf("update survey: %w", err)
	}
	return db.changedSurvey(ctx, res, s.SiteID, s.ID)
}

// SetSurveyStatus moves a survey from one status to another.
func (db *DB) SetSurveyStatus(ctx context.Context, site int64, id, from, to string) (store.SurveyRecord, error) {
	defer db.writing()()
	res, err := db.pool().ExecContext(ctx, "UPDATE surveys SET status = ?, updated_at = ? WHERE id = ? AND site_id = ? AND status = ?",
		to, now(db), id, site, from)
	if err != nil {
		return store.SurveyRecord{}, fmt.Errorf("change survey status: %w", err)
	}
	return db.changedSurvey(ctx, res, site, id)
}

// changedSurvey reads a survey after a conditional update: not found when
// it does not exist, a conflict when the update's condition failed.
func (db *DB) changedSurvey(ctx context.Context, res sql.Result, site int64, id string) (store.SurveyRecord, error) {
	s, err := db.Survey(ctx, site, id)
	if err != nil {
		return store.SurveyRecord{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s, fmt.Errorf("survey %s is %s: %w", id, s.Status, store.ErrConflict)
	}
	return s, nil
}

// Survey reads one survey of a site.
func (db *DB) Survey(ctx context.Context, site int64, id string) (store.SurveyRecord, error) {
	s, err := scanSurvey(db.pool().QueryRowContext(ctx, "SELECT "+surveyColumns+" FROM surveys WHERE id = ? AND site_id = ?", id, site))
	if errors.Is(err, sql.ErrNoRows) {
		return store.SurveyRecord{}, fmt.Errorf("survey %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.SurveyRecord{}, fmt.Errorf("read survey: %w", err)
	}
	return s, nil
}

// ListSurveys lists a site's surveys, newest first.
func (db *DB) ListSurveys(ctx context.Context, site int64) ([]store.SurveyRecord, error) {
	return db.surveys(ctx, "SELECT "+surveyColumns+" FROM surveys WHERE site_id = ? ORDER BY created_at DESC, id", site)
}

// LiveSurveys lists a site's live surveys, oldest first.
func (db *DB) LiveSurveys(ctx context.Context, site int64) ([]store.SurveyRecord, error) {
	return db.surveys(ctx, "SELECT "+surveyColumns+" FROM surveys WHERE site_id = ? AND status = 'live' ORDER BY created_at, id", site)
}

func (db *DB) surveys(ctx context.Context, q string, site int64) ([]store.SurveyRecord, error) {
	return queryAll(ctx, db.pool(), "list surveys", scanSurvey, q, site)
}

// DeleteSurvey deletes a survey and everything answered to it.
func (db *DB) DeleteSurvey(ctx context.Context, site int64, id string) error {
	defer db.vers.surveys.Add(1) // its responses go
	return db.tx(ctx, "delete survey", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM surveys WHERE id = ? AND site_id = ?", id, site)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("survey %q: %w", id, store.ErrNotFound)
		}
		for _, t := range []string{"survey_responses", "survey_answers", "survey_dismissals"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE site_id = ? AND survey_id = ?", site, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// tx runs fn in a transaction, committing when it returns nil.
func (db *DB) tx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	defer db.writing()()
	tx, err := db.pool().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			return err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// SaveResponse inserts or replaces a response and its answer rows.
func (db *DB) SaveResponse(ctx context.Context, r store.SurveyResponse, answers []store.AnswerValue) error {
	defer db.vers.surveys.Add(1) // nps conditions read responses
	defer db.alerts.kick()
	var completedAt *time.Time
	if r.Completed {
		completedAt = &r.CompletedAt
	}
	return db.tx(ctx, "save survey response", func(tx *sql.Tx) error {
		if r.Completed {
			if err := db.recordCompletion(ctx, tx, r); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO survey_responses (site_id, survey_id, response_id, anonymous_id,
				user_id, session_id, url, answers, nps, completed, created_at, updated_at, completed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (site_id, survey_id, response_id) DO UPDATE SET anonymous_id = excluded.anonymous_id,
				user_id = excluded.user_id, session_id = excluded.session_id, url = excluded.url,
				answers = excluded.answers, nps = excluded.nps, completed = excluded.completed,
				updated_at = excluded.updated_at, completed_at = excluded.completed_at`,
			r.SiteID, r.SurveyID, r.ResponseID, r.AnonymousID, r.UserID, r.SessionID, r.URL, string(r.Answers),
			r.NPS, r.Completed, r.CreatedAt, r.UpdatedAt, completedAt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM survey_answers WHERE site_id = ? AND survey_id = ? AND response_id = ?",
			r.SiteID, r.SurveyID, r.ResponseID); err != nil {
			return err
		}
		for _, a := range answers {
			if _, err := tx.ExecContext(ctx, "INSERT INTO survey_answers VALUES (?, ?, ?, ?, ?, ?, ?)",
				r.SiteID, r.SurveyID, r.ResponseID, a.QuestionID, a.Num, a.Text, r.UpdatedAt); err != nil {
				return err
			}
		}
		return nil
	})
}

const responseColumns = `x.site_id, x.survey_id, x.response_id, x.anonymous_id, x.user_id, x.session_id, x.url,
	x.answers, x.nps, x.completed, x.created_at, x.updated_at, x.completed_at, coalesce(i.entity_key, 0)`

func scanResponse(r scanner) (store.SurveyResponse, error) {
	var s store.SurveyResponse
	var answers string
	var nps sql.NullInt64
	var completedAt sql.NullTime
	err := r.Scan(&s.SiteID, &s.SurveyID, &s.ResponseID, &s.AnonymousID, &s.UserID, &s.SessionID, &s.URL,
		&answers, &nps, &s.Completed, &s.CreatedAt, &s.UpdatedAt, &completedAt, &s.UserKey)
	s.Answers = []byte(answers)
	if nps.Valid {
		n := int(nps.Int64)
		s.NPS = &n
	}
	if completedAt.Valid {
		s.CompletedAt = completedAt.Time
	}
	return s, err
}

// Response reads one response.
func (db *DB) Response(ctx context.Context, site int64, surveyID, responseID string) (store.SurveyResponse, error) {
	if err := db.Sync(ctx); err != nil {
		return store.SurveyResponse{}, err
	}
	r, err := scanResponse(db.pool().QueryRowContext(ctx, "SELECT "+responseColumns+" FROM survey_responses x "+visitorJoin+`
		WHERE x.site_id = ? AND x.survey_id = ? AND x.response_id = ?`, site, surveyID, responseID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.SurveyResponse{}, fmt.Errorf("response %q: %w", responseID, store.ErrNotFound)
	}
	if err != nil {
		return store.SurveyResponse{}, fmt.Errorf("read response: %w", err)
	}
	return r, nil
}

// Responses lists a survey's responses, newest first.
func (db *DB) Responses(ctx context.Context, site int64, surveyID string, q store.ResponseQuery) ([]store.SurveyResponse, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	where := "x.site_id = ? AND x.survey_id = ?"
	args := []any{site, surveyID}
	if !q.From.IsZero() {
		where += " AND x.created_at >= ?"
		args = append(args, q.From.UTC())
	}
	if !q.To.IsZero() {
		where += " AND x.created_at < ?"
		args = append(args, q.To.UTC())
	}
	if q.NPS != nil {
		where += " AND x.nps BETWEEN ? AND ?"
		args = append(args, q.NPS[0], q.NPS[1])
	}
	if !q.Before.IsZero() {
		where += " AND (x.created_at < ? OR (x.created_at = ? AND x.response_id < ?))"
		args = append(args, q.Before.UTC(), q.Before.UTC(), q.BeforeID)
	}
	limit := ""
	if q.Limit > 0 {
		limit = " LIMIT ?"
		args = append(args, q.Limit)
	}
	return queryAll(ctx, db.pool(), "list responses", scanResponse, "SELECT "+responseColumns+" FROM survey_responses x "+
		visitorJoin+" WHERE "+where+" ORDER BY x.created_at DESC, x.response_id DESC"+limit, args...)
}

// Dismiss records a dismissal.
func (db *DB) Dismiss(ctx context.Context, d store.Dismissal) error {
	defer db.writing()()
	_, err := db.pool().ExecContext(ctx, "INSERT INTO survey_dismissals VALUES (?, ?, ?, ?, ?)",
		d.SiteID, d.SurveyID, d.AnonymousID, d.UserID, d.At.UTC())
	if err != nil {
		return fmt.Errorf("record dismissal: %w", err)
	}
	return nil
}

// Dismissals counts a survey's dismissals in [from, to).
func (db *DB) Dismissals(ctx context.Context, site int64, surveyID string, from, to time.Time) (int64, error) {
	q := "SELECT count(*) FROM survey_dismissals WHERE site_id = ? AND survey_id = ?"
	args := []any{site, surveyID}
	if !from.IsZero() {
		q += " AND dismissed_at >= ?"
		args = append(args, from.UTC())
	}
	if !to.IsZero() {
		q += " AND dismissed_at < ?"
		args = append(args, to.UTC())
	}
	var n int64
	if err := db.pool().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count dismissals: %w", err)
	}
	return n, nil
}

// SurveyHistories lists when each visitor last completed and dismissed
// each survey of a site.
func (db *DB) SurveyHistories(ctx context.Context, site int64) ([]store.SurveyHistory, error) {
	const visitor = "user_id, CASE WHEN user_id = '' THEN anonymous_id ELSE '' END"
	rows, err := db.pool().QueryContext(ctx, `
		SELECT survey_id, `+visitor+`, max(completed_at), NULL::TIMESTAMP FROM survey_responses
			WHERE site_id = ? AND completed GROUP BY ALL
		UNION ALL
		SELECT survey_id, `+visitor+`, NULL::TIMESTAMP, max(dismissed_at) FROM survey_dismissals
			WHERE site_id = ? GROUP BY ALL`, site, site)
	if err != nil {
		return nil, fmt.Errorf("read survey history: %w", err)
	}
	defer rows.Close()
	var out []store.SurveyHistory
	for rows.Next() {
		var h store.SurveyHistory
		var completed, dismissed sql.NullTime
		if err := rows.Scan(&h.SurveyID, &h.UserID, &h.AnonymousID, &completed, &dismissed); err != nil {
			return nil, fmt.Errorf("read survey history: %w", err)
		}
		h.Completed, h.Dismissed = completed.Time, dismissed.Time
		out = append(out, h)
	}
	return out, rows.Err()
}

// CompletedCounts counts completed responses per survey.
func (db *DB) CompletedCounts(ctx context.Context, site int64, surveyIDs []string) (map[string]int64, error) {
	rows, err := db.pool().QueryContext(ctx, `SELECT survey_id, count(*) FROM survey_responses
		WHERE site_id = ? AND completed AND list_contains(?::VARCHAR[], survey_id) GROUP BY survey_id`, site, surveyIDs)
	if err != nil {
		return nil, fmt.Errorf("count responses: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("count responses: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

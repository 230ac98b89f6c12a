package scaled

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/pgstore"
)

var _ store.SurveyResponses = (*DB)(nil)

// Responses, their answers and dismissals are kept in PostgreSQL, where
// the API reads them; each saved response and its answers are also sent
// to ClickHouse, where segments read them (compiler.ClickHouse's
// Responses and LatestAnswers). A response saved again is a new version
// of ClickHouse's row; its new answers are added beside the old ones,
// which the engine never reads again, as it reads a user's latest answers.

// visitorKey is the user a row of x (with site_id, user_id and
// anonymous_id) belongs to now: the live key of its user ID when it has
// one, else of its anonymous ID; 0 when the visitor is not known.
// Identities follow merges, so the rows need no update.
const visitorJoin = `LEFT JOIN identities i ON i.site_id = x.site_id
		AND i.kind = CASE WHEN x.user_id <> '' THEN 1 ELSE 2 END
		AND i.external_id = CASE WHEN x.user_id <> '' THEN x.user_id ELSE x.anonymous_id END
	LEFT JOIN entities e ON e.key = i.entity_key`

const visitorKey = "coalesce(e.merged_into, e.key, 0)"

// SaveResponse inserts or replaces a response and its answer rows.
func (db *DB) SaveResponse(ctx context.Context, r store.SurveyResponse, answers []store.AnswerValue) error {
	var completedAt *time.Time
	if r.Completed {
		c := r.CompletedAt.UTC()
		completedAt = &c
	}
	err := db.inTx(ctx, func(t *txn) error {
		if r.Completed {
			var before bool
			err := t.tx.QueryRow(ctx, "SELECT completed FROM survey_responses WHERE site_id = $1 AND survey_id = $2 AND response_id = $3",
				r.SiteID, r.SurveyID, r.ResponseID).Scan(&before)
			if err != nil && !errNoRows(err) {
				return fmt.Errorf("read response: %w", err)
			}
			if !before {
				t.causes = append(t.causes, store.AlertCause{SiteID: r.SiteID, Kind: store.CauseResponse, Ref: r.SurveyID + "/" + r.ResponseID})
			}
		}
		if _, err := t.tx.Exec(ctx, `INSERT INTO survey_responses (site_id, survey_id, response_id, anonymous_id,
				user_id, session_id, url, answers, nps, completed, created_at, updated_at, completed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (site_id, survey_id, response_id) DO UPDATE SET anonymous_id = excluded.anonymous_id,
				user_id = excluded.user_id, session_id = excluded.session_id, url = excluded.url,
				answers = excluded.answers, nps = excluded.nps, completed = excluded.completed,
				updated_at = excluded.updated_at, completed_at = excluded.completed_at`,
			r.SiteID, r.SurveyID, r.ResponseID, r.AnonymousID, r.UserID, r.SessionID, r.URL, string(r.Answers),
			r.NPS, r.Completed, r.CreatedAt.UTC(), r.UpdatedAt.UTC(), completedAt); err != nil {
			return fmt.Errorf("save survey response: %w", err)
		}
		if _, err := t.tx.Exec(ctx, "DELETE FROM survey_answers WHERE site_id = $1 AND survey_id = $2 AND response_id = $3",
			r.SiteID, r.SurveyID, r.ResponseID); err != nil {
			return fmt.Errorf("save survey response: %w", err)
		}
		for _, a := range answers {
			if _, err := t.tx.Exec(ctx, "INSERT INTO survey_answers VALUES ($1, $2, $3, $4, $5, $6, $7)",
				r.SiteID, r.SurveyID, r.ResponseID, a.QuestionID, a.Num, a.Text, r.UpdatedAt.UTC()); err != nil {
				return fmt.Errorf("save survey answers: %w", err)
			}
			t.rows.add("survey_answers", r.SiteID, r.SurveyID, r.ResponseID, a.QuestionID, a.Num, a.Text, micros(r.UpdatedAt))
		}
		version, err := t.rowVersion()
		if err != nil {
			return err
		}
		var nps *int16
		if r.NPS != nil {
			n := int16(*r.NPS)
			nps = &n
		}
		var completed *int64
		if completedAt != nil {
			c := micros(*completedAt)
			completed = &c
		}
		t.rows.add("survey_responses", r.SiteID, r.SurveyID, r.ResponseID, r.AnonymousID, r.UserID, r.SessionID, r.URL,
			string(r.Answers), nps, boolByte(r.Completed), micros(r.CreatedAt), micros(r.UpdatedAt), completed, version)
		t.touch.Surveys = true // nps conditions read responses
		return t.finish()
	})
	return err
}

// rowVersion returns a new version for a ClickHouse row that must replace
// the one before it whatever its times say.
func (t *txn) rowVersion() (uint64, error) {
	var v int64
	if err := t.tx.QueryRow(t.ctx, "SELECT nextval('row_versions')").Scan(&v); err != nil {
		return 0, fmt.Errorf("number a row version: %w", err)
	}
	return uint64(v), nil
}

const responseColumns = `x.site_id, x.survey_id, x.response_id, x.anonymous_id, x.user_id, x.session_id, x.url,
	x.answers, x.nps, x.completed, x.created_at, x.updated_at, x.completed_at, ` + visitorKey

func scanResponse(r pgx.Row) (store.SurveyResponse, error) {
	var s store.SurveyResponse
	var answers string
	var nps *int
	var completedAt *time.Time
	err := r.Scan(&s.SiteID, &s.SurveyID, &s.ResponseID, &s.AnonymousID, &s.UserID, &s.SessionID, &s.URL,
		&answers, &nps, &s.Completed, &s.CreatedAt, &s.UpdatedAt, &completedAt, &s.UserKey)
	s.Answers, s.NPS = []byte(answers), nps
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	if completedAt != nil {
		s.CompletedAt = completedAt.UTC()
	}
	return s, err
}

// Response reads one response.
func (db *DB) Response(ctx context.Context, site int64, surveyID, responseID string) (store.SurveyResponse, error) {
	if err := db.Sync(ctx); err != nil {
		return store.SurveyResponse{}, err
	}
	r, err := scanResponse(db.pg.QueryRow(ctx, "SELECT "+responseColumns+" FROM survey_responses x "+visitorJoin+`
		WHERE x.site_id = $1 AND x.survey_id = $2 AND x.response_id = $3`, site, surveyID, responseID))
	if errNoRows(err) {
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
	var w pgWhere
	w.add("x.site_id = ?", site)
	w.add("x.survey_id = ?", surveyID)
	if !q.From.IsZero() {
		w.add("x.created_at >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		w.add("x.created_at < ?", q.To.UTC())
	}
	if q.NPS != nil {
		w.add("x.nps BETWEEN ? AND ?", q.NPS[0], q.NPS[1])
	}
	if !q.Before.IsZero() {
		w.add("(x.created_at < ? OR (x.created_at = ? AND x.response_id < ?))", q.Before.UTC(), q.Before.UTC(), q.BeforeID)
	}
	sql := "SELECT " + responseColumns + " FROM survey_responses x " + visitorJoin + " WHERE " + w.sql() +
		" ORDER BY x.created_at DESC, x.response_id DESC"
	if q.Limit > 0 {
		sql += w.arg(" LIMIT ?", q.Limit)
	}
	rows, err := db.pg.Query(ctx, sql, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list responses: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SurveyResponse, error) { return scanResponse(r) })
	if err != nil {
		return nil, fmt.Errorf("list responses: %w", err)
	}
	return out, nil
}

// Dismiss records a dismissal.
func (db *DB) Dismiss(ctx context.Context, d store.Dismissal) error {
	_, err := db.pg.Exec(ctx, "INSERT INTO survey_dismissals VALUES ($1, $2, $3, $4, $5)",
		d.SiteID, d.SurveyID, d.AnonymousID, d.UserID, d.At.UTC())
	if err != nil {
		return fmt.Errorf("record dismissal: %w", err)
	}
	return nil
}

// Dismissals counts a survey's dismissals in [from, to).
func (db *DB) Dismissals(ctx context.Context, site int64, surveyID string, from, to time.Time) (int64, error) {
	var w pgWhere
	w.add("site_id = ?", site)
	w.add("survey_id = ?", surveyID)
	if !from.IsZero() {
		w.add("dismissed_at >= ?", from.UTC())
	}
	if !to.IsZero() {
		w.add("dismissed_at < ?", to.UTC())
	}
	var n int64
	if err := db.pg.QueryRow(ctx, "SELECT count(*) FROM survey_dismissals WHERE "+w.sql(), w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count dismissals: %w", err)
	}
	return n, nil
}

// SurveyHistories lists when each visitor last completed and dismissed
// each survey of a site.
func (db *DB) SurveyHistories(ctx context.Context, site int64) ([]store.SurveyHistory, error) {
	const visitor = "user_id, CASE WHEN user_id = '' THEN anonymous_id ELSE '' END"
	rows, err := db.pg.Query(ctx, `
		SELECT survey_id, `+visitor+`, max(completed_at), NULL::TIMESTAMPTZ FROM survey_responses
			WHERE site_id = $1 AND completed GROUP BY 1, 2, 3
		UNION ALL
		SELECT survey_id, `+visitor+`, NULL::TIMESTAMPTZ, max(dismissed_at) FROM survey_dismissals
			WHERE site_id = $1 GROUP BY 1, 2, 3`, site)
	if err != nil {
		return nil, fmt.Errorf("read survey history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SurveyHistory, error) {
		var h store.SurveyHistory
		var completed, dismissed *time.Time
		err := r.Scan(&h.SurveyID, &h.UserID, &h.AnonymousID, &completed, &dismissed)
		if completed != nil {
			h.Completed = completed.UTC()
		}
		if dismissed != nil {
			h.Dismissed = dismissed.UTC()
		}
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("read survey history: %w", err)
	}
	return out, nil
}

// CompletedCounts counts completed responses per survey.
func (db *DB) CompletedCounts(ctx context.Context, site int64, surveyIDs []string) (map[string]int64, error) {
	rows, err := db.pg.Query(ctx, `SELECT survey_id, count(*) FROM survey_responses
		WHERE site_id = $1 AND completed AND survey_id = ANY($2) GROUP BY survey_id`, site, surveyIDs)
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

// DeleteSurveyAnswers deletes a deleted survey's responses, answers and
// dismissals (composite.Hooks), in PostgreSQL and then in ClickHouse.
func (db *DB) DeleteSurveyAnswers(ctx context.Context, site int64, survey string) error {
	err := db.inTx(ctx, func(t *txn) error {
		for _, table := range []string{"survey_responses", "survey_answers", "survey_dismissals"} {
			if _, err := t.tx.Exec(ctx, "DELETE FROM "+table+" WHERE site_id = $1 AND survey_id = $2", site, survey); err != nil {
				return fmt.Errorf("delete %s: %w", table, err)
			}
		}
		t.touch.Surveys = true
		return t.finish()
	})
	if err != nil {
		return err
	}
	for _, table := range []string{"survey_responses", "survey_answers"} {
		if _, err := db.deleteRows(ctx, table, "site_id = ? AND survey_id = ?", site, survey); err != nil {
			return err
		}
	}
	return nil
}

// pgWhere builds a PostgreSQL condition from parts written with ?, which
// it numbers.
type pgWhere struct {
	parts []string
	args  []any
}

// add adds a condition with its arguments.
func (w *pgWhere) add(cond string, args ...any) { w.parts = append(w.parts, w.arg(cond, args...)) }

// arg numbers the ? of s from the arguments so far, and adds args.
func (w *pgWhere) arg(s string, args ...any) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			w.args = append(w.args, args[0])
			args = args[1:]
			b = fmt.Appendf(b, "$%d", len(w.args))
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func (w *pgWhere) sql() string {
	out := ""
	for i, p := range w.parts {
		if i > 0 {
			out += " AND "
		}
		out += p
	}
	return out
}

// touchIn moves the change counters of t in tx (see pgstore.Touch).
func touchIn(ctx context.Context, tx pgx.Tx, t pgstore.Touch) error {
	return pgstore.TouchVersionsIn(ctx, tx, t)
}

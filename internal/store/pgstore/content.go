package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

var (
	_ store.Segments         = (*DB)(nil)
	_ store.Surveys          = (*DB)(nil)
	_ store.FeedbackSettings = (*DB)(nil)
)

const segmentColumns = "id, site_id, name, description, author, definition, text, created_at, updated_at"

func scanSegment(r pgx.Row) (store.SavedSegment, error) {
	var s store.SavedSegment
	var def string
	err := r.Scan(&s.ID, &s.SiteID, &s.Name, &s.Description, &s.Author, &def, &s.Text, &s.CreatedAt, &s.UpdatedAt)
	s.Definition = []byte(def)
	return s, err
}

// SaveSegment creates a segment (when s.ID is empty) or replaces one of
// s's site, keeping its creation time. Segments that name it with
// in_segment may change: the site's change counter moves, in the same
// transaction.
func (db *DB) SaveSegment(ctx context.Context, s store.SavedSegment) (store.SavedSegment, error) {
	now := db.now()
	var saved store.SavedSegment
	err := db.inTx(ctx, "save segment", func(tx pgx.Tx) error {
		var err error
		if s.ID == "" {
			saved, err = scanSegment(tx.QueryRow(ctx, `INSERT INTO segments (`+segmentColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING `+segmentColumns,
				auth.NewID("seg_"), s.SiteID, s.Name, s.Description, s.Author, string(s.Definition), s.Text, now))
		} else {
			saved, err = scanSegment(tx.QueryRow(ctx, `UPDATE segments SET name = $3, description = $4, author = $5,
					definition = $6, text = $7, updated_at = $8
				WHERE id = $1 AND site_id = $2 RETURNING `+segmentColumns,
				s.ID, s.SiteID, s.Name, s.Description, s.Author, string(s.Definition), s.Text, now))
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("segment %q: %w", s.ID, store.ErrNotFound)
			}
		}
		if err != nil {
			return err
		}
		return bumpSite(ctx, tx)
	})
	return saved, err
}

// Segment returns a saved segment of a site.
func (db *DB) Segment(ctx context.Context, site int64, id string) (store.SavedSegment, error) {
	s, err := scanSegment(db.pool.QueryRow(ctx, "SELECT "+segmentColumns+" FROM segments WHERE id = $1 AND site_id = $2", id, site))
	if err != nil {
		return store.SavedSegment{}, notFound(err, fmt.Sprintf("segment %q", id))
	}
	return s, nil
}

// ListSegments lists a site's saved segments by name, case aside (in
// code-point order, whatever the database's collation).
func (db *DB) ListSegments(ctx context.Context, site int64) ([]store.SavedSegment, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+segmentColumns+` FROM segments WHERE site_id = $1
		ORDER BY lower(name) COLLATE "C", id`, site)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SavedSegment, error) { return scanSegment(r) })
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	return list, nil
}

// DeleteSegment deletes a saved segment.
func (db *DB) DeleteSegment(ctx context.Context, site int64, id string) error {
	return db.inTx(ctx, "delete segment", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM segments WHERE id = $1 AND site_id = $2", id, site)
		if err := affectedOne(tag, err, fmt.Sprintf("segment %q", id)); err != nil {
			return err
		}
		return bumpSite(ctx, tx)
	})
}

const surveyColumns = "id, site_id, name, status, definition, created_at, updated_at"

func scanSurvey(r pgx.Row) (store.SurveyRecord, error) {
	var s store.SurveyRecord
	var def string
	err := r.Scan(&s.ID, &s.SiteID, &s.Name, &s.Status, &def, &s.CreatedAt, &s.UpdatedAt)
	s.Definition = []byte(def)
	return s, err
}

// CreateSurvey stores a new survey with a new ID, created now unless
// s.CreatedAt is set (an import).
func (db *DB) CreateSurvey(ctx context.Context, s store.SurveyRecord) (store.SurveyRecord, error) {
	s.ID = auth.NewID("srv_")
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	s.CreatedAt = utc(s.CreatedAt)
	s.UpdatedAt = s.CreatedAt
	if _, err := db.pool.Exec(ctx, "INSERT INTO surveys ("+surveyColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		s.ID, s.SiteID, s.Name, s.Status, string(s.Definition), s.CreatedAt, s.UpdatedAt); err != nil {
		return store.SurveyRecord{}, fmt.Errorf("create survey: %w", err)
	}
	return s, nil
}

// UpdateSurvey replaces a survey's name and definition if its status is
// one of ifStatus: the check and the change are one statement, so a
// status moved by another node in between is seen.
func (db *DB) UpdateSurvey(ctx context.Context, s store.SurveyRecord, ifStatus []string) (store.SurveyRecord, error) {
	got, err := scanSurvey(db.pool.QueryRow(ctx, `UPDATE surveys SET name = $3, definition = $4, updated_at = $5
		WHERE id = $1 AND site_id = $2 AND status = ANY($6) RETURNING `+surveyColumns,
		s.ID, s.SiteID, s.Name, string(s.Definition), db.now(), ifStatus))
	return db.changedSurvey(ctx, got, err, s.SiteID, s.ID)
}

// SetSurveyStatus moves a survey from status from to status to.
func (db *DB) SetSurveyStatus(ctx context.Context, site int64, id, from, to string) (store.SurveyRecord, error) {
	got, err := scanSurvey(db.pool.QueryRow(ctx, `UPDATE surveys SET status = $4, updated_at = $5
		WHERE id = $1 AND site_id = $2 AND status = $3 RETURNING `+surveyColumns, id, site, from, to, db.now()))
	return db.changedSurvey(ctx, got, err, site, id)
}

// changedSurvey tells apart why a conditional update changed no row: the
// survey is not the site's (ErrNotFound), or it is not in the status the
// update needed (ErrConflict, with the survey as it is).
func (db *DB) changedSurvey(ctx context.Context, got store.SurveyRecord, err error, site int64, id string) (store.SurveyRecord, error) {
	if err == nil {
		return got, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.SurveyRecord{}, fmt.Errorf("update survey: %w", err)
	}
	s, err := db.Survey(ctx, site, id)
	if err != nil {
		return store.SurveyRecord{}, err
	}
	return s, fmt.Errorf("survey %s is %s: %w", id, s.Status, store.ErrConflict)
}

// Survey reads one survey of a site.
func (db *DB) Survey(ctx context.Context, site int64, id string) (store.SurveyRecord, error) {
	s, err := scanSurvey(db.pool.QueryRow(ctx, "SELECT "+surveyColumns+" FROM surveys WHERE id = $1 AND site_id = $2", id, site))
	if err != nil {
		return store.SurveyRecord{}, notFound(err, fmt.Sprintf("survey %q", id))
	}
	return s, nil
}

// ListSurveys lists a site's surveys, newest first.
func (db *DB) ListSurveys(ctx context.Context, site int64) ([]store.SurveyRecord, error) {
	return db.surveys(ctx, "SELECT "+surveyColumns+" FROM surveys WHERE site_id = $1 ORDER BY created_at DESC, id", site)
}

// LiveSurveys lists a site's live surveys, oldest first.
func (db *DB) LiveSurveys(ctx context.Context, site int64) ([]store.SurveyRecord, error) {
	return db.surveys(ctx, "SELECT "+surveyColumns+" FROM surveys WHERE site_id = $1 AND status = 'live' ORDER BY created_at, id", site)
}

func (db *DB) surveys(ctx context.Context, q string, site int64) ([]store.SurveyRecord, error) {
	rows, err := db.pool.Query(ctx, q, site)
	if err != nil {
		return nil, fmt.Errorf("list surveys: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SurveyRecord, error) { return scanSurvey(r) })
	if err != nil {
		return nil, fmt.Errorf("list surveys: %w", err)
	}
	return list, nil
}

// DeleteSurvey deletes a survey's definition. Its responses and
// dismissals are analytical data, in the other backend: the composite
// store that pairs the two deletes them there (storetest.RunSurveyDeletion
// runs against that pair, not against this store alone). The surveys
// counter moves, as responses read by nps conditions go.
func (db *DB) DeleteSurvey(ctx context.Context, site int64, id string) error {
	return db.inTx(ctx, "delete survey", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM surveys WHERE id = $1 AND site_id = $2", id, site)
		if err := affectedOne(tag, err, fmt.Sprintf("survey %q", id)); err != nil {
			return err
		}
		return bumpSurveys(ctx, tx)
	})
}

// FeedbackSettings returns a site's feedback settings, nil when never set.
func (db *DB) FeedbackSettings(ctx context.Context, site int64) ([]byte, error) {
	var s string
	err := db.pool.QueryRow(ctx, "SELECT settings FROM feedback_settings WHERE site_id = $1", site).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read feedback settings: %w", err)
	}
	return []byte(s), nil
}

// SaveFeedbackSettings replaces a site's feedback settings.
func (db *DB) SaveFeedbackSettings(ctx context.Context, site int64, settings []byte) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO feedback_settings (site_id, settings, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (site_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
		site, string(settings), db.now())
	if err != nil {
		return fmt.Errorf("save feedback settings: %w", err)
	}
	return nil
}

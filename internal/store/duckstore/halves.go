package duckstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sightline/sightline/internal/store"
)

// The methods here serve a composite store (package composite) that keeps
// the control data in PostgreSQL and the analytics here: the control half
// decides (a recording's admission, a survey's deletion, the retention
// settings) and this half keeps the rows that go with the decision.

// IndexRecording adds the index row of a recording admitted elsewhere,
// under the ID the admission gave it, so that its chunks can be indexed
// and it is listed. It reports false when the tab's recording already
// has a row here (the first stays).
func (db *DB) IndexRecording(ctx context.Context, rec store.Recording) (bool, error) {
	defer db.writing()()
	db.recMu.Lock()
	defer db.recMu.Unlock()
	anon := idHash(rec.SiteID, idAnon, rec.AnonymousID)
	var n int
	if err := db.pool().QueryRowContext(ctx, `SELECT count(*) FROM recordings
		WHERE (site_id = ? AND anon_hash = ? AND anonymous_id = ? AND browser_session = ?) OR id = ?`,
		rec.SiteID, anon, rec.AnonymousID, rec.BrowserSession, rec.ID).Scan(&n); err != nil {
		return false, fmt.Errorf("find recording: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	at := rec.CreatedAt.UTC()
	_, err := db.pool().ExecContext(ctx, `INSERT INTO recordings VALUES (?, ?, ?, ?, ?, '', 0, ?, ?, ?, 0, 0, 0, 2147483647, '', [])`,
		rec.ID, rec.SiteID, rec.BrowserSession, rec.AnonymousID, anon, at, at, at)
	if err != nil {
		return false, fmt.Errorf("index recording: %w", err)
	}
	return true, nil
}

// DeleteSurveyAnswers deletes the responses, answers and dismissals of a
// survey whose definition was deleted elsewhere.
func (db *DB) DeleteSurveyAnswers(ctx context.Context, site int64, survey string) error {
	defer db.vers.surveys.Add(1)
	return db.tx(ctx, "delete survey answers", func(tx *sql.Tx) error {
		for _, t := range []string{"survey_responses", "survey_answers", "survey_dismissals"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE site_id = ? AND survey_id = ?", site, survey); err != nil {
				return err
			}
		}
		return nil
	})
}

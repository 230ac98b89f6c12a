package duckstore

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/internal/store"
)

var _ store.Submissions = (*DB)(nil)

// visitorOf matches survey and feedback rows to a user: they name the
// visitor by user ID, else anonymous ID.
const visitorOf = "(user_id IN (SELECT unnest(?::VARCHAR[])) OR anonymous_id IN (SELECT unnest(?::VARCHAR[])))"

// UserSubmissions implements store.Submissions.
func (db *DB) UserSubmissions(ctx context.Context, site int64, id store.Identity) (store.UserSubmissions, error) {
	out := store.UserSubmissions{Responses: []store.SubmittedResponse{}, Feedback: []store.SubmittedFeedback{}}
	key, err := db.userKey(ctx, site, id)
	if err != nil {
		return out, err
	}
	users, anons := []string{}, []string{}
	rows, err := db.pool().QueryContext(ctx, "SELECT kind, external_id FROM identities WHERE site_id = ? AND entity_key = ?", site, key)
	if err != nil {
		return out, fmt.Errorf("read the user's identities: %w", err)
	}
	for rows.Next() {
		var kind uint8
		var ext string
		if err := rows.Scan(&kind, &ext); err != nil {
			rows.Close()
			return out, fmt.Errorf("read the user's identities: %w", err)
		}
		switch kind {
		case idUser:
			users = append(users, ext)
		case idAnon:
			anons = append(anons, ext)
		}
	}
	rows.Close()
	rows, err = db.pool().QueryContext(ctx, `SELECT survey_id, response_id, anonymous_id, user_id, url, answers, completed,
		created_at, updated_at FROM survey_responses WHERE site_id = ? AND `+visitorOf+` ORDER BY created_at, response_id`,
		site, users, anons)
	if err != nil {
		return out, fmt.Errorf("read the user's survey responses: %w", err)
	}
	for rows.Next() {
		var r store.SubmittedResponse
		var answers string
		if err := rows.Scan(&r.SurveyID, &r.ResponseID, &r.AnonymousID, &r.UserID, &r.URL, &answers, &r.Completed,
			&r.CreatedAt, &r.UpdatedAt); err != nil {
			rows.Close()
			return out, fmt.Errorf("read the user's survey responses: %w", err)
		}
		r.Answers = []byte(answers)
		out.Responses = append(out.Responses, r)
	}
	rows.Close()
	rows, err = db.pool().QueryContext(ctx, `SELECT id, anonymous_id, user_id, url, rating, comment, selector, created_at
		FROM feedback WHERE site_id = ? AND `+visitorOf+` ORDER BY created_at, id`, site, users, anons)
	if err != nil {
		return out, fmt.Errorf("read the user's feedback: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f store.SubmittedFeedback
		if err := rows.Scan(&f.ID, &f.AnonymousID, &f.UserID, &f.URL, &f.Rating, &f.Comment, &f.Selector, &f.CreatedAt); err != nil {
			return out, fmt.Errorf("read the user's feedback: %w", err)
		}
		out.Feedback = append(out.Feedback, f)
	}
	return out, rows.Err()
}

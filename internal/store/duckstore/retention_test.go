package duckstore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/retention"
	"github.com/sightline/sightline/internal/store"
)

// TestRetentionJanitor keeps 30 days of a site's data and checks, with
// the janitor's clock set, that older events, sessions, attribute changes
// and survey responses go while newer ones, the current attributes and
// another site's data stay, and that a second sweep finds nothing.
func TestRetentionJanitor(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site, other := newSite(t, db), newSite(t, db)
	now := t0
	old, recent := now.AddDate(0, 0, -100), now.AddDate(0, 0, -1)
	write(t, db,
		identify(site.ID, "ann", "i1", old, map[string]any{"plan": "free"}),
		page(site.ID, "", "ann", "p1", "/old", old),
		identify(site.ID, "ann", "i2", recent, map[string]any{"plan": "pro"}),
		page(site.ID, "", "ann", "p2", "/new", recent),
		page(other.ID, "", "bob", "o1", "/old", old))
	for _, r := range []struct {
		id string
		at time.Time
	}{{"r-old", old}, {"r-new", recent}} {
		text := "answer " + r.id
		if err := db.SaveResponse(ctx, store.SurveyResponse{SiteID: site.ID, SurveyID: "sv", ResponseID: r.id, UserID: "ann",
			Answers: []byte(`{"q":"x"}`), CreatedAt: r.at, UpdatedAt: r.at}, []store.AnswerValue{{QuestionID: "q", Text: &text}}); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := db.SetRetention(ctx, site.ID, store.Retention{EventsDays: -1}); !errors.As(err, new(*store.FieldError)) {
		t.Errorf("a negative retention: %v, %v", r, err)
	}
	if _, err := db.SetRetention(ctx, site.ID, store.Retention{EventsDays: 30, SessionsDays: 30, HistoryDays: 30, SurveysDays: 30}); err != nil {
		t.Fatal(err)
	}
	if r, err := db.Retention(ctx, site.ID); err != nil || r.EventsDays != 30 {
		t.Errorf("Retention = %+v, %v", r, err)
	}
	j := retention.New(db, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	n, err := j.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("expired: %v", n)
	if n["events"] != 2 || n["sessions"] != 1 || n["attribute_history"] != 1 || n["survey_responses"] != 1 || n["survey_answers"] != 1 {
		t.Errorf("expired = %v", n)
	}
	ann := store.Identity{Kind: "user", ID: "ann"}
	evs, err := db.UserEvents(ctx, site.ID, ann, store.EventQuery{Limit: 100})
	if err != nil || len(evs) != 2 {
		t.Errorf("events left = %d, %v; want the 2 recent", len(evs), err)
	}
	for _, e := range evs {
		if e.Timestamp.Before(now.AddDate(0, 0, -30)) {
			t.Errorf("an old event was kept: %+v", e)
		}
	}
	if ss, err := db.UserSessions(ctx, site.ID, ann, 10); err != nil || len(ss) != 1 {
		t.Errorf("sessions left = %d, %v", len(ss), err)
	}
	if h, err := db.History(ctx, site.ID, ann, "plan"); err != nil || len(h) != 1 || h[0].Value.Text() != "pro" {
		t.Errorf("history left = %+v, %v", h, err)
	}
	if u, err := db.User(ctx, site.ID, ann); err != nil || attrsOf(u)["plan"].Text() != "pro" {
		t.Errorf("current attributes = %+v, %v", u, err)
	}
	if subs, err := db.UserSubmissions(ctx, site.ID, ann); err != nil || len(subs.Responses) != 1 || subs.Responses[0].ResponseID != "r-new" {
		t.Errorf("survey responses left = %+v, %v", subs, err)
	}
	var orphans int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM survey_answers a WHERE NOT EXISTS (SELECT 1 FROM survey_responses x
		WHERE x.site_id = a.site_id AND x.survey_id = a.survey_id AND x.response_id = a.response_id)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("answers without their response: %d, %v", orphans, err)
	}
	if evs, err := db.UserEvents(ctx, other.ID, store.Identity{Kind: "user", ID: "bob"}, store.EventQuery{Limit: 10}); err != nil || len(evs) != 1 {
		t.Errorf("the other site's events = %d, %v", len(evs), err)
	}
	if n, err := j.Sweep(ctx); err != nil || len(n) != 0 && (n["events"]+n["sessions"]+n["attribute_history"]+n["survey_responses"]) != 0 {
		t.Errorf("a second sweep: %v, %v", n, err)
	}
}

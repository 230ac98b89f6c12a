package duckstore_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestBulkAnswers loads survey responses, feedback and late events in a
// bulk load (across many chunks) and reads them back as the API does:
// responses and feedback resolve to their user, answers are there for
// segments, and late events count in their sessions.
func TestBulkAnswers(t *testing.T) {
	ctx := context.Background()
	db := openSmallChunks(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	const n = 120
	bulkUsers(t, db, site.ID, n) // users bu-i with one session of two events each
	var sessions, users []int64
	rows, err := db.SQL().Query("SELECT session_id, user_key FROM sessions ORDER BY started_at")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, user int64
		rows.Scan(&id, &user)
		sessions, users = append(sessions, id), append(users, user)
	}
	rows.Close()

	b, err := db.Bulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(-2 * time.Hour).Add(time.Minute)
	for i := range n {
		nps := i % 11
		score := float64(nps)
		text := "slow"
		r := store.SurveyResponse{SiteID: site.ID, SurveyID: "srv_x", ResponseID: "response-" + itoa(i),
			AnonymousID: "ba-" + itoa(i), UserID: "bu-" + itoa(i), SessionID: "bs", URL: "https://app.example.com/app",
			Answers: []byte(`{"score":` + itoa(nps) + `}`), NPS: &nps, Completed: i%2 == 0, CreatedAt: at, UpdatedAt: at,
			CompletedAt: at}
		b.SurveyResponse(&r, []store.AnswerValue{{QuestionID: "score", Num: &score}, {QuestionID: "why", Text: &text}})
		b.Feedback(&store.FeedbackItem{ID: "fb-" + itoa(i), SiteID: site.ID, AnonymousID: "ba-" + itoa(i),
			URL: "https://app.example.com/app", Rating: 1 + i%5, Comment: "ok", CreatedAt: at})
	}
	// A late event in a session of an earlier load.
	b.LateEvent(users[0], sessions[0], &store.Message{SiteID: site.ID, Kind: store.KindTrack, Name: "$survey_response",
		MessageID: "late-1", Timestamp: at, ReceivedAt: at, Properties: `{"nps_score":3}`})
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	resps, err := db.Responses(ctx, site.ID, "srv_x", store.ResponseQuery{})
	if err != nil || len(resps) != n {
		t.Fatalf("%d responses, %v", len(resps), err)
	}
	for _, r := range resps {
		if r.UserKey == 0 || r.NPS == nil || (r.Completed && r.CompletedAt.IsZero()) || (!r.Completed && !r.CompletedAt.IsZero()) {
			t.Fatalf("response read back as %+v", r)
		}
	}
	var answers, texts int
	if err := db.SQL().QueryRow(`SELECT count(num), count(text) FROM survey_answers WHERE survey_id = 'srv_x'`).
		Scan(&answers, &texts); err != nil || answers != n || texts != n {
		t.Fatalf("answers %d scores and %d texts, %v", answers, texts, err)
	}
	fb, err := db.ListFeedback(ctx, site.ID, store.FeedbackQuery{})
	if err != nil || len(fb) != n || fb[0].UserKey == 0 {
		t.Fatalf("%d feedback, %v", len(fb), err)
	}
	var events int
	if err := db.SQL().QueryRow("SELECT event_count FROM sessions WHERE session_id = ?", sessions[0]).Scan(&events); err != nil || events != 3 {
		t.Fatalf("the session with a late event counts %d events, want 3 (%v)", events, err)
	}

	// A tracker signal cannot come late.
	b, err = db.Bulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.LateEvent(users[1], sessions[1], &store.Message{SiteID: site.ID, Kind: store.KindTrack, Name: store.EventRageClick,
		MessageID: "late-2", Timestamp: at, ReceivedAt: at})
	if err := b.Close(); err == nil || !strings.Contains(err.Error(), "signal") {
		t.Fatalf("a late rage click: %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

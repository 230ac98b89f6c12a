package duckstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// filesWith lists the files under dir whose bytes contain marker.
func filesWith(t *testing.T, dir, marker string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(marker)) {
			out = append(out, filepath.Base(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEraseUserLeavesNoBytes is the erasure's proof: a marker sent in
// traits, event properties, a page URL, a recorded page, a survey answer
// and feedback is in the data folder's files, and after the user's
// erasure in none of them, while another user's data stays whole.
func TestEraseUserLeavesNoBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	const marker = "ZQX-erase-marker-7319"
	var msgs []store.Message
	for i := range 200 {
		at := t0.Add(time.Duration(i) * time.Second)
		msgs = append(msgs, page(site.ID, "anon-other", "other", fmt.Sprintf("o%d", i), "/pricing", at))
	}
	msgs = append(msgs,
		identify(site.ID, "other", "oi", t0, map[string]any{"plan": "pro"}),
		page(site.ID, "anon-doomed", "", "d1", "/welcome/"+marker, t0),
		identify(site.ID, "doomed", "d2", t0.Add(time.Second), map[string]any{"note": marker, "plan": "free"}),
		store.Message{SiteID: site.ID, Kind: store.KindAlias, UserID: "doomed", PreviousID: "anon-doomed", MessageID: "d3",
			Timestamp: t0.Add(2 * time.Second), ReceivedAt: t0.Add(2 * time.Second)},
		store.Message{SiteID: site.ID, Kind: store.KindTrack, UserID: "doomed", Name: "Exported", MessageID: "d4",
			Properties: `{"file":"` + marker + `.csv"}`, Timestamp: t0.Add(3 * time.Second), ReceivedAt: t0.Add(3 * time.Second)},
	)
	write(t, db, msgs...)
	text := marker + " answer"
	if err := db.SaveResponse(ctx, store.SurveyResponse{SiteID: site.ID, SurveyID: "sv1", ResponseID: "r1", AnonymousID: "anon-doomed",
		UserID: "doomed", URL: "https://app.example.com/" + marker, Answers: []byte(`{"q1":"` + text + `"}`), CreatedAt: t0, UpdatedAt: t0},
		[]store.AnswerValue{{QuestionID: "q1", Text: &text}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveResponse(ctx, store.SurveyResponse{SiteID: site.ID, SurveyID: "sv1", ResponseID: "r2", UserID: "other",
		Answers: []byte(`{"q1":"fine"}`), CreatedAt: t0, UpdatedAt: t0}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.AddFeedback(ctx, store.FeedbackItem{ID: "f1", SiteID: site.ID, AnonymousID: "anon-doomed", Rating: 1,
		Comment: marker, URL: "https://app.example.com/", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	rec, _, err := db.StartRecording(ctx, store.RecordingStart{SiteID: site.ID, BrowserSession: "b1", AnonymousID: "anon-doomed", At: t0}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddRecordingChunk(ctx, site.ID, store.RecordingChunk{RecordingID: rec.ID, Seq: 0, Start: t0, End: t0.Add(time.Second),
		Events: 3, BytesStored: 10, BytesRaw: 20, UserID: "doomed", Pages: []string{"https://app.example.com/" + marker}}, t0); err != nil {
		t.Fatal(err)
	}
	// What the export reads: the survey response and the feedback, found
	// by the user ID and by the anonymous ID joined to it.
	subs, err := db.UserSubmissions(ctx, site.ID, store.Identity{Kind: "user", ID: "doomed"})
	if err != nil || len(subs.Responses) != 1 || len(subs.Feedback) != 1 || subs.Feedback[0].Comment != marker ||
		!strings.Contains(string(subs.Responses[0].Answers), text) {
		t.Errorf("UserSubmissions = %+v, %v", subs, err)
	}
	other := store.Identity{Kind: "user", ID: "other"}
	otherEvents, err := db.UserEvents(ctx, site.ID, other, store.EventQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	checkpoint(t, db)
	if found := filesWith(t, dir, marker); len(found) == 0 {
		t.Fatal("the marker is in no file before the deletion: the proof proves nothing")
	} else {
		t.Logf("before: the marker is in %v", found)
	}

	r, err := db.EraseUser(ctx, site.ID, store.Identity{Kind: "user", ID: "doomed"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("receipt: %+v", r)
	if r.Identities != 2 || r.Deleted["events"] != 4 || r.Deleted["survey_responses"] != 1 || r.Deleted["survey_answers"] != 1 ||
		r.Deleted["feedback"] != 1 || r.Deleted["recordings"] != 1 || r.Deleted["attributes"] != 2 || !r.Rewritten {
		t.Errorf("receipt = %+v", r)
	}
	if found := filesWith(t, dir, marker); len(found) > 0 {
		t.Errorf("after the deletion the marker is still in %v", found)
	}
	if _, err := db.User(ctx, site.ID, store.Identity{Kind: "anonymous", ID: "anon-doomed"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the anonymous ID still finds a user: %v", err)
	}
	if pending, err := db.PendingRecordingDeletions(ctx, 10); err != nil || len(pending) != 1 || pending[0].ID != rec.ID {
		t.Errorf("pending recording deletions = %v, %v; want the recording, for its blobs", pending, err)
	}
	after, err := db.UserEvents(ctx, site.ID, other, store.EventQuery{Limit: 1000})
	if err != nil || len(after) != len(otherEvents) || len(after) == 0 {
		t.Errorf("the other user's events: %d before, %d after (%v)", len(otherEvents), len(after), err)
	}
	if u, err := db.User(ctx, site.ID, other); err != nil || attrsOf(u)["plan"].Text() != "pro" {
		t.Errorf("the other user = %+v, %v", u, err)
	}
	// The store keeps working after its file was replaced, and again
	// after a restart.
	write(t, db, page(site.ID, "anon-other", "other", "after", "/after", t0.Add(time.Hour)))
	if _, err := db.EraseUser(ctx, site.ID, store.Identity{Kind: "user", ID: "doomed"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("erasing again = %v, want not found", err)
	}
}

// TestEraseUserRacingWrites erases a user while other users' messages
// arrive: every acknowledged message is stored.
func TestEraseUserRacingWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "s.duckdb"))
	site := newSite(t, db)
	write(t, db, identify(site.ID, "doomed", "d1", t0, map[string]any{"plan": "free"}),
		page(site.ID, "", "doomed", "d2", "/x", t0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]int{}
	stop := make(chan struct{})
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("u%d", w)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := db.Write(ctx, []store.Message{page(site.ID, "", user, fmt.Sprintf("%s-%d", user, i), "/p", t0.Add(time.Duration(i)*time.Millisecond))})
				if err != nil {
					t.Errorf("write: %v", err)
					return
				}
				mu.Lock()
				acked[user]++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := db.EraseUser(ctx, site.ID, store.Identity{Kind: "user", ID: "doomed"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	check := func(db interface {
		UserEvents(context.Context, int64, store.Identity, store.EventQuery) ([]store.Event, error)
	}, when string) {
		for user, n := range acked {
			evs, err := db.UserEvents(ctx, site.ID, store.Identity{Kind: "user", ID: user}, store.EventQuery{Limit: 100000})
			if err != nil || len(evs) != n {
				t.Errorf("%s: %s has %d events stored, %d acknowledged (%v)", when, user, len(evs), n, err)
			}
		}
	}
	check(db, "open")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, filepath.Join(dir, "s.duckdb"))
	defer db.Close()
	check(db, "reopened")
	t.Logf("acknowledged during the erasure: %v", acked)
}

package duckstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestDeleteSite deletes a site: its rows in every table, its tokens and
// its write key go, a marker of its data is in no file, and another
// site's data stays.
func TestDeleteSite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "s.duckdb"))
	defer db.Close()
	doomed, _, err := db.CreateSite(ctx, "Doomed", nil)
	if err != nil {
		t.Fatal(err)
	}
	kept := newSite(t, db)
	const marker = "SITE-DELETE-MARKER-4411"
	write(t, db, identify(doomed.ID, "ann", "d1", t0, map[string]any{"note": marker}),
		page(doomed.ID, "", "ann", "d2", "/"+marker, t0),
		identify(kept.ID, "bob", "k1", t0, map[string]any{"plan": "pro"}))
	text := marker
	if err := db.SaveResponse(ctx, store.SurveyResponse{SiteID: doomed.ID, SurveyID: "sv", ResponseID: "r1", UserID: "ann",
		Answers: []byte(`{"q":"` + marker + `"}`), CreatedAt: t0, UpdatedAt: t0}, []store.AnswerValue{{QuestionID: "q", Text: &text}}); err != nil {
		t.Fatal(err)
	}
	rec, _, err := db.StartRecording(ctx, store.RecordingStart{SiteID: doomed.ID, BrowserSession: "b1", AnonymousID: "anon", At: t0}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddRecordingChunk(ctx, doomed.ID, store.RecordingChunk{RecordingID: rec.ID, Seq: 0, Start: t0, End: t0.Add(time.Second),
		Events: 1, BytesStored: 1, BytesRaw: 1}, t0); err != nil {
		t.Fatal(err)
	}
	tok, _, err := db.CreateToken(ctx, doomed.ID, store.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	checkpoint(t, db)
	if len(filesWith(t, dir, marker)) == 0 {
		t.Fatal("the marker is in no file before the deletion")
	}
	counts, err := db.DeleteSite(ctx, doomed.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("deleted: %v", counts)
	if counts["events"] != 2 || counts["tokens"] != 1 || counts["sites"] != 1 || counts["recordings"] != 1 || counts["survey_answers"] != 1 {
		t.Errorf("counts = %v", counts)
	}
	if found := filesWith(t, dir, marker); len(found) > 0 {
		t.Errorf("after the deletion the marker is in %v", found)
	}
	if _, err := db.Site(ctx, doomed.PublicID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the site: %v", err)
	}
	if _, err := db.TokenByID(ctx, tok.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the site's token: %v", err)
	}
	var left int
	if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM identities WHERE site_id = ?", doomed.ID).Scan(&left); err != nil || left != 0 {
		t.Errorf("identities left: %d, %v", left, err)
	}
	if pending, err := db.PendingRecordingDeletions(ctx, 10); err != nil || len(pending) != 1 {
		t.Errorf("recordings pending their blobs' deletion: %v, %v", pending, err)
	}
	if u, err := db.User(ctx, kept.ID, store.Identity{Kind: "user", ID: "bob"}); err != nil || attrsOf(u)["plan"].Text() != "pro" {
		t.Errorf("the other site's user: %+v, %v", u, err)
	}
	write(t, db, identify(kept.ID, "bob", "k2", t0.Add(time.Hour), map[string]any{"plan": "team"}))
}

// checkpoint writes everything acknowledged into the database file. The
// applier (and the alert evaluator after it) may still be in a write
// transaction when Write has returned, and DuckDB refuses a CHECKPOINT
// then: wait for the applier, and try again while one is open.
func checkpoint(t *testing.T, db *duckstore.DB) {
	t.Helper()
	ctx := context.Background()
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	for try := 0; ; try++ {
		_, err := db.SQL().ExecContext(ctx, "CHECKPOINT")
		if err == nil {
			return
		}
		if try == 100 || !strings.Contains(err.Error(), "other write transactions") {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

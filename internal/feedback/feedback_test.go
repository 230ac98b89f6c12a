package feedback_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/survey"
)

// TestSettingsAndLiveSurveys checks what GET /t/config tells the tracker
// about feedback and surveys.
func TestSettingsAndLiveSurveys(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "db.duckdb"), duckstore.Options{MemoryLimit: "256MB", Threads: 2}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site, _, err := db.CreateSite(ctx, "Test", nil)
	if err != nil {
		t.Fatal(err)
	}
	surveys := survey.New(db, engine.New(db, compiler.DuckDB{}, nil), log, nil)
	fb := feedback.New(db, surveys, log, nil)

	set, err := fb.Settings(ctx, site.ID)
	live, lerr := surveys.HasLive(ctx, site.ID)
	if err != nil || lerr != nil || live || set != feedback.DefaultSettings() {
		t.Fatalf("a new site: %+v %v %v %v", set, live, err, lerr)
	}
	if _, err := fb.SaveSettings(ctx, site.ID, []byte(`{"enabled":true,"position":"left"}`)); err != nil {
		t.Fatal(err)
	}
	sv, err := surveys.Create(ctx, site.ID, []byte(`{"name":"n","questions":[{"id":"q","type":"rating","prompt":"p"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if live, _ = surveys.HasLive(ctx, site.ID); live {
		t.Fatal("a draft counts as live")
	}
	if _, err := surveys.SetStatus(ctx, site.ID, sv.ID, survey.StatusLive); err != nil {
		t.Fatal(err)
	}
	set, err = fb.Settings(ctx, site.ID)
	live, lerr = surveys.HasLive(ctx, site.ID)
	if err != nil || lerr != nil || !live || !set.Enabled || set.Position != "left" || set.Accent != "#4f46e5" {
		t.Fatalf("after changes: %+v %v %v %v", set, live, err, lerr)
	}
}

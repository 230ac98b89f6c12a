package erase_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/erase"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestQueuedDeletionsShareOneRewrite queues four deletions at once: the
// first runs alone, the three queued behind it are deleted together and
// share one rewrite of the database file, and every user is gone.
func TestQueuedDeletionsShareOneRewrite(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "s.duckdb"), duckstore.Options{MemoryLimit: "256MB", Threads: 2}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site, _, err := db.CreateSite(ctx, "Test", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var msgs []store.Message
	for u := range 5 {
		msgs = append(msgs, store.Message{SiteID: site.ID, Kind: store.KindTrack, UserID: fmt.Sprintf("u%d", u), Name: "x",
			MessageID: fmt.Sprintf("m%d", u), Timestamp: now, ReceivedAt: now})
	}
	if _, err := db.Write(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	svc := erase.New(db, nil, log)
	var jobs []erase.Job
	for u := range 4 {
		j, err := svc.Start(site.ID, store.Identity{Kind: "user", ID: fmt.Sprintf("u%d", u)}, store.EraseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	svc.Wait()
	done := map[time.Time]int{}
	for _, j := range jobs {
		got, ok := svc.Job(site.ID, j.ID)
		if !ok || got.Status != erase.Done || got.Receipt == nil || !got.Receipt.Rewritten {
			t.Fatalf("job %s = %+v", j.ID, got)
		}
		done[got.Receipt.DoneAt]++
	}
	if len(done) > 2 {
		t.Errorf("four queued deletions took %d rewrites, want at most 2: %v", len(done), done)
	}
	for u := range 5 {
		_, err := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: fmt.Sprintf("u%d", u)})
		if deleted := err != nil; deleted != (u < 4) {
			t.Errorf("u%d: %v", u, err)
		}
	}
	if _, ok := svc.Job(site.ID+1, jobs[0].ID); ok {
		t.Error("another site reads the job")
	}
}

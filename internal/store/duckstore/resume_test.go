package duckstore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestWritesResumeByThemselvesAfterAFullDisk fills the log's disk, frees
// it, and sends no write: the store must report writes refused while the
// disk is full and stop reporting it by itself once it has room, or a
// load balancer following /readyz would never send the write that clears
// it. The write refused meanwhile is then taken as new, not as a
// duplicate of what was decided but never logged.
func TestWritesResumeByThemselvesAfterAFullDisk(t *testing.T) {
	ctx := context.Background()
	var full atomic.Bool
	opts := duckstore.Full(duckstore.Options{MemoryLimit: "256MB", Threads: 2,
		Now: func() time.Time { return t0.Add(time.Minute) }}, full.Load)
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "s.duckdb"), opts,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site := newSite(t, db)
	write(t, db, page(site.ID, "", "u1", "m1", "/a", t0))

	full.Store(true)
	if _, err := db.Write(ctx, []store.Message{page(site.ID, "", "u1", "m2", "/b", t0)}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write on a full disk: %v, want ErrUnavailable", err)
	}
	time.Sleep(500 * time.Millisecond) // the store tries to resume meanwhile
	if h := db.Health(); h.WriteError == "" {
		t.Fatalf("disk still full: health %+v, want a write error", h)
	}

	full.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for db.Health().WriteError != "" {
		if time.Now().After(deadline) {
			t.Fatalf("the disk has room again but writes are still reported refused: %+v", db.Health())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out := write(t, db, page(site.ID, "", "u1", "m2", "/b", t0)); out[0].Duplicate {
		t.Fatal("the message refused on the full disk was taken as a duplicate")
	}
	u, err := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"})
	if err != nil || u.Events != 2 {
		t.Fatalf("user: %d events, %v; want 2", u.Events, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

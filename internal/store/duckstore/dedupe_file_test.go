package duckstore_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestDedupeWindowSavedAtClose checks the dedupe window saved at a clean
// close: the next open reads it (a hash only the file holds makes its
// message a duplicate) and removes it; a file saved at another log
// position than the database's is not used, nor is one after a crash, and
// retries stay duplicates either way.
func TestDedupeWindowSavedAtClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.duckdb")
	db := open(t, path)
	site := newSite(t, db)
	write(t, db, page(site.ID, "a1", "", "m1", "/a", t0), page(site.ID, "a1", "", "m2", "/b", t0.Add(time.Minute)))
	db.Close()
	if _, err := os.Stat(duckstore.DedupeFile(path)); err != nil {
		t.Fatalf("no dedupe window saved at close: %v", err)
	}
	// A hash only the file has: the open must take the window from it.
	if err := duckstore.AddToSavedDedupe(path, site.ID, "ghost", 0); err != nil {
		t.Fatal(err)
	}
	db = open(t, path)
	if _, err := os.Stat(duckstore.DedupeFile(path)); !os.IsNotExist(err) {
		t.Errorf("the saved window stays after the open: %v", err)
	}
	out := write(t, db, page(site.ID, "a1", "", "ghost", "/g", t0), page(site.ID, "a1", "", "m1", "/a", t0))
	if !out[0].Duplicate || !out[1].Duplicate {
		t.Errorf("with the saved window: ghost duplicate %v, m1 duplicate %v; want both", out[0].Duplicate, out[1].Duplicate)
	}
	write(t, db, page(site.ID, "a1", "", "m3", "/c", t0.Add(2*time.Minute)))
	db.Close()

	// Saved at another position: read from the database instead.
	if err := duckstore.AddToSavedDedupe(path, site.ID, "ghost-2", 1); err != nil {
		t.Fatal(err)
	}
	db = open(t, path)
	out = write(t, db, page(site.ID, "a1", "", "ghost-2", "/g", t0), page(site.ID, "a1", "", "m3", "/c", t0.Add(2*time.Minute)))
	if out[0].Duplicate || !out[1].Duplicate {
		t.Errorf("with a window of another position: ghost-2 duplicate %v (want false), m3 duplicate %v (want true)", out[0].Duplicate, out[1].Duplicate)
	}

	// A crash saves nothing; the next open reads the database.
	write(t, db, page(site.ID, "a1", "", "m4", "/d", t0.Add(3*time.Minute)))
	db.Crash()
	if _, err := os.Stat(duckstore.DedupeFile(path)); !os.IsNotExist(err) {
		t.Errorf("a window saved by a crash: %v", err)
	}
	db = open(t, path)
	defer db.Close()
	out = write(t, db, page(site.ID, "a1", "", "m4", "/d", t0.Add(3*time.Minute)), page(site.ID, "a1", "", "m2", "/b", t0.Add(time.Minute)))
	if !out[0].Duplicate || !out[1].Duplicate {
		t.Errorf("after a crash: m4 duplicate %v, m2 duplicate %v; want both", out[0].Duplicate, out[1].Duplicate)
	}
}

package duckstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestEraseUserUnderReaders erases users while readers hammer the store,
// through its methods and through the *sql.DB taken before (as the
// segment engine holds it), some keeping their rows open a while: the
// database file is swapped under them and not one read fails.
func TestEraseUserUnderReaders(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	var msgs []store.Message
	for u := range 20 {
		for i := range 50 {
			msgs = append(msgs, page(site.ID, "", fmt.Sprintf("u%d", u), fmt.Sprintf("m%d-%d", u, i), "/p", t0.Add(time.Duration(i)*time.Second)))
		}
	}
	write(t, db, msgs...)
	pool := db.SQL()
	var reads, failed atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				switch r % 3 {
				case 0: // the store's own reads
					if _, err := db.UserEvents(ctx, site.ID, store.Identity{Kind: "user", ID: "u19"}, store.EventQuery{Limit: 100}); err != nil {
						fail(err)
					}
				case 1: // a query on the pool handed out before
					var n int
					if err := pool.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE site_id = ?", site.ID).Scan(&n); err != nil {
						fail(err)
					}
				default: // rows held open across the swap
					rows, err := pool.QueryContext(ctx, "SELECT message_id FROM events WHERE site_id = ? ORDER BY message_id", site.ID)
					if err != nil {
						fail(err)
						break
					}
					for rows.Next() {
						var id string
						if err := rows.Scan(&id); err != nil {
							fail(err)
							break
						}
						time.Sleep(20 * time.Microsecond)
					}
					if err := rows.Err(); err != nil {
						fail(err)
					}
					rows.Close()
				}
				reads.Add(1)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	for u := range 3 {
		if _, err := db.EraseUser(ctx, site.ID, store.Identity{Kind: "user", ID: fmt.Sprintf("u%d", u)}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d reads during 3 erasures, %d failed", reads.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Errorf("%d of %d reads failed, the first: %v", failed.Load(), reads.Load(), firstErr.Load())
	}
	var n int
	if err := pool.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE site_id = ?", site.ID).Scan(&n); err != nil || n != 17*50 {
		t.Errorf("events left = %d, %v; want %d", n, err, 17*50)
	}
}

// TestEraseUserSwapWaitsForLongReads holds a read's rows open longer than
// the swap may wait: the erasure keeps the old file, says so, the read
// finishes, and the files are scrubbed by the next erasure.
func TestEraseUserSwapWaitsForLongReads(t *testing.T) {
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "s.duckdb"), duckstore.Options{MemoryLimit: "256MB", Threads: 2,
		SwapWait: 200 * time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site := newSite(t, db)
	write(t, db, page(site.ID, "", "a", "a1", "/p", t0), page(site.ID, "", "b", "b1", "/p", t0), page(site.ID, "", "c", "c1", "/p", t0))
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().QueryContext(ctx, "SELECT message_id FROM events")
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.EraseUser(ctx, site.ID, store.Identity{Kind: "user", ID: "a"})
	if err == nil || !strings.Contains(err.Error(), "still in use") {
		t.Errorf("erasing with a read held open = %v, want the swap to give up", err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil || n != 3 {
		t.Errorf("the held read: %d rows, %v", n, err)
	}
	rows.Close()
	if _, err := db.EraseUser(ctx, site.ID, store.Identity{Kind: "user", ID: "b"}); err != nil {
		t.Fatal(err)
	}
	var pending int
	if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM erasures WHERE scrubbed_at IS NULL").Scan(&pending); err != nil || pending != 0 {
		t.Errorf("erasures not scrubbed = %d, %v", pending, err)
	}
}

// TestSequencesContinueAfterRewrite: the rewrite copies the database,
// sequences included, so ids handed out after it never repeat one.
func TestSequencesContinueAfterRewrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.duckdb")
	db := open(t, path)
	site := newSite(t, db)
	write(t, db, page(site.ID, "", "a", "a1", "/p", t0), page(site.ID, "", "b", "b1", "/p", t0))
	next := func() int64 {
		t.Helper()
		var v int64
		if err := db.SQL().QueryRowContext(ctx, "SELECT nextval('quarantine_id')").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	var before int64
	for range 5 {
		before = next()
	}
	if _, err := db.EraseUser(ctx, site.ID, store.Identity{Kind: "user", ID: "a"}); err != nil {
		t.Fatal(err)
	}
	if after := next(); after <= before {
		t.Errorf("after the rewrite the sequence gave %d, having given %d before", after, before)
	}
	db.Close()
	db = open(t, path)
	defer db.Close()
	if after := next(); after <= before+1 {
		t.Errorf("after a restart the sequence gave %d, having given %d before", after, before+1)
	}
}

// TestEraseUserTakesQuarantined: messages of the user that the database
// refused, set aside in quarantine, go with the user; another user's stay.
func TestEraseUserTakesQuarantined(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := duckstore.Open(ctx, filepath.Join(dir, "s.duckdb"), duckstore.Refusing(duckstore.Options{MemoryLimit: "256MB", Threads: 2},
		poisoned), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site := newSite(t, db)
	const marker = "QUARANTINE-ERASE-MARKER-8080"
	write(t, db, page(site.ID, "anon-doomed", "doomed", "d1", "/ok", t0),
		page(site.ID, "anon-doomed", "", "d2-poison", "/"+marker, t0),
		page(site.ID, "", "other", "o1-poison", "/other", t0))
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if qs, err := db.QuarantinedMessages(ctx, site.ID, 10, 0); err != nil || len(qs) != 2 {
		t.Fatalf("quarantined = %v, %v", qs, err)
	}
	r, err := db.EraseUser(ctx, site.ID, store.Identity{Kind: "user", ID: "doomed"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Deleted["quarantined"] != 1 {
		t.Errorf("receipt = %+v", r)
	}
	if qs, err := db.QuarantinedMessages(ctx, site.ID, 10, 0); err != nil || len(qs) != 1 {
		t.Errorf("quarantined after = %v, %v; want the other user's", qs, err)
	}
	if found := filesWith(t, dir, marker); len(found) > 0 {
		t.Errorf("the marker is still in %v", found)
	}
}

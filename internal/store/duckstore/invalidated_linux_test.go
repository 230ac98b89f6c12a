package duckstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestInvalidatedDatabaseIsReopenedWithNothingLost makes DuckDB invalidate
// itself as a full disk does (a checkpoint that cannot be written; root
// only, on a tmpfs): the store says it must be reopened (Dead), refuses
// nothing it acknowledged, closes without error, and a reopening — what
// the server does by itself — applies every acknowledged message.
func TestInvalidatedDatabaseIsReopenedWithNothingLost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=48m"); err != nil {
		t.Skipf("mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	path := filepath.Join(dir, "s.duckdb")
	db := open(t, path)
	site := newSite(t, db)
	var acked []string
	send := func(prefix string, n int) {
		t.Helper()
		var msgs []store.Message
		for i := range n {
			id := fmt.Sprintf("%s-%d", prefix, i)
			msgs = append(msgs, page(site.ID, fmt.Sprintf("a%d", i%7), "", id, "/p", t0.Add(time.Duration(i)*time.Second)))
		}
		if _, err := db.Write(context.Background(), msgs); err == nil {
			for _, m := range msgs {
				acked = append(acked, m.MessageID)
			}
		}
	}
	send("before", 2000)
	if err := db.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Fill the disk, then make DuckDB write its file: the checkpoint fails
	// and the instance is invalidated.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := filler.Write(make([]byte, 64<<10)); err != nil {
			break
		}
	}
	filler.Close()
	if _, err := db.SQL().Exec("CHECKPOINT"); err == nil {
		t.Skip("the checkpoint found room on the full disk")
	}
	os.Remove(filepath.Join(dir, "filler")) // the log has room again; the database stays invalid
	send("after", 500)
	select {
	case <-db.Dead():
	case <-time.After(30 * time.Second):
		t.Fatalf("the store did not tell that its database must be reopened; health %+v", db.Health())
	}
	if h := db.Health(); h.ApplyError == "" {
		t.Errorf("health does not name the failure: %+v", h)
	}
	if err := db.Close(); err != nil {
		t.Errorf("Close of an invalidated store: %v", err)
	}
	db = open(t, path)
	defer db.Close()
	if err := db.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if stored, quarantined := accounted(t, db, acked); stored != len(acked) || quarantined != 0 {
		t.Errorf("%d of %d acknowledged messages stored after reopening, %d quarantined", stored, len(acked), quarantined)
	}
}

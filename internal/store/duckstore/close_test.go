package duckstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestCloseWithATransactionLeftOpen closes a database while an idle
// pooled connection holds a write transaction that nobody will end (what
// a cancelled query or a caller's bug can leave behind), one that updated
// a row, so that it holds DuckDB's checkpoint lock. The close's
// checkpoint must not wait for it: CHECKPOINT refuses ("other write
// transactions active"), and the FORCE CHECKPOINT that followed waited
// for ever, which hung a server's shutdown in the tests. After the
// reopen the committed row must be there, and the abandoned changes not.
func TestCloseWithATransactionLeftOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.duckdb")
	db := open(t, path)
	newSite(t, db)
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE IF NOT EXISTS leftover (n INTEGER)", "INSERT INTO leftover VALUES (1)",
		"BEGIN TRANSACTION", "INSERT INTO leftover VALUES (2)", "UPDATE leftover SET n = 3 WHERE n = 1"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close() // back to the pool, its transaction still open

	done := make(chan error, 1)
	go func() { done <- db.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Close still waiting after 60s")
	}

	db = open(t, path)
	defer db.Close()
	var n, sum int
	if err := db.SQL().QueryRowContext(ctx, "SELECT count(*), coalesce(sum(n), 0) FROM leftover").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 1 || sum != 1 {
		t.Errorf("after the reopen leftover has %d rows summing to %d, want the committed row alone", n, sum)
	}
	if len(db.Sites(ctx)) != 1 {
		t.Errorf("sites after the reopen: %v", db.Sites(ctx))
	}
}

package engine_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// slowQuery would take DuckDB hours.
const slowQuery = "SELECT count(*) FROM range(1000000000000) t(i) WHERE hash(i) % 1000003 = 7"

// TestQueryTimeoutInterruptsDuckDB checks that the timeout stops the
// query in the database (the driver interrupts the connection when the
// context ends), that the answer is ErrTimeout and comes promptly, and
// that the connection then serves the next query.
func TestQueryTimeoutInterruptsDuckDB(t *testing.T) {
	ctx := context.Background()
	db, site := openStore(t, time.Now())
	const timeout = 300 * time.Millisecond
	e := engine.New(db, compiler.DuckDB{}, nil).WithQueryTimeout(timeout)
	for range 3 {
		start := time.Now()
		var n int64
		err := e.RunQuery(ctx, slowQuery, &n)
		// Generous for a loaded machine; without the interrupt the query
		// would run for hours.
		took := time.Since(start)
		if !errors.Is(err, engine.ErrTimeout) || took > timeout+5*time.Second {
			t.Fatalf("slow query: %v after %s, want ErrTimeout soon after %s", err, took, timeout)
		}
		t.Logf("interrupted after %s", took)
		if err := e.RunQuery(ctx, "SELECT 42", &n); err != nil || n != 42 {
			t.Fatalf("next query: %d, %v", n, err)
		}
	}

	// A caller that gives up is not a timeout.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	var n int64
	if err := engine.New(db, compiler.DuckDB{}, nil).RunQuery(cctx, slowQuery, &n); errors.Is(err, engine.ErrTimeout) ||
		!errors.Is(err, context.Canceled) {
		t.Fatalf("canceled by the caller: %v", err)
	}

	// Every way of evaluating a segment goes through the timeout.
	tiny := engine.New(db, compiler.DuckDB{}, nil).WithQueryTimeout(time.Nanosecond)
	seg := &segment.Event{Name: "e"}
	_, err := tiny.Count(ctx, site.ID, seg)
	checkTimeout(t, "Count", err)
	_, _, err = tiny.Preview(ctx, site.ID, seg, 10, nil)
	checkTimeout(t, "Preview", err)
	_, err = tiny.SizesAt(ctx, site.ID, seg, []time.Time{time.Now().Add(-time.Hour)})
	checkTimeout(t, "SizesAt", err)
	_, err = tiny.MembersAmong(ctx, site.ID, seg, []int64{1})
	checkTimeout(t, "MembersAmong", err)
	_, err = tiny.Contains(ctx, site.ID, seg, 1)
	checkTimeout(t, "Contains", err)
}

func checkTimeout(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, engine.ErrTimeout) {
		t.Errorf("%s with a timeout of 1ns: %v, want ErrTimeout", what, err)
	}
}

// TestOutOfMemoryIsTooExpensive checks that a query beyond the database's
// memory limit is reported as ErrTooExpensive, not as a failure of the
// server.
func TestOutOfMemoryIsTooExpensive(t *testing.T) {
	db, err := duckstore.Open(context.Background(), filepath.Join(t.TempDir(), "s.duckdb"),
		duckstore.Options{MemoryLimit: "32MB", Threads: 1}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := engine.New(db, compiler.DuckDB{}, nil)
	var n int64
	err = e.RunQuery(context.Background(), "SELECT length(list(i)) FROM range(50000000) t(i)", &n)
	if !errors.Is(err, engine.ErrTooExpensive) {
		t.Fatalf("a 400 MB list under 32 MB: %v, want ErrTooExpensive", err)
	}
}

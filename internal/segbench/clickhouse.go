package segbench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// OpenClickHouse opens the ClickHouse database at dsn, and copies the
// data folder's site into it (chstore.Copy, the core of sightline
// migrate) when its events table is empty; then it merges the versioned
// tables' parts, as a loaded database would have them after a while.
func OpenClickHouse(ctx context.Context, dsn string, db *duckstore.DB, progress io.Writer) (*chstore.DB, error) {
	ch, err := chstore.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	var rows uint64
	if err := ch.SQL().QueryRowContext(ctx, "SELECT count() FROM events").Scan(&rows); err != nil {
		ch.Close()
		return nil, err
	}
	if rows > 0 {
		return ch, nil
	}
	fmt.Fprintln(progress, "copying the data into ClickHouse…")
	start := time.Now()
	n, err := ch.Copy(ctx, db.SQL())
	if err != nil {
		ch.Close()
		return nil, err
	}
	var total int64
	for _, c := range n {
		total += c
	}
	for _, t := range []string{"identities", "attr_current", "sessions", "attr_keys"} {
		if _, err := ch.SQL().ExecContext(ctx, "OPTIMIZE TABLE "+t+" FINAL"); err != nil {
			ch.Close()
			return nil, err
		}
	}
	fmt.Fprintf(progress, "copied %d rows in %s\n", total, time.Since(start).Round(time.Second))
	return ch, nil
}

// onClickHouse is the engine's store with its queries on ClickHouse and
// the rest (saved segments, change counters, attributes of member pages,
// read by the same keys, which the copy keeps) on the data folder.
type onClickHouse struct {
	*duckstore.DB
	ch *chstore.DB
}

// OnClickHouse returns the store for engine.New that runs the compiled
// queries on ch.
func OnClickHouse(db *duckstore.DB, ch *chstore.DB) engine.Store { return onClickHouse{DB: db, ch: ch} }

// SQL is ClickHouse's.
func (s onClickHouse) SQL() *sql.DB { return s.ch.SQL() }

// Sync has nothing to wait for: the copy is done.
func (s onClickHouse) Sync(context.Context) error { return nil }

// OutOfMemory is ClickHouse's.
func (s onClickHouse) OutOfMemory(err error) bool { return s.ch.OutOfMemory(err) }

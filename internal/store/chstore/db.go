// Package chstore keeps the analytics data in ClickHouse: the tables the
// segment engine reads (through compiler.ClickHouse), and a bulk copy of
// them from a duckstore data folder, the core of moving a site from the
// embedded store to the scaled one. Control data (sites, tokens, saved
// segments, surveys) goes to PostgreSQL in the scaled design and is not
// here.
//
// ClickHouse 18.16 (Debian's package) is the oldest release supported;
// docs/scale-out-design.md records what it accepts. Rows are only ever
// inserted in batches with an explicit column list: an INSERT … VALUES
// sent as a query makes 18.16 wait for a data block that never comes.
package chstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// DB is a ClickHouse database holding the analytics tables.
type DB struct {
	sql  *sql.DB     // queries, through database/sql
	conn driver.Conn // batch inserts, on the native interface
}

// Open connects to the database a clickhouse:// DSN names and creates
// the tables it does not have yet.
func Open(ctx context.Context, dsn string) (*DB, error) {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("clickhouse DSN: %w", err)
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to clickhouse: %w", err)
	}
	db := &DB{sql: clickhouse.OpenDB(opts), conn: conn}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// migrate creates the tables that do not exist.
func (db *DB) migrate(ctx context.Context) error {
	had := map[string]bool{}
	for _, v := range fillViews {
		var n uint8
		if err := db.sql.QueryRowContext(ctx, "EXISTS TABLE "+v.table).Scan(&n); err != nil {
			return fmt.Errorf("look for %s: %w", v.table, err)
		}
		had[v.table] = n == 1
	}
	for _, t := range tables() {
		if err := db.conn.Exec(ctx, t.create()); err != nil {
			return fmt.Errorf("create table %s: %w", t.name, err)
		}
		if err := db.addDefaults(ctx, t); err != nil {
			return err
		}
	}
	for _, v := range fillViews {
		if err := db.conn.Exec(ctx, "CREATE MATERIALIZED VIEW IF NOT EXISTS "+v.view+" TO "+v.table+" AS "+v.rows); err != nil {
			return fmt.Errorf("create %s: %w", v.view, err)
		}
		if !had[v.table] {
			// Events stored before the view existed. Rows the view
			// added meanwhile are repeated, which readers' grouping
			// absorbs.
			if err := db.conn.Exec(ctx, "INSERT INTO "+v.table+" "+v.rows); err != nil {
				return fmt.Errorf("fill %s: %w", v.table, err)
			}
		}
	}
	return nil
}

// addDefaults adds to a table made before them its columns with
// defaults, which its rows then read (18.16 has no ADD COLUMN IF NOT
// EXISTS).
func (db *DB) addDefaults(ctx context.Context, t table) error {
	if len(t.defaults) == 0 {
		return nil
	}
	rows, err := db.sql.QueryContext(ctx, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ?", t.name)
	if err != nil {
		return fmt.Errorf("read the columns of %s: %w", t.name, err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("read the columns of %s: %w", t.name, err)
		}
		have[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the columns of %s: %w", t.name, err)
	}
	for _, c := range t.columns {
		if _, ok := t.defaults[c.name]; !ok || have[c.name] {
			continue
		}
		if err := db.conn.Exec(ctx, "ALTER TABLE "+t.name+" ADD COLUMN "+t.spec(c)); err != nil {
			return fmt.Errorf("add column %s to %s: %w", c.name, t.name, err)
		}
	}
	return nil
}

// Close closes the connections.
func (db *DB) Close() error {
	return errors.Join(db.sql.Close(), db.conn.Close())
}

// SQL is the database the compiled queries run on (engine.Store).
func (db *DB) SQL() *sql.DB { return db.sql }

// Sync implements engine.Store: every row inserted is already
// queryable, as inserts are synchronous.
func (db *DB) Sync(context.Context) error { return nil }

// OutOfMemory reports whether err is ClickHouse refusing a query for want
// of memory (MEMORY_LIMIT_EXCEEDED).
func (db *DB) OutOfMemory(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == 241
}

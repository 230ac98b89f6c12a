// Package scaled is the analytics store of the scaled deployment: rows in
// ClickHouse, decisions in PostgreSQL (docs/scale-out-design.md, c). It
// implements the roles that ingestion and the read API use (store.Writer,
// store.Merger, store.Reader, store.TypeChanger, store.RecentActivity) so
// that several nodes can write and read one site at once:
//
//   - PostgreSQL decides what must be decided once: entity keys of new
//     external IDs, merges (flattened chains, numbered), the type of a new
//     attribute key, which session a message joins, whether a message ID
//     was seen before, and the current attribute values a new one is
//     compared with (pgstore's migration 020). A write holds its sites'
//     advisory locks for its transaction, so the nodes decide one batch of
//     a site after the other.
//   - ClickHouse gets rows only, in the schema of chstore (which the
//     segment engine's ClickHouse dialect reads): identities, events,
//     sessions (new versions of a ReplacingMergeTree), attribute history
//     and current values, company links, and identity_overrides for
//     merges, never an update. Rows are inserted before the PostgreSQL
//     transaction commits, so a decision is never visible without its
//     rows, and Write returns once both are done: no log, no applier.
//
// One user's reads ask PostgreSQL for the user's key and the keys merged
// into it, then read ClickHouse restricted to those keys; the attribute
// catalog reads every key through the overrides, as the engine does.
package scaled

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/store/composite"
	"github.com/sightline/sightline/internal/store/pgstore"
)

// The analytical half of the composite store that `sightline serve
// --clickhouse` runs (composite.Half: every analytical role, and the hooks
// for the control half's decisions).
var _ composite.Half = (*DB)(nil)

// Options tunes a DB; the zero value is usable.
type Options struct {
	// Now is the clock of the store's own stamps (identities' creation,
	// the dedupe window). Default time.Now.
	Now func() time.Time
	// SessionIdle ends a session after this long without a message
	// (default 30 minutes); SessionMax is a session's longest span
	// (default 4 hours).
	SessionIdle, SessionMax time.Duration
	// DedupeWindow is how long a message ID is remembered (default 7
	// days, by the store's clock).
	DedupeWindow time.Duration
	// MaxAttrKeys is the most attribute keys a site may have (default
	// 1000, as duckstore).
	MaxAttrKeys int
	// Node names this process in what it leaves in PostgreSQL (its
	// log's applied position, the quarantine); default "node". Two
	// processes never share a name.
	Node string
	// WALDir, when set, is the folder of the node's write-ahead log:
	// Write acknowledges once messages are in it, and an applier stores
	// them (wal.go). Empty: Write stores them before it returns.
	WALDir string
	// SegmentSize is the size of the log's files (default 64 MiB).
	SegmentSize int64
	// MaxApply bounds the messages applied in one transaction (default
	// 20,000); MaxBacklog is how many may wait to be applied before Write
	// waits, at most BacklogWait, then answers store.ErrBusy (defaults
	// 20,000 and 10 seconds).
	MaxApply, MaxBacklog int
	BacklogWait          time.Duration
	// SyncWait bounds how long a read waits for this node's acknowledged
	// writes to be applied (default 5 seconds), then store.ErrLagging.
	SyncWait time.Duration
	// Log is where the store reports; default: nowhere.
	Log *slog.Logger
	// MaxConns bounds the PostgreSQL pool (0: pgx's default).
	MaxConns int32
	// SessionKeep is how long a session no message joined is kept in
	// PostgreSQL for later messages to join (default 7 days); ClickHouse
	// keeps it for good.
	SessionKeep time.Duration
	// EventUsersKeep is the least time an EventUsers answer is kept
	// (default 30 seconds, as duckstore).
	EventUsersKeep time.Duration
}

// DB is one node's handle on the scaled analytics store.
type DB struct {
	opts    Options
	pg      *pgxpool.Pool
	ch      driver.Conn  // batches and queries, on the native interface
	chstore *chstore.DB  // the engine's database/sql handle
	lastGC  atomic.Int64 // when message IDs were last collected, in Unix nanoseconds
	users   userCounts   // EventUsers' answers
	wake    alertWake    // who to tell of alert causes recorded
	log     *logState    // the node's write-ahead log; nil without one
	// predicted are the attribute keys this node's acknowledged writes
	// will create (check.go); guarded by the log's appendMu.
	predicted predictions
}

// Open connects to ClickHouse (a clickhouse:// DSN) and PostgreSQL (a
// postgres:// DSN), creating ClickHouse's tables and migrating
// PostgreSQL (pgstore's migrations, which hold this package's tables).
func Open(ctx context.Context, chDSN, pgDSN string, opts Options) (*DB, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionIdle == 0 {
		opts.SessionIdle = 30 * time.Minute
	}
	if opts.SessionMax == 0 {
		opts.SessionMax = 4 * time.Hour
	}
	if opts.DedupeWindow == 0 {
		opts.DedupeWindow = 7 * 24 * time.Hour
	}
	if opts.MaxAttrKeys == 0 {
		opts.MaxAttrKeys = 1000
	}
	if opts.Node == "" {
		opts.Node = "node"
	}
	if opts.SegmentSize == 0 {
		opts.SegmentSize = 64 << 20
	}
	if opts.MaxApply == 0 {
		opts.MaxApply = 20_000
	}
	if opts.MaxBacklog == 0 {
		opts.MaxBacklog = 20_000
	}
	if opts.BacklogWait == 0 {
		opts.BacklogWait = 10 * time.Second
	}
	if opts.SyncWait == 0 {
		opts.SyncWait = 5 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.SessionKeep == 0 {
		opts.SessionKeep = 7 * 24 * time.Hour
	}
	if opts.EventUsersKeep == 0 {
		opts.EventUsersKeep = 30 * time.Second
	}
	ctl, err := pgstore.OpenWith(ctx, pgDSN, pgstore.Options{Now: opts.Now, MaxConns: 2})
	if err != nil {
		return nil, err
	}
	ctl.Close()
	cfg, err := pgxpool.ParseConfig(pgDSN)
	if err != nil {
		return nil, fmt.Errorf("parse PostgreSQL DSN: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pg, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	cs, err := chstore.Open(ctx, chDSN)
	if err != nil {
		pg.Close()
		return nil, err
	}
	chOpts, err := clickhouse.ParseDSN(chDSN)
	if err != nil {
		pg.Close()
		cs.Close()
		return nil, fmt.Errorf("clickhouse DSN: %w", err)
	}
	ch, err := clickhouse.Open(chOpts)
	if err != nil {
		pg.Close()
		cs.Close()
		return nil, fmt.Errorf("connect to clickhouse: %w", err)
	}
	db := &DB{opts: opts, pg: pg, ch: ch, chstore: cs}
	if err := ch.Exec(ctx, rejectionsTable); err != nil {
		db.Close()
		return nil, fmt.Errorf("create table attr_rejections: %w", err)
	}
	if opts.WALDir != "" {
		if err := db.openLog(ctx, opts.WALDir); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// rejectionsTable keeps the attribute values refused for their key's type
// (duckstore's attr_rejections); chstore's tables have no such table, as
// the segment engine does not read it.
const rejectionsTable = `CREATE TABLE IF NOT EXISTS attr_rejections (site_id Int64, entity UInt8,
	key String, expected UInt8, received String, value String, entity_key Int64, message_id String, at Int64,
	wal_node UInt64, wal_lsn UInt64)
	ENGINE = MergeTree ORDER BY (site_id, key, at)`

// Close refuses further writes, applies what the node's log holds (what
// it cannot is replayed at the next start), and closes the connections.
func (db *DB) Close() error {
	err := db.closeLog()
	db.pg.Close()
	return errors.Join(err, db.ch.Close(), db.chstore.Close())
}

// SQL is ClickHouse's database/sql handle, for the segment engine
// (compiler.ClickHouse).
func (db *DB) SQL() *sql.DB { return db.chstore.SQL() }

// micros is t as stored in ClickHouse: microseconds since the epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros reads a ClickHouse time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// OutOfMemory reports whether err is ClickHouse refusing a query for want
// of memory (engine.Store).
func (db *DB) OutOfMemory(err error) bool { return db.chstore.OutOfMemory(err) }

// Dead is closed when the store cannot go on until it is reopened;
// nothing here needs that.
func (db *DB) Dead() <-chan struct{} { return nil }

// DeadErr is why Dead was closed.
func (db *DB) DeadErr() error { return nil }

// RunLayout has nothing to keep: ClickHouse merges its parts itself. It
// returns when ctx ends.
func (db *DB) RunLayout(ctx context.Context, _ time.Duration) { <-ctx.Done() }

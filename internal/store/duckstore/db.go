// Package duckstore keeps Sightline's data in an embedded DuckDB database: the
// default store, needing nothing but a data folder.
package duckstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/wal"
)

// Compile-time checks that DB provides every role.
var (
	_ store.Writer      = (*DB)(nil)
	_ store.Merger      = (*DB)(nil)
	_ store.Reader      = (*DB)(nil)
	_ store.Catalog     = (*DB)(nil)
	_ store.TypeChanger = (*DB)(nil)
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Options tune the store. The zero value of a field takes its default.
type Options struct {
	// MemoryLimit bounds DuckDB's buffer manager, e.g. "256MB".
	MemoryLimit string
	// CheckpointThreshold is the WAL size that triggers a checkpoint. Each
	// checkpoint rewrites the tables' last, partly filled row groups, so
	// DuckDB's default (16MB) makes ingestion spend half its time
	// checkpointing; 64MB halves that cost. Larger values also lengthen
	// recovery after a crash.
	CheckpointThreshold string
	// Threads is DuckDB's worker thread count; 0 means one per core.
	Threads int
	// MaxAttrKeys is how many attribute keys (users and companies together)
	// a site may have; values for further keys are rejected.
	MaxAttrKeys int
	// DedupeWindow is how many recent message IDs are remembered to drop
	// retried messages, in memory and again after a restart.
	DedupeWindow int
	// IdentityCache is how many external IDs are kept in memory.
	IdentityCache int
	// SessionIdle ends a session after this much inactivity (30 minutes).
	SessionIdle time.Duration
	// SessionMax caps a session's length (4 hours).
	SessionMax time.Duration
	// WALDir is the write-ahead log's folder (default: beside the database
	// file, in wal/).
	WALDir string
	// MaxBacklog is how many logged messages may wait to be applied before
	// Write waits (see BacklogWait).
	MaxBacklog int
	// BacklogWait is how long a write waits for the backlog to shrink
	// before giving up with store.ErrBusy.
	BacklogWait time.Duration
	// MaxApply bounds the messages applied in one database transaction.
	MaxApply int
	// SyncWait bounds how long a read waits for acknowledged writes to be
	// applied before it gives up with store.ErrLagging (5s).
	SyncWait time.Duration
	// BulkChunkRows is how many rows a bulk load commits at once (2M).
	BulkChunkRows int
	// EventUsersKeep is the least time a count of users per event is
	// kept before it is counted again (30s; see EventUsers).
	EventUsersKeep time.Duration
	// SwapWait bounds how long a user's erasure waits for the reads in
	// flight to finish before it swaps the rewritten database file in (30s);
	// new reads wait meanwhile.
	SwapWait time.Duration
	// Now is the clock; tests set it.
	Now func() time.Time
	// refuse, in tests only, makes the database refuse the messages it
	// picks when applying them, as it would refuse data it cannot store.
	refuse func(*store.Message) bool
	// full, in tests only, makes the write-ahead log's folder refuse
	// appends and probes while it returns true, as a full disk would.
	full func() bool
	// foldAt, in tests only, replaces catalogFoldAt.
	foldAt int64
	// clusterSlice, in tests only, replaces clusterSlice.
	clusterSlice int64
}

func (o *Options) defaults() {
	if o.CheckpointThreshold == "" {
		o.CheckpointThreshold = "64MB"
	}
	if o.MaxAttrKeys == 0 {
		o.MaxAttrKeys = 1000
	}
	if o.DedupeWindow == 0 {
		o.DedupeWindow = 1 << 20
	}
	if o.IdentityCache == 0 {
		o.IdentityCache = 1 << 18
	}
	if o.SessionIdle == 0 {
		o.SessionIdle = 30 * time.Minute
	}
	if o.SessionMax == 0 {
		o.SessionMax = 4 * time.Hour
	}
	if o.MaxBacklog == 0 {
		o.MaxBacklog = 20_000
	}
	if o.BacklogWait == 0 {
		o.BacklogWait = 10 * time.Second
	}
	if o.MaxApply == 0 {
		o.MaxApply = 50_000
	}
	if o.SyncWait == 0 {
		o.SyncWait = 5 * time.Second
	}
	if o.BulkChunkRows == 0 {
		o.BulkChunkRows = 2_000_000
	}
	if o.clusterSlice == 0 {
		o.clusterSlice = clusterSlice
	}
	if o.foldAt == 0 {
		o.foldAt = catalogFoldAt
	}
	if o.EventUsersKeep == 0 {
		o.EventUsersKeep = 30 * time.Second
	}
	if o.SwapWait == 0 {
		o.SwapWait = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// DB is the DuckDB store. It is safe for concurrent use.
//
// Writes go through two stages. Write decides (drops retried messages,
// types attributes against the catalog), appends the decided messages to
// the write-ahead log with one fsync, and returns: that is the
// acknowledgement. An applier goroutine then writes everything logged to
// DuckDB in large transactions. Readers call Sync first, which waits until
// the applier has caught up with what was logged before the read began.
type DB struct {
	// sql is the connection pool, for the life of the store. A user's
	// erasure rewrites the database file and swaps the database under the
	// pool's connector (see rewriteFile), which no read notices.
	sql  *sql.DB
	swap *swapConnector // sql's
	dsn  string         // the database file and its settings, for reopening it
	log  *slog.Logger
	opts Options
	path string // the database file

	// gate is held for reading by writes that go to the database outside
	// wmu (recordings, surveys, feedback, accounts, settings) and for
	// writing while the database file is rewritten, so that none of them
	// lands in the file being replaced.
	gate sync.RWMutex

	sites    siteCache
	tokenUse tokenUse
	// catalogMu serialises writes to accounts, sessions, invitations and
	// tokens: DuckDB refuses one of two concurrent transactions updating
	// the same row ("Conflict on update"), as two requests of one browser
	// touching its session would.
	catalogMu sync.Mutex

	seqMu  sync.Mutex // guards seq, walBuf, closed, stale, staleSize, resuming; held while logging
	seq    sequencer
	wal    *wal.Log
	walBuf []byte
	closed bool
	// stale is set when a log append failed after the sequencer decided:
	// its memory holds decisions that never reached the disk, so it is
	// rebuilt from the database before the next write is decided.
	// staleSize is the size of that append; resuming is set while
	// resumeWrites runs.
	stale     error
	staleSize int
	resuming  bool

	closing chan struct{}  // closed by Close: background work stops
	drained chan struct{}  // the applier has drained after a failed log append
	bg      sync.WaitGroup // background work: resumeWrites

	applyMu     sync.Mutex // guards the fields below; applyCond waits on it
	applyCond   *sync.Cond
	pending     []pendingBatch
	pendingMsgs int
	loggedLSN   uint64
	appliedLSN  uint64
	stopApply   bool
	pauseApply  bool // tests only: leave logged messages unapplied
	applierDone chan struct{}
	applyErr    error         // the last application's failure, nil once one succeeds
	dead        chan struct{} // closed when the database must be reopened
	deadErr     error
	walErr      error // stale, for readers that must not wait for seqMu
	quarantined int64 // messages set aside since the start

	wmu   sync.Mutex // serialises database writes and guards w and wconn
	wconn *sql.Conn  // the one connection that writes
	w     *writerState

	recMu sync.Mutex // serialises writes to the recording tables

	alerts alertWatch // the cause kinds each site's alert rules need
	// erasedKeys are the users deleted since the store opened: alert
	// messages made from their data before the deletion are not queued
	// after it. Written under gate held exclusively, read under it shared.
	erasedKeys map[int64]struct{}

	vers *versions // change counters for caches of segment answers

	users userCounts // users per event, counted when asked

	selectors clickSelectors // the selector keys written to click_selectors
}

// Open opens (creating when missing) the database file at path, applies
// pending schema migrations and loads the writer's state.
func Open(ctx context.Context, path string, opts Options, log *slog.Logger) (*DB, error) {
	opts.defaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	dsn := path
	var params []string
	if opts.MemoryLimit != "" {
		params = append(params, "memory_limit="+opts.MemoryLimit)
	}
	if opts.CheckpointThreshold != "" {
		params = append(params, "checkpoint_threshold="+opts.CheckpointThreshold)
	}
	if opts.Threads > 0 {
		params = append(params, fmt.Sprintf("threads=%d", opts.Threads))
	}
	if len(params) > 0 {
		dsn += "?" + strings.Join(params, "&")
	}
	connector, err := newSwapConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	db := &DB{dsn: dsn, log: log, opts: opts, path: path, applierDone: make(chan struct{}),
		closing: make(chan struct{}), drained: make(chan struct{}, 1), vers: &versions{}, dead: make(chan struct{})}
	db.sql = sql.OpenDB(connector)
	db.sql.SetMaxIdleConns(poolIdle)
	db.swap = connector
	db.applyCond = sync.NewCond(&db.applyMu)
	db.users.init()
	removeRewriteLeftovers(path)
	if err := db.migrate(ctx); err != nil {
		db.pool().Close()
		return nil, err
	}
	// DuckDB creates its files as the umask allows (0644 under the usual
	// 022); they hold every user's data, so only the owner reads them.
	for _, p := range []string{path, path + ".wal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			db.pool().Close()
			return nil, fmt.Errorf("make %s owner-only: %w", p, err)
		}
	}
	if err := db.sites.load(ctx, db.pool()); err != nil {
		db.pool().Close()
		return nil, err
	}
	if err := db.loadAlertWatch(ctx); err != nil {
		db.sql.Close()
		return nil, err
	}
	db.wconn, err = db.pool().Conn(ctx)
	if err != nil {
		db.pool().Close()
		return nil, fmt.Errorf("open write connection: %w", err)
	}
	if err := db.rebuildEventCatalogIfStale(ctx); err != nil {
		db.closeDB()
		return nil, err
	}
	if err := db.foldClickSelectors(ctx); err != nil {
		db.closeDB()
		return nil, err
	}
	if err := db.loadWriter(ctx); err != nil {
		db.closeDB()
		return nil, err
	}
	// The window saved at the last clean close is taken (the file
	// removed) before the log is replayed, the first write since.
	saved, savedLSN, haveSaved, err := takeDedupe(path, opts.DedupeWindow)
	if err != nil {
		log.Warn("saved dedupe window not used", "err", err)
	}
	walDir := opts.WALDir
	if walDir == "" {
		walDir = filepath.Join(filepath.Dir(path), "wal")
	}
	applied, err := db.recover(ctx, walDir)
	if err != nil {
		db.closeDB()
		return nil, err
	}
	if haveSaved && savedLSN == applied && db.appliedLSN == applied {
		err = db.loadSequencerWith(ctx, saved)
	} else {
		err = db.loadSequencer(ctx)
	}
	if err == nil {
		err = db.scrubPending(ctx)
	}
	if err != nil {
		db.wal.Close()
		db.closeDB()
		return nil, err
	}
	go db.runApplier()
	return db, nil
}

// recover opens the write-ahead log and applies what it holds beyond the
// database's last applied position: messages acknowledged before a crash.
// It returns the position the database had applied before.
func (db *DB) recover(ctx context.Context, dir string) (uint64, error) {
	var applied int64
	if err := db.pool().QueryRowContext(ctx, "SELECT applied_lsn FROM wal_state").Scan(&applied); err != nil {
		return 0, fmt.Errorf("read applied log position: %w", err)
	}
	l, err := wal.Open(dir, 64<<20)
	if err != nil {
		return 0, fmt.Errorf("open write-ahead log: %w", err)
	}
	if err := l.Advance(uint64(applied) + 1); err != nil {
		l.Close()
		return 0, err
	}
	db.wal = l
	start := time.Now()
	var work []pendingBatch
	var n, total int
	flush := func() error {
		if len(work) == 0 {
			return nil
		}
		if _, err := db.applyPending(ctx, work); err != nil {
			return err
		}
		total += n
		work, n = work[:0], 0
		return nil
	}
	err = l.Replay(uint64(applied), func(lsn uint64, payload []byte) error {
		ds, err := decodeBatch(payload)
		if err != nil {
			// A record this version cannot read must not stop the start:
			// it is set aside whole, in order.
			if err := flush(); err != nil {
				return err
			}
			return db.quarantineRecord(ctx, lsn, payload, err)
		}
		work = append(work, pendingBatch{lsn: lsn, ds: ds})
		n += len(ds)
		if n >= db.opts.MaxApply {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		l.Close()
		return 0, fmt.Errorf("replay write-ahead log: %w", err)
	}
	db.loggedLSN = l.LastLSN()
	db.appliedLSN = db.loggedLSN
	if total > 0 {
		db.log.Info("replayed write-ahead log", "messages", total, "took", time.Since(start).Round(time.Millisecond))
	}
	return uint64(applied), l.Remove(db.appliedLSN)
}

// Close refuses further writes, applies everything logged, then
// checkpoints and closes the database. Every acknowledged write is on disk
// either way: what the applier could not finish is in the log.
func (db *DB) Close() error {
	db.seqMu.Lock()
	already := db.closed
	db.closed = true
	db.seqMu.Unlock()
	if already {
		return nil
	}
	close(db.closing)
	db.bg.Wait()
	db.applyMu.Lock()
	db.stopApply = true
	db.applyMu.Unlock()
	db.applyCond.Broadcast()
	<-db.applierDone
	db.users.stop()
	db.saveDedupe()
	return errors.Join(db.wal.Close(), db.closeDB())
}

// saveDedupe saves the dedupe window for the next open when everything
// logged is applied; otherwise the next open finds the window in the
// database. Failing to save only makes the next start slower.
func (db *DB) saveDedupe() {
	db.applyMu.Lock()
	clean := db.appliedLSN == db.loggedLSN && db.applyErr == nil && db.deadErr == nil
	lsn := db.appliedLSN
	db.applyMu.Unlock()
	db.seqMu.Lock()
	defer db.seqMu.Unlock()
	if !clean || db.stale != nil || db.seq.seen == nil {
		return
	}
	if err := saveDedupe(db.path, lsn, db.seq.seen); err != nil {
		db.log.Warn("dedupe window not saved; the next start reads it from the database", "err", err)
	}
}

// closeDB checkpoints and closes the database connections.
func (db *DB) closeDB() error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var errs []error
	if db.wconn != nil {
		// At close every acknowledged write is committed or in the log, so
		// a transaction still open on an idle pooled connection answered
		// nobody: closing those connections rolls it back. (FORCE
		// CHECKPOINT waits for such a transaction to end instead, which
		// never comes: it hung a server's shutdown.)
		_, err := db.wconn.ExecContext(context.Background(), "CHECKPOINT")
		if err != nil && strings.Contains(err.Error(), "other write transactions active") {
			// Worth knowing: some code left a transaction open.
			db.log.Warn("a write transaction was still open at close; closing the idle connections", "err", err)
			db.pool().SetMaxIdleConns(0)
			_, err = db.wconn.ExecContext(context.Background(), "CHECKPOINT")
		}
		if err != nil && strings.Contains(err.Error(), "other write transactions active") {
			// A connection still in use writes: the checkpoint is left to
			// the next open, which replays DuckDB's own log; nothing is
			// lost.
			db.log.Warn("no checkpoint at close: a connection in use holds a write transaction", "err", err)
			err = nil
		}
		// An invalidated database can be neither checkpointed nor written:
		// what it did not apply is in the write-ahead log for the next open.
		if err != nil && !invalidated(err) {
			errs = append(errs, fmt.Errorf("checkpoint: %w", err))
		}
		errs = append(errs, db.wconn.Close())
		db.wconn = nil
	}
	errs = append(errs, db.pool().Close())
	return errors.Join(errs...)
}

// SQL returns the underlying database handle, for packages of this module
// that compile their own queries (segments) and for tests.
func (db *DB) SQL() *sql.DB { return db.pool() }

// pool returns the current connection pool.
func (db *DB) pool() *sql.DB { return db.sql }

// poolIdle is how many idle connections the pool keeps (database/sql's
// default).
const poolIdle = 2

// migrate applies the embedded schema files the database has not had yet,
// in version order, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.pool().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	// Every version not yet applied is applied, not only those above the
	// highest: branches number their migrations apart, and one merged
	// later may bring a lower number than a database already has.
	applied := map[int]bool{}
	rows, err := db.pool().QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("read schema versions: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read schema versions: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema versions: %w", err)
	}
	names, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		var version int
		if _, err := fmt.Sscanf(filepath.Base(name), "%03d_", &version); err != nil {
			return fmt.Errorf("BUG: migration %s has no version prefix", name)
		}
		if applied[version] {
			continue
		}
		body, err := schemaFS.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read migration %s: %w", name, err)
		}
		tx, err := db.pool().BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("apply migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (?, ?, ?)",
			version, filepath.Base(name), time.Now().UTC()); err != nil {
			tx.Rollback()
			return fmt.Errorf("record migration %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit migration %s: %w", name, err)
		}
		db.log.Info("schema migrated", "version", version, "name", filepath.Base(name))
	}
	return nil
}

// OutOfMemory reports whether err, from a query on SQL, is DuckDB refusing
// it for want of memory: the query needed more than MemoryLimit.
func (db *DB) OutOfMemory(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypeOutOfMemory
}

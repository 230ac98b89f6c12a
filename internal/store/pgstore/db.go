// Package pgstore keeps Sightline's control data in PostgreSQL, for the
// scaled deployment where several Sightline nodes share one database
// (issue 19; docs/scale-out-design.md, sections a and f): sites, write
// keys and API tokens, dashboard accounts, their sessions and
// invitations, saved segments, survey definitions, feedback and
// recording settings with the daily recording quota, alert rules with
// their outbox and delivery log, the audit log, the change counters of
// store.Versions and the sign-in limiter's windows. Analytical data
// (events, sessions, attributes, identities, survey responses, feedback
// items, the recordings' index) is not here: it goes to ClickHouse.
//
// Every role passes the same conformance suite as duckstore. What this
// backend adds is what several nodes need: nothing is cached in a node
// (a rotated key or a revoked token stops on every node at once), the
// recording quota is counted and taken in one transaction under a lock
// that all nodes share, and the alert outbox leases causes and due
// messages to one node at a time with FOR UPDATE SKIP LOCKED.
//
// It talks to PostgreSQL through pgx's own interface and a pgxpool.Pool,
// not through database/sql: nothing here needs a *sql.DB (the segment
// engine's SQL() is the analytical database's), and pgx binds Go slices
// to arrays, reports SQLSTATE codes (unique violations, deadlocks) as
// typed errors, and holds one connection for the advisory lock of the
// migrations without a driver.Conn escape hatch.
//
// Open applies the package's numbered migrations (schema/NNN_name.sql)
// in one transaction under a transaction-level advisory lock, so that
// nodes started at the same moment migrate once, and a failed migration
// leaves the database as it was.
package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// migrationLock is the key of the advisory lock that migrations hold: any
// 64-bit number no other program uses on the same database ("sightlin").
const migrationLock = 0x7369676874_6c696e

// Options tune a store. Zero fields take their defaults.
type Options struct {
	// Now is the clock of the times the store stamps itself (creation,
	// update, revocation, last use). Tests set it.
	Now func() time.Time
	// Node names this process in the leases of the alert outbox; a random
	// ID by default. Two processes must not share one.
	Node string
	// AlertLease is how long a node holds the causes and the due messages
	// it took before another node may take them (5 minutes): longer than
	// a round of deliveries to one destination takes.
	AlertLease time.Duration
	// MaxConns bounds the pool's connections (pgxpool's default: the
	// larger of 4 and the number of CPUs).
	MaxConns int32
	// Log receives what the store reports of itself.
	Log *slog.Logger
}

// DB is a PostgreSQL store of control data. It is safe for concurrent use,
// and several DBs (in several processes) may share one database.
type DB struct {
	pool     *pgxpool.Pool
	opts     Options
	log      *slog.Logger
	tokenUse tokenUse
	vers     versionErrors
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, as pgx reads them) and migrates it.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Node == "" {
		opts.Node = auth.NewID("node_")
	}
	if opts.AlertLease <= 0 {
		opts.AlertLease = 5 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse PostgreSQL DSN: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// Every time this package stores or reads is UTC.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	db := &DB{pool: pool, opts: opts, log: opts.Log}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool's connections.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// migration is one numbered file of schema/.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	files, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := strings.TrimPrefix(f, "schema/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("BUG: migration %s is not named NNN_name.sql", f)
		}
		b, err := schemaFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("BUG: two migrations numbered %d", out[i].version)
		}
	}
	return out, nil
}

// migrate applies the migrations the database lacks, all in one
// transaction under an advisory lock: a node that starts while another
// migrates waits, then finds nothing left to do.
func (db *DB) migrate(ctx context.Context) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	return db.inTx(ctx, "migrate", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS sightline_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT version FROM sightline_migrations")
		if err != nil {
			return err
		}
		done, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		newest := int32(0)
		for _, v := range done {
			newest = max(newest, v)
		}
		if last := all[len(all)-1].version; int(newest) > last {
			return fmt.Errorf("the database has migration %d, newer than this program knows (%d): run a newer Sightline", newest, last)
		}
		for _, m := range all {
			if slices.Contains(done, int32(m.version)) {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO sightline_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return err
			}
			db.log.Info("applied PostgreSQL migration", "migration", m.name)
		}
		return nil
	})
}

// now is the store's clock, in UTC at PostgreSQL's precision.
func (db *DB) now() time.Time { return db.opts.Now().UTC().Truncate(time.Microsecond) }

// inTx runs fn in a transaction and commits when it returns nil. A
// transaction that lost a deadlock or a serialization check is run again,
// a few times: both only mean that another node got there first.
// ErrNotFound, ErrConflict and ErrQuota come back unwrapped by what.
func (db *DB) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	var err error
	for range 5 {
		err = pgx.BeginFunc(ctx, db.pool, fn)
		if !retryable(err) {
			break
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrQuota),
		errors.Is(err, store.ErrInvalid):
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// SQLSTATE codes this package tells apart.
const (
	uniqueViolation      = "23505"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func retryable(err error) bool {
	c := sqlState(err)
	return c == serializationFailure || c == deadlockDetected
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// affectedOne turns a command that touched no row into store.ErrNotFound.
func affectedOne(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound, naming what.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("read %s: %w", what, err)
}

// utc returns a time as this package stores it.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullTime is a zero time as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

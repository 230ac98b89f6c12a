package duckstore

import (
	"context"

	"github.com/sightline/sightline/internal/store"
)

// Crash stops the store the way kill -9 would, as far as the database can
// tell: the applier stops without applying what is pending, and the
// database is closed without a checkpoint of those messages, which remain
// only in the write-ahead log.
func (db *DB) Crash() {
	db.applyMu.Lock()
	db.pauseApply = true
	db.stopApply = true
	db.applyMu.Unlock()
	db.applyCond.Broadcast()
	<-db.applierDone
	db.users.stop()
	db.seqMu.Lock()
	db.closed = true
	db.seqMu.Unlock()
	db.wal.Close()
	db.wmu.Lock()
	db.wconn.Close()
	db.wconn = nil
	db.wmu.Unlock()
	db.sql.Close()
}

// PauseApplier keeps logged messages from being applied until Crash.
func (db *DB) PauseApplier() {
	db.applyMu.Lock()
	db.pauseApply = true
	db.applyMu.Unlock()
}

// Refusing returns opts with which the database refuses, when applying,
// the messages f picks.
func Refusing(opts Options, f func(*store.Message) bool) Options {
	opts.refuse = f
	return opts
}

// Full returns opts with which the write-ahead log's folder refuses
// appends and probes while full returns true, as a full disk would.
func Full(opts Options, full func() bool) Options {
	opts.full = full
	return opts
}

// FoldingAt returns opts with which the applier folds the event catalog
// once it holds n partial rows beyond one per key.
func FoldingAt(opts Options, n int64) Options {
	opts.foldAt = n
	return opts
}

// CatalogRows counts the rows of the event catalog's tables.
func (db *DB) CatalogRows() (int64, error) {
	n, _, err := countCatalogRows(context.Background(), db.sql)
	return n, err
}

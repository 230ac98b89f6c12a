package duckstore

import (
	"context"
	"fmt"

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
	db.pool().Close()
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
	n, _, err := countCatalogRows(context.Background(), db.pool())
	return n, err
}

// AddToSavedDedupe adds the message ID of a site to the dedupe window
// saved beside the database at path, and moves the file's log position by
// shift: a test proves with it that an open reads the file, and only at
// the position it was saved at.
func AddToSavedDedupe(path string, site int64, messageID string, shift int64) error {
	d, lsn, ok, err := takeDedupe(path, 1<<20)
	if err != nil || !ok {
		return fmt.Errorf("no saved dedupe window: %v", err)
	}
	d.add(messageHash(site, messageID))
	return saveDedupe(path, uint64(int64(lsn)+shift), d)
}

// DedupeFile is where the dedupe window of the database at path is saved.
func DedupeFile(path string) string { return dedupeFile(path) }

// SlicingAt returns opts with which Cluster moves at most n rows a step.
func SlicingAt(opts Options, n int64) Options {
	opts.clusterSlice = n
	return opts
}

// Migration returns the text of the schema migration in schema/name.
func Migration(name string) (string, error) {
	b, err := schemaFS.ReadFile("schema/" + name)
	return string(b), err
}

// FoldClickSelectors folds click_selectors' repeated keys when they are
// many, as Open does.
func (db *DB) FoldClickSelectors(ctx context.Context) error {
	defer db.writing()()
	db.wmu.Lock()
	defer db.wmu.Unlock()
	return db.foldClickSelectors(ctx)
}

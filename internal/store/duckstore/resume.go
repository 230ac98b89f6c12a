package duckstore

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// After a failed log append, writes are refused until the sequencer is
// rebuilt from the database (see refresh). A write does that itself, but
// only a write tries: without one, the store would go on reporting writes
// refused (/readyz 503) long after the disk has room again, and a load
// balancer that follows /readyz would never send the write that clears
// it. So the store also tries by itself.

// Backoff of resumeWrites.
const (
	minResumeWait = 100 * time.Millisecond
	maxResumeWait = 2 * time.Second
)

// resumeWrites runs after a failed log append until writes go on again or
// the store closes. It tries with a growing backoff, and at once when the
// applier has drained.
func (db *DB) resumeWrites() {
	defer db.bg.Done()
	wait := minResumeWait
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-db.closing:
			return
		case <-db.drained:
		case <-t.C:
		}
		if db.tryResume(context.Background()) {
			return
		}
		wait = min(2*wait, maxResumeWait)
		t.Reset(wait)
	}
}

// tryResume rebuilds the sequencer once the applier has drained what was
// logged and an append of the failed one's size would fit in the log's
// folder. It reports whether it is done: writes go on, or the store is
// closed.
func (db *DB) tryResume(ctx context.Context) bool {
	db.seqMu.Lock()
	defer db.seqMu.Unlock()
	if db.closed || db.stale == nil { // a write resumed first
		db.resuming = false
		return true
	}
	db.applyMu.Lock()
	waiting := db.pendingMsgs
	db.applyMu.Unlock()
	if waiting > 0 {
		return false
	}
	if err := db.probeLog(db.staleSize); err != nil {
		return false
	}
	if err := db.refresh(ctx); err != nil {
		db.log.Warn("resume writes after a failed log append", "err", err)
		return false
	}
	db.resuming = false
	return true
}

// appendLog appends rec to the write-ahead log.
func (db *DB) appendLog(rec []byte) (uint64, error) {
	if db.opts.full != nil && db.opts.full() {
		return 0, fmt.Errorf("write wal: %w", syscall.ENOSPC)
	}
	return db.wal.Append(rec)
}

// probeLog reports whether n bytes more fit in the log's folder.
func (db *DB) probeLog(n int) error {
	if db.opts.full != nil && db.opts.full() {
		return fmt.Errorf("probe wal folder: %w", syscall.ENOSPC)
	}
	return db.wal.Probe(n)
}

package duckstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/eventcat"
	"github.com/sightline/sightline/internal/store"
)

// errBacklog means the database has fallen too far behind the log.
var errBacklog = fmt.Errorf("too many messages waiting to be applied: %w", store.ErrBusy)

// writerState is what the applier keeps in memory between batches. It
// mirrors the database and is rebuilt from it at start and after a failed
// batch, so it never holds anything that is not also on disk.
type writerState struct {
	nextKey     int64
	nextSession int64
	ids         *genCache[int64, int64] // identity hash → entity key
	named       *genCache[int64, bool]  // entity key → has a user ID
	redirect    map[int64]int64         // merged key → key it joined
	open        map[int64][]*session    // open sessions by user key, one per device (sessions.go)
	backfill    map[int64]*backfill     // latest backfill session by user key (closed, on disk)
	lastSweep   time.Time
	// The event catalog's tables hold catalogRows rows, of which
	// catalogKeys distinct keys: it is folded once the partial rows
	// beyond one per key pass catalogFoldAt.
	catalogRows, catalogKeys int64
}

// batch collects the rows one applied batch will commit.
type batch struct {
	identities []identityRow
	events     []eventRow
	sets       []attrSet
	rejections []rejectionRow
	newKeys    []newKeyRow
	links      [][2]int64 // user key, group key
	merges     [][2]int64 // from, into
	touched    map[int64]*session
	closed     []*session
	rewritten  []int64        // closed sessions of earlier batches that this one changes
	absent     map[int64]bool // identity hashes known not to exist
	quarantine []quarantineRow
	catalog    *eventcat.Batch // the events' aggregate, for the event catalog (set by commit)
	days       []*userDays     // the events' rows of each day table (set by commit)
	named      []namedEvent    // the events' rows of events_by_name (set by commit)
	now        time.Time
	lsn        uint64 // the last log record the batch holds
	// trial rolls the transaction back instead of committing it: it only
	// asks whether the database would take the batch.
	trial bool
}

func newBatch(now time.Time) *batch {
	return &batch{touched: map[int64]*session{}, absent: map[int64]bool{}, now: now.UTC()}
}

type identityRow struct {
	site int64
	hash int64
	kind uint8
	id   string
	key  int64
	at   time.Time
}

type eventRow struct {
	m       *store.Message
	user    int64
	session int64
}

type attrSet struct {
	site   int64
	entity store.Entity
	key    int64 // entity key
	name   string
	value  attr.Value
	at     time.Time
}

type rejectionRow struct {
	site      int64
	entity    store.Entity
	key       string
	expected  attr.Type
	received  string
	value     string
	entityKey int64
	messageID string
	at        time.Time
}

type newKeyRow struct {
	site   int64
	entity store.Entity
	key    string
	typ    attr.Type
	at     time.Time
}

// Write decides, logs and acknowledges msgs: when it returns without error
// they are in the write-ahead log on disk, and every later read includes
// them. The database applies them shortly after, in larger batches.
func (db *DB) Write(ctx context.Context, msgs []store.Message) ([]store.Outcome, error) {
	db.seqMu.Lock()
	defer db.seqMu.Unlock()
	if db.closed {
		return nil, store.ErrClosed
	}
	if err := db.refresh(ctx); err != nil {
		return nil, err
	}
	if err := db.waitBacklog(ctx); err != nil {
		return nil, err
	}
	out, ds := db.decide(msgs)
	if len(ds) == 0 {
		return out, nil
	}
	db.walBuf = encodeBatch(db.walBuf[:0], ds)
	lsn, err := db.appendLog(db.walBuf)
	if err != nil {
		// The log cut the failed append off, but the decisions above are
		// in memory: they are forgotten before the next write.
		db.stale, db.staleSize = err, len(db.walBuf)
		db.applyMu.Lock()
		db.walErr = err
		db.applyMu.Unlock()
		db.log.Error("write-ahead log append failed; writes are refused until it works again", "err", err)
		if !db.resuming {
			db.resuming = true
			db.bg.Add(1)
			go db.resumeWrites()
		}
		return nil, fmt.Errorf("append to the write-ahead log: %w: %w", store.ErrUnavailable, err)
	}
	db.enqueue(lsn, ds)
	return out, nil
}

// refresh rebuilds the sequencer after a failed log append, once the
// database holds everything logged, and refuses the write until then.
func (db *DB) refresh(ctx context.Context) error {
	if db.stale == nil {
		return nil
	}
	db.applyMu.Lock()
	waiting, applyErr := db.pendingMsgs, db.applyErr
	db.applyMu.Unlock()
	if waiting > 0 {
		return fmt.Errorf("%w: %d logged messages wait to be applied after a failed log append (%v; last apply error: %v)",
			store.ErrUnavailable, waiting, db.stale, applyErr)
	}
	if err := db.loadSequencer(ctx); err != nil {
		return fmt.Errorf("%w: rebuild after a failed log append: %w", store.ErrUnavailable, err)
	}
	db.log.Info("write-ahead log appends resumed", "after", db.stale)
	db.stale = nil
	db.applyMu.Lock()
	db.walErr = nil
	db.applyMu.Unlock()
	return nil
}

// pendingBatch is logged messages waiting to be applied.
type pendingBatch struct {
	lsn uint64
	ds  []decided
}

func (db *DB) enqueue(lsn uint64, ds []decided) {
	db.applyMu.Lock()
	db.pending = append(db.pending, pendingBatch{lsn: lsn, ds: ds})
	db.pendingMsgs += len(ds)
	db.loggedLSN = lsn
	db.applyMu.Unlock()
	db.applyCond.Broadcast()
}

// waitBacklog holds a write back while the database is more than
// MaxBacklog messages behind the log: slower answers are the first form of
// back-pressure. After BacklogWait it gives up with errBacklog; at once
// when the applier is failing (a full disk), as waiting would not help.
func (db *DB) waitBacklog(ctx context.Context) error {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	if db.pendingMsgs <= db.opts.MaxBacklog {
		return nil
	}
	if db.applyErr != nil {
		return fmt.Errorf("%w: %d messages wait to be applied: %v", store.ErrUnavailable, db.pendingMsgs, db.applyErr)
	}
	ctx, cancel := context.WithTimeout(ctx, db.opts.BacklogWait)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		db.applyMu.Lock()
		db.applyCond.Broadcast()
		db.applyMu.Unlock()
	})
	defer stop()
	for db.pendingMsgs > db.opts.MaxBacklog {
		if ctx.Err() != nil {
			return errBacklog
		}
		db.applyCond.Wait()
	}
	return nil
}

// Sync waits until every message acknowledged before the call is in the
// database. Readers call it first, so that answers are always fresh. It
// waits at most Options.SyncWait, then returns store.ErrLagging: a read
// never hangs on an applier that cannot catch up.
func (db *DB) Sync(ctx context.Context) error {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	target := db.loggedLSN
	if db.appliedLSN >= target {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, db.opts.SyncWait)
	defer cancel()
	stop := context.AfterFunc(wctx, func() {
		db.applyMu.Lock()
		db.applyCond.Broadcast()
		db.applyMu.Unlock()
	})
	defer stop()
	for db.appliedLSN < target {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("wait for recent data: %w", err)
		}
		if wctx.Err() != nil {
			return fmt.Errorf("%w: %d messages not applied after %s (last apply error: %v)",
				store.ErrLagging, db.pendingMsgs, db.opts.SyncWait, db.applyErr)
		}
		db.applyCond.Wait()
	}
	return nil
}

// runApplier applies logged batches until the store closes and everything
// logged is applied. Under load the pending batches pile up while one is
// applied, so the next application takes them all: the database's commit
// cost is shared by ever more messages.
func (db *DB) runApplier() {
	defer close(db.applierDone)
	const maxBackoff = 2 * time.Second
	backoff := 100 * time.Millisecond
	for {
		db.applyMu.Lock()
		for (len(db.pending) == 0 || db.pauseApply) && !db.stopApply {
			db.applyCond.Wait()
		}
		if len(db.pending) == 0 || db.pauseApply {
			db.applyMu.Unlock()
			return
		}
		take, n := 0, 0
		for take < len(db.pending) && (take == 0 || n+len(db.pending[take].ds) <= db.opts.MaxApply) {
			n += len(db.pending[take].ds)
			take++
		}
		work := append([]pendingBatch(nil), db.pending[:take]...)
		db.applyMu.Unlock()

		done, err := db.applyPending(context.Background(), work)
		db.advance(work[:done], err)
		if err != nil {
			db.applyMu.Lock()
			stopping := db.stopApply
			db.applyMu.Unlock()
			if stopping {
				db.log.Error("applying logged messages failed at shutdown; they stay in the log for the next start",
					"messages", n, "err", err)
				return
			}
			if invalidated(err) {
				// DuckDB refuses every further use of this instance (a
				// checkpoint failed on a full disk): only reopening the
				// database helps. What was logged stays in the log.
				db.log.Error("the database must be reopened; the store stops applying until it is (acknowledged messages are safe in the write-ahead log)",
					"messages", n, "err", err)
				db.die(err)
				return
			}
			db.log.Error("applying logged messages failed; will retry", "messages", n, "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

// advance records that the records of applied are in the database, and
// the outcome of the last application.
func (db *DB) advance(applied []pendingBatch, err error) {
	db.applyMu.Lock()
	db.applyErr = err
	n := 0
	for _, pb := range applied {
		n += len(pb.ds)
	}
	if len(applied) > 0 {
		db.pending = db.pending[len(applied):]
		db.pendingMsgs -= n
		db.appliedLSN = applied[len(applied)-1].lsn
	}
	drained := db.pendingMsgs == 0 && db.walErr != nil
	db.applyMu.Unlock()
	if len(applied) == 0 {
		return
	}
	db.applyCond.Broadcast()
	if drained {
		select {
		case db.drained <- struct{}{}: // resumeWrites tries at once
		default:
		}
	}
	if err := db.wal.Remove(applied[len(applied)-1].lsn); err != nil {
		db.log.Warn("remove applied log segments", "err", err)
	}
}

// applyPending writes logged batches to the database, recording each
// one's LSN with it so that a replay never applies twice, and returns how
// many of work's records are applied (a prefix). It tries all of them in
// one transaction; when the database refuses that for a reason of the
// data rather than of the disk, it applies them one record at a time and
// sets the messages it refuses aside (see quarantine.go), so that one bad
// message never stops the others.
func (db *DB) applyPending(ctx context.Context, work []pendingBatch) (int, error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	err := db.applyRecords(ctx, work, nil)
	if err == nil {
		return len(work), nil
	}
	if transient(err) {
		return 0, err
	}
	db.log.Warn("the database refused a batch; applying its records one by one", "records", len(work), "err", err)
	for i, pb := range work {
		if err := db.applyRecord(ctx, pb); err != nil {
			return i, err
		}
	}
	return len(work), nil
}

// applyRecords applies the records of work and the quarantined messages q
// in one transaction.
func (db *DB) applyRecords(ctx context.Context, work []pendingBatch, q []quarantineRow) error {
	b := newBatch(db.opts.Now())
	b.lsn = work[len(work)-1].lsn
	b.quarantine = q
	var ds []decided
	if len(work) == 1 {
		ds = work[0].ds
	} else {
		for _, w := range work {
			ds = append(ds, w.ds...)
		}
	}
	if err := db.apply(ctx, b, ds); err != nil {
		return db.fail(ctx, err)
	}
	return nil
}

// apply turns decided messages into rows and commits them.
func (db *DB) apply(ctx context.Context, b *batch, ds []decided) error {
	w := db.w
	if len(w.redirect) > db.opts.IdentityCache {
		// Committed merges are in the identities table: forget the
		// redirects, and the cache entries that might still need them.
		w.redirect = map[int64]int64{}
		w.ids = newGenCache[int64, int64](db.opts.IdentityCache)
		w.named = newGenCache[int64, bool](db.opts.IdentityCache)
	}
	if err := db.prefetchIdentities(ctx, b, ds); err != nil {
		return err
	}
	for i := range ds {
		db.applyOne(ctx, b, &ds[i])
	}
	db.sweepSessions(b)
	return db.commit(ctx, b)
}

// fail rebuilds the applier's memory from the database after a failed
// batch, so that nothing of the failed batch lingers, and returns err.
func (db *DB) fail(ctx context.Context, err error) error {
	if rerr := db.loadWriter(ctx); rerr != nil {
		db.log.Error("reload writer state after failed write", "err", rerr)
	}
	return fmt.Errorf("apply batch: %w", err)
}

// applyOne turns one decided message into rows of the batch.
func (db *DB) applyOne(ctx context.Context, b *batch, d *decided) {
	m := &d.m
	var user, sess int64
	switch m.Kind {
	case store.KindAlias:
		user = db.alias(ctx, b, m)
	default:
		user = db.resolveUser(ctx, b, m.SiteID, m.UserID, m.AnonymousID)
	}
	switch m.Kind {
	case store.KindTrack, store.KindPage, store.KindScreen:
		sess = db.sessionFor(b, user, m)
	default:
		if s := db.openFor(user, m.AnonymousID); s != nil {
			sess = s.id
		}
	}
	entityKey := user
	if m.Kind == store.KindGroup {
		entityKey = db.resolveGroup(b, m.SiteID, m.GroupID)
		b.links = append(b.links, [2]int64{user, entityKey})
	}
	for _, k := range d.newKeys {
		b.newKeys = append(b.newKeys, newKeyRow{site: m.SiteID, entity: k.entity, key: k.key, typ: k.typ, at: k.at})
	}
	for _, s := range d.sets {
		b.sets = append(b.sets, attrSet{site: m.SiteID, entity: s.entity, key: entityKey, name: s.key,
			value: s.value, at: m.Timestamp})
	}
	for _, r := range d.rejections {
		b.rejections = append(b.rejections, rejectionRow{site: m.SiteID, entity: r.entity, key: r.key,
			expected: r.expected, received: r.received, value: r.value, entityKey: entityKey,
			messageID: m.MessageID, at: m.ReceivedAt})
	}
	b.events = append(b.events, eventRow{m: m, user: user, session: sess})
}

// loadWriter (re)builds the applier's memory from the database.
func (db *DB) loadWriter(ctx context.Context) error {
	w := &writerState{
		ids:       newGenCache[int64, int64](db.opts.IdentityCache),
		named:     newGenCache[int64, bool](db.opts.IdentityCache),
		redirect:  map[int64]int64{},
		open:      map[int64][]*session{},
		backfill:  map[int64]*backfill{},
		lastSweep: db.opts.Now(),
	}
	q := db.pool()
	if err := q.QueryRowContext(ctx, "SELECT coalesce(max(entity_key), 0) + 1 FROM identities").Scan(&w.nextKey); err != nil {
		return fmt.Errorf("load next entity key: %w", err)
	}
	if err := q.QueryRowContext(ctx, `SELECT greatest(
		(SELECT coalesce(max(session_id), 0) FROM all_sessions),
		(SELECT coalesce(max(session_id), 0) FROM events)) + 1`).Scan(&w.nextSession); err != nil {
		return fmt.Errorf("load next session id: %w", err)
	}
	if err := db.loadOpenSessions(ctx, w); err != nil {
		return err
	}
	var err error
	if w.catalogRows, w.catalogKeys, err = countCatalogRows(ctx, q); err != nil {
		return err
	}
	db.w = w
	return nil
}

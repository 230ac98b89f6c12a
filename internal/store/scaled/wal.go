package scaled

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/wal"
)

// Each node keeps its own write-ahead log (package wal) in its data
// folder, as duckstore does: Write checks the messages, appends them to
// the log, and acknowledges once the log has them on disk; an applier
// takes what waits, as many messages as have piled up (up to MaxApply),
// and stores them in one PostgreSQL transaction with their ClickHouse
// rows (apply), recording in the same transaction the last record it
// applied (node_logs). A restart replays exactly the records after that,
// so a kill -9 loses nothing acknowledged.
//
// What Write answers before the applier ran is what this node can tell:
// refused text, duplicates of messages this node holds or PostgreSQL has
// seen, suppressed IDs, and attribute warnings from the site's keys as
// this node last read them (another node may have typed a new key a
// moment before: the applier's decision is the one stored). A message
// whose retry is waiting in another node's log is stored once all the
// same: the applier that comes second finds its ID taken.

// logState is the node's log and its applier.
type logState struct {
	wal *wal.Log

	appendMu sync.Mutex // orders appends with the pending queue

	mu          sync.Mutex
	cond        *sync.Cond
	pending     []logRecord
	pendingMsgs int
	loggedLSN   uint64
	appliedLSN  uint64
	applyErr    error // the last failure to apply, nil once one works
	walErr      error // the last failure to append
	stopping    bool
	closed      bool
	held        map[msgKey]int // message IDs in pending records, with their count
	done        chan struct{}  // closed when the applier returns
	quarantined int64
}

// logRecord is one appended batch.
type logRecord struct {
	lsn  uint64
	msgs []store.Message
}

type msgKey struct {
	site int64
	id   string
}

// openLog opens the node's log in dir and queues what it holds beyond
// what PostgreSQL says this node applied, then starts the applier.
func (db *DB) openLog(ctx context.Context, dir string) error {
	applied, err := db.appliedPosition(ctx)
	if err != nil {
		return err
	}
	if err := db.clean(ctx, applied); err != nil {
		return err
	}
	l, err := wal.Open(dir, db.opts.SegmentSize)
	if err != nil {
		return fmt.Errorf("open write-ahead log: %w", err)
	}
	if err := l.Advance(applied + 1); err != nil {
		l.Close()
		return err
	}
	s := &logState{wal: l, held: map[msgKey]int{}, done: make(chan struct{}), appliedLSN: applied}
	s.cond = sync.NewCond(&s.mu)
	n := 0
	err = l.Replay(applied, func(lsn uint64, payload []byte) error {
		var msgs []store.Message
		if err := json.Unmarshal(payload, &msgs); err != nil {
			// A record this version cannot read must not stop the start.
			db.opts.Log.Error("undecodable log record set aside", "lsn", lsn, "err", err)
			msgs = nil
		}
		s.queue(lsn, msgs)
		n += len(msgs)
		return nil
	})
	if err != nil {
		l.Close()
		return fmt.Errorf("replay write-ahead log: %w", err)
	}
	s.loggedLSN = max(l.LastLSN(), applied)
	if err := l.Remove(applied); err != nil {
		db.opts.Log.Warn("remove applied log segments", "err", err)
	}
	if n > 0 {
		db.opts.Log.Info("replaying write-ahead log", "messages", n)
	}
	db.log = s
	go db.runApplier()
	return nil
}

// queue adds a logged record to the pending ones; s.mu is held or the
// applier not started.
func (s *logState) queue(lsn uint64, msgs []store.Message) {
	s.pending = append(s.pending, logRecord{lsn: lsn, msgs: msgs})
	s.pendingMsgs += len(msgs)
	s.loggedLSN = lsn
	for i := range msgs {
		if id := msgs[i].MessageID; id != "" {
			s.held[msgKey{msgs[i].SiteID, id}]++
		}
	}
}

// logWrite checks msgs, appends those to store to the log and returns
// once the log has them on disk.
func (db *DB) logWrite(ctx context.Context, msgs []store.Message) ([]store.Outcome, error) {
	s := db.log
	if err := db.waitBacklog(ctx); err != nil {
		return nil, err
	}
	// One write checks and appends at a time: its answers count the
	// messages and keys of the writes before it.
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, store.ErrClosed
	}
	out, keep, err := db.check(ctx, msgs)
	if err != nil {
		db.appendedPredictions(0)
		return nil, err
	}
	if len(keep) == 0 {
		return out, nil
	}
	logged := make([]store.Message, len(keep))
	for i, k := range keep {
		logged[i] = msgs[k]
	}
	payload, err := json.Marshal(logged)
	if err != nil {
		db.appendedPredictions(0)
		return nil, fmt.Errorf("encode messages for the log: %w", err)
	}
	lsn, err := s.wal.Append(payload)
	db.appendedPredictions(lsn)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.walErr = err
		return nil, fmt.Errorf("append to the write-ahead log: %w: %w", store.ErrUnavailable, err)
	}
	s.walErr = nil
	s.queue(lsn, logged)
	s.cond.Broadcast()
	return out, nil
}

// waitBacklog holds a write back while more than MaxBacklog messages wait
// to be applied, at most BacklogWait, then refuses it (store.ErrBusy); at
// once when the applier is failing, as waiting would not help.
func (db *DB) waitBacklog(ctx context.Context) error {
	s := db.log
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pendingMsgs <= db.opts.MaxBacklog {
		return nil
	}
	if s.applyErr != nil {
		return fmt.Errorf("%w: %d messages wait to be applied: %v", store.ErrUnavailable, s.pendingMsgs, s.applyErr)
	}
	ctx, cancel := context.WithTimeout(ctx, db.opts.BacklogWait)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	for s.pendingMsgs > db.opts.MaxBacklog {
		if ctx.Err() != nil {
			return fmt.Errorf("too many messages waiting to be applied: %w", store.ErrBusy)
		}
		s.cond.Wait()
	}
	return nil
}

// Sync waits until every message this node acknowledged before the call
// is stored, at most SyncWait (then store.ErrLagging): readers call it
// first, so that a node's answers include what it acknowledged. What
// another node acknowledged is stored once that node's applier ran (the
// lag docs/scale-out.md gives).
func (db *DB) Sync(ctx context.Context) error {
	s := db.log
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	target := s.loggedLSN
	if s.appliedLSN >= target {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, db.opts.SyncWait)
	defer cancel()
	stop := context.AfterFunc(wctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	for s.appliedLSN < target {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("wait for recent data: %w", err)
		}
		if wctx.Err() != nil {
			return fmt.Errorf("%w: %d messages not applied after %s (last apply error: %v)",
				store.ErrLagging, s.pendingMsgs, db.opts.SyncWait, s.applyErr)
		}
		s.cond.Wait()
	}
	return nil
}

// runApplier applies the pending records until the store closes and
// everything logged is applied. Under load the records pile up while one
// group is applied, so the next group takes them all: the commit's cost
// is shared by ever more messages.
func (db *DB) runApplier() {
	s := db.log
	defer close(s.done)
	const maxBackoff = 2 * time.Second
	backoff := 50 * time.Millisecond
	for {
		s.mu.Lock()
		for len(s.pending) == 0 && !s.stopping {
			s.cond.Wait()
		}
		if len(s.pending) == 0 {
			s.mu.Unlock()
			return
		}
		take, n := 0, 0
		for take < len(s.pending) && (take == 0 || n+len(s.pending[take].msgs) <= db.opts.MaxApply) {
			n += len(s.pending[take].msgs)
			take++
		}
		work := append([]logRecord(nil), s.pending[:take]...)
		stopping := s.stopping
		s.mu.Unlock()

		done, err := db.applyRecords(context.Background(), work)
		db.advance(work[:done], err)
		if err == nil {
			backoff = 50 * time.Millisecond
			continue
		}
		if stopping {
			db.opts.Log.Error("applying logged messages failed at shutdown; they stay in the log for the next start",
				"messages", n, "err", err)
			return
		}
		db.opts.Log.Error("applying logged messages failed; will retry", "messages", n, "err", err, "retry_in", backoff)
		time.Sleep(backoff)
		backoff = min(2*backoff, maxBackoff)
		if err := db.resume(); err != nil {
			db.opts.Log.Error("recover from the failed application; will retry", "err", err)
		}
	}
}

// resume makes the pending records match PostgreSQL after a failed
// application: records it counts as applied (a commit whose answer was
// lost) leave the queue, and the rows of the others are deleted from
// ClickHouse before they are applied again.
func (db *DB) resume() error {
	ctx := context.Background()
	applied, err := db.appliedPosition(ctx)
	if err != nil {
		return err
	}
	s := db.log
	s.mu.Lock()
	done := 0
	for done < len(s.pending) && s.pending[done].lsn <= applied {
		done++
	}
	committed := append([]logRecord(nil), s.pending[:done]...)
	s.mu.Unlock()
	db.advance(committed, nil)
	return db.clean(ctx, applied)
}

// advance records that applied are stored, and the last application's
// outcome.
func (db *DB) advance(applied []logRecord, err error) {
	s := db.log
	s.mu.Lock()
	s.applyErr = err
	for _, r := range applied {
		s.pendingMsgs -= len(r.msgs)
		for i := range r.msgs {
			k := msgKey{r.msgs[i].SiteID, r.msgs[i].MessageID}
			if k.id == "" {
				continue
			}
			if s.held[k]--; s.held[k] <= 0 {
				delete(s.held, k)
			}
		}
	}
	if len(applied) > 0 {
		s.pending = s.pending[len(applied):]
		s.appliedLSN = applied[len(applied)-1].lsn
	}
	s.mu.Unlock()
	if len(applied) == 0 {
		return
	}
	s.cond.Broadcast()
	if err := s.wal.Remove(applied[len(applied)-1].lsn); err != nil {
		db.opts.Log.Warn("remove applied log segments", "err", err)
	}
}

// applyRecords stores the records of work and returns how many of them
// (a prefix) are stored. It tries them all in one transaction; when that
// fails for a reason of the data rather than of a service, it applies
// them one record at a time, and a record that fails one message at a
// time, setting the messages refused on their own aside in the
// quarantine, so that one bad message never stops the others.
func (db *DB) applyRecords(ctx context.Context, work []logRecord) (int, error) {
	var msgs []store.Message
	for _, r := range work {
		msgs = append(msgs, r.msgs...)
	}
	last := work[len(work)-1].lsn
	_, err := db.apply(ctx, msgs, db.markApplied(last))
	if err == nil {
		return len(work), nil
	}
	if transient(err) {
		return 0, err
	}
	db.opts.Log.Warn("a batch was refused; applying its records one by one", "records", len(work), "err", err)
	// Whatever the refused group left in ClickHouse goes first.
	applied, perr := db.appliedPosition(ctx)
	if perr != nil {
		return 0, perr
	}
	if err := db.clean(ctx, applied); err != nil {
		return 0, err
	}
	for i, r := range work {
		if err := db.applyRecord(ctx, r); err != nil {
			return i, err
		}
	}
	return len(work), nil
}

// applyRecord stores one record, setting aside the messages refused on
// their own.
func (db *DB) applyRecord(ctx context.Context, r logRecord) error {
	_, err := db.apply(ctx, r.msgs, db.markApplied(r.lsn))
	if err == nil || transient(err) {
		return err
	}
	if err := db.clean(ctx, r.lsn-1); err != nil {
		return err
	}
	var refused []quarantined
	for _, m := range r.msgs {
		// Each in a transaction of its own, untagged: a retry after a
		// crash finds its ID taken.
		if _, err := db.apply(ctx, []store.Message{m}, nil); err != nil {
			if transient(err) {
				return err
			}
			refused = append(refused, quarantined{m: m, reason: err.Error()})
		}
	}
	// The others are stored; what is left is to set the refused aside
	// with the record's position.
	mark := db.markApplied(r.lsn)
	_, err = db.apply(ctx, nil, func(t *txn) error {
		if err := mark(t); err != nil {
			return err
		}
		return t.quarantine(r.lsn, refused)
	})
	if err != nil {
		return err
	}
	db.log.mu.Lock()
	db.log.quarantined += int64(len(refused))
	db.log.mu.Unlock()
	return nil
}

// markApplied returns the step that records, in the applying
// transaction, that this node's log is applied up to lsn, and tags the
// transaction's ClickHouse rows with that position.
func (db *DB) markApplied(lsn uint64) func(t *txn) error {
	return func(t *txn) error {
		t.tag = walTag{node: db.nodeHash(), lsn: lsn}
		_, err := t.tx.Exec(t.ctx, `INSERT INTO node_logs (node, applied_lsn) VALUES ($1, $2)
			ON CONFLICT (node) DO UPDATE SET applied_lsn = excluded.applied_lsn`, db.opts.Node, int64(lsn))
		if err != nil {
			return fmt.Errorf("%w: record the applied log position: %w", store.ErrUnavailable, err)
		}
		return nil
	}
}

// quarantined is a logged message the store refused.
type quarantined struct {
	m      store.Message
	reason string
}

// quarantine sets refused messages aside, with a readable rendering.
func (t *txn) quarantine(lsn uint64, refused []quarantined) error {
	for _, q := range refused {
		msg, _ := json.Marshal(map[string]any{"type": q.m.Kind.String(), "messageId": q.m.MessageID,
			"userId": q.m.UserID, "anonymousId": q.m.AnonymousID, "previousId": q.m.PreviousID, "groupId": q.m.GroupID,
			"event": q.m.Name, "timestamp": q.m.Timestamp, "properties": json.RawMessage(orEmpty(q.m.Properties))})
		if !json.Valid(msg) {
			msg, _ = json.Marshal(map[string]any{"type": q.m.Kind.String(), "messageId": q.m.MessageID})
		}
		reason := q.reason
		if len(reason) > 2000 {
			reason = reason[:2000]
		}
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO quarantine (site_id, node, lsn, message_id, kind, reason, message, quarantined_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, q.m.SiteID, t.db.opts.Node, int64(lsn), q.m.MessageID, int16(q.m.Kind),
			reason, string(msg), t.now); err != nil {
			return fmt.Errorf("quarantine message %q: %w", q.m.MessageID, err)
		}
	}
	return nil
}

func orEmpty(props string) string {
	if props == "" || !json.Valid([]byte(props)) {
		return "{}"
	}
	return props
}

// transient reports whether err is about a service (a connection, a
// timeout, a closed store) rather than the data: such a failure is
// retried, never quarantined.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ne) || errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08 (connection), 53 (resources), 57 (operator
		// intervention: a restart), 40 (rollback: serialization,
		// deadlock): the data is not at fault.
		switch pe.Code[:2] {
		case "08", "53", "57", "40":
			return true
		}
	}
	return false
}

// Health reports the applier's lag and failures and why writes are
// refused, if they are.
func (db *DB) Health() store.Health {
	s := db.log
	if s == nil {
		return store.Health{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := store.Health{Lag: s.pendingMsgs, Quarantined: s.quarantined}
	if s.applyErr != nil {
		h.ApplyError = s.applyErr.Error()
	}
	if s.walErr != nil {
		h.WriteError = s.walErr.Error()
	}
	return h
}

// Quarantined counts the messages this node set aside since it started.
func (db *DB) Quarantined() int64 { return db.Health().Quarantined }

// closeLog refuses further writes, applies everything logged (the
// applier goes on until the queue is empty, or its first failure), and
// closes the log: what it did not apply is replayed at the next start.
func (db *DB) closeLog() error {
	s := db.log
	if s == nil {
		return nil
	}
	s.appendMu.Lock()
	s.mu.Lock()
	already := s.closed
	s.closed, s.stopping = true, true
	s.mu.Unlock()
	s.appendMu.Unlock()
	if already {
		return nil
	}
	s.cond.Broadcast()
	<-s.done
	return s.wal.Close()
}

// scrubLog removes the log's segments whose records are all applied,
// after closing the open one, so that no file of the data folder keeps an
// erased user's messages; it returns how many it removed.
func (db *DB) scrubLog() (int, error) {
	s := db.log
	if s == nil {
		return 0, nil
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.Lock()
	applied := s.appliedLSN
	s.mu.Unlock()
	before := s.wal.Segments()
	if err := s.wal.Roll(); err != nil {
		return 0, err
	}
	if err := s.wal.Remove(applied); err != nil {
		return 0, err
	}
	return max(0, before-s.wal.Segments()+1), nil
}

// nodeHash is the node's name as its rows' wal_node: FNV-1a, never 0.
func (db *DB) nodeHash() uint64 {
	h := fnv.New64a()
	h.Write([]byte(db.opts.Node))
	return max(h.Sum64(), 1)
}

// appliedPosition reads how far PostgreSQL says this node's log is
// applied: the truth after a failure, whatever the node believed.
func (db *DB) appliedPosition(ctx context.Context) (uint64, error) {
	var applied int64
	err := db.pg.QueryRow(ctx, "SELECT applied_lsn FROM node_logs WHERE node = $1", db.opts.Node).Scan(&applied)
	if err != nil && !errNoRows(err) {
		return 0, fmt.Errorf("read the log's applied position: %w", err)
	}
	return uint64(applied), nil
}

// clean deletes this node's ClickHouse rows of records past applied: the
// rows of a group whose transaction did not commit (a kill, a failed
// commit), which the group's next application writes again.
func (db *DB) clean(ctx context.Context, applied uint64) error {
	tables := []string{"attr_rejections"}
	for t := range chstore.Tagged {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	removed := int64(0)
	for _, t := range tables {
		n, err := db.deleteRows(ctx, t, "wal_node = ? AND wal_lsn > ?", db.nodeHash(), applied)
		if err != nil {
			return err
		}
		removed += n
	}
	if removed > 0 {
		db.opts.Log.Info("rows of unapplied log records deleted before they are applied again", "rows", removed, "after", applied)
	}
	return nil
}

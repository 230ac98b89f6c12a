package duckstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/textlimit"
)

// Ingestion checks every message before it is acknowledged, so the
// database should take all of them. When it does not, the message is set
// aside in the quarantine table, with the database's reason, and every
// other message is applied: one message must never stop the applier (which
// would make every read wait) or a restart (which replays the log).

// quarantineRow is a logged message that the database refused.
type quarantineRow struct {
	site      int64
	lsn       uint64
	messageID string
	kind      store.Kind
	reason    string
	message   string // readable JSON
	raw       []byte // the decided message in the log's encoding
	at        time.Time
}

// transient reports whether err is about the database or its disk rather
// than the data: such a failure is retried, never quarantined.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, store.ErrClosed) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		switch de.Type {
		case duckdb.ErrorTypeIO, duckdb.ErrorTypeFatal, duckdb.ErrorTypeOutOfMemory, duckdb.ErrorTypeInterrupt,
			duckdb.ErrorTypeConnection, duckdb.ErrorTypeInternal, duckdb.ErrorTypePermission:
			return true
		}
	}
	// Appender and commit failures arrive as text. The phrases are the
	// database's and the kernel's own, long enough that a value quoted in a
	// data error is unlikely to hold one.
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"no space left on device", "could not write file", "io error", "out of memory",
		"database has been invalidated", "permission denied", "read-only file system", "disk quota exceeded"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// invalidated reports whether err says the DuckDB instance is unusable
// until it is reopened: after a fatal error, such as a checkpoint that
// failed on a full disk, DuckDB refuses everything.
func invalidated(err error) bool {
	var de *duckdb.Error
	if errors.As(err, &de) && de.Type == duckdb.ErrorTypeFatal {
		return true
	}
	return strings.Contains(strings.ToLower(err.Error()), "database has been invalidated")
}

// die records that the database must be reopened and tells Dead's
// readers, once.
func (db *DB) die(err error) {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	if db.deadErr != nil {
		return
	}
	db.deadErr = err
	db.applyErr = err
	close(db.dead)
	db.applyCond.Broadcast()
}

// Dead is closed when the database has become unusable until it is
// reopened; the server then restarts the store (see DeadErr).
func (db *DB) Dead() <-chan struct{} { return db.dead }

// DeadErr is why Dead was closed, or nil.
func (db *DB) DeadErr() error {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	return db.deadErr
}

// applyRecord applies one log record. When the database refuses it, the
// messages it refuses on their own are found by trial, set aside, and the
// rest applied with the quarantine rows and the record's LSN in one
// transaction.
func (db *DB) applyRecord(ctx context.Context, pb pendingBatch) error {
	err := db.applyRecords(ctx, []pendingBatch{pb}, nil)
	if err == nil || transient(err) {
		return err
	}
	refused := map[int]error{}
	if err := db.findRefused(ctx, pb.ds, 0, refused); err != nil {
		return err
	}
	var q []quarantineRow
	kept := make([]decided, 0, len(pb.ds))
	for i := range pb.ds {
		if rerr, ok := refused[i]; ok {
			q = append(q, db.quarantineRow(pb.lsn, &pb.ds[i], rerr))
			continue
		}
		kept = append(kept, pb.ds[i])
	}
	if len(q) > 0 {
		err = db.applyRecords(ctx, []pendingBatch{{lsn: pb.lsn, ds: kept}}, q)
		if err == nil {
			db.noteQuarantined(q)
			return nil
		}
		if transient(err) {
			return err
		}
	}
	// Refused together but not one by one: set the whole record aside
	// rather than stop.
	q = q[:0]
	for i := range pb.ds {
		q = append(q, db.quarantineRow(pb.lsn, &pb.ds[i], err))
	}
	if err := db.applyRecords(ctx, []pendingBatch{{lsn: pb.lsn}}, q); err != nil {
		return err
	}
	db.noteQuarantined(q)
	return nil
}

// findRefused bisects ds by trial transactions, which are rolled back,
// and records in refused the index (from base) and error of each message
// that the database refuses on its own.
func (db *DB) findRefused(ctx context.Context, ds []decided, base int, refused map[int]error) error {
	if len(ds) == 0 {
		return nil
	}
	b := newBatch(db.opts.Now())
	b.trial = true
	err := db.apply(ctx, b, ds)
	// A trial changes the applier's memory as a real batch would.
	if lerr := db.loadWriter(ctx); lerr != nil {
		return fmt.Errorf("reload writer state after a trial: %w", lerr)
	}
	switch {
	case err == nil:
		return nil
	case transient(err):
		return err
	case len(ds) == 1:
		refused[base] = err
		return nil
	}
	mid := len(ds) / 2
	if err := db.findRefused(ctx, ds[:mid], base, refused); err != nil {
		return err
	}
	return db.findRefused(ctx, ds[mid:], base+mid, refused)
}

func (db *DB) noteQuarantined(q []quarantineRow) {
	db.applyMu.Lock()
	db.quarantined += int64(len(q))
	db.applyMu.Unlock()
	for _, r := range q {
		db.log.Error("message set aside: the database refused it", "site", r.site, "message_id", r.messageID,
			"kind", r.kind.String(), "lsn", r.lsn, "reason", r.reason)
	}
}

// Quarantined returns how many messages were set aside since the store
// opened.
func (db *DB) Quarantined() int64 {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	return db.quarantined
}

// clean makes s storable whatever it holds.
func clean(s string, n int) string {
	return textlimit.Cut(strings.ToValidUTF8(s, "\uFFFD"), n)
}

// quarantineRow describes d, refused with err, for the quarantine table.
func (db *DB) quarantineRow(lsn uint64, d *decided, err error) quarantineRow {
	m := &d.m
	view := map[string]any{
		"type": m.Kind.String(), "messageId": m.MessageID, "userId": m.UserID, "anonymousId": m.AnonymousID,
		"timestamp": m.Timestamp, "receivedAt": m.ReceivedAt, "source": m.Source.String(),
	}
	for k, v := range map[string]string{"groupId": m.GroupID, "previousId": m.PreviousID, "name": m.Name,
		"url": m.Page.URL, "path": m.Page.Path, "title": m.Page.Title, "referrer": m.Page.Referrer} {
		if v != "" {
			view[k] = v
		}
	}
	if p := m.Properties; p != "" && utf8.ValidString(p) && json.Valid([]byte(p)) {
		view["properties"] = json.RawMessage(p)
	} else if p != "" {
		view["properties"] = p // shown as text: it is what the database refused
	}
	if len(d.sets) > 0 {
		traits := map[string]any{}
		for _, s := range d.sets {
			traits[s.key] = s.value.JSON()
		}
		view["traits"] = traits
	}
	// encoding/json writes invalid UTF-8 as U+FFFD, so the rendering is
	// always storable; the raw encoding keeps every byte.
	text, jerr := json.Marshal(view)
	if jerr != nil {
		text = []byte(`{"error":"not renderable"}`)
	}
	return quarantineRow{site: m.SiteID, lsn: lsn, messageID: clean(m.MessageID, 256), kind: m.Kind,
		reason: clean(err.Error(), 2000), message: string(text), raw: encodeBatch(nil, []decided{*d}),
		at: db.opts.Now().UTC()}
}

// insertQuarantine writes the batch's quarantine rows in its transaction.
func (db *DB) insertQuarantine(ctx context.Context, conn querier, rows []quarantineRow) error {
	for _, r := range rows {
		if _, err := conn.ExecContext(ctx, `INSERT INTO quarantine
			(site_id, lsn, message_id, kind, reason, message, raw, quarantined_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			r.site, int64(r.lsn), r.messageID, uint8(r.kind), r.reason, r.message, r.raw, r.at); err != nil {
			return fmt.Errorf("quarantine message %q: %w", r.messageID, err)
		}
	}
	return nil
}

// QuarantinedMessages lists a site's quarantined messages, newest first,
// up to limit with an ID below before (0: from the newest).
func (db *DB) QuarantinedMessages(ctx context.Context, site int64, limit int, before int64) ([]store.QuarantinedMessage, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT id, message_id, kind, reason, message, quarantined_at
		FROM quarantine WHERE site_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, site, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list quarantined messages: %w", err)
	}
	defer rows.Close()
	var out []store.QuarantinedMessage
	for rows.Next() {
		var q store.QuarantinedMessage
		var kind uint8
		var msg string
		if err := rows.Scan(&q.ID, &q.MessageID, &kind, &q.Reason, &msg, &q.At); err != nil {
			return nil, fmt.Errorf("list quarantined messages: %w", err)
		}
		q.Kind = store.Kind(kind).String()
		q.Message = json.RawMessage(msg)
		out = append(out, q)
	}
	return out, rows.Err()
}

// quarantineRecord sets aside a whole log record that cannot be decoded.
func (db *DB) quarantineRecord(ctx context.Context, lsn uint64, payload []byte, err error) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	q := []quarantineRow{{lsn: lsn, reason: clean("undecodable log record: "+err.Error(), 2000),
		message: `{"error":"undecodable log record"}`, raw: append([]byte(nil), payload...), at: db.opts.Now().UTC()}}
	if err := db.applyRecords(ctx, []pendingBatch{{lsn: lsn}}, q); err != nil {
		return err
	}
	db.noteQuarantined(q)
	return nil
}

// Health reports the applier's lag and failures and why writes are
// refused, if they are.
func (db *DB) Health() store.Health {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	var h store.Health
	if db.walErr != nil {
		h.WriteError = db.walErr.Error()
	}
	h.Lag = db.pendingMsgs
	h.Quarantined = db.quarantined
	if db.applyErr != nil {
		h.ApplyError = db.applyErr.Error()
	}
	return h
}

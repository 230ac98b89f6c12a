package duckstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
)

var _ store.Eraser = (*DB)(nil)

// Erasing a user is two steps. The first deletes every row about the user
// in one transaction, which also records the erasure. The second scrubs
// the files, since a deleted row's bytes outlive its deletion in three
// places: the event catalog's sample values (rebuilt from the events
// left), the write-ahead log's segments (everything logged is applied
// when the erasure runs, so the open segment is closed and all are
// removed), and the database file, where DuckDB keeps deleted rows until a
// checkpoint and leaves freed blocks as they were (so the file is copied,
// table by table, into a new one that replaces it). The erasure is marked
// scrubbed in the new file; a crash before that leaves it unmarked and
// the next start scrubs again. Writes wait meanwhile; nothing acknowledged
// is lost, since the copy is made with every write held back.

// rewriteSuffix names the new database file while it is written.
const rewriteSuffix = ".rewrite"

// EraseUser deletes the user's rows and scrubs the files at once: what
// DeleteUser and ScrubErased do one after the other.
func (db *DB) EraseUser(ctx context.Context, site int64, id store.Identity) (store.Erasure, error) {
	r, err := db.DeleteUser(ctx, site, id, store.EraseOptions{})
	if err != nil {
		return r, err
	}
	r.LogSegments, err = db.ScrubErased(ctx)
	if err != nil {
		// The rows are gone; the files are scrubbed at the next start.
		return store.Erasure{}, fmt.Errorf("erase user: rows deleted, files not yet scrubbed (done at the next start): %w", err)
	}
	r.Rewritten = true
	r.DoneAt = db.opts.Now().UTC()
	return r, nil
}

// DeleteUser implements store.Eraser.
func (db *DB) DeleteUser(ctx context.Context, site int64, id store.Identity, opts store.EraseOptions) (store.Erasure, error) {
	started := db.opts.Now().UTC().Truncate(time.Microsecond)
	kind, err := store.IdentityKind(id.Kind)
	if err != nil || kind == idGroup {
		return store.Erasure{}, fmt.Errorf("identity kind %q (want user or anonymous): %w", id.Kind, store.ErrInvalid)
	}
	unlock, err := db.exclusive(ctx)
	if err != nil {
		return store.Erasure{}, err
	}
	defer unlock()
	db.gate.Lock()
	defer db.gate.Unlock()
	db.recMu.Lock()
	defer db.recMu.Unlock()

	var key int64
	err = db.wconn.QueryRowContext(ctx,
		"SELECT entity_key FROM identities WHERE id_hash = ? AND site_id = ? AND kind = ? AND external_id = ?",
		idHash(site, kind, id.ID), site, kind, id.ID).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Erasure{}, fmt.Errorf("%s %q: %w", id.Kind, id.ID, store.ErrNotFound)
	}
	if err != nil {
		return store.Erasure{}, fmt.Errorf("look up %s %q: %w", id.Kind, id.ID, err)
	}
	ids, err := db.identitiesOf(ctx, site, key)
	if err != nil {
		return store.Erasure{}, err
	}
	r := store.Erasure{SiteID: site, User: id, Identities: int64(len(ids.hashes)), Deleted: map[string]int64{},
		Suppressed: opts.Suppress, StartedAt: started}
	msgIDs, err := db.messageHashesOf(ctx, site, key, ids)
	if err != nil {
		return store.Erasure{}, err
	}
	erasureID := newErasureID()
	err = db.inTx(ctx, func() error {
		if err := db.deleteUserRows(ctx, site, key, ids, r.Deleted); err != nil {
			return err
		}
		if opts.Suppress {
			if err := db.suppress(ctx, site, ids.hashes, started); err != nil {
				return err
			}
		}
		counts, _ := json.Marshal(r.Deleted)
		_, err := db.wconn.ExecContext(ctx, "INSERT INTO erasures VALUES (?, ?, ?, ?, ?, NULL, ?)",
			erasureID, site, idHash(site, kind, id.ID), started, db.opts.Now().UTC(), string(counts))
		if err != nil {
			return err
		}
		return db.markJobDeleted(ctx, opts.Job, r)
	})
	if err != nil {
		return store.Erasure{}, fmt.Errorf("erase user: %w", err)
	}
	db.forgetUser(key, ids.hashes)
	db.seq.seen.forget(msgIDs) // exclusive holds seqMu
	if db.erasedKeys == nil {
		db.erasedKeys = map[int64]struct{}{}
	}
	db.erasedKeys[key] = struct{}{} // the gate is held
	if opts.Suppress {
		for _, h := range ids.hashes {
			db.seq.suppressed[h] = struct{}{} // exclusive holds seqMu
		}
	}
	return r, nil
}

// ScrubErased implements store.Eraser.
func (db *DB) ScrubErased(ctx context.Context) (int, error) {
	unlock, err := db.exclusive(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	db.gate.Lock()
	defer db.gate.Unlock()
	db.recMu.Lock()
	defer db.recMu.Unlock()
	return db.scrub(ctx)
}

// userIdentities are the external IDs of one user.
type userIdentities struct {
	users, anons []string
	hashes       []int64
}

func (db *DB) identitiesOf(ctx context.Context, site, key int64) (userIdentities, error) {
	var ids userIdentities
	rows, err := db.wconn.QueryContext(ctx,
		"SELECT kind, external_id, id_hash FROM identities WHERE site_id = ? AND entity_key = ?", site, key)
	if err != nil {
		return ids, fmt.Errorf("read the user's identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind uint8
		var ext string
		var h int64
		if err := rows.Scan(&kind, &ext, &h); err != nil {
			return ids, fmt.Errorf("read the user's identities: %w", err)
		}
		switch kind {
		case idUser:
			ids.users = append(ids.users, ext)
		case idAnon:
			ids.anons = append(ids.anons, ext)
		}
		ids.hashes = append(ids.hashes, h)
	}
	return ids, rows.Err()
}

// quarantineOf matches quarantined messages naming one of the user IDs
// (the first argument) or anonymous IDs (the second), or either as an
// alias's previous ID (the third).
const quarantineOf = `(json_extract_string(message, '$.userId') IN (SELECT unnest(?::VARCHAR[]))
	OR json_extract_string(message, '$.anonymousId') IN (SELECT unnest(?::VARCHAR[]))
	OR json_extract_string(message, '$.previousId') IN (SELECT unnest(?::VARCHAR[])))`

// messageHashesOf returns the dedupe window's hashes of the user's
// message IDs (their events' and quarantined messages'). A message ID is
// the client's choice and may say something about the user (an email in
// it, or a hash of one), so a deletion drops them from the window too.
func (db *DB) messageHashesOf(ctx context.Context, site, key int64, ids userIdentities) (map[uint64]struct{}, error) {
	all := append(append([]string{}, ids.users...), ids.anons...)
	rows, err := db.wconn.QueryContext(ctx, `SELECT message_id FROM events WHERE site_id = ? AND user_key = ? AND message_id <> ''
		UNION SELECT message_id FROM quarantine WHERE site_id = ? AND message_id <> '' AND `+quarantineOf,
		site, key, site, ids.users, ids.anons, all)
	if err != nil {
		return nil, fmt.Errorf("read the user's message IDs: %w", err)
	}
	defer rows.Close()
	out := map[uint64]struct{}{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read the user's message IDs: %w", err)
		}
		out[messageHash(site, id)] = struct{}{}
	}
	return out, rows.Err()
}

// deleteUserRows deletes the user's rows from every table, counting them
// into n. The caller holds wmu and recMu, inside a transaction.
func (db *DB) deleteUserRows(ctx context.Context, site, key int64, ids userIdentities, n map[string]int64) error {
	users, anons := append([]string{}, ids.users...), append([]string{}, ids.anons...)
	// Surveys and feedback name the visitor by user ID, else anonymous ID.
	const visitor = "(user_id IN (SELECT unnest(?::VARCHAR[])) OR anonymous_id IN (SELECT unnest(?::VARCHAR[])))"
	var recs []string
	rows, err := db.wconn.QueryContext(ctx, `SELECT id FROM (`+recordingUsers+`) r WHERE r.site_id = ? AND r.user_key = ?`, site, key)
	if err != nil {
		return fmt.Errorf("find the user's recordings: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		recs = append(recs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := db.opts.Now().UTC().Truncate(time.Microsecond)
	if len(recs) > 0 {
		if _, err := db.wconn.ExecContext(ctx, `INSERT INTO recording_deletions SELECT ?, unnest(?::VARCHAR[]), ?`,
			site, recs, now); err != nil {
			return fmt.Errorf("record the recordings' deletion: %w", err)
		}
	}
	const recSet = "(SELECT unnest(?::VARCHAR[]))"
	// The alert messages carrying the user's data: those linked to them,
	// and, from before messages were linked to users, unlinked ones whose
	// body names one of their IDs as a JSON string.
	const alertMsgs = `(SELECT message_id FROM alert_message_users WHERE site_id = ? AND user_key = ?
		UNION SELECT id FROM alert_messages m WHERE site_id = ?
			AND NOT EXISTS (SELECT 1 FROM alert_message_users u WHERE u.message_id = m.id)
			AND EXISTS (SELECT 1 FROM (SELECT unnest(?::VARCHAR[]) AS q) WHERE strpos(m.body, q) > 0))`
	var quoted []string
	for _, id := range append(append([]string{}, users...), anons...) {
		b, _ := json.Marshal(id)
		quoted = append(quoted, string(b))
	}
	alertArgs := []any{site, site, key, site, quoted}
	steps := []struct {
		kind string
		sql  string
		args []any
	}{
		{"recording_chunks", "DELETE FROM recording_chunks WHERE recording_id IN " + recSet, []any{recs}},
		{"recordings", "DELETE FROM recordings WHERE site_id = ? AND id IN " + recSet, []any{site, recs}},
		{"events", "DELETE FROM events WHERE site_id = ? AND user_key = ?", []any{site, key}},
		{"clicks", "DELETE FROM clicks WHERE site_id = ? AND user_key = ?", []any{site, key}},
		// The texts of selectors only the user clicked: a selector is the
		// page's, but a site may name elements after their user.
		{"click_selectors", orphanSelectors, []any{site, nil}},
		{"user_days", "DELETE FROM user_days WHERE site_id = ? AND user_key = ?", []any{site, key}},
		{"event_days", "DELETE FROM event_days WHERE site_id = ? AND user_key = ?", []any{site, key}},
		{"events_by_name", "DELETE FROM events_by_name WHERE site_id = ? AND user_key = ?", []any{site, key}},
		{"sessions", "DELETE FROM sessions WHERE site_id = ? AND user_key = ?", []any{site, key}},
		{"sessions", "DELETE FROM open_sessions WHERE site_id = ? AND user_key = ?", []any{site, key}},
		{"attributes", "DELETE FROM attr_current WHERE site_id = ? AND entity = 0 AND entity_key = ?", []any{site, key}},
		{"attribute_history", "DELETE FROM attr_history WHERE site_id = ? AND entity = 0 AND entity_key = ?", []any{site, key}},
		{"rejections", "DELETE FROM attr_rejections WHERE site_id = ? AND entity = 0 AND entity_key = ?", []any{site, key}},
		{"company_links", "DELETE FROM user_groups WHERE site_id = ? AND user_key = ?", []any{site, key}},
		// Alerts: the causes naming the user, their recordings, responses
		// or feedback; the messages carrying their data, with their
		// delivery attempts (the answer may echo the message); and the
		// rules' memory of them.
		{"alert_causes", `DELETE FROM alert_causes WHERE site_id = ? AND (user_key = ?
			OR (kind = 'recording' AND ref IN ` + recSet + `)
			OR (kind = 'response' AND ref IN (SELECT survey_id || '/' || response_id FROM survey_responses WHERE site_id = ? AND ` + visitor + `))
			OR (kind = 'feedback' AND ref IN (SELECT id FROM feedback WHERE site_id = ? AND ` + visitor + `)))`,
			[]any{site, key, recs, site, users, anons, site, users, anons}},
		{"alert_attempts", "DELETE FROM alert_attempts WHERE site_id = ? AND message_id IN " + alertMsgs, alertArgs},
		{"alert_messages", "DELETE FROM alert_messages WHERE site_id = ? AND id IN " + alertMsgs, alertArgs},
		{"alert_message_users", "DELETE FROM alert_message_users WHERE site_id = ? AND message_id IN " + alertMsgs, alertArgs},
		{"alert_members", "DELETE FROM alert_members WHERE user_key = ?", []any{key}},
		{"survey_answers", `DELETE FROM survey_answers a WHERE a.site_id = ? AND EXISTS (SELECT 1 FROM survey_responses x
			WHERE x.site_id = a.site_id AND x.survey_id = a.survey_id AND x.response_id = a.response_id AND ` + visitor + `)`,
			[]any{site, users, anons}},
		{"survey_responses", "DELETE FROM survey_responses WHERE site_id = ? AND " + visitor, []any{site, users, anons}},
		{"survey_dismissals", "DELETE FROM survey_dismissals WHERE site_id = ? AND " + visitor, []any{site, users, anons}},
		{"feedback", "DELETE FROM feedback WHERE site_id = ? AND " + visitor, []any{site, users, anons}},
		// Messages the database refused, set aside with a readable
		// rendering that names the visitor.
		{"quarantined", `DELETE FROM quarantine WHERE site_id = ? AND ` + quarantineOf,
			[]any{site, users, anons, append(append([]string{}, users...), anons...)}},
		{"identities", "DELETE FROM identities WHERE site_id = ? AND entity_key = ?", []any{site, key}},
	}
	for _, s := range steps {
		res, err := db.wconn.ExecContext(ctx, s.sql, s.args...)
		if err != nil {
			return fmt.Errorf("delete %s: %w", s.kind, err)
		}
		c, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("delete %s: %w", s.kind, err)
		}
		n[s.kind] += c
	}
	delete(n, "identities") // reported as Erasure.Identities
	delete(n, "alert_message_users")
	delete(n, "alert_members")
	return nil
}

// forgetUser drops what the writer remembers of a deleted user and moves
// the change counters, so that cached segment answers drop the user.
func (db *DB) forgetUser(key int64, hashes []int64) {
	w := db.w
	for _, h := range hashes {
		w.ids.remove(h)
	}
	w.named.remove(key)
	delete(w.open, key)
	delete(w.backfill, key)
	for from, into := range w.redirect {
		if from == key || into == key {
			delete(w.redirect, from)
		}
	}
	db.vers.profileOf(key)
	db.vers.activityOf(key)
	db.vers.site.Add(1)
	db.vers.surveys.Add(1)
}

// scrub removes what deleted rows leave in the files and marks every
// pending erasure scrubbed; it returns how many log segments it removed.
// The caller holds every write back (exclusive and gate) with everything
// logged applied, or is opening the store.
func (db *DB) scrub(ctx context.Context) (int, error) {
	if err := db.rebuildEventCatalog(ctx); err != nil {
		return 0, err
	}
	before := db.wal.Segments()
	if err := db.wal.Roll(); err != nil {
		return 0, err
	}
	if err := db.wal.Remove(db.wal.LastLSN()); err != nil {
		return 0, err
	}
	removed := before - db.wal.Segments() + 1 // the closed one was replaced by an empty one
	if removed < 0 {
		removed = 0
	}
	if err := db.rewriteFile(ctx); err != nil {
		return removed, err
	}
	err := db.inTx(ctx, func() error {
		if _, err := db.wconn.ExecContext(ctx, "UPDATE erasures SET scrubbed_at = ? WHERE scrubbed_at IS NULL",
			db.opts.Now().UTC()); err != nil {
			return fmt.Errorf("mark erasures scrubbed: %w", err)
		}
		return db.markJobsScrubbed(ctx, db.opts.Now())
	})
	if err != nil {
		return removed, err
	}
	// The mark is in DuckDB's own log (nothing else is: the rewrite
	// started it empty); a checkpoint empties it, unless readers hold
	// transactions open, when the next one does.
	if _, err := db.wconn.ExecContext(ctx, "CHECKPOINT"); err != nil {
		db.log.Info("checkpoint after a rewrite postponed", "err", err)
	}
	return removed, nil
}

// scrubPending scrubs the files at the start when an erasure was
// interrupted after its rows were deleted.
func (db *DB) scrubPending(ctx context.Context) error {
	var n int
	if err := db.wconn.QueryRowContext(ctx, "SELECT count(*) FROM erasures WHERE scrubbed_at IS NULL").Scan(&n); err != nil {
		return fmt.Errorf("read pending erasures: %w", err)
	}
	if n == 0 {
		return nil
	}
	db.log.Info("finishing interrupted user deletions", "erasures", n)
	_, err := db.scrub(ctx)
	return err
}

// rewriteFile copies the database into a new file and puts it in the old
// one's place, then reopens the database under the same pool. The old file
// keeps deleted rows in blocks DuckDB freed without clearing them; the
// copy holds only live rows. The rename is atomic: a crash leaves either
// file whole, and a copy left half written is removed at the next start.
// Reads go on during the copy; then new reads wait while the reads in
// flight finish and the database is swapped (see swapConnector), so no
// read fails. Should reads hold connections longer than SwapWait, the old
// file stays and the error says so; the erasure is scrubbed again later.
func (db *DB) rewriteFile(ctx context.Context) error {
	start := time.Now()
	tmp := db.path + rewriteSuffix
	removeRewriteLeftovers(db.path)
	var name string
	if err := db.wconn.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
		return fmt.Errorf("rewrite database: %w", err)
	}
	if _, err := db.wconn.ExecContext(ctx, "ATTACH "+quoteLiteral(tmp)+" AS sightline_rewrite"); err != nil {
		return fmt.Errorf("rewrite database: %w", err)
	}
	_, err := db.wconn.ExecContext(ctx, "COPY FROM DATABASE "+quoteIdent(name)+" TO sightline_rewrite")
	if _, derr := db.wconn.ExecContext(context.Background(), "DETACH sightline_rewrite"); err == nil {
		err = derr
	}
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		if _, serr := os.Stat(tmp + ".wal"); serr == nil {
			err = errors.New("the copy left a log file")
		}
	}
	if err != nil {
		removeRewriteLeftovers(db.path)
		return fmt.Errorf("rewrite database: copy: %w", err)
	}
	copied := time.Since(start)

	// Swap: hold new connections back and wait for those in use.
	if err := db.wconn.Close(); err != nil {
		db.log.Warn("close write connection", "err", err)
	}
	db.wconn = nil
	quiesced := time.Now()
	if err := db.swap.quiesce(ctx, db.opts.SwapWait, func() { db.sql.SetMaxIdleConns(0) }); err != nil {
		db.sql.SetMaxIdleConns(poolIdle)
		removeRewriteLeftovers(db.path)
		return errors.Join(fmt.Errorf("rewrite database: swap: %w", err), db.reconnect(ctx))
	}
	next, err := db.replaceFile(tmp)
	db.swap.resume(next)
	db.sql.SetMaxIdleConns(poolIdle)
	if err != nil {
		return errors.Join(err, db.reconnect(ctx))
	}
	if err := db.reconnect(ctx); err != nil {
		return err
	}
	db.log.Info("database file rewritten", "took", time.Since(start).Round(time.Millisecond),
		"copy", copied.Round(time.Millisecond), "reads_held", time.Since(quiesced).Round(time.Millisecond))
	return nil
}

// replaceFile closes the database, no connection being open, renames tmp
// over its file and opens it again. It returns the database opened: the
// new file, or the old one again when the rename did not happen.
func (db *DB) replaceFile(tmp string) (*duckdb.Connector, error) {
	// The copy read committed rows; the old file's own log holds them
	// too until a checkpoint, which readers' transactions may have kept
	// from running before. None is open now.
	old := db.swap.current()
	if c, err := old.Connect(context.Background()); err == nil {
		if _, err := c.(driver.ExecerContext).ExecContext(context.Background(), "CHECKPOINT", nil); err != nil {
			db.log.Warn("checkpoint before the rewrite", "err", err)
		}
		c.Close()
	}
	if err := old.Close(); err != nil {
		db.log.Warn("close database for its rewrite", "err", err)
	}
	var failed error
	if fi, err := os.Stat(db.path + ".wal"); err == nil && fi.Size() > 0 {
		// Something reached the old file after the copy: keep it.
		removeRewriteLeftovers(db.path)
		failed = errors.New("rewrite database: the old file changed after the copy; kept it")
	} else {
		os.Remove(db.path + ".wal")
		if err := os.Rename(tmp, db.path); err != nil {
			removeRewriteLeftovers(db.path)
			failed = fmt.Errorf("rewrite database: %w", err)
		} else if err := syncDir(filepath.Dir(db.path)); err != nil {
			db.log.Warn("sync data folder", "err", err)
		}
	}
	next, err := duckdb.NewConnector(db.dsn, nil)
	if err != nil {
		return nil, errors.Join(failed, fmt.Errorf("reopen database: %w", err))
	}
	if err := os.Chmod(db.path, 0o600); err != nil {
		db.log.Warn("make the database file owner-only", "err", err)
	}
	return next, failed
}

// reconnect opens the write connection again after rewriteFile closed it.
func (db *DB) reconnect(ctx context.Context) error {
	var err error
	db.wconn, err = db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("reopen write connection: %w", err)
	}
	return nil
}

// removeRewriteLeftovers deletes a copy that a rewrite left unfinished.
func removeRewriteLeftovers(path string) {
	os.Remove(path + rewriteSuffix)
	os.Remove(path + rewriteSuffix + ".wal")
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func newErasureID() string {
	var b [8]byte
	rand.Read(b[:])
	return "er_" + hex.EncodeToString(b[:])
}

// writing holds the gate for a write outside wmu; call the result when
// the write is done.
func (db *DB) writing() func() {
	db.gate.RLock()
	return db.gate.RUnlock
}

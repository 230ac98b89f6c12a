package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sightline/sightline/internal/store"
)

var (
	_ store.AlertConfig = (*DB)(nil)
	_ store.AlertOutbox = (*DB)(nil)
)

// alertWatch is which cause kinds each site's alert rules need, loaded
// before the log is replayed so that a replayed batch records the causes
// it would have recorded before a crash.
type alertWatch struct {
	mu    sync.RWMutex
	kinds map[int64][]string
	wake  func()      // called after a commit that recorded causes
	dirty atomic.Bool // causes recorded since the last wake
}

// SetAlertWake sets the function called after a commit that recorded
// alert causes, so that they are evaluated at once. Call it before
// writing.
func (db *DB) SetAlertWake(fn func()) {
	db.alerts.mu.Lock()
	db.alerts.wake = fn
	db.alerts.mu.Unlock()
}

// kick calls the wake function when causes were recorded.
func (w *alertWatch) kick() {
	if !w.dirty.Swap(false) {
		return
	}
	w.mu.RLock()
	fn := w.wake
	w.mu.RUnlock()
	if fn != nil {
		fn()
	}
}

func (w *alertWatch) watches(site int64, kind string) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return slices.Contains(w.kinds[site], kind)
}

// any reports whether some site watches kind.
func (w *alertWatch) any(kind string) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, ks := range w.kinds {
		if slices.Contains(ks, kind) {
			return true
		}
	}
	return false
}

func (w *alertWatch) set(site int64, kinds []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.kinds == nil {
		w.kinds = map[int64][]string{}
	}
	w.kinds[site] = slices.Clone(kinds)
}

func (db *DB) loadAlertWatch(ctx context.Context) error {
	rows, err := db.sql.QueryContext(ctx, "SELECT site_id, watch FROM alert_config")
	if err != nil {
		return fmt.Errorf("load alert watches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var site int64
		var kinds duckList
		if err := rows.Scan(&site, &kinds); err != nil {
			return fmt.Errorf("load alert watches: %w", err)
		}
		db.alerts.set(site, kinds)
	}
	return rows.Err()
}

// keyList scans a BIGINT[] column.
type keyList []int64

func (l *keyList) Scan(v any) error {
	*l = nil
	list, ok := v.([]any)
	if v != nil && !ok {
		return fmt.Errorf("scan list: %T", v)
	}
	for _, x := range list {
		if k, ok := x.(int64); ok {
			*l = append(*l, k)
		}
	}
	return nil
}

// duckList scans a VARCHAR[] column.
type duckList []string

func (l *duckList) Scan(v any) error {
	*l = nil
	list, ok := v.([]any)
	if v != nil && !ok {
		return fmt.Errorf("scan list: %T", v)
	}
	for _, x := range list {
		s, _ := x.(string)
		*l = append(*l, s)
	}
	return nil
}

// AlertConfig implements store.AlertConfig.
func (db *DB) AlertConfig(ctx context.Context, site int64) ([]byte, error) {
	var s string
	err := db.sql.QueryRowContext(ctx, "SELECT config FROM alert_config WHERE site_id = ?", site).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alert config: %w", err)
	}
	return []byte(s), nil
}

// SaveAlertConfig implements store.AlertConfig.
func (db *DB) SaveAlertConfig(ctx context.Context, site int64, config []byte, watch []string) error {
	if watch == nil {
		watch = []string{}
	}
	// Under the applier's lock, so that no batch is between reading the
	// old watch and committing.
	db.wmu.Lock()
	defer db.wmu.Unlock()
	_, err := db.sql.ExecContext(ctx, `INSERT INTO alert_config VALUES (?, ?, ?, ?)
		ON CONFLICT (site_id) DO UPDATE SET config = excluded.config, watch = excluded.watch, updated_at = excluded.updated_at`,
		site, string(config), watch, now(db))
	if err != nil {
		return fmt.Errorf("save alert config: %w", err)
	}
	db.alerts.set(site, watch)
	return nil
}

// recordCause adds a cause in the transaction of the change that made it,
// when the site watches its kind.
func (db *DB) recordCause(ctx context.Context, q querier, site int64, kind, ref string, user int64) error {
	if !db.alerts.watches(site, kind) {
		return nil
	}
	if _, err := q.ExecContext(ctx, "INSERT INTO alert_causes (site_id, kind, ref, user_key, created_at) VALUES (?, ?, ?, ?, ?)",
		site, kind, ref, user, now(db)); err != nil {
		return fmt.Errorf("record alert cause: %w", err)
	}
	db.alerts.dirty.Store(true)
	return nil
}

// recordChangeCauses adds a change cause for each user whose data the
// batch changed, on the sites that watch changes: the users of its events,
// identities, attribute values, company links and merges.
func (db *DB) recordChangeCauses(ctx context.Context, conn querier, b *batch) error {
	if !db.alerts.any(store.CauseChange) {
		return nil
	}
	type su struct{ site, user int64 }
	seen := map[su]bool{}
	var sites, users []int64
	add := func(site, user int64) {
		k := su{site, user}
		if user == 0 || seen[k] || !db.alerts.watches(site, store.CauseChange) {
			return
		}
		seen[k] = true
		sites, users = append(sites, site), append(users, user)
	}
	for i := range b.events {
		add(b.events[i].m.SiteID, b.events[i].user)
	}
	for i := range b.identities {
		add(b.identities[i].site, b.identities[i].key)
	}
	for i := range b.sets {
		if b.sets[i].entity == store.EntityUser {
			add(b.sets[i].site, b.sets[i].key)
		}
	}
	if len(users) == 0 {
		return nil
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO alert_causes (site_id, kind, ref, user_key, created_at)
		SELECT s, 'change', '', u, ? FROM (SELECT unnest(?::BIGINT[]) AS s, unnest(?::BIGINT[]) AS u)`,
		b.now, sites, users)
	if err != nil {
		return fmt.Errorf("record alert causes: %w", err)
	}
	db.alerts.dirty.Store(true)
	return nil
}

// AlertCauses implements store.AlertOutbox.
func (db *DB) AlertCauses(ctx context.Context, limit int) ([]store.AlertCause, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, site_id, kind, ref, user_key, created_at FROM alert_causes ORDER BY id LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("read alert causes: %w", err)
	}
	defer rows.Close()
	var out []store.AlertCause
	for rows.Next() {
		var c store.AlertCause
		if err := rows.Scan(&c.ID, &c.SiteID, &c.Kind, &c.Ref, &c.UserKey, &c.At); err != nil {
			return nil, fmt.Errorf("read alert causes: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ResolveAlerts implements store.AlertOutbox.
func (db *DB) ResolveAlerts(ctx context.Context, causes []int64, msgs []store.AlertMessage, members []store.AlertMember) error {
	return db.tx(ctx, "resolve alerts", func(tx *sql.Tx) error {
		if len(causes) > 0 {
			if _, err := tx.ExecContext(ctx, "DELETE FROM alert_causes WHERE id IN (SELECT unnest(?::BIGINT[]))", causes); err != nil {
				return err
			}
		}
		for _, m := range msgs {
			if db.carriesErased(m) {
				// Made from a user's data read before their deletion,
				// which committed meanwhile: the user is gone.
				continue
			}
			if err := insertAlertMessage(ctx, tx, m); err != nil {
				return err
			}
		}
		for _, m := range members {
			q := "DELETE FROM alert_members WHERE rule_id = ? AND user_key = ?"
			if m.In {
				q = "INSERT INTO alert_members VALUES (?, ?) ON CONFLICT DO NOTHING"
			}
			if _, err := tx.ExecContext(ctx, q, m.RuleID, m.UserKey); err != nil {
				return err
			}
		}
		return nil
	})
}

func insertAlertMessage(ctx context.Context, q querier, m store.AlertMessage) error {
	var done *time.Time
	if !m.DoneAt.IsZero() {
		d := m.DoneAt.UTC()
		done = &d
	}
	// ON CONFLICT: a held message becomes digested by being written again.
	_, err := q.ExecContext(ctx, `INSERT INTO alert_messages (`+alertMessageColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, done_at = excluded.done_at`,
		m.ID, m.SiteID, m.RuleID, m.DestinationID, m.Type, m.Summary, string(m.Body), m.Status, m.Attempts,
		m.CreatedAt.UTC(), m.NextAt.UTC(), done)
	if err != nil || len(m.Users) == 0 {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO alert_message_users SELECT ?, ?, unnest(?::BIGINT[])
		WHERE NOT EXISTS (SELECT 1 FROM alert_message_users WHERE message_id = ?)`, m.ID, m.SiteID, m.Users, m.ID)
	return err
}

// carriesErased reports whether a message carries the data of a user
// deleted since the store opened. The caller holds the gate (a deletion
// holds it exclusively while it records the keys).
func (db *DB) carriesErased(m store.AlertMessage) bool {
	for _, k := range m.Users {
		if _, ok := db.erasedKeys[k]; ok {
			return true
		}
	}
	return false
}

// AlertMembers implements store.AlertOutbox.
func (db *DB) AlertMembers(ctx context.Context, rule string, keys []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := db.sql.QueryContext(ctx, "SELECT user_key FROM alert_members WHERE rule_id = ? AND user_key IN (SELECT unnest(?::BIGINT[]))", rule, keys)
	if err != nil {
		return nil, fmt.Errorf("read alert members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("read alert members: %w", err)
		}
		out[k] = true
	}
	return out, rows.Err()
}

// ResetAlertMembers implements store.AlertOutbox.
func (db *DB) ResetAlertMembers(ctx context.Context, rule string, keys []int64) error {
	if keys == nil {
		keys = []int64{}
	}
	return db.tx(ctx, "reset alert members", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM alert_members WHERE rule_id = ?", rule); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO alert_members SELECT DISTINCT ?, unnest(?::BIGINT[])", rule, keys)
		return err
	})
}

// CountAlerts implements store.AlertOutbox.
func (db *DB) CountAlerts(ctx context.Context, rule string, since time.Time) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM alert_messages WHERE rule_id = ? AND created_at >= ?",
		rule, since.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count alerts: %w", err)
	}
	return n, nil
}

const alertMessageColumns = "id, site_id, rule_id, destination_id, type, summary, body, status, attempts, created_at, next_at, done_at"

func (db *DB) alertMessages(ctx context.Context, q string, args ...any) ([]store.AlertMessage, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+alertMessageColumns+`,
		(SELECT list(u.user_key) FROM alert_message_users u WHERE u.message_id = m.id) FROM alert_messages m `+q, args...)
	if err != nil {
		return nil, fmt.Errorf("read alert messages: %w", err)
	}
	defer rows.Close()
	var out []store.AlertMessage
	for rows.Next() {
		var m store.AlertMessage
		var body string
		var done sql.NullTime
		var users keyList
		if err := rows.Scan(&m.ID, &m.SiteID, &m.RuleID, &m.DestinationID, &m.Type, &m.Summary, &body, &m.Status,
			&m.Attempts, &m.CreatedAt, &m.NextAt, &done, &users); err != nil {
			return nil, fmt.Errorf("read alert messages: %w", err)
		}
		m.Body = []byte(body)
		m.Users = users
		if done.Valid {
			m.DoneAt = done.Time
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// HeldAlerts implements store.AlertOutbox.
func (db *DB) HeldAlerts(ctx context.Context, until time.Time) ([]store.AlertMessage, error) {
	return db.alertMessages(ctx, "WHERE status = 'held' AND created_at < ? ORDER BY created_at, id", until.UTC())
}

// DueAlerts implements store.AlertOutbox.
func (db *DB) DueAlerts(ctx context.Context, at time.Time, limit int) ([]store.AlertMessage, error) {
	return db.alertMessages(ctx, `WHERE status = 'pending' AND next_at <= ?
		AND NOT EXISTS (SELECT 1 FROM alert_destination_state d WHERE d.site_id = m.site_id
			AND d.destination_id = m.destination_id AND d.disabled_at IS NOT NULL)
		ORDER BY next_at, created_at LIMIT ?`, at.UTC(), limit)
}

// FinishAttempt implements store.AlertOutbox.
func (db *DB) FinishAttempt(ctx context.Context, a store.AlertAttempt, m store.AlertMessage, d store.DestinationState) error {
	var disabled *time.Time
	if !d.DisabledAt.IsZero() {
		t := d.DisabledAt.UTC()
		disabled = &t
	}
	var done *time.Time
	if !m.DoneAt.IsZero() {
		t := m.DoneAt.UTC()
		done = &t
	}
	return db.tx(ctx, "finish alert attempt", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE alert_messages SET status = ?, attempts = ?, next_at = ?, done_at = ? WHERE id = ?",
			m.Status, m.Attempts, m.NextAt.UTC(), done, m.ID)
		if err != nil {
			return err
		}
		// A message deleted with its user during the attempt leaves no
		// log: the answer may echo the user's data.
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n > 0 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO alert_attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				a.MessageID, a.SiteID, a.DestinationID, a.Attempt, a.At.UTC(), a.Status, a.Error,
				float64(a.Latency)/float64(time.Millisecond), a.Response); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO alert_destination_state VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (site_id, destination_id) DO UPDATE SET failures = excluded.failures,
				disabled_at = excluded.disabled_at, reason = excluded.reason`,
			m.SiteID, m.DestinationID, d.Failures, disabled, d.Reason)
		return err
	})
}

// DestinationState implements store.AlertOutbox.
func (db *DB) DestinationState(ctx context.Context, site int64, destination string) (store.DestinationState, error) {
	var d store.DestinationState
	var disabled sql.NullTime
	err := db.sql.QueryRowContext(ctx, "SELECT failures, disabled_at, reason FROM alert_destination_state WHERE site_id = ? AND destination_id = ?",
		site, destination).Scan(&d.Failures, &disabled, &d.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("read destination state: %w", err)
	}
	if disabled.Valid {
		d.DisabledAt = disabled.Time
	}
	return d, nil
}

// EnableDestination implements store.AlertOutbox.
func (db *DB) EnableDestination(ctx context.Context, site int64, destination string, at time.Time) error {
	return db.tx(ctx, "enable destination", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM alert_destination_state WHERE site_id = ? AND destination_id = ?",
			site, destination); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE alert_messages SET next_at = ? WHERE site_id = ? AND destination_id = ?
			AND status = 'pending'`, at.UTC(), site, destination)
		return err
	})
}

// AlertAttempts implements store.AlertOutbox.
func (db *DB) AlertAttempts(ctx context.Context, site int64, destination string, limit int) ([]store.AlertAttempt, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT message_id, site_id, destination_id, attempt, attempted_at, status, error, latency_ms, response
		FROM alert_attempts WHERE site_id = ? AND (? = '' OR destination_id = ?) ORDER BY attempted_at DESC LIMIT ?`,
		site, destination, destination, limit)
	if err != nil {
		return nil, fmt.Errorf("read alert attempts: %w", err)
	}
	defer rows.Close()
	var out []store.AlertAttempt
	for rows.Next() {
		var a store.AlertAttempt
		var ms float64
		if err := rows.Scan(&a.MessageID, &a.SiteID, &a.DestinationID, &a.Attempt, &a.At, &a.Status, &a.Error, &ms, &a.Response); err != nil {
			return nil, fmt.Errorf("read alert attempts: %w", err)
		}
		a.Latency = time.Duration(ms * float64(time.Millisecond))
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertMessages implements store.AlertOutbox.
func (db *DB) AlertMessages(ctx context.Context, site int64, limit int) ([]store.AlertMessage, error) {
	return db.alertMessages(ctx, "WHERE site_id = ? ORDER BY created_at DESC, id LIMIT ?", site, limit)
}

// recordChunk records a recording cause for each newly stored chunk: the
// evaluator announces a recording once per rule, when it has chunks and
// its user is in the rule's segment, which may become true only with a
// later chunk (a rage click during the recording).
func (db *DB) recordChunk(ctx context.Context, tx *sql.Tx, site int64, recording string) error {
	return db.recordCause(ctx, tx, site, store.CauseRecording, recording, 0)
}

// recordCompletion records a response cause when a response is saved
// completed for the first time.
func (db *DB) recordCompletion(ctx context.Context, tx *sql.Tx, r store.SurveyResponse) error {
	if !db.alerts.watches(r.SiteID, store.CauseResponse) {
		return nil
	}
	var before bool
	err := tx.QueryRowContext(ctx, "SELECT completed FROM survey_responses WHERE site_id = ? AND survey_id = ? AND response_id = ?",
		r.SiteID, r.SurveyID, r.ResponseID).Scan(&before)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read response: %w", err)
	}
	if before {
		return nil
	}
	return db.recordCause(ctx, tx, r.SiteID, store.CauseResponse, r.SurveyID+"/"+r.ResponseID, 0)
}

// UserIDs returns the user ID of each of keys that has one.
func (db *DB) UserIDs(ctx context.Context, site int64, keys []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT entity_key, min(external_id) FROM identities
		WHERE site_id = ? AND kind = ? AND entity_key IN (SELECT unnest(?::BIGINT[])) GROUP BY entity_key`,
		site, idUser, keys)
	if err != nil {
		return nil, fmt.Errorf("read user IDs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		var id string
		if err := rows.Scan(&k, &id); err != nil {
			return nil, fmt.Errorf("read user IDs: %w", err)
		}
		out[k] = id
	}
	return out, rows.Err()
}

// FeedbackByID returns one piece of feedback with its user's key.
func (db *DB) FeedbackByID(ctx context.Context, site int64, id string) (store.FeedbackItem, error) {
	var f store.FeedbackItem
	err := db.sql.QueryRowContext(ctx, `SELECT x.id, x.site_id, x.anonymous_id, x.user_id, x.session_id, x.url,
			x.rating, x.comment, x.selector, x.created_at, coalesce(i.entity_key, 0)
		FROM feedback x `+visitorJoin+" WHERE x.site_id = ? AND x.id = ?", site, id).Scan(
		&f.ID, &f.SiteID, &f.AnonymousID, &f.UserID, &f.SessionID, &f.URL, &f.Rating,
		&f.Comment, &f.Selector, &f.CreatedAt, &f.UserKey)
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("feedback %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("read feedback: %w", err)
	}
	return f, nil
}

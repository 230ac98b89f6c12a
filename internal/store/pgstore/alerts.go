package pgstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
)

var (
	_ store.AlertConfig = (*DB)(nil)
	_ store.AlertOutbox = (*DB)(nil)
)

// Several nodes run package notify's evaluator and deliverer on the same
// tables. Causes and due messages are leased: AlertCauses and DueAlerts
// take rows no other node holds (FOR UPDATE SKIP LOCKED, so a node never
// waits on another's rows) and mark them as this node's until the lease
// ends. The node that holds a row gets it again on its next call, as a
// single store would; another node gets it only once the lease has run
// out (its holder died or hung). ResolveAlerts and FinishAttempt end the
// lease. What nodes may still race on is refused as a conflict, so that
// the round is redone rather than doubled: a held message digested by
// another node, a rule's member that another node announced first.

// AlertConfig implements store.AlertConfig.
func (db *DB) AlertConfig(ctx context.Context, site int64) ([]byte, error) {
	var s string
	err := db.pool.QueryRow(ctx, "SELECT config FROM alert_config WHERE site_id = $1", site).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
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
	_, err := db.pool.Exec(ctx, `INSERT INTO alert_config (site_id, config, watch, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (site_id) DO UPDATE SET config = excluded.config, watch = excluded.watch, updated_at = excluded.updated_at`,
		site, string(config), watch, db.now())
	if err != nil {
		return fmt.Errorf("save alert config: %w", err)
	}
	return nil
}

// RecordAlertCauses records the causes of the sites whose rules watch
// their kinds and drops the rest, in one statement; it returns how many
// it kept. The analytical backend's writer calls it once the change is
// stored: in duckstore a cause commits with its change, across two
// databases it follows it (a crash between the two loses the cause, not
// the change; the node's write-ahead log replays both).
func (db *DB) RecordAlertCauses(ctx context.Context, causes []store.AlertCause) (int, error) {
	if len(causes) == 0 {
		return 0, nil
	}
	return recordCauses(ctx, db.pool, causes, db.now())
}

// RecordAlertCausesIn is RecordAlertCauses inside the caller's
// transaction, stamped at: the scaled analytics store records the causes
// of a change in the transaction that commits it, so that a crash loses
// none.
func RecordAlertCausesIn(ctx context.Context, tx pgx.Tx, causes []store.AlertCause, at time.Time) (int, error) {
	if len(causes) == 0 {
		return 0, nil
	}
	return recordCauses(ctx, tx, causes, at.UTC().Truncate(time.Microsecond))
}

// recordCauses inserts the causes of watched kinds, in their order.
func recordCauses(ctx context.Context, x execer, causes []store.AlertCause, at time.Time) (int, error) {
	sites, kinds, refs, users := make([]int64, len(causes)), make([]string, len(causes)), make([]string, len(causes)), make([]int64, len(causes))
	for i, c := range causes {
		sites[i], kinds[i], refs[i], users[i] = c.SiteID, c.Kind, c.Ref, c.UserKey
	}
	tag, err := x.Exec(ctx, `INSERT INTO alert_causes (site_id, kind, ref, user_key, created_at)
		SELECT c.site_id, c.kind, c.ref, c.user_key, $5
		FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[]) WITH ORDINALITY AS c (site_id, kind, ref, user_key, n)
		JOIN alert_config w ON w.site_id = c.site_id AND c.kind = ANY(w.watch)
		ORDER BY c.n`, sites, kinds, refs, users, at)
	if err != nil {
		return 0, fmt.Errorf("record alert causes: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// AlertCauses implements store.AlertOutbox: up to limit causes, oldest
// first, leased to this node.
func (db *DB) AlertCauses(ctx context.Context, limit int) ([]store.AlertCause, error) {
	now := db.now()
	var out []store.AlertCause
	err := db.inTx(ctx, "read alert causes", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE alert_causes c SET leased_by = $1, lease_until = $2
			FROM (SELECT id FROM alert_causes WHERE leased_by IS NULL OR leased_by = $1 OR lease_until <= $3
				ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) AS t
			WHERE c.id = t.id
			RETURNING c.id, c.site_id, c.kind, c.ref, c.user_key, c.created_at`,
			db.opts.Node, now.Add(db.opts.AlertLease), now, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AlertCause, error) {
			var c store.AlertCause
			err := r.Scan(&c.ID, &c.SiteID, &c.Kind, &c.Ref, &c.UserKey, &c.At)
			return c, err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	// UPDATE … RETURNING keeps no order.
	slices.SortFunc(out, func(a, b store.AlertCause) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// ResolveAlerts implements store.AlertOutbox, in one transaction. It
// returns an error wrapping store.ErrConflict, and changes nothing, when
// another node got there first: a cause is no longer leased to this node
// (its lease ran out and another node took it), a message it would move
// out of held is no longer held (another node digested it), or a member
// it would add is there already (another node announced the entry).
func (db *DB) ResolveAlerts(ctx context.Context, causes []int64, msgs []store.AlertMessage, members []store.AlertMember) error {
	return db.inTx(ctx, "resolve alerts", func(tx pgx.Tx) error {
		if len(causes) > 0 {
			// Only the node that holds the causes resolves them: one
			// whose lease ran out while it worked finds them taken over.
			tag, err := tx.Exec(ctx, "DELETE FROM alert_causes WHERE id = ANY($1) AND leased_by = $2", causes, db.opts.Node)
			if err != nil {
				return err
			}
			if distinct := len(slices.Compact(slices.Sorted(slices.Values(causes)))); int(tag.RowsAffected()) != distinct {
				return fmt.Errorf("%d of %d alert causes are no longer this node's: %w", distinct-int(tag.RowsAffected()), distinct, store.ErrConflict)
			}
		}
		for _, m := range msgs {
			if err := db.putAlertMessage(ctx, tx, m); err != nil {
				return err
			}
		}
		for _, m := range members {
			if !m.In {
				if _, err := tx.Exec(ctx, "DELETE FROM alert_members WHERE rule_id = $1 AND user_key = $2", m.RuleID, m.UserKey); err != nil {
					return err
				}
				continue
			}
			tag, err := tx.Exec(ctx, "INSERT INTO alert_members (rule_id, user_key) VALUES ($1, $2) ON CONFLICT DO NOTHING", m.RuleID, m.UserKey)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("rule %s: user %d entered its segment on another node: %w", m.RuleID, m.UserKey, store.ErrConflict)
			}
		}
		return nil
	})
}

// putAlertMessage queues a new message, or moves a held one to its new
// status (a digest lists it).
func (db *DB) putAlertMessage(ctx context.Context, tx pgx.Tx, m store.AlertMessage) error {
	tag, err := tx.Exec(ctx, `INSERT INTO alert_messages (id, site_id, rule_id, destination_id, type, summary, body, status,
			attempts, created_at, next_at, done_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, done_at = excluded.done_at
		WHERE alert_messages.status = 'held'`,
		m.ID, m.SiteID, m.RuleID, m.DestinationID, m.Type, m.Summary, string(m.Body), m.Status, m.Attempts,
		utc(m.CreatedAt), utc(m.NextAt), nullTime(m.DoneAt))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("alert message %s was handled on another node: %w", m.ID, store.ErrConflict)
	}
	return nil
}

// AlertMembers implements store.AlertOutbox.
func (db *DB) AlertMembers(ctx context.Context, rule string, keys []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, "SELECT user_key FROM alert_members WHERE rule_id = $1 AND user_key = ANY($2)", rule, keys)
	if err != nil {
		return nil, fmt.Errorf("read alert members: %w", err)
	}
	in, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("read alert members: %w", err)
	}
	for _, k := range in {
		out[k] = true
	}
	return out, nil
}

// ResetAlertMembers implements store.AlertOutbox.
func (db *DB) ResetAlertMembers(ctx context.Context, rule string, keys []int64) error {
	if keys == nil {
		keys = []int64{}
	}
	return db.inTx(ctx, "reset alert members", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM alert_members WHERE rule_id = $1", rule); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO alert_members (rule_id, user_key) SELECT DISTINCT $1, unnest($2::BIGINT[])", rule, keys)
		return err
	})
}

// CountAlerts implements store.AlertOutbox.
func (db *DB) CountAlerts(ctx context.Context, rule string, since time.Time) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM alert_messages WHERE rule_id = $1 AND created_at >= $2",
		rule, utc(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count alerts: %w", err)
	}
	return n, nil
}

const alertMessageColumns = "m.id, m.site_id, m.rule_id, m.destination_id, m.type, m.summary, m.body, m.status, m.attempts, m.created_at, m.next_at, m.done_at"

func scanAlertMessage(r pgx.CollectableRow) (store.AlertMessage, error) {
	var m store.AlertMessage
	var body string
	var done *time.Time
	if err := r.Scan(&m.ID, &m.SiteID, &m.RuleID, &m.DestinationID, &m.Type, &m.Summary, &body, &m.Status,
		&m.Attempts, &m.CreatedAt, &m.NextAt, &done); err != nil {
		return store.AlertMessage{}, err
	}
	m.Body = []byte(body)
	if done != nil {
		m.DoneAt = *done
	}
	return m, nil
}

func collectAlertMessages(rows pgx.Rows, err error) ([]store.AlertMessage, error) {
	if err != nil {
		return nil, fmt.Errorf("read alert messages: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanAlertMessage)
	if err != nil {
		return nil, fmt.Errorf("read alert messages: %w", err)
	}
	return out, nil
}

// HeldAlerts implements store.AlertOutbox.
func (db *DB) HeldAlerts(ctx context.Context, until time.Time) ([]store.AlertMessage, error) {
	return collectAlertMessages(db.pool.Query(ctx, "SELECT "+alertMessageColumns+` FROM alert_messages m
		WHERE m.status = 'held' AND m.created_at < $1 ORDER BY m.created_at, m.id`, utc(until)))
}

// DueAlerts implements store.AlertOutbox: up to limit pending messages due
// at now, of destinations not disabled, oldest first, leased to this node
// until now plus the lease.
func (db *DB) DueAlerts(ctx context.Context, now time.Time, limit int) ([]store.AlertMessage, error) {
	now = utc(now)
	var out []store.AlertMessage
	err := db.inTx(ctx, "read due alerts", func(tx pgx.Tx) error {
		var err error
		out, err = collectAlertMessages(tx.Query(ctx, `UPDATE alert_messages m SET leased_by = $1, lease_until = $2
			FROM (SELECT x.id FROM alert_messages x
				WHERE x.status = 'pending' AND x.next_at <= $3
					AND (x.leased_by IS NULL OR x.leased_by = $1 OR x.lease_until <= $3)
					AND NOT EXISTS (SELECT 1 FROM alert_destination_state d WHERE d.site_id = x.site_id
						AND d.destination_id = x.destination_id AND d.disabled_at IS NOT NULL)
				ORDER BY x.next_at, x.created_at LIMIT $4 FOR UPDATE OF x SKIP LOCKED) AS t
			WHERE m.id = t.id
			RETURNING `+alertMessageColumns, db.opts.Node, now.Add(db.opts.AlertLease), now, limit))
		return err
	})
	if err != nil {
		return nil, err
	}
	// UPDATE … RETURNING keeps no order.
	slices.SortFunc(out, func(a, b store.AlertMessage) int {
		return cmp.Or(a.NextAt.Compare(b.NextAt), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// FinishAttempt implements store.AlertOutbox; the message's lease ends.
func (db *DB) FinishAttempt(ctx context.Context, a store.AlertAttempt, m store.AlertMessage, d store.DestinationState) error {
	return db.inTx(ctx, "finish alert attempt", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO alert_attempts (message_id, site_id, destination_id, attempt, attempted_at,
				status, error, latency_ms, response) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			a.MessageID, a.SiteID, a.DestinationID, a.Attempt, utc(a.At), a.Status, a.Error,
			float64(a.Latency)/float64(time.Millisecond), a.Response); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE alert_messages SET status = $2, attempts = $3, next_at = $4, done_at = $5,
				leased_by = NULL, lease_until = NULL WHERE id = $1`,
			m.ID, m.Status, m.Attempts, utc(m.NextAt), nullTime(m.DoneAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO alert_destination_state (site_id, destination_id, failures, disabled_at, reason)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (site_id, destination_id) DO UPDATE SET failures = excluded.failures,
				disabled_at = excluded.disabled_at, reason = excluded.reason`,
			m.SiteID, m.DestinationID, d.Failures, nullTime(d.DisabledAt), d.Reason)
		return err
	})
}

// DestinationState implements store.AlertOutbox.
func (db *DB) DestinationState(ctx context.Context, site int64, destination string) (store.DestinationState, error) {
	var d store.DestinationState
	var disabled *time.Time
	err := db.pool.QueryRow(ctx, "SELECT failures, disabled_at, reason FROM alert_destination_state WHERE site_id = $1 AND destination_id = $2",
		site, destination).Scan(&d.Failures, &disabled, &d.Reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("read destination state: %w", err)
	}
	if disabled != nil {
		d.DisabledAt = *disabled
	}
	return d, nil
}

// EnableDestination implements store.AlertOutbox. The destination's
// pending messages are due at now and free of any lease.
func (db *DB) EnableDestination(ctx context.Context, site int64, destination string, now time.Time) error {
	return db.inTx(ctx, "enable destination", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM alert_destination_state WHERE site_id = $1 AND destination_id = $2", site, destination); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE alert_messages SET next_at = $3, leased_by = NULL, lease_until = NULL
			WHERE site_id = $1 AND destination_id = $2 AND status = 'pending'`, site, destination, utc(now))
		return err
	})
}

// AlertAttempts implements store.AlertOutbox.
func (db *DB) AlertAttempts(ctx context.Context, site int64, destination string, limit int) ([]store.AlertAttempt, error) {
	rows, err := db.pool.Query(ctx, `SELECT message_id, site_id, destination_id, attempt, attempted_at, status, error, latency_ms, response
		FROM alert_attempts WHERE site_id = $1 AND ($2 = '' OR destination_id = $2) ORDER BY attempted_at DESC LIMIT $3`,
		site, destination, limit)
	if err != nil {
		return nil, fmt.Errorf("read alert attempts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AlertAttempt, error) {
		var a store.AlertAttempt
		var ms float64
		err := r.Scan(&a.MessageID, &a.SiteID, &a.DestinationID, &a.Attempt, &a.At, &a.Status, &a.Error, &ms, &a.Response)
		a.Latency = time.Duration(ms * float64(time.Millisecond))
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("read alert attempts: %w", err)
	}
	return out, nil
}

// AlertMessages implements store.AlertOutbox.
func (db *DB) AlertMessages(ctx context.Context, site int64, limit int) ([]store.AlertMessage, error) {
	return collectAlertMessages(db.pool.Query(ctx, "SELECT "+alertMessageColumns+` FROM alert_messages m
		WHERE m.site_id = $1 ORDER BY m.created_at DESC, m.id LIMIT $2`, site, limit))
}

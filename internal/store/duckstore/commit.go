package duckstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// errTrial rolls a trial batch's transaction back once every row is in.
var errTrial = errors.New("trial batch: roll back")

// commit writes a batch in one transaction on the write connection.
func (db *DB) commit(ctx context.Context, b *batch) error {
	conn := db.wconn
	var history []attrSet
	b.catalog = eventCatalogBatch(b)
	b.days = batchDays(b)
	b.named = batchNamed(b)
	nEvents, nProps := catalogRows(b.catalog)
	catalogSize, catalogKeys := db.w.catalogRows+int64(nEvents+nProps), db.w.catalogKeys
	err := db.inTx(ctx, func() error {
		var changed map[currentKey]*currentVal
		var err error
		history, changed, err = db.attrChanges(ctx, conn, b)
		if err != nil {
			return err
		}
		if err := db.deleteReplaced(ctx, conn, b, changed); err != nil {
			return err
		}
		err = conn.Raw(func(dc any) error { return db.appendRows(dc.(driver.Conn), b, history, changed) })
		if err != nil {
			return err
		}
		added := attrAppended(int64(countSet(changed)), int64(len(history)))
		for _, d := range b.days {
			added[d.table.name] += int64(len(d.rows))
		}
		added[eventsByNameTable] += int64(len(b.named))
		if err := added.note(ctx, conn); err != nil {
			return err
		}
		if catalogSize > catalogKeys+db.opts.foldAt {
			if catalogSize, err = foldEventCatalog(ctx, conn); err != nil {
				return err
			}
			catalogKeys = catalogSize
		}
		if err := db.linkGroups(ctx, conn, b); err != nil {
			return err
		}
		if err := db.applyMerges(ctx, conn, b); err != nil {
			return err
		}
		if err := db.insertQuarantine(ctx, conn, b.quarantine); err != nil {
			return err
		}
		if err := db.recordChangeCauses(ctx, conn, b); err != nil {
			return err
		}
		if b.lsn > 0 {
			if _, err := conn.ExecContext(ctx, "UPDATE wal_state SET applied_lsn = ?", int64(b.lsn)); err != nil {
				return fmt.Errorf("record applied log position: %w", err)
			}
		}
		if b.trial {
			return errTrial
		}
		return nil
	})
	if b.trial && errors.Is(err, errTrial) {
		return nil
	}
	if err != nil {
		return err
	}
	db.w.catalogRows, db.w.catalogKeys = catalogSize, catalogKeys
	// Before the applier advances the applied position (or Merge
	// returns), so that a reader that waited for these rows also sees
	// that cached answers about them are stale.
	db.touchBatch(b, history)
	db.alerts.kick()
	return nil
}

// deleteReplaced removes the rows that the batch replaces: open sessions it
// touched, closed backfill sessions it extended and current attribute
// values it changed.
func (db *DB) deleteReplaced(ctx context.Context, conn querier, b *batch, changed map[currentKey]*currentVal) error {
	if len(b.touched) > 0 {
		ids := make([]int64, 0, len(b.touched))
		for id := range b.touched {
			ids = append(ids, id)
		}
		if _, err := conn.ExecContext(ctx,
			"DELETE FROM open_sessions WHERE session_id IN (SELECT unnest(?::BIGINT[]))", ids); err != nil {
			return fmt.Errorf("replace open sessions: %w", err)
		}
	}
	if len(b.rewritten) > 0 {
		if _, err := conn.ExecContext(ctx,
			"DELETE FROM sessions WHERE session_id IN (SELECT unnest(?::BIGINT[]))", b.rewritten); err != nil {
			return fmt.Errorf("replace extended backfill sessions: %w", err)
		}
	}
	if len(changed) > 0 {
		keys := make([]int64, 0, len(changed))
		ents := make([]int64, 0, len(changed))
		names := make([]string, 0, len(changed))
		for k := range changed {
			keys = append(keys, k.key)
			ents = append(ents, int64(k.entity))
			names = append(names, k.name)
		}
		if _, err := conn.ExecContext(ctx, `DELETE FROM attr_current USING (
				SELECT unnest(?::BIGINT[]) AS k, unnest(?::BIGINT[]) AS e, unnest(?::VARCHAR[]) AS n) d
			WHERE attr_current.entity_key = d.k AND attr_current.entity = d.e AND attr_current.key = d.n`,
			keys, ents, names); err != nil {
			return fmt.Errorf("replace current attributes: %w", err)
		}
	}
	return nil
}

// appendRows appends the batch's new rows with DuckDB's appender, which
// joins the connection's open transaction, the event catalog's included.
func (db *DB) appendRows(dc driver.Conn, b *batch, history []attrSet, changed map[currentKey]*currentVal) error {
	specs := []appendSpec{{"identities", len(b.identities), func(app *duckdb.Appender) error {
		for _, r := range b.identities {
			if err := app.AppendRow(r.site, r.hash, r.kind, r.id, r.key, r.at); err != nil {
				return err
			}
		}
		return nil
	}}, {"events", len(b.events), func(app *duckdb.Appender) error {
		for _, r := range b.events {
			m := r.m
			// properties is VARCHAR holding JSON text, validated and
			// compacted at ingestion: a JSON column would make the appender
			// re-encode every document.
			props := m.Properties
			if props == "" {
				props = "{}"
			}
			if db.opts.refuse != nil && db.opts.refuse(m) {
				return fmt.Errorf("Conversion Error: the test refuses message %s", m.MessageID)
			}
			if err := app.AppendRow(m.SiteID, r.user, r.session, uint8(m.Kind), m.Name, m.Timestamp, m.ReceivedAt,
				m.MessageID, m.Page.URL, m.Page.Path, m.Page.Title, m.Page.Referrer, props, uint8(m.Source)); err != nil {
				return err
			}
		}
		return nil
	}}, {"attr_keys", len(b.newKeys), func(app *duckdb.Appender) error {
		for _, r := range b.newKeys {
			if err := app.AppendRow(r.site, uint8(r.entity), r.key, uint8(r.typ), r.at); err != nil {
				return err
			}
		}
		return nil
	}}, {"attr_history", len(history), func(app *duckdb.Appender) error {
		for _, r := range history {
			s, n, bo, t := typedColumns(r.value)
			if err := app.AppendRow(r.site, uint8(r.entity), r.key, r.name, uint8(r.value.Type), s, n, bo, t,
				r.value.Null, r.at); err != nil {
				return err
			}
		}
		return nil
	}}, {"attr_current", len(changed), func(app *duckdb.Appender) error {
		for k, c := range changed {
			if c == nil {
				continue
			}
			s, n, bo, t := typedColumns(c.value)
			if err := app.AppendRow(c.site, uint8(k.entity), k.key, k.name, uint8(c.value.Type), s, n, bo, t, c.at); err != nil {
				return err
			}
		}
		return nil
	}}, {"attr_rejections", len(b.rejections), func(app *duckdb.Appender) error {
		for _, r := range b.rejections {
			if err := app.AppendRow(r.site, uint8(r.entity), r.key, uint8(r.expected), r.received, r.value,
				r.entityKey, r.messageID, r.at); err != nil {
				return err
			}
		}
		return nil
	}}, {"sessions", len(b.closed), func(app *duckdb.Appender) error {
		for _, s := range b.closed {
			if err := app.AppendRow(sessionRow(s)...); err != nil {
				return err
			}
		}
		return nil
	}}, {"open_sessions", len(b.touched), func(app *duckdb.Appender) error {
		for _, s := range b.touched {
			if s.closed {
				continue
			}
			if err := app.AppendRow(sessionRow(s)...); err != nil {
				return err
			}
		}
		return nil
	}}}
	specs = append(specs, db.clicksSpec(b)...)
	for _, d := range b.days {
		specs = append(specs, d.spec())
	}
	specs = append(specs, namedSpec(b.named))
	return appendAll(dc, append(specs, eventCatalogSpecs(b.catalog)...))
}

// countSet counts the values a batch sets (nil entries are unsets).
func countSet(changed map[currentKey]*currentVal) int {
	n := 0
	for _, c := range changed {
		if c != nil {
			n++
		}
	}
	return n
}

// appendSpec names a table, how many rows a batch has for it, and the
// function that appends them.
type appendSpec struct {
	table string
	n     int
	fill  func(*duckdb.Appender) error
}

// appendAll runs each spec's fill with an appender on its table, skipping
// empty ones.
func appendAll(dc driver.Conn, specs []appendSpec) error {
	for _, sp := range specs {
		table, fill := sp.table, sp.fill
		if sp.n == 0 {
			continue
		}
		app, err := duckdb.NewAppenderFromConn(duckConn(dc), "", table)
		if err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		if err := fill(app); err != nil {
			app.Close()
			return fmt.Errorf("append to %s: %w", table, err)
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
	}
	return nil
}

// linkGroups records new user–company links.
func (db *DB) linkGroups(ctx context.Context, conn querier, b *batch) error {
	if len(b.links) == 0 {
		return nil
	}
	users := make([]int64, len(b.links))
	groups := make([]int64, len(b.links))
	for i, l := range b.links {
		users[i], groups[i] = l[0], l[1]
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO user_groups
		SELECT DISTINCT i.site_id, x.u, x.g, ?::TIMESTAMP
		FROM (SELECT unnest(?::BIGINT[]) AS u, unnest(?::BIGINT[]) AS g) x
		JOIN identities i ON i.entity_key = x.g AND i.kind = 3
		WHERE NOT EXISTS (SELECT 1 FROM user_groups y WHERE y.user_key = x.u AND y.group_key = x.g)`,
		b.now, users, groups)
	if err != nil {
		return fmt.Errorf("link users to groups: %w", err)
	}
	return nil
}

// applyMerges moves everything of merged entities to the entity each joined.
func (db *DB) applyMerges(ctx context.Context, conn querier, b *batch) error {
	if len(b.merges) == 0 {
		return nil
	}
	from := make([]int64, len(b.merges))
	into := make([]int64, len(b.merges))
	for i, m := range b.merges {
		from[i] = m[0]
		into[i] = m[0]
		for { // follow chains within the batch to the final entity
			next, ok := db.w.redirect[into[i]]
			if !ok {
				break
			}
			into[i] = next
		}
	}
	const m = "(SELECT unnest(?::BIGINT[]) AS f, unnest(?::BIGINT[]) AS t) m"
	stmts := []string{
		"UPDATE identities SET entity_key = m.t FROM " + m + " WHERE identities.entity_key = m.f",
		"UPDATE events SET user_key = m.t FROM " + m + " WHERE events.user_key = m.f",
		"UPDATE clicks SET user_key = m.t FROM " + m + " WHERE clicks.user_key = m.f",
		"UPDATE user_days SET user_key = m.t FROM " + m + " WHERE user_days.user_key = m.f",
		"UPDATE event_days SET user_key = m.t FROM " + m + " WHERE event_days.user_key = m.f",
		"UPDATE events_by_name SET user_key = m.t FROM " + m + " WHERE events_by_name.user_key = m.f",
		"UPDATE sessions SET user_key = m.t FROM " + m + " WHERE sessions.user_key = m.f",
		"UPDATE user_groups SET user_key = m.t FROM " + m + " WHERE user_groups.user_key = m.f",
		"UPDATE attr_history SET entity_key = m.t FROM " + m + " WHERE attr_history.entity = 0 AND attr_history.entity_key = m.f",
		"UPDATE attr_rejections SET entity_key = m.t FROM " + m + " WHERE attr_rejections.entity = 0 AND attr_rejections.entity_key = m.f",
		// On a key both have, the surviving user's value wins.
		`DELETE FROM attr_current USING ` + m + ` WHERE attr_current.entity = 0 AND attr_current.entity_key = m.f
			AND EXISTS (SELECT 1 FROM attr_current c WHERE c.entity = 0 AND c.entity_key = m.t AND c.key = attr_current.key)`,
		"UPDATE attr_current SET entity_key = m.t FROM " + m + " WHERE attr_current.entity = 0 AND attr_current.entity_key = m.f",
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q, from, into); err != nil {
			return fmt.Errorf("merge identities: %w", err)
		}
	}
	return nil
}

package duckstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

var _ store.AttributeImporter = (*DB)(nil)

// ImportAttributes implements store.AttributeImporter: the bulk path of
// CSV imports. It holds writes back for one chunk (as a type change
// does), checks the values against the catalog in memory, resolves or
// creates the entities' identities with one query, and in one transaction
// stages the values and compares them with the current ones in SQL: only
// the values that differ go into the history and replace the current
// ones, so importing the same rows again changes nothing. The users whose
// values changed have their cached segment answers moved and, on sites
// with "enters a segment" alert rules, a change cause recorded in the
// same transaction, as an identify call would. No event is stored: an
// import is not the user's activity.
func (db *DB) ImportAttributes(ctx context.Context, site int64, entity store.Entity, rows []store.ImportRow) (store.ImportResult, error) {
	var res store.ImportResult
	kind := idUser
	if entity == store.EntityGroup {
		kind = idGroup
	}
	unlock, err := db.exclusive(ctx)
	if err != nil {
		return res, err
	}
	defer unlock()
	defer db.writing()()
	now := db.opts.Now().UTC().Truncate(time.Microsecond)

	// Types, against the catalog; new keys are typed by their first value.
	type staged struct {
		id   string
		name string
		v    attr.Value
	}
	var newKeys []decidedKey
	s := &db.seq
	last := map[[2]string]int{} // (ID, key) → index in vals: the last value wins
	var vals []staged
	for _, r := range rows {
		for _, p := range r.Traits {
			ck := catalogKey{site: site, entity: entity, key: p.Key}
			typ, known := s.catalog[ck]
			if !known {
				v, err := attr.Infer(p.Raw)
				if err != nil {
					res.Rejections = append(res.Rejections, store.ImportRejection{Line: r.Line, Key: p.Key, Code: "invalid_value", Reason: err.Error()})
					continue
				}
				if v.Null {
					continue
				}
				if s.keyCount[site] >= db.opts.MaxAttrKeys {
					res.Rejections = append(res.Rejections, store.ImportRejection{Line: r.Line, Key: p.Key, Code: "attribute_key_limit",
						Reason: fmt.Sprintf("the site already has %d attribute keys, the limit; %s was not stored", db.opts.MaxAttrKeys, p.Key)})
					continue
				}
				typ = v.Type
				s.catalog[ck] = typ
				s.keyCount[site]++
				newKeys = append(newKeys, decidedKey{entity: entity, key: p.Key, typ: typ, at: now})
			}
			v, ok := attr.Conform(p.Raw, typ)
			if !ok {
				res.Rejections = append(res.Rejections, store.ImportRejection{Line: r.Line, Key: p.Key, Code: "attribute_type_mismatch",
					Reason: fmt.Sprintf("%s is a %s attribute; received a %s value, which was not stored", p.Key, typ, attr.Received(p.Raw))})
				continue
			}
			if v.Null {
				continue
			}
			k := [2]string{r.ID, p.Key}
			if i, ok := last[k]; ok {
				vals[i].v = v
				continue
			}
			last[k] = len(vals)
			vals = append(vals, staged{id: r.ID, name: p.Key, v: v})
		}
	}
	failed := func(err error) (store.ImportResult, error) {
		// The catalog in memory may hold keys the database does not.
		if lerr := db.loadSequencerWith(ctx, db.seq.seen); lerr != nil {
			db.log.Error("reload the catalog after a failed import", "err", lerr)
		}
		return res, err
	}
	if len(vals) == 0 && len(newKeys) == 0 {
		return res, nil
	}

	// Identities: the known ones in one query, new entities for the rest.
	keys := map[string]int64{}
	var ids []string
	for _, v := range vals {
		if _, ok := keys[v.id]; !ok {
			keys[v.id] = 0
			ids = append(ids, v.id)
		}
	}
	// Joined on the IDs' hashes first (integers, as identities are
	// probed), then on the IDs themselves.
	if _, err := db.wconn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE import_ids (h BIGINT, id VARCHAR)"); err != nil {
		return failed(fmt.Errorf("import: stage IDs: %w", err))
	}
	if err := db.appendTemp("import_ids", len(ids), func(app *duckdb.Appender, i int) error {
		return app.AppendRow(idHash(site, kind, ids[i]), ids[i])
	}); err != nil {
		return failed(fmt.Errorf("import: stage IDs: %w", err))
	}
	q, err := db.wconn.QueryContext(ctx, `SELECT x.external_id, x.entity_key FROM identities x JOIN import_ids i
		ON x.id_hash = i.h AND x.external_id = i.id WHERE x.site_id = ? AND x.kind = ?`, site, kind)
	if err != nil {
		return failed(fmt.Errorf("import: look up identities: %w", err))
	}
	for q.Next() {
		var id string
		var k int64
		if err := q.Scan(&id, &k); err != nil {
			q.Close()
			return failed(fmt.Errorf("import: look up identities: %w", err))
		}
		keys[id] = k
	}
	q.Close()
	if err := q.Err(); err != nil {
		return failed(fmt.Errorf("import: look up identities: %w", err))
	}
	var newIDs []string
	var newHashes, newEntityKeys []int64
	for _, id := range ids {
		if keys[id] != 0 {
			continue
		}
		k := db.w.nextKey
		db.w.nextKey++
		keys[id] = k
		newIDs, newHashes, newEntityKeys = append(newIDs, id), append(newHashes, idHash(site, kind, id)), append(newEntityKeys, k)
	}
	res.NewIDs = len(newIDs)

	entKeys := make([]int64, len(vals))
	names := make([]string, len(vals))
	types := make([]int64, len(vals))
	texts := make([]string, len(vals))
	for i, v := range vals {
		entKeys[i], names[i], types[i], texts[i] = keys[v.id], v.name, int64(v.v.Type), importText(v.v)
	}
	lo, hi := entKeys[0], entKeys[0]
	for _, k := range entKeys {
		lo, hi = min(lo, k), max(hi, k)
	}
	var changed []int64
	err = db.inTx(ctx, func() error {
		if len(newIDs) > 0 {
			if err := db.appendTemp("", len(newIDs), func(app *duckdb.Appender, i int) error {
				return app.AppendRow(site, newHashes[i], kind, newIDs[i], newEntityKeys[i], now)
			}); err != nil {
				return fmt.Errorf("add identities: %w", err)
			}
		}
		for _, k := range newKeys {
			if _, err := db.wconn.ExecContext(ctx, "INSERT INTO attr_keys (site_id, entity, key, type, first_seen) VALUES (?, ?, ?, ?, ?)",
				site, uint8(k.entity), k.key, uint8(k.typ), k.at); err != nil {
				return fmt.Errorf("add attribute key %s: %w", k.key, err)
			}
		}
		if len(vals) == 0 {
			return nil
		}
		if _, err := db.wconn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE import_raw (k BIGINT, name VARCHAR, type UTINYINT, v VARCHAR)"); err != nil {
			return fmt.Errorf("stage values: %w", err)
		}
		if err := db.appendTemp("import_raw", len(vals), func(app *duckdb.Appender, i int) error {
			return app.AppendRow(entKeys[i], names[i], uint8(types[i]), texts[i])
		}); err != nil {
			return fmt.Errorf("stage values: %w", err)
		}
		steps := []struct {
			what string
			sql  string
			args []any
		}{
			{"compare", fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE import_changes AS
				SELECT i.*, c.entity_key IS NOT NULL AS existed FROM (SELECT k, name, type,
					CASE WHEN type = %d THEN v END AS s,
					CASE WHEN type = %d THEN v::DOUBLE END AS n,
					CASE WHEN type = %d THEN v::BOOLEAN END AS b,
					CASE WHEN type = %d THEN v::TIMESTAMP END AS t
				FROM import_raw) i LEFT JOIN (SELECT * FROM attr_current WHERE site_id = ? AND entity = ?
					AND entity_key BETWEEN ? AND ? AND entity_key IN (SELECT DISTINCT k FROM import_raw)) c
					ON c.entity_key = i.k AND c.key = i.name
				WHERE c.entity_key IS NULL OR c.type <> i.type OR c.s IS DISTINCT FROM i.s OR c.n IS DISTINCT FROM i.n
					OR c.b IS DISTINCT FROM i.b OR c.t IS DISTINCT FROM i.t`, attr.String, attr.Number, attr.Boolean, attr.Datetime),
				[]any{site, uint8(entity), lo, hi}},
			{"record history", `INSERT INTO attr_history (site_id, entity, entity_key, key, type, s, n, b, t, is_null, set_at)
				SELECT ?, ?, k, name, type, s, n, b, t, false, ? FROM import_changes`, []any{site, uint8(entity), now}},
			{"replace current values", `DELETE FROM attr_current USING (SELECT * FROM import_changes WHERE existed) d
				WHERE attr_current.site_id = ? AND attr_current.entity = ? AND attr_current.entity_key BETWEEN ? AND ?
					AND attr_current.entity_key = d.k AND attr_current.key = d.name`,
				[]any{site, uint8(entity), lo, hi}},
			{"set current values", `INSERT INTO attr_current (site_id, entity, entity_key, key, type, s, n, b, t, changed_at)
				SELECT ?, ?, k, name, type, s, n, b, t, ? FROM import_changes`, []any{site, uint8(entity), now}},
		}
		if entity == store.EntityUser && db.alerts.watches(site, store.CauseChange) {
			steps = append(steps, struct {
				what string
				sql  string
				args []any
			}{"record alert causes", `INSERT INTO alert_causes (site_id, kind, ref, user_key, created_at)
				SELECT DISTINCT ?, 'change', '', k, ? FROM import_changes`, []any{site, now}})
		}
		for _, st := range steps {
			r, err := db.wconn.ExecContext(ctx, st.sql, st.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", st.what, err)
			}
			if st.what == "record history" {
				res.Changed, _ = r.RowsAffected()
			}
		}
		// Each changed value is a history entry and a current value
		// appended at the tables' ends.
		if err := attrAppended(res.Changed, res.Changed).note(ctx, db.wconn); err != nil {
			return err
		}
		q, err := db.wconn.QueryContext(ctx, "SELECT DISTINCT k FROM import_changes")
		if err != nil {
			return err
		}
		defer q.Close()
		for q.Next() {
			var k int64
			if err := q.Scan(&k); err != nil {
				return err
			}
			changed = append(changed, k)
		}
		if err := q.Err(); err != nil {
			return err
		}
		for _, t := range []string{"import_raw", "import_ids"} {
			if _, err := db.wconn.ExecContext(ctx, "DROP TABLE "+t); err != nil {
				return err
			}
		}
		_, err = db.wconn.ExecContext(ctx, "DROP TABLE import_changes")
		return err
	})
	if err != nil {
		return failed(fmt.Errorf("import: %w", err))
	}
	for i := range newIDs {
		db.w.ids.put(newHashes[i], newEntityKeys[i])
		db.w.named.put(newEntityKeys[i], kind == idUser)
	}
	if entity == store.EntityUser {
		for _, k := range changed {
			db.vers.profileOf(k)
		}
	} else if len(changed) > 0 {
		db.vers.site.Add(1) // a company's value: any of its users may move
	}
	if len(changed) > 0 && entity == store.EntityUser && db.alerts.watches(site, store.CauseChange) {
		db.alerts.dirty.Store(true)
		db.alerts.kick()
	}
	return res, nil
}

// importText renders a value for the staging table, which casts it back
// to its type: exact for numbers (shortest round-trip form) and times
// (microseconds, as stored).
func importText(v attr.Value) string {
	switch v.Type {
	case attr.Number:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case attr.Boolean:
		return strconv.FormatBool(v.Bool)
	case attr.Datetime:
		return v.Time.UTC().Format("2006-01-02 15:04:05.999999")
	}
	return v.Str
}

// appendTemp appends n rows with DuckDB's appender on the write
// connection (joining its transaction): to a temporary table, or, with
// table "", to identities.
func (db *DB) appendTemp(table string, n int, row func(app *duckdb.Appender, i int) error) error {
	return db.wconn.Raw(func(dc any) error {
		var app *duckdb.Appender
		var err error
		if table == "" {
			app, err = duckdb.NewAppenderFromConn(duckConn(dc), "", "identities")
		} else {
			app, err = duckdb.NewAppender(duckConn(dc), "temp", "main", table)
		}
		if err != nil {
			return err
		}
		for i := range n {
			if err := row(app, i); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
}

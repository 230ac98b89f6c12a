package duckstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// The attribute tables are kept in the order segments read them: by site,
// entity and key, then by entity key. DuckDB keeps each row group's minimum
// and maximum of every column and skips the row groups a filter rules out,
// so a condition on one attribute reads that attribute's rows only (one
// twentieth of the table on the generated sites, where an unordered table
// is read whole), and one user's values are found in a row group per key.
//
// Writes append at the table's end: the applier's changed values, new
// history entries, bulk loads. The layout table counts what was appended
// since a table was last put in order, and Cluster puts it back in order
// once that is a sizeable share of the table. It works one key (or one
// slice of a large key) at a time, each in a transaction of its own, so
// the applier never waits for more than one slice, and a crash leaves
// every slice either moved or not.

// clusteredTable is a table kept in order: the columns after (site_id,
// entity, key) that order each key's rows.
type clusteredTable struct {
	name  string
	order string
}

var clusteredTables = []clusteredTable{
	{"attr_current", "entity_key"},
	{"attr_history", "entity_key, set_at"},
}

const (
	// clusterSlice is how many rows one step moves at most: about a
	// tenth of a second of the applier's time on two cores.
	clusterSlice = 200_000
	// clusterMinAppended and clusterShare decide when a table is worth
	// putting in order: when the rows appended since the last time are
	// at least clusterMinAppended and a clusterShare of the table.
	clusterMinAppended = 50_000
	clusterShare       = 0.2
)

// ClusterStats says what Cluster did to one table.
type ClusterStats struct {
	Table    string
	Rows     int64 // the rows moved
	Appended int64 // the rows appended since the last time, which made it worth it
	Steps    int   // transactions
	Took     time.Duration
}

// appended counts the rows appended to the tables the layout upkeep
// keeps (table_layout), by table.
type appended map[string]int64

// note counts the rows in table_layout, in the transaction that appends
// them: one statement for every table.
func (a appended) note(ctx context.Context, conn querier) error {
	var tables []string
	var counts []int64
	for t, n := range a {
		if n > 0 {
			tables, counts = append(tables, t), append(counts, n)
		}
	}
	if len(tables) == 0 {
		return nil
	}
	_, err := conn.ExecContext(ctx, `UPDATE table_layout SET appended = appended + x.n
		FROM (SELECT unnest(?::VARCHAR[]) AS t, unnest(?::BIGINT[]) AS n) x WHERE table_layout.table_name = x.t`,
		tables, counts)
	if err != nil {
		return fmt.Errorf("count appended rows: %w", err)
	}
	return nil
}

// attrAppended counts appended attribute rows.
func attrAppended(current, history int64) appended {
	return appended{"attr_current": current, "attr_history": history}
}

// Cluster puts the attribute tables back in order where enough rows were
// appended since the last time, or every table when force is set. Writes
// go on meanwhile: the applier waits at most one step at a time.
func (db *DB) Cluster(ctx context.Context, force bool) ([]ClusterStats, error) {
	lock := func() func() {
		db.wmu.Lock()
		return db.wmu.Unlock
	}
	return db.cluster(ctx, force, lock)
}

// cluster does Cluster's work; lock takes the write connection for one
// step and returns its release (a caller that holds it already passes a
// lock that does nothing).
func (db *DB) cluster(ctx context.Context, force bool, lock func() func()) ([]ClusterStats, error) {
	var all []ClusterStats
	for _, t := range clusteredTables {
		st, err := db.clusterTable(ctx, t, force, lock)
		if err != nil {
			return all, fmt.Errorf("put %s in order: %w", t.name, err)
		}
		if st.Steps > 0 {
			all = append(all, st)
		}
	}
	for _, t := range dayTables {
		st, err := db.foldDays(ctx, t, force, lock)
		if err != nil {
			return all, err
		}
		if st.Steps > 0 {
			all = append(all, st)
		}
	}
	st, err := db.foldEventsByName(ctx, force, lock)
	if err != nil {
		return all, err
	}
	if st.Steps > 0 {
		all = append(all, st)
	}
	return all, nil
}

// layoutOf returns a table's stats so far (the rows appended since it was
// last put in order) and its size.
func (db *DB) layoutOf(ctx context.Context, table string) (st ClusterStats, rows int64, err error) {
	st.Table = table
	err = db.pool().QueryRowContext(ctx, `SELECT l.appended, (SELECT count(*) FROM `+table+`)
		FROM table_layout l WHERE l.table_name = ?`, table).Scan(&st.Appended, &rows)
	return st, rows, err
}

func (db *DB) clusterTable(ctx context.Context, t clusteredTable, force bool, lock func() func()) (ClusterStats, error) {
	start := time.Now()
	st, rows, err := db.layoutOf(ctx, t.name)
	if err != nil {
		return st, err
	}
	if !force && (st.Appended < clusterMinAppended || float64(st.Appended) < clusterShare*float64(rows)) {
		return st, nil
	}
	if 2*st.Appended >= rows {
		// Mostly out of order: each slice's rows would be spread over
		// the whole table, and one sort of everything costs far less
		// than deleting them slice by slice. The applier waits for it.
		n, err := db.moveRows(ctx, t, "", nil, "site_id, entity, key, "+t.order, lock)
		if err != nil {
			return st, err
		}
		st.Rows, st.Steps = n, 1
		return st, db.clustered(ctx, &st, start, lock)
	}
	type group struct {
		site, entity int64
		key          string
		rows         int64
	}
	var groups []group
	err = db.queryRows(ctx, "list keys", func(r *sql.Rows) error {
		var g group
		if err := r.Scan(&g.site, &g.entity, &g.key, &g.rows); err != nil {
			return err
		}
		groups = append(groups, g)
		return nil
	}, `SELECT site_id, entity, key, count(*) FROM `+t.name+`
		GROUP BY site_id, entity, key ORDER BY site_id, entity, key`)
	if err != nil {
		return st, err
	}
	for _, g := range groups {
		bounds, err := db.sliceBounds(ctx, t.name, g.site, g.entity, g.key, g.rows)
		if err != nil {
			return st, err
		}
		for i := 1; i < len(bounds); i++ {
			n, err := db.moveRows(ctx, t, ` WHERE site_id = ? AND entity = ? AND key = ? AND entity_key >= ? AND entity_key < ?`,
				[]any{g.site, g.entity, g.key, bounds[i-1], bounds[i]}, t.order, lock)
			if err != nil {
				return st, err
			}
			st.Rows += n
			st.Steps++
		}
	}
	return st, db.clustered(ctx, &st, start, lock)
}

// clustered records that a table was put in order. What was appended
// while the steps ran stays counted: rows of keys already moved are out of
// order again.
func (db *DB) clustered(ctx context.Context, st *ClusterStats, start time.Time, lock func() func()) error {
	release := lock()
	defer release()
	if _, err := db.wconn.ExecContext(ctx, `UPDATE table_layout SET appended = greatest(appended - CAST(? AS BIGINT), 0),
		clustered_at = ? WHERE table_name = ?`, st.Appended, time.Now().UTC(), st.Table); err != nil {
		return err
	}
	st.Took = time.Since(start)
	return nil
}

// sliceBounds splits a key's rows into slices of at most clusterSlice rows
// by entity key: the returned bounds b0 < b1 < … make slices [b(i-1), b(i)).
func (db *DB) sliceBounds(ctx context.Context, table string, site, entity int64, key string, rows int64) ([]int64, error) {
	bounds := []int64{math.MinInt64}
	if n := (rows + db.opts.clusterSlice - 1) / db.opts.clusterSlice; n > 1 {
		qs := make([]float64, n-1)
		for i := range qs {
			qs[i] = float64(i+1) / float64(n)
		}
		var cuts []any
		err := db.pool().QueryRowContext(ctx, `SELECT quantile_disc(entity_key, ?::DOUBLE[]) FROM `+table+`
			WHERE site_id = ? AND entity = ? AND key = ?`, qs, site, entity, key).Scan(&cuts)
		if err != nil {
			return nil, err
		}
		for _, c := range cuts {
			if v, ok := c.(int64); ok && v > bounds[len(bounds)-1] {
				bounds = append(bounds, v)
			}
		}
	}
	return append(bounds, math.MaxInt64), nil
}

// moveRows rewrites the rows where selects at the table's end, ordered by
// order, in one transaction, and returns how many rows it moved.
func (db *DB) moveRows(ctx context.Context, t clusteredTable, where string, args []any, order string, lock func() func()) (int64, error) {
	release := lock()
	defer release()
	var moved int64
	err := db.inTx(ctx, func() error {
		if _, err := db.wconn.ExecContext(ctx, `CREATE TEMP TABLE layout_move AS SELECT * FROM `+t.name+where+
			` ORDER BY `+order, args...); err != nil {
			return err
		}
		res, err := db.wconn.ExecContext(ctx, `DELETE FROM `+t.name+where, args...)
		if err != nil {
			return err
		}
		if moved, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := db.wconn.ExecContext(ctx, `INSERT INTO `+t.name+` SELECT * FROM layout_move`); err != nil {
			return err
		}
		_, err = db.wconn.ExecContext(ctx, `DROP TABLE layout_move`)
		return err
	})
	return moved, err
}

// RunLayout checks the tables' order every interval until ctx ends, and
// puts in order those that need it.
func (db *DB) RunLayout(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		stats, err := db.Cluster(ctx, false)
		if err != nil && ctx.Err() == nil {
			db.log.Warn("putting the attribute tables in order failed; will try again", "err", err)
		}
		for _, s := range stats {
			db.log.Info("put a table in order", slog.String("table", s.Table), slog.Int64("rows", s.Rows),
				slog.Int64("appended", s.Appended), slog.Int("steps", s.Steps), slog.Duration("took", s.Took.Round(time.Millisecond)))
		}
	}
}

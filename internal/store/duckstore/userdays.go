package duckstore

import (
	"context"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
)

// user_days (schema/101_user_days.sql) holds each user's active days: a
// row per site, user and UTC day with track, page or screen events, their
// first and last time and their number. Segments count active days from
// it instead of grouping every event by user and day (docs/segments.md).
//
// The applier and bulk loads append a row per user and day of what they
// store, so a day may have several rows until they are folded into one.
// Folding only makes the table smaller: readers group by user and day.
// The layout upkeep folds the last days, where live traffic appends, once
// enough rows were appended, and the whole table when most of it is new
// (after a bulk load).

// userDay is one row of user_days.
type userDay struct {
	site, user  int64
	day         time.Time // midnight UTC
	first, last time.Time
	events      int64
}

// activeKind reports whether events of kind k count as activity.
func activeKind(k store.Kind) bool {
	return k == store.KindTrack || k == store.KindPage || k == store.KindScreen
}

// userDays folds events into a row per site, user and day.
type userDays struct {
	rows  []userDay
	index map[[3]int64]int // site, user, day (Unix days) → rows index
}

func (d *userDays) add(site, user int64, kind store.Kind, ts time.Time) {
	if !activeKind(kind) {
		return
	}
	ts = ts.UTC()
	day := ts.Truncate(24 * time.Hour)
	k := [3]int64{site, user, day.Unix() / 86400}
	if d.index == nil {
		d.index = map[[3]int64]int{}
	}
	if i, ok := d.index[k]; ok {
		r := &d.rows[i]
		if ts.Before(r.first) {
			r.first = ts
		}
		if ts.After(r.last) {
			r.last = ts
		}
		r.events++
		return
	}
	d.index[k] = len(d.rows)
	d.rows = append(d.rows, userDay{site: site, user: user, day: day, first: ts, last: ts, events: 1})
}

func (d *userDays) spec() appendSpec {
	return appendSpec{"user_days", len(d.rows), func(app *duckdb.Appender) error {
		for _, r := range d.rows {
			if err := app.AppendRow(r.site, r.user, r.day, r.first, r.last, r.events); err != nil {
				return err
			}
		}
		return nil
	}}
}

// batchUserDays returns a batch's user_days rows.
func batchUserDays(b *batch) *userDays {
	var d userDays
	for _, r := range b.events {
		d.add(r.m.SiteID, r.user, r.m.Kind, r.m.Timestamp)
	}
	return &d
}

// bufUserDays returns a bulk buffer's user_days rows.
func bufUserDays(buf *bulkBuf) *userDays {
	var d userDays
	for i := range buf.events {
		e := &buf.events[i]
		d.add(e.site, e.user, store.Kind(e.kind), e.ts)
	}
	return &d
}

// noteUserDays counts user_days rows appended, in their transaction.
func noteUserDays(ctx context.Context, conn querier, n int) error {
	if n == 0 {
		return nil
	}
	if _, err := conn.ExecContext(ctx, `UPDATE table_layout SET appended = appended + CAST(? AS BIGINT)
		WHERE table_name = 'user_days'`, n); err != nil {
		return fmt.Errorf("count appended user days: %w", err)
	}
	return nil
}

// userDaysRecent is how many of the last UTC days a routine fold folds.
const userDaysRecent = 3

// foldUserDays folds user_days: the whole table when force is set or
// when the rows appended since the last fold are half of it or more,
// else the last userDaysRecent days once clusterMinAppended rows were
// appended. Late rows of older days stay unfolded until a whole fold;
// they cost reads a little, never correctness.
func (db *DB) foldUserDays(ctx context.Context, force bool, lock func() func()) (ClusterStats, error) {
	start := time.Now()
	st := ClusterStats{Table: "user_days"}
	var rows int64
	if err := db.pool().QueryRowContext(ctx, `SELECT l.appended, (SELECT count(*) FROM user_days)
		FROM table_layout l WHERE l.table_name = 'user_days'`).Scan(&st.Appended, &rows); err != nil {
		return st, err
	}
	if rows == 0 {
		return st, nil
	}
	where, args := "", []any(nil)
	switch {
	case force || (st.Appended > 0 && 2*st.Appended >= rows):
	case st.Appended >= clusterMinAppended:
		where = " WHERE day >= ?"
		args = []any{time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1-userDaysRecent)}
	default:
		return st, nil
	}
	release := lock()
	defer release()
	err := db.inTx(ctx, func() error {
		if _, err := db.wconn.ExecContext(ctx, `CREATE TEMP TABLE user_days_fold AS
			SELECT site_id, user_key, day, min(first_ts) AS first_ts, max(last_ts) AS last_ts, sum(events) AS events
			FROM user_days`+where+` GROUP BY site_id, user_key, day ORDER BY site_id, user_key, day`, args...); err != nil {
			return err
		}
		res, err := db.wconn.ExecContext(ctx, `DELETE FROM user_days`+where, args...)
		if err != nil {
			return err
		}
		if st.Rows, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := db.wconn.ExecContext(ctx, `INSERT INTO user_days SELECT * FROM user_days_fold`); err != nil {
			return err
		}
		if _, err := db.wconn.ExecContext(ctx, `DROP TABLE user_days_fold`); err != nil {
			return err
		}
		_, err = db.wconn.ExecContext(ctx, `UPDATE table_layout SET appended = 0, clustered_at = ?
			WHERE table_name = 'user_days'`, time.Now().UTC())
		return err
	})
	if err != nil {
		return st, fmt.Errorf("fold user days: %w", err)
	}
	st.Steps, st.Took = 1, time.Since(start)
	return st, nil
}

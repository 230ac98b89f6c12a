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
// event_days (102) holds the same per track event name, kept in order by
// name and user, for did(…) without property filters.
//
// The applier and bulk loads append a row per user and day of what they
// store, so a day may have several rows until they are folded into one.
// Folding only makes the table smaller: readers group by user and day.
// The layout upkeep folds the last days, where live traffic appends, once
// enough rows were appended, and the whole table when most of it is new
// (after a bulk load).

// userDay is one row of user_days or event_days.
type userDay struct {
	site, user  int64
	name        string    // event_days: the event's name
	day         time.Time // midnight UTC
	first, last time.Time
	events      int64
}

// dayTable is user_days or event_days: which events it keeps, and its
// key columns besides the user and the day.
type dayTable struct {
	name   string
	byName bool // event_days: track events, by name
}

var (
	userDaysTable  = dayTable{name: "user_days"}
	eventDaysTable = dayTable{name: "event_days", byName: true}
	dayTables      = []dayTable{userDaysTable, eventDaysTable}
)

// keeps reports whether t has a row for an event of kind k.
func (t dayTable) keeps(k store.Kind) bool {
	if t.byName {
		return k == store.KindTrack
	}
	return activeKind(k)
}

// key is t's key columns in the order it is kept: site, (name,) user,
// day.
func (t dayTable) key() string {
	if t.byName {
		return "site_id, name, user_key, day"
	}
	return "site_id, user_key, day"
}

// activeKind reports whether events of kind k count as activity.
func activeKind(k store.Kind) bool {
	return k == store.KindTrack || k == store.KindPage || k == store.KindScreen
}

// userDays folds events into a row per site, (name,) user and day of
// its table.
type userDays struct {
	table dayTable
	rows  []userDay
	index map[dayKey]int // → rows index
}

type dayKey struct {
	site, user, day int64 // day: Unix days
	name            string
}

func (d *userDays) add(site, user int64, kind store.Kind, name string, ts time.Time) {
	if !d.table.keeps(kind) {
		return
	}
	if !d.table.byName {
		name = ""
	}
	ts = ts.UTC()
	day := ts.Truncate(24 * time.Hour)
	k := dayKey{site, user, day.Unix() / 86400, name}
	if d.index == nil {
		d.index = map[dayKey]int{}
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
	d.rows = append(d.rows, userDay{site: site, user: user, name: name, day: day, first: ts, last: ts, events: 1})
}

func (d *userDays) spec() appendSpec {
	return appendSpec{d.table.name, len(d.rows), func(app *duckdb.Appender) error {
		for _, r := range d.rows {
			var err error
			if d.table.byName {
				err = app.AppendRow(r.site, r.name, r.user, r.day, r.first, r.last, r.events)
			} else {
				err = app.AppendRow(r.site, r.user, r.day, r.first, r.last, r.events)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}}
}

// batchDays returns a batch's rows of each day table.
func batchDays(b *batch) []*userDays {
	out := make([]*userDays, len(dayTables))
	for i, t := range dayTables {
		d := &userDays{table: t}
		for _, r := range b.events {
			d.add(r.m.SiteID, r.user, r.m.Kind, r.m.Name, r.m.Timestamp)
		}
		out[i] = d
	}
	return out
}

// bufDays returns a bulk buffer's rows of table t.
func bufDays(buf *bulkBuf, t dayTable) *userDays {
	d := &userDays{table: t}
	for i := range buf.events {
		e := &buf.events[i]
		d.add(e.site, e.user, store.Kind(e.kind), e.name, e.ts)
	}
	return d
}

// userDaysRecent is how many of the last UTC days a routine fold folds.
const userDaysRecent = 3

// foldDays folds t: the whole table when force is set or
// when the rows appended since the last fold are half of it or more,
// else the last userDaysRecent days once clusterMinAppended rows were
// appended. Late rows of older days stay unfolded until a whole fold;
// they cost reads a little, never correctness.
func (db *DB) foldDays(ctx context.Context, t dayTable, force bool, lock func() func()) (ClusterStats, error) {
	start := time.Now()
	st, rows, err := db.layoutOf(ctx, t.name)
	if err != nil {
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
	err = db.inTx(ctx, func() error {
		if _, err := db.wconn.ExecContext(ctx, `CREATE TEMP TABLE days_fold AS
			SELECT `+t.key()+`, min(first_ts) AS first_ts, max(last_ts) AS last_ts, sum(events) AS events
			FROM `+t.name+where+` GROUP BY `+t.key()+` ORDER BY `+t.key(), args...); err != nil {
			return err
		}
		res, err := db.wconn.ExecContext(ctx, `DELETE FROM `+t.name+where, args...)
		if err != nil {
			return err
		}
		if st.Rows, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := db.wconn.ExecContext(ctx, `INSERT INTO `+t.name+` SELECT * FROM days_fold`); err != nil {
			return err
		}
		if _, err := db.wconn.ExecContext(ctx, `DROP TABLE days_fold`); err != nil {
			return err
		}
		_, err = db.wconn.ExecContext(ctx, `UPDATE table_layout SET appended = 0, clustered_at = ?
			WHERE table_name = ?`, time.Now().UTC(), t.name)
		return err
	})
	if err != nil {
		return st, fmt.Errorf("fold %s: %w", t.name, err)
	}
	st.Steps, st.Took = 1, time.Since(start)
	return st, nil
}

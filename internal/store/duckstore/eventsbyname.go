package duckstore

import (
	"context"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
)

// events_by_name (schema/140_events_by_name.sql) holds every track, page
// and screen event again, narrow: its kind, its name (a track event's) or
// path (a page's or screen's) as name_or_path, its user and its time, kept
// in order by site, kind, name_or_path, user and time. The events table is
// in time order, so a filter on one event's name reads the name of every
// event of the period; here one event's rows are together and read alone,
// already in order by user for the grouping and joins that follow. At 1M
// users a 4-step funnel over 30 days reads 2.6M rows here where it
// compared 4 × 17M names in the events (docs/insights.md, "Speed").
//
// The applier and bulk loads append a row per event with the events, in
// their transaction; the layout upkeep puts the rows appended since its
// last pass in order (foldEventsByName). Rows out of order cost reads a
// little, never correctness.

const eventsByNameTable = "events_by_name"

// namedEvent is one row of events_by_name.
type namedEvent struct {
	site, user int64
	kind       store.Kind
	name       string
	ts         time.Time
}

// keepsNamed reports whether events_by_name has a row for an event of
// kind k: the kinds that count as activity.
func keepsNamed(k store.Kind) bool { return activeKind(k) }

// namedOf returns an event's name_or_path: a track event's name, else its
// path.
func namedOf(k store.Kind, name, path string) string {
	if k == store.KindTrack {
		return name
	}
	return path
}

func namedSpec(rows []namedEvent) appendSpec {
	return appendSpec{eventsByNameTable, len(rows), func(app *duckdb.Appender) error {
		for _, r := range rows {
			if err := app.AppendRow(r.site, uint8(r.kind), r.name, r.user, r.ts); err != nil {
				return err
			}
		}
		return nil
	}}
}

// batchNamed returns a batch's rows of events_by_name.
func batchNamed(b *batch) []namedEvent {
	var out []namedEvent
	for _, r := range b.events {
		m := r.m
		if keepsNamed(m.Kind) {
			out = append(out, namedEvent{site: m.SiteID, user: r.user, kind: m.Kind,
				name: namedOf(m.Kind, m.Name, m.Page.Path), ts: m.Timestamp})
		}
	}
	return out
}

// bufNamed returns a bulk buffer's rows of events_by_name.
func bufNamed(buf *bulkBuf) []namedEvent {
	var out []namedEvent
	for i := range buf.events {
		e := &buf.events[i]
		if k := store.Kind(e.kind); keepsNamed(k) {
			out = append(out, namedEvent{site: e.site, user: e.user, kind: k, name: namedOf(k, e.name, e.path), ts: e.ts})
		}
	}
	return out
}

// eventsByNameRecent is how many of the last UTC days a routine pass of
// the upkeep puts in order.
const eventsByNameRecent = 3

// foldEventsByName puts events_by_name in order: the whole table when
// force is set or when the rows appended since the last pass are half of
// it or more, else the rows of the last eventsByNameRecent days once
// clusterMinAppended rows were appended (live traffic appends there; late
// rows of older days stay where they are until a whole pass).
func (db *DB) foldEventsByName(ctx context.Context, force bool, lock func() func()) (ClusterStats, error) {
	start := time.Now()
	st, rows, err := db.layoutOf(ctx, eventsByNameTable)
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
		where = " WHERE ts >= ?"
		args = []any{time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1-eventsByNameRecent)}
	default:
		return st, nil
	}
	const order = "site_id, kind, name_or_path, user_key, ts"
	release := lock()
	defer release()
	err = db.inTx(ctx, func() error {
		if _, err := db.wconn.ExecContext(ctx, `CREATE TEMP TABLE named_fold AS
			SELECT * FROM `+eventsByNameTable+where+` ORDER BY `+order, args...); err != nil {
			return err
		}
		res, err := db.wconn.ExecContext(ctx, `DELETE FROM `+eventsByNameTable+where, args...)
		if err != nil {
			return err
		}
		if st.Rows, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := db.wconn.ExecContext(ctx, `INSERT INTO `+eventsByNameTable+` SELECT * FROM named_fold`); err != nil {
			return err
		}
		if _, err := db.wconn.ExecContext(ctx, `DROP TABLE named_fold`); err != nil {
			return err
		}
		_, err = db.wconn.ExecContext(ctx, `UPDATE table_layout SET appended = 0, clustered_at = ?
			WHERE table_name = ?`, time.Now().UTC(), eventsByNameTable)
		return err
	})
	if err != nil {
		return st, fmt.Errorf("put %s in order: %w", eventsByNameTable, err)
	}
	st.Steps, st.Took = 1, time.Since(start)
	return st, nil
}

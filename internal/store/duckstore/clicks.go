package duckstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
)

// The clicks table (schema/080_clicks.sql) holds the heatmaps' page views
// (named $pageview) and signals with the properties their queries read as typed columns: reading them
// from the events' JSON properties at each query is what made a heatmap
// of a million clicks take seconds. A signal is stored in events and in
// clicks in the same transaction.

// heatmapSignal is store.HeatmapSignal.
func heatmapSignal(kind store.Kind, name string) (string, bool) {
	return store.HeatmapSignal(kind, name)
}

// clicksFromEvents reads the clicks table's rows from the events, in their
// order, as the migration that created it did (with the same expressions).
const clicksFromEvents = `SELECT site_id, user_key, session_id, CASE WHEN kind = 3 THEN '$pageview' ELSE name END, ts, url, path,
    json_extract_string(properties, '$."selector"'),
    json_extract_string(properties, '$."pageview_id"'),
    TRY_CAST(json_extract_string(properties, '$."offset_x"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."offset_y"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."page_x"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."page_y"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."viewport_width"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."clicks"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."depth"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."viewport_height"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."page_height"') AS DOUBLE)
FROM events WHERE kind = 3 OR (kind = 2 AND name IN ('$click', '$rage_click', '$dead_click', '$scroll'))`

// clickValues returns the typed columns of a signal's properties (see
// store.ClickColumns), nil (NULL) where there is none.
func clickValues(props string) [len(store.ClickTexts) + len(store.ClickNumbers)]driver.Value {
	var out [len(store.ClickTexts) + len(store.ClickNumbers)]driver.Value
	v := store.ClickColumns(props)
	for i, s := range v.Texts {
		if s != nil {
			out[i] = *s
		}
	}
	for i, f := range v.Numbers {
		if f != nil {
			out[len(v.Texts)+i] = *f
		}
	}
	return out
}

// appendClick appends one signal's row to the clicks table.
func appendClick(app *duckdb.Appender, site, user, session int64, name string, ts time.Time, url, path, props string) error {
	v := clickValues(props)
	row := make([]driver.Value, 0, 7+len(v))
	row = append(row, site, user, session, name, ts, url, path)
	row = append(row, v[:]...)
	return app.AppendRow(row...)
}

// clicksSpec appends the batch's signals to the clicks table.
func clicksSpec(b *batch) appendSpec {
	n := 0
	for _, r := range b.events {
		if _, ok := heatmapSignal(r.m.Kind, r.m.Name); ok {
			n++
		}
	}
	return appendSpec{"clicks", n, func(app *duckdb.Appender) error {
		for _, r := range b.events {
			m := r.m
			name, ok := heatmapSignal(m.Kind, m.Name)
			if !ok {
				continue
			}
			if err := appendClick(app, m.SiteID, r.user, r.session, name, m.Timestamp, m.Page.URL, m.Page.Path,
				m.Properties); err != nil {
				return err
			}
		}
		return nil
	}}
}

// RebuildClicks replaces the clicks table with the signals read from the
// events table, and returns how many there are: for events written into
// the events table directly (benchmarks that generate them in SQL).
func (db *DB) RebuildClicks(ctx context.Context) (int64, error) {
	defer db.writing()()
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var n int64
	err := db.inTx(ctx, func() error {
		if _, err := db.wconn.ExecContext(ctx, "DELETE FROM clicks"); err != nil {
			return err
		}
		res, err := db.wconn.ExecContext(ctx, "INSERT INTO clicks "+clicksFromEvents)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("rebuild the clicks: %w", err)
	}
	db.vers.site.Add(1)
	return n, nil
}

// clicks counts the buffer's signals.
func (buf *bulkBuf) clicks() int {
	n := 0
	for i := range buf.events {
		if _, ok := heatmapSignal(store.Kind(buf.events[i].kind), buf.events[i].name); ok {
			n++
		}
	}
	return n
}

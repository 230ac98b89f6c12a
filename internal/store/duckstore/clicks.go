package duckstore

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
)

// The clicks table (schema/080_clicks.sql) holds the heatmaps' page views
// (named $pageview) and signals with the properties their queries read as typed columns: reading them
// from the events' JSON properties at each query is what made a heatmap
// of a million clicks take seconds. A signal is stored in events and in
// clicks in the same transaction.

// heatmapSignal reports whether an event is a row of the clicks table,
// and its name there: a page view ($pageview) or one of the heatmaps'
// signals.
func heatmapSignal(kind store.Kind, name string) (string, bool) {
	switch kind {
	case store.KindPage:
		return "$pageview", true
	case store.KindTrack:
		switch name {
		case "$click", "$rage_click", "$dead_click", "$scroll":
			return name, true
		}
	}
	return "", false
}

// clickTexts and clickNumbers are the properties read into the clicks
// table's columns, in the columns' order.
var (
	clickTexts   = [...]string{"selector", "pageview_id"}
	clickNumbers = [...]string{"offset_x", "offset_y", "page_x", "page_y", "viewport_width", "clicks", "depth",
		"viewport_height", "page_height"}
)

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

// clickValues returns the typed columns of a signal's properties (a JSON
// object), as clicksFromEvents reads them: a text is a string's value or
// another value's JSON text, a number a JSON number or a string holding
// one; NULL (nil) when the property is missing or null, or not a number.
func clickValues(props string) [len(clickTexts) + len(clickNumbers)]driver.Value {
	var out [len(clickTexts) + len(clickNumbers)]driver.Value
	var m map[string]json.RawMessage
	if props == "" || json.Unmarshal([]byte(props), &m) != nil {
		return out
	}
	for i, k := range clickTexts {
		if s, ok := jsonText(m[k]); ok {
			out[i] = s
		}
	}
	for i, k := range clickNumbers {
		if s, ok := jsonText(m[k]); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				out[len(clickTexts)+i] = f
			}
		}
	}
	return out
}

// jsonText is json_extract_string of one member: false when it is
// missing or null.
func jsonText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	}
	return string(raw), true
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

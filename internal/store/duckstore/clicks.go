package duckstore

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
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
// clicks in the same transaction. Beside them are the values derived
// from them (schema/130_click_keys.sql): the signal's number, the page
// view's and the selector's keys and the spot and grid cells, which
// store.HeatmapSignal, store.TextKey, store.SpotCell and store.GridCell
// compute and clickDerived computes the same in SQL.

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
// TestClickKeys holds it to what DuckDB reads from generated properties.
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
		raw := m[k]
		if len(raw) > 0 && (raw[0] == '-' || isDigit(raw[0])) {
			// A JSON number: DuckDB's text of it is its shortest form,
			// which reads back as the same number (but -0 as 0).
			if f, ok := duckDouble(string(raw)); ok {
				if f == 0 && !strings.ContainsAny(string(raw), ".eE") {
					f = 0
				}
				out[len(clickTexts)+i] = f
			}
		} else if s, ok := jsonText(raw); ok {
			if f, ok := duckDouble(s); ok {
				out[len(clickTexts)+i] = f
			}
		}
	}
	return out
}

// jsonText is json_extract_string of one member: false when it is
// missing or null. A number is written as DuckDB writes it back
// (duckNumberText); an object or an array compacted (their members are
// taken as sent).
func jsonText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case '{', '[':
		var b bytes.Buffer
		if json.Compact(&b, raw) == nil {
			return b.String(), true
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return duckNumberText(string(raw)), true
	}
	return string(raw), true
}

// duckNumberText returns the text DuckDB's json_extract_string gives a
// JSON number: an integer as written (but -0 as 0); a number with a
// fraction or an exponent as its shortest decimal form, in plain
// notation ending in ".0" when whole for exponents from -6 to 20, in
// scientific notation otherwise (1e21, 1.5e-7); one out of range as
// written.
func duckNumberText(n string) string {
	if !strings.ContainsAny(n, ".eE") {
		if n == "-0" {
			return "0"
		}
		return n
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil && math.IsInf(f, 0) {
		return n
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(sci, "e")
	e, _ := strconv.Atoi(exp)
	if e >= -6 && e < 21 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return mant + "e" + strconv.Itoa(e)
}

// duckDouble reads a text as DuckDB's TRY_CAST(text AS DOUBLE) does:
// spaces around it, one sign, digits (single underscores may stand
// between two), a fraction and an exponent; or nan, inf or infinity in
// any case. A number out of range is ±Inf (or 0); anything else, a
// hexadecimal number included, is not a number.
func duckDouble(s string) (float64, bool) {
	t := strings.Trim(s, " \t\n\v\f\r")
	sign := ""
	if t != "" && (t[0] == '+' || t[0] == '-') {
		sign, t = t[:1], t[1:]
	}
	switch strings.ToLower(t) {
	case "nan":
		if sign == "-" {
			return math.Copysign(math.NaN(), -1), true
		}
		return math.NaN(), true
	case "inf", "infinity":
		if sign == "-" {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	digits, expDigits, dot, exp, under := false, false, false, false, false
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
			if exp {
				expDigits = true
			} else {
				digits = true
			}
		case c == '_':
			if i == 0 || i == len(t)-1 || !isDigit(t[i-1]) || !isDigit(t[i+1]) {
				return 0, false
			}
			under = true
		case c == '.' && !dot && !exp:
			dot = true
		case (c == 'e' || c == 'E') && !exp && digits:
			exp = true
			if i+1 < len(t) && (t[i+1] == '+' || t[i+1] == '-') {
				i++
			}
		default:
			return 0, false
		}
	}
	if !digits || (exp && !expDigits) {
		return 0, false
	}
	if under {
		t = strings.ReplaceAll(t, "_", "")
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	if sign == "-" {
		f = -f
	}
	return f, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// clickDerived reads the clicks table's derived columns from its other
// columns, as store's functions compute them (TestClickDerivedAsGo).
const clickDerived = `CASE name WHEN '$pageview' THEN 0 WHEN '$click' THEN 1 WHEN '$rage_click' THEN 2
        WHEN '$dead_click' THEN 3 ELSE 4 END::UTINYINT,
    CASE WHEN coalesce(pageview_id, '') = '' THEN 0 ELSE ('0x' || left(md5(pageview_id), 15))::BIGINT END,
    CASE WHEN coalesce(selector, '') = '' THEN 0 ELSE ('0x' || left(md5(selector), 15))::BIGINT END,
    (least(greatest(floor(CASE WHEN isfinite(offset_x) THEN offset_x ELSE 0.5::DOUBLE END * 5), 0), 4) +
        5 * least(greatest(floor(CASE WHEN isfinite(offset_y) THEN offset_y ELSE 0.5::DOUBLE END * 5), 0), 4))::UTINYINT,
    CASE WHEN isfinite(page_x) AND isfinite(page_y) AND isfinite(viewport_width) AND viewport_width > 0
        THEN (least(greatest(floor(page_x / viewport_width * 50), 0), 49) +
            50 * least(greatest(floor(page_y / 20), 0), 999))::INTEGER END`

// clickColumns names the columns of clicksFromEvents' rows, for
// clickDerived to read.
const clickColumns = `site_id, user_key, session_id, name, ts, url, path, selector, pageview_id, offset_x, offset_y,
    page_x, page_y, viewport_width, clicks, depth, viewport_height, page_height`

// appendClick appends one signal's row to the clicks table, and notes its
// selector in sels when seen has not written it yet.
func appendClick(app *duckdb.Appender, site, user, session int64, sig store.Signal, name string, ts time.Time, url, path,
	props string, seen *clickSelectors, sels *[]selectorRow) error {
	v := clickValues(props)
	text := func(i int) string { s, _ := v[i].(string); return s }
	number := func(name string) *float64 {
		i := len(clickTexts) + slices.Index(clickNumbers[:], name)
		if f, ok := v[i].(float64); ok {
			return &f
		}
		return nil
	}
	var cell driver.Value
	if c, ok := store.GridCell(number("page_x"), number("page_y"), number("viewport_width")); ok {
		cell = c
	}
	row := make([]driver.Value, 0, 12+len(v))
	row = append(row, site, user, session, name, ts, url, path)
	row = append(row, v[:]...)
	selKey := store.TextKey(text(0))
	row = append(row, uint8(sig), store.TextKey(text(1)), selKey, store.SpotCell(number("offset_x"), number("offset_y")), cell)
	seen.note(site, selKey, text(0), sels)
	return app.AppendRow(row...)
}

// clicksSpec appends the batch's signals to the clicks table, and their
// selectors not written yet to click_selectors.
func (db *DB) clicksSpec(b *batch) []appendSpec {
	n := 0
	for _, r := range b.events {
		if _, _, ok := store.HeatmapSignal(r.m.Kind, r.m.Name); ok {
			n++
		}
	}
	var sels []selectorRow
	return []appendSpec{{"clicks", n, func(app *duckdb.Appender) error {
		for _, r := range b.events {
			m := r.m
			sig, name, ok := store.HeatmapSignal(m.Kind, m.Name)
			if !ok {
				continue
			}
			if err := appendClick(app, m.SiteID, r.user, r.session, sig, name, m.Timestamp, m.Page.URL, m.Page.Path,
				m.Properties, &db.selectors, &sels); err != nil {
				return err
			}
		}
		return nil
	}}, selectorsSpec(n, &sels)}
}

// clicksRebuilt reads the clicks table's rows, derived columns included,
// from the events.
const clicksRebuilt = "SELECT *, " + clickDerived + " FROM (" + clicksFromEvents + ") AS c(" + clickColumns + ")"

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
		res, err := db.wconn.ExecContext(ctx, "INSERT INTO clicks "+clicksRebuilt)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM click_selectors", `INSERT INTO click_selectors
			SELECT site_id, sel_key, min(selector) FROM clicks WHERE sel_key <> 0 GROUP BY site_id, sel_key`} {
			if _, err := db.wconn.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	db.selectors.forget()
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
		if _, _, ok := store.HeatmapSignal(store.Kind(buf.events[i].kind), buf.events[i].name); ok {
			n++
		}
	}
	return n
}

package duckstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// clickProperty returns a generated value of a click's property: missing
// (nil with false), null, a number of any size or sign, a string that
// holds a number or not, or another JSON value.
func clickProperty(r *rand.Rand, text bool) (any, bool) {
	switch r.IntN(12) {
	case 0:
		return nil, false
	case 1:
		return nil, true
	case 2:
		return []string{"NaN", "Infinity", "-inf", "1e400", " 0.25 ", "x", "", "0x1p-2", "-0", "1_0"}[r.IntN(10)], true
	case 3:
		return map[string]any{"a": 1}, true
	case 4:
		return r.IntN(2) == 0, true
	case 5:
		return fmt.Sprint(r.Float64()), true
	case 6:
		return []float64{1e300, -1e300, 5e-324, -0.2, 1.2, 0.9999999, 1}[r.IntN(7)], true
	}
	if text {
		return []string{"#buy", "#grid>div.card:nth-of-type(3)>a.buy", "#cart>>>#checkout", "", "pv-" + fmt.Sprint(r.IntN(5)),
			strings.Repeat("a", 40)}[r.IntN(6)], true
	}
	return (r.Float64()*2 - 0.5) * []float64{1, 100, 5000}[r.IntN(3)], true
}

// TestClickKeys checks the clicks table's derived columns (signal, page
// view and selector keys, spot and grid cells) three ways on generated
// page views and signals: the rows the applier writes have what store's
// functions compute from the row's own typed columns; RebuildClicks (the
// SQL of clickDerived) writes the same rows; and migration 130, run on the
// table without those columns, writes them again the same.
func TestClickKeys(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	r := rand.New(rand.NewPCG(13, 1))
	names := []string{"$click", "$rage_click", "$dead_click", "$scroll", "", "Signed up"}
	var msgs []store.Message
	for i := range 400 {
		props := map[string]any{}
		for _, k := range []string{"selector", "pageview_id", "offset_x", "offset_y", "page_x", "page_y", "viewport_width"} {
			if v, ok := clickProperty(r, k == "selector" || k == "pageview_id"); ok {
				props[k] = v
			}
		}
		b, _ := json.Marshal(props)
		at := t0.Add(-time.Duration(i+1) * time.Second)
		m := store.Message{SiteID: site.ID, Kind: store.KindTrack, AnonymousID: fmt.Sprint("a", i%7), Name: names[r.IntN(len(names))],
			MessageID: fmt.Sprint("m", i), Timestamp: at, ReceivedAt: at, Properties: string(b),
			Page: store.Page{Path: "/p", URL: "https://app.example.com/p"}}
		if m.Name == "" {
			m.Kind = store.KindPage
		}
		msgs = append(msgs, m)
	}
	write(t, db, msgs...)
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	read := func() []string {
		t.Helper()
		rows, err := db.SQL().QueryContext(ctx, `SELECT name, selector, pageview_id, offset_x, offset_y, page_x, page_y, viewport_width,
			sig, pv_key, sel_key, spot, cell FROM clicks ORDER BY ts`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var name string
			var sel, pv sql.NullString
			var f [5]sql.NullFloat64
			var sig, spot uint8
			var pvKey, selKey int64
			var cell sql.NullInt32
			if err := rows.Scan(&name, &sel, &pv, &f[0], &f[1], &f[2], &f[3], &f[4], &sig, &pvKey, &selKey, &spot, &cell); err != nil {
				t.Fatal(err)
			}
			num := func(i int) *float64 {
				if f[i].Valid {
					return &f[i].Float64
				}
				return nil
			}
			kind := store.KindTrack
			if name == "$pageview" {
				kind = store.KindPage
			}
			wantSig, _, _ := store.HeatmapSignal(kind, name)
			wantCell, ok := store.GridCell(num(2), num(3), num(4))
			want := []any{wantSig, store.TextKey(pv.String), store.TextKey(sel.String), store.SpotCell(num(0), num(1)),
				sql.NullInt32{Int32: wantCell, Valid: ok}}
			got := []any{store.Signal(sig), pvKey, selKey, spot, cell}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %v %v %v: derived %v, store's functions give %v", name, sel, pv, f, got, want)
			}
			out = append(out, fmt.Sprint(name, sel, pv, f, got))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	applied := read()
	if len(applied) < 300 {
		t.Fatalf("%d rows in clicks", len(applied))
	}
	selectorsMatch(t, db, "the applier's")
	if _, err := db.RebuildClicks(ctx); err != nil {
		t.Fatal(err)
	}
	selectorsMatch(t, db, "RebuildClicks'")
	if rebuilt := read(); !reflect.DeepEqual(rebuilt, applied) {
		t.Errorf("RebuildClicks' rows differ from the applier's:%s", diffRows(applied, rebuilt))
	}

	// The table as it was before migration 130, migrated.
	migration, err := duckstore.Migration("130_click_keys.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"sig", "pv_key", "sel_key", "spot", "cell"} {
		if _, err := db.SQL().ExecContext(ctx, "ALTER TABLE clicks DROP COLUMN "+c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SQL().ExecContext(ctx, migration); err != nil {
		t.Fatal(err)
	}
	if migrated := read(); !reflect.DeepEqual(migrated, applied) {
		t.Errorf("migration 130's rows differ from the applier's:%s", diffRows(applied, migrated))
	}
}

// selectorsMatch checks that click_selectors has the text of every
// selector key of clicks, and no other.
func selectorsMatch(t *testing.T, db *duckstore.DB, what string) {
	t.Helper()
	var missing, stray, wrong int
	if err := db.SQL().QueryRow(`SELECT
		(SELECT count(*) FROM (SELECT DISTINCT site_id, sel_key FROM clicks WHERE sel_key <> 0) c
			WHERE NOT EXISTS (SELECT 1 FROM click_selectors s WHERE s.site_id = c.site_id AND s.sel_key = c.sel_key)),
		(SELECT count(*) FROM click_selectors s WHERE NOT EXISTS (SELECT 1 FROM clicks c WHERE c.site_id = s.site_id AND c.sel_key = s.sel_key)),
		(SELECT count(*) FROM click_selectors s WHERE NOT EXISTS (SELECT 1 FROM clicks c WHERE c.site_id = s.site_id
			AND c.sel_key = s.sel_key AND c.selector = s.selector))`).Scan(&missing, &stray, &wrong); err != nil {
		t.Fatal(err)
	}
	if missing+stray+wrong > 0 {
		t.Errorf("%s click_selectors: %d keys missing, %d stray, %d with another text", what, missing, stray, wrong)
	}
}

// diffRows lists the rows of a and b that differ, as applier and SQL.
func diffRows(a, b []string) string {
	var out strings.Builder
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			fmt.Fprintf(&out, "\napplier %s\nSQL     %s", x, y)
		}
	}
	return out.String()
}

// TestClickSelectorsFold: repeats of a key in click_selectors (written
// again after restarts) are folded into one row when they are many, the
// texts kept; a few are left alone.
func TestClickSelectorsFold(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	count := func() (rows, keys int) {
		t.Helper()
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*), count(DISTINCT sel_key) FROM click_selectors`).Scan(&rows, &keys); err != nil {
			t.Fatal(err)
		}
		return rows, keys
	}
	insert := func(repeats int) {
		t.Helper()
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO click_selectors SELECT 1, k, '#e' || k FROM range(1, 11) a(k), range(?) b(r)`,
			repeats); err != nil {
			t.Fatal(err)
		}
	}
	insert(50)
	if err := db.FoldClickSelectors(ctx); err != nil {
		t.Fatal(err)
	}
	if rows, keys := count(); rows != 500 || keys != 10 {
		t.Errorf("a few repeats: %d rows of %d keys, want them left alone", rows, keys)
	}
	insert(1500)
	if err := db.FoldClickSelectors(ctx); err != nil {
		t.Fatal(err)
	}
	if rows, keys := count(); rows != 10 || keys != 10 {
		t.Errorf("after folding: %d rows of %d keys, want one a key", rows, keys)
	}
	var wrong int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM click_selectors WHERE selector <> '#e' || sel_key`).Scan(&wrong); err != nil || wrong != 0 {
		t.Errorf("%d texts changed by folding (%v)", wrong, err)
	}
}

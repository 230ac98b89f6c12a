package chstore_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/testsvc"
)

// TestClickDefaultsAsGo opens a database whose clicks table was made
// before the derived columns, filled with generated rows (NULL, NaN and
// infinite numbers, empty and missing texts among them): the store adds
// the columns, and ClickHouse computes for each row what store's
// functions compute.
func TestClickDefaultsAsGo(t *testing.T) {
	ctx := context.Background()
	dsn := testsvc.ClickHouse(t)
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	raw := clickhouse.OpenDB(opts)
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `CREATE TABLE clicks (site_id Int64, user_key Int64, session_id Int64, name String, ts Int64,
		url String, path String, selector Nullable(String), pageview_id Nullable(String), offset_x Nullable(Float64),
		offset_y Nullable(Float64), page_x Nullable(Float64), page_y Nullable(Float64), viewport_width Nullable(Float64),
		clicks Nullable(Float64), depth Nullable(Float64), viewport_height Nullable(Float64), page_height Nullable(Float64))
		ENGINE = MergeTree PARTITION BY toYYYYMM(toDateTime(intDiv(ts, 1000000), 'UTC')) ORDER BY (site_id, path, ts)`); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 5))
	number := func() *float64 {
		var f float64
		switch r.IntN(8) {
		case 0:
			return nil
		case 1:
			f = []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300, 5e-324, -0.0, 0}[r.IntN(8)]
		case 2:
			f = r.Float64()*3 - 1
		default:
			f = (r.Float64()*2 - 0.5) * []float64{1, 100, 5000}[r.IntN(3)]
		}
		return &f
	}
	text := func() *string {
		if r.IntN(5) == 0 {
			return nil
		}
		s := []string{"", "#buy", "#grid>div.card:nth-of-type(3)>a.buy", "é✓", fmt.Sprint("pv", r.IntN(1000))}[r.IntN(5)]
		return &s
	}
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO clicks (site_id, user_key, session_id, name, ts, url, path, selector, pageview_id,
		offset_x, offset_y, page_x, page_y, viewport_width)`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		name := []string{"$pageview", "$click", "$rage_click", "$dead_click", "$scroll"}[r.IntN(5)]
		if _, err := stmt.ExecContext(ctx, int64(1), int64(i), int64(i), name, int64(i), "https://a.example/p", "/p", text(), text(),
			number(), number(), number(), number(), number()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	ch, err := chstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	rows, err := ch.SQL().QueryContext(ctx, `SELECT name, selector, pageview_id, offset_x, offset_y, page_x, page_y, viewport_width,
		sig, pv_key, sel_key, spot, cell FROM clicks ORDER BY ts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		var sel, pv *string
		var f [5]*float64
		var sig, spot uint8
		var pvKey, selKey int64
		var cell *int32
		if err := rows.Scan(&name, &sel, &pv, &f[0], &f[1], &f[2], &f[3], &f[4], &sig, &pvKey, &selKey, &spot, &cell); err != nil {
			t.Fatal(err)
		}
		kind := store.KindTrack
		if name == "$pageview" {
			kind = store.KindPage
		}
		wantSig, _, _ := store.HeatmapSignal(kind, name)
		deref := func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		}
		var wantCell *int32
		if c, ok := store.GridCell(f[2], f[3], f[4]); ok {
			wantCell = &c
		}
		want := []any{wantSig, store.TextKey(deref(pv)), store.TextKey(deref(sel)), store.SpotCell(f[0], f[1]), wantCell}
		got := []any{store.Signal(sig), pvKey, selKey, spot, cell}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s %q %q %v: ClickHouse derives %v, store's functions %v", name, deref(sel), deref(pv), show([]any{f[0], f[1], f[2], f[3], f[4]}), show(got), show(want))
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 500 {
		t.Errorf("%d rows read back, want 500", n)
	}
}

// show writes values with their pointers followed.
func show(v []any) string {
	out := "["
	for i, x := range v {
		if i > 0 {
			out += " "
		}
		switch p := x.(type) {
		case *float64:
			if p == nil {
				out += "NULL"
			} else {
				out += fmt.Sprint(*p)
			}
		case *int32:
			if p == nil {
				out += "NULL"
			} else {
				out += fmt.Sprint(*p)
			}
		default:
			out += fmt.Sprint(x)
		}
	}
	return out + "]"
}

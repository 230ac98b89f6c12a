package duckstore

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// BenchmarkClickValues times reading a click's properties into the clicks
// table's columns, what the applier adds for each page view and signal.
func BenchmarkClickValues(b *testing.B) {
	props := `{"selector":"#main>div.products>a:nth-of-type(3)","offset_x":0.4167,"offset_y":0.5,"page_x":612,"page_y":1480,` +
		`"viewport_width":1440,"pageview_id":"k3j2h5g6f7d8s9a0","tag":"a","text":"Running shoes"}`
	b.ReportAllocs()
	for b.Loop() {
		v := clickValues(props)
		if v[0] == nil {
			b.Fatal("no selector")
		}
	}
}

// TestClicksMigrationReadsAsRebuild keeps migration 080's backfill and
// RebuildClicks (clicksFromEvents) the same query.
func TestClicksMigrationReadsAsRebuild(t *testing.T) {
	body, err := schemaFS.ReadFile("schema/080_clicks.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "INSERT INTO clicks "+clicksFromEvents+";") {
		t.Error("schema/080_clicks.sql does not fill clicks with clicksFromEvents")
	}
}

// TestDuckDouble holds duckDouble and duckNumberText to DuckDB itself:
// generated texts are cast with TRY_CAST(… AS DOUBLE), and generated JSON
// numbers read with json_extract_string.
func TestDuckDouble(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(7, 7))
	pieces := []string{"0", "1", "5", "9", "00", "123", ".", "_", "e", "E", "+", "-", " ", "\t", "\n", "nan", "NaN", "inf", "Infinity",
		"x", "0x", "1e400", "1e-400", "p", "\u00a0", "400"}
	texts := []string{"", " 0.25 ", "1_0", "0x1p-2", "-nan", "+inf", "1e1_0", "1.5_5", "5.", ".5", "-.5e-1"}
	for range 3000 {
		var b strings.Builder
		for range 1 + r.IntN(5) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		texts = append(texts, b.String())
	}
	for _, s := range texts {
		var want sql.NullFloat64
		if err := db.QueryRow("SELECT TRY_CAST(? AS DOUBLE)", s).Scan(&want); err != nil {
			t.Fatal(err)
		}
		got, ok := duckDouble(s)
		same := ok == want.Valid && (!ok || got == want.Float64 || (math.IsNaN(got) && math.IsNaN(want.Float64)))
		if !same || (ok && math.Signbit(got) != math.Signbit(want.Float64)) {
			t.Errorf("duckDouble(%q) = %v, %v; DuckDB casts it to %v", s, got, ok, want)
		}
	}
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	numbers := []string{"-0", "1E2", "1e21", "1e20", "1e-7", "0.000001", "1e400", "-1e400", "1e-400", "-0.0", "5e-324"}
	for range 3000 {
		n := []string{"", "-"}[r.IntN(2)]
		if r.IntN(4) == 0 {
			n += "0"
		} else {
			n += string(byte('1'+r.IntN(9))) + digits(r.IntN(22))
		}
		if r.IntN(2) == 0 {
			n += "." + digits(1+r.IntN(18))
		}
		if r.IntN(2) == 0 {
			n += []string{"e", "E"}[r.IntN(2)] + []string{"", "+", "-"}[r.IntN(3)] + fmt.Sprint(r.IntN(330))
		}
		numbers = append(numbers, n)
	}
	for _, n := range numbers {
		var want string
		if err := db.QueryRow(`SELECT json_extract_string(?, '$.a')`, `{"a":`+n+`}`).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := duckNumberText(n); got != want {
			t.Errorf("duckNumberText(%s) = %s; DuckDB reads %s", n, got, want)
		}
	}
}

// BenchmarkClickDerived times what the applier adds for each page view
// and signal beside reading its properties: the derived columns (two
// MD5 keys, the spot and the grid cell).
func BenchmarkClickDerived(b *testing.B) {
	props := `{"selector":"#main>div.products>a:nth-of-type(3)","offset_x":0.4167,"offset_y":0.5,"page_x":612,"page_y":1480,` +
		`"viewport_width":1440,"pageview_id":"0cc175b9c0f1b6a831c399e269772661","tag":"a","text":"Running shoes"}`
	v := clickValues(props)
	f := func(i int) *float64 { x := v[i].(float64); return &x }
	b.ReportAllocs()
	for b.Loop() {
		_ = store.TextKey(v[1].(string)) + store.TextKey(v[0].(string))
		_ = store.SpotCell(f(2), f(3))
		if _, ok := store.GridCell(f(4), f(5), f(6)); !ok {
			b.Fatal("no cell")
		}
	}
}

package duckstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// rowsOf returns a table's rows as text in the order a scan yields them.
func rowsOf(t *testing.T, db *duckstore.DB, query string) []string {
	t.Helper()
	rows, err := db.SQL().QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		v := make([]any, len(cols))
		p := make([]any, len(cols))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			t.Fatal(err)
		}
		f := make([]string, len(v))
		for i, x := range v {
			f[i] = fmt.Sprint(x)
		}
		out = append(out, strings.Join(f, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func appended(t *testing.T, db *duckstore.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.SQL().QueryRow("SELECT appended FROM table_layout WHERE table_name = ?", table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// inOrder says whether the table's rows come out of a scan ordered by
// site, entity, key and entity key.
func inOrder(t *testing.T, db *duckstore.DB, table string) bool {
	t.Helper()
	var keys [][4]string
	for _, r := range rowsOf(t, db, "SELECT site_id, entity, key, lpad(CAST(entity_key AS VARCHAR), 12, '0') FROM "+table) {
		f := strings.Split(r, "|")
		keys = append(keys, [4]string{f[0], f[1], f[2], f[3]})
	}
	return slices.IsSortedFunc(keys, func(a, b [4]string) int { return slices.Compare(a[:], b[:]) })
}

// identifyRound sets every user's attributes, the values depending on
// round, so that each round replaces current values and adds history.
func identifyRound(t *testing.T, db *duckstore.DB, site int64, users, round int) {
	t.Helper()
	var msgs []store.Message
	for u := range users {
		traits := map[string]any{"plan": []string{"free", "pro", "team"}[(u+round)%3], "ltv": u * round,
			"persona": fmt.Sprintf("p%d", u%4)}
		if round%2 == 1 {
			traits["beta"] = u%2 == 0
		}
		msgs = append(msgs, identify(site, fmt.Sprintf("u%03d", u), fmt.Sprintf("r%d-u%d", round, u),
			t0.Add(time.Duration(round)*time.Hour+time.Duration(u)*time.Second), traits))
	}
	write(t, db, msgs...)
}

// TestClusterKeepsRowsAndOrdersThem: putting the attribute tables in order
// moves every row to its place, loses and duplicates none, counts the
// appended rows right, and lets writes go on meanwhile.
func TestClusterKeepsRowsAndOrdersThem(t *testing.T) {
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "db.duckdb"),
		duckstore.SlicingAt(duckstore.Options{MemoryLimit: "256MB", Threads: 2, Now: func() time.Time { return t0.Add(time.Minute) }}, 7),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site := newSite(t, db)
	const users = 40
	for round := range 3 {
		identifyRound(t, db, site.ID, users, round)
	}
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	const current = "SELECT * FROM attr_current ORDER BY ALL"
	const history = "SELECT * FROM attr_history ORDER BY ALL"
	beforeCurrent, beforeHistory := rowsOf(t, db, current), rowsOf(t, db, history)
	// Every history row was appended once; every current row at least
	// once (a changed value is a new row).
	if got := appended(t, db, "attr_history"); got != int64(len(beforeHistory)) {
		t.Errorf("appended history rows = %d, the table holds %d", got, len(beforeHistory))
	}
	if got := appended(t, db, "attr_current"); got <= int64(len(beforeCurrent)) {
		t.Errorf("appended current rows = %d, want more than the %d the table holds (values were replaced)", got, len(beforeCurrent))
	}
	if inOrder(t, db, "attr_current") {
		t.Fatal("attr_current is in order before Cluster: the test proves nothing")
	}

	stats, err := db.Cluster(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"attr_current", "attr_history"} {
		if !inOrder(t, db, table) {
			t.Errorf("%s not in order after Cluster", table)
		}
		if got := appended(t, db, table); got != 0 {
			t.Errorf("%s: %d rows still counted as appended", table, got)
		}
	}
	// Mostly appended rows: one sort of the whole table.
	if len(stats) != 2 || stats[0].Steps != 1 || stats[0].Rows != int64(len(beforeCurrent)) ||
		stats[1].Rows != int64(len(beforeHistory)) {
		t.Errorf("stats = %+v; current %d rows, history %d", stats, len(beforeCurrent), len(beforeHistory))
	}
	// Nothing appended since: a check without force does nothing.
	if stats, err := db.Cluster(ctx, false); err != nil || len(stats) != 0 {
		t.Errorf("Cluster(false) right after = %+v, %v; want nothing done", stats, err)
	}

	// A few users change: a tenth of the table out of order, moved key
	// by key in slices of at most 7 rows.
	var few []store.Message
	for u := range 4 {
		few = append(few, identify(site.ID, fmt.Sprintf("u%03d", u), fmt.Sprintf("few-%d", u), t0.Add(3*time.Hour),
			map[string]any{"plan": "enterprise", "ltv": 5000}))
	}
	write(t, db, few...)
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	beforeCurrent = rowsOf(t, db, current)
	if stats, err = db.Cluster(ctx, true); err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2 || stats[0].Steps < 4*users/7 || stats[0].Rows != int64(len(beforeCurrent)) {
		t.Errorf("stats = %+v; want slices of 7 over %d rows", stats, len(beforeCurrent))
	}
	if got := rowsOf(t, db, current); !slices.Equal(got, beforeCurrent) || !inOrder(t, db, "attr_current") {
		t.Errorf("attr_current after slices: in order %v, same rows %v", inOrder(t, db, "attr_current"), slices.Equal(got, beforeCurrent))
	}

	// Writes during a Cluster: each lands once, and what they append
	// stays counted.
	var wg sync.WaitGroup
	wg.Go(func() {
		for round := 3; round < 6; round++ {
			identifyRound(t, db, site.ID, users, round)
		}
	})
	if _, err := db.Cluster(ctx, true); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	for u := range users {
		got, err := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: fmt.Sprintf("u%03d", u)})
		if err != nil {
			t.Fatal(err)
		}
		a := attrsOf(got)
		if want := []string{"free", "pro", "team"}[(u+5)%3]; a["plan"].Str != want || a["ltv"].Num != float64(u*5) || len(a) != 4 {
			t.Errorf("user %d after writes during Cluster: %v, want plan %s, ltv %d and 4 attributes", u, a, want, u*5)
		}
	}
	var dup int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM (SELECT entity_key, key FROM attr_current
		GROUP BY ALL HAVING count(*) > 1)`).Scan(&dup); err != nil || dup != 0 {
		t.Errorf("%d current values held twice (%v)", dup, err)
	}
	var hist int64
	if err := db.SQL().QueryRow("SELECT count(*) FROM attr_history").Scan(&hist); err != nil {
		t.Fatal(err)
	}
	if hist <= int64(len(beforeHistory)) {
		t.Errorf("history holds %d rows after three more rounds, had %d", hist, len(beforeHistory))
	}
}

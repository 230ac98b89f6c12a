package duckstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/retention"
	"github.com/sightline/sightline/internal/store"
)

// TestClicksTable checks the heatmaps' clicks table: the applier fills it
// in the transaction that stores the events, reading the properties as
// the migration's SQL does (a rebuild from the events gives the same
// rows, odd values included); a merge moves the rows to the surviving
// user; a user's erasure and retention delete them with the events.
func TestClicksTable(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	at := t0.Add(-10 * 24 * time.Hour)
	click := func(anon, user, id, name, props string, at time.Time) store.Message {
		return store.Message{SiteID: site.ID, Kind: store.KindTrack, AnonymousID: anon, UserID: user, Name: name, MessageID: id,
			Timestamp: at, ReceivedAt: at, Properties: props,
			Page: store.Page{Path: "/pricing", URL: "https://app.example.com/pricing?plan=pro"}}
	}
	pv := page(site.ID, "anon-1", "", "p1", "/pricing", at)
	pv.Properties = `{"viewport_width":1280,"pageview_id":"pv1"}`
	write(t, db,
		pv,
		click("anon-1", "", "c1", "$click", `{"selector":"#buy","offset_x":0.25,"offset_y":"0.5","page_x":100,"page_y":200,"viewport_width":1280,"pageview_id":"pv1"}`, at.Add(time.Second)),
		click("anon-1", "", "c2", "$rage_click", `{"selector":"#buy","clicks":4,"offset_x":true,"offset_y":null,"page_x":"x","viewport_width":1280}`, at.Add(2*time.Second)),
		click("anon-1", "", "c3", "$dead_click", `{"selector":{"a":1},"pageview_id":7,"offset_x":1e-1}`, at.Add(3*time.Second)),
		click("anon-1", "", "c4", "$scroll", `{"depth":73,"page_height":3000,"viewport_height":800,"viewport_width":1280,"pageview_id":"pv1"}`, at.Add(4*time.Second)),
		click("anon-1", "", "c5", "Signed up", `{"selector":"#buy"}`, at.Add(5*time.Second)),
		click("bob", "", "b1", "$click", `{"selector":"#faq"}`, at.Add(6*time.Second)),
		click("old", "", "o1", "$click", `{"selector":"#old"}`, t0.AddDate(0, 0, -100)),
	)
	read := func() []string {
		t.Helper()
		if err := db.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		rows, err := db.SQL().QueryContext(ctx, `SELECT user_key, session_id, name, ts, url, path, selector, pageview_id, offset_x,
			offset_y, page_x, page_y, viewport_width, clicks, depth, viewport_height, page_height, sig, pv_key, sel_key, spot, cell
			FROM clicks ORDER BY ts, name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			vals := make([]any, 22)
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
		return out
	}
	ingested := read()
	if len(ingested) != 7 {
		t.Fatalf("clicks has %d rows, want the page view, 4 signals of anon-1 and the 2 clicks of bob and old:\n%v", len(ingested), ingested)
	}
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var sel, pvID any
	var ox, oy, px, vw, n any
	if err := db.SQL().QueryRowContext(ctx, `SELECT selector, pageview_id, offset_x, offset_y, page_x, viewport_width, clicks
		FROM clicks WHERE name = '$rage_click'`).Scan(&sel, &pvID, &ox, &oy, &px, &vw, &n); err != nil {
		t.Fatal(err)
	}
	if sel != "#buy" || pvID != nil || ox != nil || oy != nil || px != nil || vw != 1280.0 || n != 4.0 {
		t.Errorf("rage click row = %v %v %v %v %v %v %v", sel, pvID, ox, oy, px, vw, n)
	}
	if _, err := db.RebuildClicks(ctx); err != nil {
		t.Fatal(err)
	}
	if rebuilt := read(); !reflect.DeepEqual(rebuilt, ingested) {
		t.Errorf("the applier's rows and the migration's differ:\napplier %v\nSQL     %v", ingested, rebuilt)
	}

	// anon-1 signs in as a known user: the rows move with the events.
	write(t, db, identify(site.ID, "u1", "i0", at.Add(-time.Hour), nil))
	write(t, db, store.Message{SiteID: site.ID, Kind: store.KindIdentify, UserID: "u1", AnonymousID: "anon-1",
		MessageID: "i1", Timestamp: at.Add(10 * time.Second), ReceivedAt: at.Add(10 * time.Second)})
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var stray int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM clicks c WHERE NOT EXISTS (SELECT 1 FROM events e
		WHERE e.user_key = c.user_key AND e.ts = c.ts)`).Scan(&stray); err != nil {
		t.Fatal(err)
	}
	if stray != 0 {
		t.Errorf("%d clicks rows kept a user key the events no longer have after the merge", stray)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		if err := db.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.SQL().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(DISTINCT user_key) FROM clicks WHERE pageview_id = 'pv1'`); n != 1 {
		t.Errorf("pv1's rows belong to %d users", n)
	}

	r, err := db.EraseUser(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Deleted["clicks"] != 5 {
		t.Errorf("erasure deleted %d clicks rows, want 5: %v", r.Deleted["clicks"], r.Deleted)
	}
	if n := count(`SELECT count(*) FROM clicks WHERE selector = '#buy'`); n != 0 {
		t.Errorf("%d of the erased user's clicks are left", n)
	}
	// Only the erased user clicked #buy and the dead click's {"a":1}.
	if n := count(`SELECT count(*) FROM click_selectors WHERE selector = '#buy'`); n != 0 || r.Deleted["click_selectors"] != 2 {
		t.Errorf("the text of the selector only the erased user clicked: %d rows left, %d deleted", n, r.Deleted["click_selectors"])
	}
	if n := count(`SELECT count(*) FROM click_selectors WHERE selector = '#faq'`); n != 1 {
		t.Errorf("bob's selector's text: %d rows", n)
	}

	if _, err := db.SetRetention(ctx, site.ID, store.Retention{EventsDays: 30}); err != nil {
		t.Fatal(err)
	}
	j := retention.New(db, func() time.Time { return t0 }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	n2, err := j.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n2["clicks"] != 1 || count(`SELECT count(*) FROM clicks`) != 1 {
		t.Errorf("retention expired %v; clicks left %d, want bob's", n2, count(`SELECT count(*) FROM clicks`))
	}
	if n := count(`SELECT count(*) FROM click_selectors WHERE site_id = ?`, site.ID); n != 1 || n2["click_selectors"] != 1 {
		t.Errorf("after retention: %d selector texts (want bob's), %d expired", n, n2["click_selectors"])
	}
}

// TestClicksTableBulk checks that a bulk load fills the clicks table with
// the page views and signals it appends, as the migration reads them.
func TestClicksTableBulk(t *testing.T) {
	ctx := context.Background()
	db := openSmallChunks(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	bulkUsers(t, db, site.ID, 30) // a page view and an "Export" each
	b, err := db.Bulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	user := b.NewUser(site.ID, t0, "clicker")
	start := t0.Add(-time.Hour)
	sid := b.Session(site.ID, user, &store.Session{Start: start, End: start.Add(time.Minute), Events: 40, EntryPage: "/p", ExitPage: "/p"})
	for i := range 40 {
		b.Event(user, sid, &store.Message{SiteID: site.ID, Kind: store.KindTrack, Name: "$click", MessageID: fmt.Sprintf("c-%d", i),
			Timestamp: start.Add(time.Duration(i) * time.Second), ReceivedAt: start,
			Page:       store.Page{Path: "/p", URL: "https://app.example.com/p"},
			Properties: fmt.Sprintf(`{"selector":"#b%d","offset_x":0.5,"viewport_width":%d}`, i%3, 390+i)})
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	var views, clicks, sels int
	var vw float64
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE name = '$pageview'), count(*) FILTER (WHERE name = '$click'),
		count(DISTINCT selector), sum(viewport_width) FROM clicks WHERE site_id = ?`, site.ID).Scan(&views, &clicks, &sels, &vw); err != nil {
		t.Fatal(err)
	}
	if views != 30 || clicks != 40 || sels != 3 || vw != 40*390+39*40/2 {
		t.Errorf("clicks after the bulk loads: %d page views, %d clicks, %d selectors, widths summing to %v", views, clicks, sels, vw)
	}
	selectorsMatch(t, db, "the bulk load's")
	var rows int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM click_selectors WHERE site_id = ?`, site.ID).Scan(&rows); err != nil || rows != 3 {
		t.Errorf("click_selectors has %d rows of the site, want one a selector (%v)", rows, err)
	}
}

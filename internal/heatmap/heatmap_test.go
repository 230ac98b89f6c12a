package heatmap_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/heatmap"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/testsvc"
)

func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }

var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// synced is a database whose writes are queryable when written.
type synced struct{ db *sql.DB }

func (s synced) SQL() *sql.DB                   { return s.db }
func (s synced) Sync(ctx context.Context) error { return nil }

// fixture writes clicks, signals and scroll depths of five users on two
// pages, at two widths, into a new duckstore.
func fixture(t *testing.T) (*duckstore.DB, int64) {
	t.Helper()
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "h.duckdb"),
		duckstore.Options{MemoryLimit: "256MB", Threads: 1, Now: func() time.Time { return now }}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	site, _, err := db.CreateSite(ctx, "Heat", []string{"https://shop.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []store.Message
	at := now.Add(-48 * time.Hour)
	add := func(kind store.Kind, user, name, path string, props map[string]any) {
		at = at.Add(time.Minute)
		b, _ := json.Marshal(props)
		msgs = append(msgs, store.Message{Kind: kind, UserID: user, Name: name, Timestamp: at,
			Page: store.Page{URL: "https://shop.example.com" + path + "?ref=x", Path: path}, Properties: string(b)})
	}
	for i, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		vw := 1280
		if i == 4 {
			vw = 390
		}
		pv := fmt.Sprintf("pv%d", i)
		path := "/products/shoes"
		if i == 3 {
			path = "/products/hats"
		}
		add(store.KindPage, u, path, path, map[string]any{"viewport_width": vw, "pageview_id": pv})
		for c := 0; c <= i; c++ {
			add(store.KindTrack, u, "$click", path, map[string]any{"selector": fmt.Sprintf("#e%d", c%3), "offset_x": 0.1 * float64(c+1),
				"offset_y": 0.5, "page_x": 100 * (c + 1), "page_y": 40 * (i + 1), "viewport_width": vw, "pageview_id": pv})
		}
		if i%2 == 0 {
			add(store.KindTrack, u, "$rage_click", path, map[string]any{"selector": "#e0", "clicks": 3 + i, "viewport_width": vw, "pageview_id": pv,
				"offset_x": 0.5, "offset_y": 0.5, "page_x": 10, "page_y": 10})
			add(store.KindTrack, u, "$dead_click", path, map[string]any{"selector": "#e1", "viewport_width": vw, "pageview_id": pv,
				"offset_x": 0.2, "offset_y": 0.7, "page_x": 20, "page_y": 30})
		}
		add(store.KindTrack, u, "$scroll", path, map[string]any{"depth": 20 * (i + 1), "page_height": 3000, "viewport_height": 750,
			"viewport_width": vw, "pageview_id": pv})
	}
	for i := range msgs {
		msgs[i].SiteID, msgs[i].ReceivedAt = site.ID, msgs[i].Timestamp
		msgs[i].MessageID = fmt.Sprintf("m%d", i)
	}
	if _, err := db.Write(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return db, site.ID
}

// answers computes every kind of answer for a set of queries, as JSON
// without timings.
func answers(t *testing.T, s *heatmap.Service, site int64, members func() *store.KeySet) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	put := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var m any
		b, _ := json.Marshal(v)
		_ = json.Unmarshal(b, &m)
		strip(m)
		b, _ = json.Marshal(m)
		out[name] = string(b)
	}
	from := now.Add(-7 * 24 * time.Hour)
	for _, q := range []heatmap.Query{
		{Page: "/products/shoes", Match: heatmap.MatchPath},
		{Page: "/products/shoes", Match: heatmap.MatchPath, Device: "desktop", From: from, To: now},
		{Page: "/products/shoes", Match: heatmap.MatchPath, Device: "mobile"},
		{Page: "/products/*", Match: heatmap.MatchPattern},
		{Page: "https://shop.example.com/products/hats?ref=x", Match: heatmap.MatchExact},
		{Page: "shoes\\?ref=", Match: heatmap.MatchRegex},
		{Page: "/products/*", Match: heatmap.MatchPattern, Members: members()},
		{Page: "/products/*", Match: heatmap.MatchPattern, Members: members(), Exclude: true},
	} {
		q.Site = site
		name := fmt.Sprintf("%s %s %s %v", q.Match, q.Page, q.Device, q.Exclude)
		if q.Members != nil {
			name += " segment"
		}
		for _, k := range []heatmap.Kind{heatmap.KindClick, heatmap.KindRage, heatmap.KindDead} {
			m, err := s.Clicks(ctx, q, k)
			put(name+" "+string(k), m, err)
			// The element table is the map without its grid.
			el, err := s.Elements(ctx, q, k)
			put(name+" "+string(k)+" elements", el, err)
			if a, b := mustJSON(m.Elements), mustJSON(el.Elements); a != b || len(el.Grid.Cells) != 0 ||
				el.Total != m.Total || el.Users != m.Users || el.PageViews != m.PageViews {
				t.Errorf("%s %s: the element table differs from the map's:\n%s\n%s", name, k, a, b)
			}
		}
		sc, err := s.Scroll(ctx, q)
		put(name+" scroll", sc, err)
		cl, err := s.ElementClicks(ctx, q, heatmap.KindClick, "#e0")
		put(name+" clicks", cl, err)
	}
	pages, err := s.Pages(ctx, site, time.Time{}, time.Time{})
	put("pages", pages, err)
	a := heatmap.Query{Site: site, Page: "/products/*", Match: heatmap.MatchPattern, Members: members()}
	b := a
	b.Exclude = true
	c, err := s.Compare(ctx, a, b)
	put("compare", c, err)
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// strip removes timings.
func strip(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "took_ms")
		for _, e := range x {
			strip(e)
		}
	case []any:
		for _, e := range x {
			strip(e)
		}
	}
}

// TestHeatmapsOnClickHouse computes every answer on DuckDB and, after
// chstore.Copy, on ClickHouse (18.16 is the floor), and wants them equal;
// a few DuckDB answers are checked by hand.
func TestHeatmapsOnClickHouse(t *testing.T) {
	ctx := context.Background()
	duck, site := fixture(t)
	members := func(d compiler.Dialect) func() *store.KeySet {
		return func() *store.KeySet {
			return &store.KeySet{SQL: "SELECT entity_key AS u FROM identities WHERE site_id = ? AND external_id IN (?, ?)",
				Args: []any{d.Arg(site), d.Arg("u1"), d.Arg("u2")}}
		}
	}
	want := answers(t, heatmap.New(duck, compiler.DuckDB{}), site, members(compiler.DuckDB{}))
	if got := want["path /products/shoes mobile false click"]; got == "" {
		t.Fatal("no answer")
	}
	var m heatmap.Map
	_ = json.Unmarshal([]byte(want["path /products/shoes  false click"]), &m)
	// u1, u2, u3 and u5 on the shoes: 1+2+3+5 clicks.
	if m.Total != 11 || m.PageViews != 4 || m.Users != 4 {
		t.Errorf("shoes: %d clicks by %d users in %d page views", m.Total, m.Users, m.PageViews)
	}

	ch, err := chstore.Open(ctx, testsvc.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if _, err := ch.Copy(ctx, duck.SQL()); err != nil {
		t.Fatal(err)
	}
	got := answers(t, heatmap.New(synced{ch.SQL()}, compiler.ClickHouse{}), site, members(compiler.ClickHouse{}))
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s:\nDuckDB     %s\nClickHouse %s", name, w, got[name])
		}
	}
}

// TestSelectorTextsFromTheClicks: an element whose selector's text is
// missing from click_selectors (a row rolled back) is named from the
// clicks themselves; the answers do not change.
func TestSelectorTextsFromTheClicks(t *testing.T) {
	duck, site := fixture(t)
	members := func() *store.KeySet {
		return &store.KeySet{SQL: "SELECT entity_key AS u FROM identities WHERE site_id = ? AND external_id IN (?, ?)",
			Args: []any{site, "u1", "u2"}}
	}
	s := heatmap.New(duck, compiler.DuckDB{})
	want := answers(t, s, site, members)
	if _, err := duck.SQL().Exec(`DELETE FROM click_selectors WHERE selector = '#e1'`); err != nil {
		t.Fatal(err)
	}
	for name, got := range answers(t, s, site, members) {
		if got != want[name] {
			t.Errorf("%s without #e1's text:\n%s\nwant\n%s", name, got, want[name])
		}
	}
}

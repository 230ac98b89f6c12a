package heatmap_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/heatmap"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestHeatmapScale times the heatmap answers of one page group with
// CLICKS clicks (1,000,000) of USERS users (1,000,000) over 30 days, as
// many page views and scroll depths, beside as many clicks on other
// pages. It runs with make bench-heatmaps (SIGHTLINE_BENCH_HEATMAPS=1).
func TestHeatmapScale(t *testing.T) {
	if os.Getenv("SIGHTLINE_BENCH_HEATMAPS") == "" {
		t.Skip("a scale benchmark: make bench-heatmaps")
	}
	clicks := envInt("CLICKS", 1_000_000)
	users := envInt("USERS", 1_000_000)
	ctx := context.Background()
	dir := os.Getenv("BENCH_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	db, err := duckstore.Open(ctx, filepath.Join(dir, fmt.Sprintf("heat-v2-%d-%d.duckdb", clicks, users)),
		duckstore.Options{Now: func() time.Time { return now }}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site := int64(1)
	var have int64
	if err := db.SQL().QueryRow(`SELECT count(*) FROM events WHERE site_id = ?`, site).Scan(&have); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if have == 0 {
		// Clicks on /products/* (the page group) and on /other; a page view
		// and a scroll depth per 2 clicks; spread over 30 days, 60
		// elements, three widths. Selectors and page view IDs are as long
		// as the tracker's (a path from an ID; 32 hex digits): short ones
		// would fit DuckDB's inlined strings and flatter every query.
		end := now.UnixMicro()
		span := int64(30 * 24 * time.Hour / time.Microsecond)
		q := `INSERT INTO events (site_id, user_key, session_id, kind, name, ts, received_at, message_id, url, path, title, referrer, properties, source)
			SELECT ?, (i * 7919) % ?, i // 4, k, n, make_timestamp(? - (i * 104729) % ?), make_timestamp(? - (i * 104729) % ?), 'm' || i || n,
				'https://shop.example.com' || p || '?ref=' || (i % 7), p, 'Shop', '', props, 1
			FROM (SELECT i, k, n, p, CASE
				WHEN n = '$click' THEN '{"selector":"#grid>div.card:nth-of-type(' || (i * 31 % 60) || ')>a.buy","offset_x":' || ((i * 13) % 100) / 100.0 ||
					',"offset_y":' || ((i * 17) % 100) / 100.0 || ',"page_x":' || (i * 37) % vw || ',"page_y":' || (i * 41) % 3000 ||
					',"viewport_width":' || vw || ',"pageview_id":"' || md5((i // 2)::VARCHAR) || '"}'
				WHEN n = '$scroll' THEN '{"depth":' || (i * 23) % 101 || ',"page_height":3000,"viewport_height":800,"viewport_width":' || vw ||
					',"pageview_id":"' || md5((i // 2)::VARCHAR) || '"}'
				ELSE '{"viewport_width":' || vw || ',"pageview_id":"' || md5((i // 2)::VARCHAR) || '"}' END AS props
			FROM (SELECT i, k, n, CASE WHEN i % 10 < 7 THEN 1440 WHEN i % 10 < 9 THEN 390 ELSE 820 END AS vw,
				CASE WHEN o = 0 THEN '/products/' || (i % 500) ELSE '/other' END AS p
				FROM range(0, ?) r(i), (VALUES (2, '$click'), (2, '$click'), (3, ''), (2, '$scroll')) e(k, n), (VALUES (0), (1)) g(o)
				WHERE n = '$click' OR (i % 2 = 0)))`
		if _, err := db.SQL().ExecContext(ctx, q, site, users, end, span, end, span, clicks/2); err != nil {
			t.Fatal(err)
		}
		t.Logf("generated in %s", time.Since(start).Round(time.Millisecond))
	}
	// The events were written in SQL, past the applier: their signals
	// are copied into the clicks table as the migration copies them.
	var signals int64
	if err := db.SQL().QueryRow(`SELECT count(*) FROM clicks WHERE site_id = ?`, site).Scan(&signals); err != nil {
		t.Fatal(err)
	}
	if signals == 0 {
		s := time.Now()
		n, err := db.RebuildClicks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d signals copied into clicks in %s", n, time.Since(s).Round(time.Millisecond))
	}
	var events, inGroup int64
	db.SQL().QueryRow(`SELECT count(*), count(*) FILTER (WHERE name = '$click' AND path LIKE '/products/%') FROM events WHERE site_id = ?`, site).Scan(&events, &inGroup)
	t.Logf("%d events; %d clicks on /products/* by up to %d users over 30 days", events, inGroup, users)

	hm := heatmap.New(db, compiler.DuckDB{})
	q := heatmap.Query{Site: site, Page: "/products/*", Match: heatmap.MatchPattern, From: now.AddDate(0, 0, -30), To: now}
	seg := &store.KeySet{SQL: "SELECT range AS u FROM range(0, ?, 10)", Args: []any{int64(users)}}
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"click map, every device", func() error { _, err := hm.Clicks(ctx, q, heatmap.KindClick); return err }},
		{"click map, desktop", func() error { d := q; d.Device = "desktop"; _, err := hm.Clicks(ctx, d, heatmap.KindClick); return err }},
		{"click map, a 10 % segment", func() error { d := q; d.Members = seg; _, err := hm.Clicks(ctx, d, heatmap.KindClick); return err }},
		{"element table", func() error { _, err := hm.Elements(ctx, q, heatmap.KindClick); return err }},
		{"one path", func() error {
			d := q
			d.Match, d.Page = heatmap.MatchPath, "/products/7"
			_, err := hm.Clicks(ctx, d, heatmap.KindClick)
			return err
		}},
		{"scroll map", func() error { _, err := hm.Scroll(ctx, q); return err }},
		{"compare the segment with the rest", func() error {
			a := q
			a.Members = seg
			b := a
			b.Exclude = true
			_, err := hm.Compare(ctx, a, b)
			return err
		}},
		{"pages seen", func() error { _, err := hm.Pages(ctx, site, q.From, q.To); return err }},
	} {
		// Wall time, and the CPU time the process spent (every thread):
		// on a machine shared with other work, the CPU time tells what
		// the answer costs better than the wall time.
		var times, cpu []time.Duration
		for range envInt("RUNS", 3) {
			s, c0 := time.Now(), cpuTime()
			if err := c.run(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			times = append(times, time.Since(s).Round(time.Millisecond))
			cpu = append(cpu, (cpuTime() - c0).Round(time.Millisecond))
		}
		t.Logf("%-36s %v CPU %v", c.name, times, cpu)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

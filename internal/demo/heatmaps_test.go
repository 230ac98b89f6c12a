package demo_test

import (
	"context"
	"testing"

	"github.com/sightline/sightline/internal/heatmap"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// heatmapStory checks the demo's heatmap story: Fernhill's VIPs click the
// first two product tiles of the home page more than everyone else, whose
// clicks go to the cheaper ones; Ledgerly's /reports chart is the page's
// dead-click hot spot, and comparing trial users with everyone else marks
// it. Sessions count the added clicks and their deepest scroll.
func heatmapStory(t *testing.T, f *filled) {
	ctx := context.Background()
	var bad int64
	if err := f.db.SQL().QueryRow(`SELECT count(*) FROM sessions s JOIN (
			SELECT session_id, count(*) FILTER (WHERE name = '$click') AS c FROM events GROUP BY session_id) e USING (session_id)
		WHERE e.c <> coalesce(s.clicks, 0)`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d sessions whose clicks disagree with their $click events", bad)
	}
	hm := heatmap.New(f.db, compiler.DuckDB{})
	from := now.AddDate(0, 0, -30)
	vips, err := f.svc.Segments.MembersQuery(ctx, f.shop, mustPrepare(t, f, f.shop, `vip = true or lifetime_value >= 500`))
	if err != nil {
		t.Fatal(err)
	}
	home := heatmap.Query{Site: f.shop, Page: "/", Match: heatmap.MatchPath, Device: "desktop", From: from, Members: &vips}
	rest := home
	rest.Exclude = true
	c, err := hm.Compare(ctx, home, rest)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Fernhill home, VIPs against the rest: %d and %d clicks; %+v", c.TotalA, c.TotalB, c.Elements[:min(3, len(c.Elements))])
	if c.TotalA < 20 || c.TotalB < 100 || len(c.Elements) < 3 {
		t.Fatalf("too few clicks for a story: %+v", c)
	}
	top := map[string]bool{c.Elements[0].Selector: true, c.Elements[1].Selector: true}
	for _, sel := range []string{"body>main>div>div.grid>div.product:nth-of-type(1)", "body>main>div>div.grid>div.product:nth-of-type(2)"} {
		if !top[sel] {
			t.Errorf("%s is not among the two elements that differ most: %+v", sel, c.Elements[:2])
		}
	}
	if !c.Elements[0].Marked || c.Elements[0].Difference <= 0 {
		t.Errorf("the first difference is not a marked gain of the VIPs: %+v", c.Elements[0])
	}

	reports := heatmap.Query{Site: f.saas, Page: "/reports", Match: heatmap.MatchPath, Device: "desktop", From: from}
	dead, err := hm.Clicks(ctx, reports, heatmap.KindDead)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead.Elements) == 0 || dead.Elements[0].Selector != "#report>div.chart" || dead.Elements[0].DeadShare <= 0.05 {
		t.Fatalf("the dead-click hot spot of /reports: %+v", dead.Elements)
	}
	t.Logf("/reports: the chart's dead clicks %d of %d clicks", dead.Elements[0].DeadClicks, dead.Elements[0].Clicks)
	trial, err := f.svc.Segments.MembersQuery(ctx, f.saas, mustPrepare(t, f, f.saas, `plan = "trial"`))
	if err != nil {
		t.Fatal(err)
	}
	a := reports
	a.Members = &trial
	b := a
	b.Exclude = true
	c, err = hm.Compare(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Ledgerly /reports, trial users against the rest: %d and %d clicks; %+v", c.TotalA, c.TotalB, c.Elements[:min(2, len(c.Elements))])
	if len(c.Elements) == 0 || c.Elements[0].Selector != "#report>div.chart" || !c.Elements[0].Marked {
		t.Errorf("the comparison does not mark the chart first: %+v", c.Elements)
	}
	var views int64
	if err := f.db.SQL().QueryRow(`SELECT count(*) FROM events WHERE site_id = ? AND kind = ? AND path = '/reports'
		AND json_extract_string(properties, '$.pageview_id') IS NOT NULL`, f.saas, int(store.KindPage)).Scan(&views); err != nil {
		t.Fatal(err)
	}
	if views == 0 {
		t.Error("no page view of /reports carries a pageview_id")
	}
}

// mustPrepare parses a segment of a site.
func mustPrepare(t *testing.T, f *filled, site int64, text string) segment.Node {
	t.Helper()
	n, err := f.svc.Segments.Prepare(context.Background(), site, engine.Definition{Text: text}, "")
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return n
}

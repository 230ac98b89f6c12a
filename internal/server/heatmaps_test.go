package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// The heatmap API over HTTP: clicks, signals and scroll depths sent
// through the Segment API with known selectors, offsets and viewports give
// exact per-element counts, filtered by page group, device and segment.

const shopURL = "https://shop.example.com"

// heatmapMsg is one message of the heatmap fixture.
func heatmapMsg(user, typ, name, path string, at time.Time, props map[string]any) string {
	m := map[string]any{"type": typ, "userId": user, "timestamp": at.Format(time.RFC3339Nano),
		"context":    map[string]any{"page": map[string]any{"url": shopURL + path, "path": path}},
		"properties": props}
	if typ == "track" {
		m["event"] = name
	}
	if typ == "page" {
		m["name"] = path
		props["url"], props["path"] = shopURL+path, path
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// sendHeatmapFixture sends six users' visits to /products/shoes (and
// one to /products/hats): u1–u3 (ltv 500) click #buy-shoes twice each on
// a desktop; u4–u6 (ltv 50) click #buy-shoes and #reviews once each, u5
// rage-clicks #reviews (4 clicks) and u5 and u6 dead-click it; u4 also
// visits on a phone and clicks #buy-shoes three times there; u1 clicks
// #buy-hat on /products/hats. It returns the number of messages.
func sendHeatmapFixture(t *testing.T, s *testServer) int {
	t.Helper()
	at := time.Now().UTC().Add(-2 * time.Hour)
	var msgs []string
	tick := func() time.Time { at = at.Add(time.Second); return at }
	click := func(user, name, sel, pv string, vw int, ox, oy float64, px, py int, extra map[string]any) {
		p := map[string]any{"selector": sel, "offset_x": ox, "offset_y": oy, "page_x": px, "page_y": py,
			"viewport_width": vw, "viewport_height": 800, "pageview_id": pv}
		for k, v := range extra {
			p[k] = v
		}
		msgs = append(msgs, heatmapMsg(user, "track", name, "/products/shoes", tick(), p))
	}
	depths := map[string][]int{"u1": {100}, "u2": {50}, "u3": {50}, "u4": {25}, "u5": {10}, "u6": {30, 60}}
	for i, u := range []string{"u1", "u2", "u3", "u4", "u5", "u6"} {
		ltv := 50
		if i < 3 {
			ltv = 500
		}
		msgs = append(msgs, fmt.Sprintf(`{"type":"identify","userId":%q,"traits":{"ltv":%d},"timestamp":%q}`, u, ltv, tick().Format(time.RFC3339Nano)))
		pv := "pv-" + u
		msgs = append(msgs, heatmapMsg(u, "page", "", "/products/shoes", tick(),
			map[string]any{"viewport_width": 1280, "viewport_height": 800, "pageview_id": pv}))
		if i < 3 {
			click(u, "$click", "#buy-shoes", pv, 1280, 0.25, 0.5, 350, 420, nil)
			click(u, "$click", "#buy-shoes", pv, 1280, 0.25, 0.5, 350, 420, nil)
		} else {
			click(u, "$click", "#buy-shoes", pv, 1280, 0.75, 0.5, 450, 420, nil)
			click(u, "$click", "#reviews", pv, 1280, 0.1, 0.9, 120, 1210, nil)
		}
		if u == "u5" {
			for range 3 {
				click(u, "$click", "#reviews", pv, 1280, 0.1, 0.9, 120, 1210, nil)
			}
			click(u, "$rage_click", "#reviews", pv, 1280, 0.1, 0.9, 120, 1210, map[string]any{"clicks": 4})
		}
		if u == "u5" || u == "u6" {
			click(u, "$dead_click", "#reviews", pv, 1280, 0.1, 0.9, 120, 1210, nil)
		}
		for _, d := range depths[u] {
			msgs = append(msgs, heatmapMsg(u, "track", "$scroll", "/products/shoes", tick(),
				map[string]any{"depth": d, "page_height": 4000, "viewport_width": 1280, "viewport_height": 800, "pageview_id": pv}))
		}
	}
	// u4 on a phone.
	msgs = append(msgs, heatmapMsg("u4", "page", "", "/products/shoes", tick(),
		map[string]any{"viewport_width": 375, "viewport_height": 700, "pageview_id": "pv-u4-phone"}))
	for range 3 {
		click("u4", "$click", "#buy-shoes", "pv-u4-phone", 375, 0.5, 0.5, 180, 900, nil)
	}
	// u1 on the hats.
	msgs = append(msgs, heatmapMsg("u1", "page", "", "/products/hats", tick(),
		map[string]any{"viewport_width": 1280, "viewport_height": 800, "pageview_id": "pv-u1-hats"}))
	msgs = append(msgs, heatmapMsg("u1", "track", "$click", "/products/hats", tick(),
		map[string]any{"selector": "#buy-hat", "offset_x": 0.5, "offset_y": 0.5, "page_x": 300, "page_y": 300,
			"viewport_width": 1280, "pageview_id": "pv-u1-hats"}))
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
	return len(msgs)
}

// heatmapElement is an element as the heatmap API returns it.
type heatmapElement struct {
	Selector   string     `json:"selector"`
	Clicks     int64      `json:"clicks"`
	Users      int64      `json:"users"`
	PageViews  int64      `json:"page_views"`
	ViewShare  float64    `json:"view_share"`
	RageClicks int64      `json:"rage_clicks"`
	DeadClicks int64      `json:"dead_clicks"`
	RageShare  float64    `json:"rage_share"`
	DeadShare  float64    `json:"dead_share"`
	OffsetX    float64    `json:"offset_x"`
	OffsetY    float64    `json:"offset_y"`
	Count      int64      `json:"count"`
	Spots      [][3]int64 `json:"spots"`
}

type heatmapJSON struct {
	PageViews int64            `json:"page_views"`
	Total     int64            `json:"total"`
	Users     int64            `json:"users"`
	Elements  []heatmapElement `json:"elements"`
	Grid      struct {
		Columns int        `json:"columns"`
		RowPx   int        `json:"row_px"`
		Cells   [][3]int64 `json:"cells"`
	} `json:"grid"`
}

// elementCounts returns selector: count of a heatmap.
func (h heatmapJSON) elementCounts() map[string]int64 {
	out := map[string]int64{}
	for _, e := range h.Elements {
		out[e.Selector] = e.Count
	}
	return out
}

func (h heatmapJSON) element(sel string) heatmapElement {
	for _, e := range h.Elements {
		if e.Selector == sel {
			return e
		}
	}
	return heatmapElement{}
}

func sameCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestHeatmapAPI(t *testing.T) {
	s := startServer(t, nil)
	sendHeatmapFixture(t, s)
	heat := func(query string) heatmapJSON {
		t.Helper()
		var h heatmapJSON
		s.getJSON(t, "/heatmaps?"+query, &h)
		return h
	}
	eventually(t, "the fixture", func() bool {
		return heat("page=/products/shoes&device=desktop").Total == 15
	})

	for _, tt := range []struct {
		name, query string
		want        map[string]int64
		views       int64
	}{
		{"desktop", "page=/products/shoes&device=desktop", map[string]int64{"#buy-shoes": 9, "#reviews": 6}, 6},
		{"mobile", "page=/products/shoes&device=mobile", map[string]int64{"#buy-shoes": 3}, 1},
		{"tablet", "page=/products/shoes&device=tablet", map[string]int64{}, 0},
		{"every device", "page=/products/shoes", map[string]int64{"#buy-shoes": 12, "#reviews": 6}, 7},
		{"exact URL", "match=exact&page=" + url.QueryEscape(shopURL+"/products/shoes") + "&device=desktop",
			map[string]int64{"#buy-shoes": 9, "#reviews": 6}, 6},
		{"pattern", "match=pattern&page=" + url.QueryEscape("/products/*"),
			map[string]int64{"#buy-shoes": 12, "#reviews": 6, "#buy-hat": 1}, 8},
		{"pattern that matches nothing", "match=pattern&page=" + url.QueryEscape("/product/*"), map[string]int64{}, 0},
		{"regex", "match=regex&page=" + url.QueryEscape("hats$"), map[string]int64{"#buy-hat": 1}, 1},
		{"high-LTV segment", "page=/products/shoes&device=desktop&text=" + url.QueryEscape("ltv >= 100"),
			map[string]int64{"#buy-shoes": 6}, 3},
		{"low-LTV segment", "page=/products/shoes&device=desktop&text=" + url.QueryEscape("ltv < 100"),
			map[string]int64{"#buy-shoes": 3, "#reviews": 6}, 3},
		{"rage clicks", "page=/products/shoes&kind=rage", map[string]int64{"#reviews": 1}, 7},
		{"dead clicks", "page=/products/shoes&kind=dead", map[string]int64{"#reviews": 2}, 7},
		{"a period before the clicks", "page=/products/shoes&from=2020-01-01&to=2020-01-31", map[string]int64{}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := heat(tt.query)
			if got := h.elementCounts(); !sameCounts(got, tt.want) || h.PageViews != tt.views {
				t.Errorf("counts %v and %d page views, want %v and %d", got, h.PageViews, tt.want, tt.views)
			}
		})
	}

	// The element table's numbers for the desktop map.
	h := heat("page=/products/shoes&device=desktop")
	buy, rev := h.element("#buy-shoes"), h.element("#reviews")
	if buy.Users != 6 || buy.PageViews != 6 || buy.ViewShare != 1 || buy.RageClicks != 0 || buy.DeadShare != 0 {
		t.Errorf("#buy-shoes = %+v", buy)
	}
	// Offsets: six clicks at 0.25 and three at 0.75 → mean 0.4167; spots
	// in the 5 × 5 grid: column 1 (6) and column 3 (3), row 2.
	if buy.OffsetX != 0.4167 || buy.OffsetY != 0.5 || fmt.Sprint(sortedSpots(buy.Spots)) != "[[1 2 6] [3 2 3]]" {
		t.Errorf("#buy-shoes offsets %v, %v, spots %v", buy.OffsetX, buy.OffsetY, buy.Spots)
	}
	if rev.Clicks != 6 || rev.Users != 3 || rev.PageViews != 3 || rev.ViewShare != 0.5 || rev.RageClicks != 4 ||
		rev.DeadClicks != 2 || rev.RageShare != 0.6667 || rev.DeadShare != 0.3333 {
		t.Errorf("#reviews = %+v", rev)
	}
	if h.Users != 6 {
		t.Errorf("users = %d, want 6", h.Users)
	}
	// The grid: 350/1280·50 = column 13, 420/20 = row 21 (6 clicks), …
	cells := map[[2]int64]int64{}
	for _, c := range h.Grid.Cells {
		cells[[2]int64{c[0], c[1]}] = c[2]
	}
	if cells[[2]int64{13, 21}] != 6 || cells[[2]int64{17, 21}] != 3 || cells[[2]int64{4, 60}] != 6 || len(cells) != 3 {
		t.Errorf("grid cells = %v", cells)
	}

	// The element table endpoint, with a limit.
	var table struct {
		Elements     []heatmapElement `json:"elements"`
		MoreElements int              `json:"more_elements"`
	}
	s.getJSON(t, "/heatmaps/elements?page=/products/shoes&device=desktop&limit=1", &table)
	if len(table.Elements) != 1 || table.Elements[0].Selector != "#buy-shoes" || table.MoreElements != 1 {
		t.Errorf("element table = %+v", table)
	}

	// The scroll map: deepest per page view (u6 sent 30 then 60).
	var sc struct {
		PageViews   int64     `json:"page_views"`
		Reached     []float64 `json:"reached"`
		AverageFold float64   `json:"average_fold"`
		Depth       float64   `json:"average_depth"`
	}
	s.getJSON(t, "/heatmaps?page=/products/shoes&kind=scroll&device=desktop", &sc)
	if sc.PageViews != 6 || len(sc.Reached) != 21 || sc.Reached[0] != 1 || sc.Reached[10] != 0.6667 || sc.Reached[12] != 0.3333 ||
		sc.Reached[20] != 0.1667 || sc.AverageFold != 20 || sc.Depth != 49.2 {
		t.Errorf("scroll map = %+v", sc)
	}

	// The pages seen.
	var pages struct {
		Pages []struct {
			Path      string `json:"path"`
			PageViews int64  `json:"page_views"`
			Clicks    int64  `json:"clicks"`
		} `json:"pages"`
	}
	s.getJSON(t, "/heatmaps/pages", &pages)
	if got := fmt.Sprint(pages.Pages); got != "[{/products/shoes 7 18} {/products/hats 1 1}]" {
		t.Errorf("pages = %s", got)
	}

	// High-LTV customers against everyone else: #buy-shoes is all of A's
	// clicks and a third of B's; #reviews the other two thirds of B's.
	var cmp struct {
		TotalA   int64 `json:"total_a"`
		TotalB   int64 `json:"total_b"`
		Elements []struct {
			Selector   string  `json:"selector"`
			ClicksA    int64   `json:"clicks_a"`
			ClicksB    int64   `json:"clicks_b"`
			ShareA     float64 `json:"share_a"`
			ShareB     float64 `json:"share_b"`
			Difference float64 `json:"difference"`
			Z          float64 `json:"z"`
			Marked     bool    `json:"marked"`
		} `json:"elements"`
	}
	s.getJSON(t, "/heatmaps/compare?page=/products/shoes&device=desktop&a_text="+url.QueryEscape("ltv >= 100"), &cmp)
	if cmp.TotalA != 6 || cmp.TotalB != 9 || len(cmp.Elements) != 2 {
		t.Fatalf("comparison = %+v", cmp)
	}
	// Equal differences: by selector.
	if e := cmp.Elements[0]; e.Selector != "#buy-shoes" || e.ClicksA != 6 || e.ClicksB != 3 || e.ShareA != 1 || e.ShareB != 0.3333 ||
		e.Difference != 0.6667 || e.Z != 2.58 || !e.Marked {
		t.Errorf("first difference = %+v", e)
	}
	if e := cmp.Elements[1]; e.Selector != "#reviews" || e.ClicksA != 0 || e.ClicksB != 6 || e.ShareB != 0.6667 || e.Difference != -0.6667 ||
		e.Z != -2.58 || !e.Marked {
		t.Errorf("second difference = %+v", e)
	}

	// The clicks on an element, newest first.
	var clicks struct {
		Clicks []map[string]any `json:"clicks"`
	}
	s.getJSON(t, "/heatmaps/clicks?page=/products/shoes&device=mobile&selector="+url.QueryEscape("#buy-shoes"), &clicks)
	if len(clicks.Clicks) != 3 {
		t.Errorf("clicks on #buy-shoes on a phone = %v", clicks.Clicks)
	}

	// Bad input: a stable code and the field at fault.
	for _, tt := range []struct{ query, field string }{
		{"", "page"},
		{"page=/x&match=fuzzy", "match"},
		{"page=/x&kind=hover", "kind"},
		{"page=/x&device=watch", "device"},
		{"page=" + url.QueryEscape("(") + "&match=regex", "page"},
		{"page=/x&from=yesterday", "from"},
		{"page=/x&from=2024-02-01&to=2024-01-01", "to"},
		{"page=/x&text=" + url.QueryEscape("ltv >>> 3"), "text"},
		{"page=/x&segment=nope&text=ltv+%3E+1", "segment"},
	} {
		code, body := s.get(t, store.ScopeRead, "/heatmaps?"+tt.query)
		e, _ := body["error"].(map[string]any)
		if code != http.StatusBadRequest || e["field"] != tt.field {
			t.Errorf("%s: %d %v, want 400 on %s", tt.query, code, body, tt.field)
		}
	}
	if code, body := s.get(t, store.ScopeRead, "/heatmaps/compare?page=/x"); code != 400 || errorCode(body) != "invalid_parameter" {
		t.Errorf("a comparison without A: %d %v", code, body)
	}

	// Another site's token sees nothing of this one.
	other, err := s.admin.CreateSite(t.Context(), "Other", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.admin.CreateToken(t.Context(), other.ID, store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site+"/heatmaps?page=/products/shoes", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	if code, _ := do(t, req); code != http.StatusNotFound {
		t.Errorf("another site's token: %d, want 404", code)
	}
	os := &testServer{base: s.base, site: other.ID, tokens: map[store.Scope]string{store.ScopeRead: tok.Token}}
	var empty heatmapJSON
	os.getJSON(t, "/heatmaps?page=/products/shoes", &empty)
	if empty.Total != 0 || len(empty.Elements) != 0 {
		t.Errorf("the other site's heatmap = %+v", empty)
	}
}

// sortedSpots orders spots by column and row.
func sortedSpots(s [][3]int64) [][3]int64 {
	out := append([][3]int64(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j][0] < out[i][0] || (out[j][0] == out[i][0] && out[j][1] < out[i][1]) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

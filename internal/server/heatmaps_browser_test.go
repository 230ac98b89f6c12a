package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// heatPage is a shop page with known elements whose boxes depend on the
// viewport's width (percentages), so that the same element is in another
// place on a phone.
func heatPage(base, writeKey, user string, ltv int) string {
	return heatPageWith(base, writeKey, user, ltv, "")
}

// heatPageWith is heatPage with more of the page after its elements.
func heatPageWith(base, writeKey, user string, ltv int, more string) string {
	return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Shop</title>
` + heatSnippet(base, writeKey, user, fmt.Sprintf("{ltv: %d}", ltv)) + `</head>
<body style="margin:0;font:16px sans-serif">
<header style="height:80px;background:#eef">Fernhill</header>
<button id="buy-a" style="display:block;margin:20px 5%;width:40%;height:60px">Buy the lamp</button>
<button id="buy-b" style="display:block;margin:20px 5%;width:40%;height:60px">Buy the rug</button>
<a id="dead" style="display:block;margin:20px 5%;width:30%;height:40px;background:#ddd">Details</a>
` + more + `
<div style="height:1500px"></div>
</body></html>`
}

// TestHeatmapsInChromium: visitors in two segments click known elements
// at two viewport widths; the API counts each element exactly, the
// dashboard draws the hot spots over those elements in the page's
// snapshot, a segment filter changes the counts exactly, and the
// comparison marks the elements whose share differs.
func TestHeatmapsInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	ps := newPageServer(t)
	site := recSite(t, &recServer{testServer: s}, "Heat shop", ps.URL)
	b := newBrowser(t)
	visit := func(user string, ltv int, width int64, clicks []string) {
		t.Helper()
		ps.serve(heatPage(s.base, site.writeKey, user, ltv))
		run(t, b, "the viewport", chromedp.EmulateViewport(width, 800))
		run(t, b, "open the shop as "+user, chromedp.Navigate(ps.URL+"/shop"), loaded())
		waitRecorder(t, b)
		for i, sel := range clicks {
			// Spots 15 % of the width apart: no rage, however fast.
			clickAt(t, b, sel, fmt.Sprintf("document.querySelector(%q)", sel), 0.2+0.15*float64(i%4))
		}
		run(t, b, "the snapshot's chunk", chromedp.Sleep(2500*time.Millisecond))
		noPageErrors(t, b)
		run(t, b, "log out", js(`sightline('reset')`))
	}
	visit("vip1", 900, 1280, []string{"#buy-a", "#buy-a", "#buy-a", "#buy-a", "#dead"})
	visit("reg1", 20, 1280, []string{"#buy-b", "#buy-b", "#buy-b", "#buy-b", "#dead"})
	visit("reg2", 20, 390, []string{"#buy-a", "#buy-a"})
	run(t, b, "leave", chromedp.Navigate("about:blank"), chromedp.Sleep(1500*time.Millisecond))

	// Exact per-element counts in the API.
	counts := func(query string) map[string]int64 {
		t.Helper()
		var h heatmapJSON
		site.getJSON(t, "/heatmaps?page=/shop&"+query, &h)
		return h.elementCounts()
	}
	desktop := map[string]int64{"#buy-a": 4, "#buy-b": 4, "#dead": 2}
	eventually(t, "the desktop clicks", func() bool { return sameCounts(counts("device=desktop"), desktop) })
	eventually(t, "the phone clicks", func() bool { return sameCounts(counts("device=mobile"), map[string]int64{"#buy-a": 2}) })
	if got := counts("device=desktop&text=" + url.QueryEscape("ltv >= 100")); !sameCounts(got, map[string]int64{"#buy-a": 4, "#dead": 1}) {
		t.Errorf("high-LTV desktop clicks = %v", got)
	}
	var snap struct {
		Snapshot *struct {
			Recording string `json:"recording"`
			Width     int    `json:"width"`
			HTML      string `json:"html"`
		} `json:"snapshot"`
	}
	eventually(t, "a desktop snapshot", func() bool {
		site.getJSON(t, "/heatmaps/snapshot?page=/shop&device=desktop", &snap)
		return snap.Snapshot != nil && snap.Snapshot.Width == 1280
	})
	req, _ := http.NewRequest(http.MethodGet, s.base+snap.Snapshot.HTML, nil)
	req.Header.Set("Authorization", "Bearer "+site.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != 200 || !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "sandbox allow-same-origin") || strings.Contains(csp, "allow-scripts") {
		t.Errorf("the snapshot: %s, CSP %q", resp.Status, csp)
	}

	// The dashboard draws them over the page.
	d := ownerDashboard(t, s.base)
	d.do("a desktop's width", chromedp.EmulateViewport(1500, 1000))
	heat := "/s/" + site.site + "/heatmaps?page=/shop"
	d.open(heat + "&device=desktop")
	spotsOver(t, d, ".heat-single", "#buy-a", desktop)
	if sb := d.str(`document.querySelector('iframe.heat-page').getAttribute('sandbox')`); sb != "allow-same-origin" {
		t.Errorf("the snapshot's iframe is sandboxed %q", sb)
	}
	var scripts int
	d.eval(`document.querySelector('iframe.heat-page').contentDocument.querySelectorAll('script').length`, &scripts)
	if scripts != 0 {
		t.Errorf("the snapshot has %d scripts", scripts)
	}
	if c := d.str(`document.querySelector('#element-table tr[data-selector="#buy-a"] [data-col=clicks]').textContent`); c != "4" {
		t.Errorf("the element table's clicks on #buy-a: %q", c)
	}
	d.shot("heatmap-desktop")
	// The element's clicks open the recordings at the moment.
	d.do("open #buy-a's clicks", js(`document.querySelector('#element-table tr[data-selector="#buy-a"] button').click()`))
	d.waitFor("the clicks of #buy-a", `document.querySelectorAll('.element-clicks a[href*="/recordings/"][href*="t="]').length === 4`)

	// On a phone the same element is elsewhere; its spots follow it.
	d.open(heat + "&device=mobile")
	spotsOver(t, d, ".heat-single", "#buy-a", map[string]int64{"#buy-a": 2})
	if w := d.str(`document.querySelector('iframe.heat-page').style.width`); w != "390px" {
		t.Errorf("the phone's snapshot is %s wide", w)
	}
	d.shot("heatmap-mobile")

	// A segment filter changes the counts exactly.
	d.open(heat + "&device=desktop&text=" + url.QueryEscape("ltv >= 100"))
	spotsOver(t, d, ".heat-single", "#buy-a", map[string]int64{"#buy-a": 4, "#dead": 1})

	// High-LTV customers against everyone else: the lamp and the rug are
	// marked, the details link (a fifth of each side's clicks) is not.
	d.open(heat + "&device=desktop&compare=1&text=" + url.QueryEscape("ltv >= 100"))
	d.waitFor("the difference table", `document.querySelector('#difference-table tr[data-selector="#dead"]')`)
	spotsOver(t, d, "#pane-a", "#buy-a", map[string]int64{"#buy-a": 4, "#dead": 1})
	spotsOver(t, d, "#pane-b", "#buy-a", map[string]int64{"#buy-b": 4, "#dead": 1})
	var marked []string
	d.eval(`Array.from(document.querySelectorAll('#difference-table tr.marked')).map(function (r) { return r.getAttribute('data-selector') }).sort()`, &marked)
	if fmt.Sprint(marked) != "[#buy-a #buy-b]" {
		t.Errorf("marked rows = %v", marked)
	}
	var boxes []string
	d.eval(`Array.from(document.querySelectorAll('#pane-a rect.box-marked')).map(function (r) { return r.getAttribute('data-selector') }).sort()`, &boxes)
	if fmt.Sprint(boxes) != "[#buy-a]" {
		t.Errorf("elements marked over A's map = %v (B's clicks on the rug are not A's)", boxes)
	}
	d.shot("heatmap-compare")
	d.clean()
}

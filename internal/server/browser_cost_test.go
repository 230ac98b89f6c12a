package server_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// costPrelude times the tracker's click work on the host page's main
// thread: a capturing listener on window runs before the tracker's own
// (capturing, on document) and a bubbling one on window runs after it,
// so the time between them is what a click costs the page.
const costPrelude = `
window.__clickCost = [];
window.addEventListener('click', function () { window.__t0 = performance.now(); }, true);
window.addEventListener('click', function () { window.__clickCost.push(performance.now() - window.__t0); }, false);
window.__pushState = history.pushState;
`

// TestTrackerMainThreadCost measures what the tracker costs the host
// page per event in a real Chromium: a custom event call, a click (with
// selector, offsets, rage and dead click bookkeeping), a page view and a
// single-page navigation (the wrapped pushState; the page view it causes
// runs later, as its own task, and costs what a page view costs). The SPEC's budget is "a few milliseconds per event"; the
// median must stay under 1.5 ms, and the figures are logged. On a quiet
// 2-core machine a click's median is 0.6 ms; with make test's packages
// running beside it, 1.0 ms (performance.now() counts in 0.1 ms steps).
func TestTrackerMainThreadCost(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	site := newPageServer(t)
	_, writeKey := browserSite(t, s, site.URL)
	b := newBrowser(t)
	site.serve(snippetPage(s.base, writeKey, "{}", costPrelude, ""))
	run(t, b, "open the page", chromedp.Navigate(site.URL+"/app"), loaded(), chromedp.Sleep(300*time.Millisecond))

	var clicks []chromedp.Action[chromedp.Void]
	for i := range 60 {
		// Alternate the two buttons, far apart: some clicks are dead, none
		// in a burst.
		y := 125.0
		if i%2 == 1 {
			y = 325
		}
		clicks = append(clicks, chromedp.MouseClickXY(150+float64(i%10), y), chromedp.Sleep(20*time.Millisecond))
	}
	run(t, b, "click", clicks...)

	measure := func(expr string) []float64 {
		t.Helper()
		out, err := chromedp.Run(b, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatal(err)
		}
		var ms []float64
		if err := json.Unmarshal([]byte(out), &ms); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		return ms
	}
	costs := map[string][]float64{
		"click": measure(`JSON.stringify(window.__clickCost)`),
		"event": measure(`(function () {
			var t = [];
			for (var i = 0; i < 300; i++) {
				var a = performance.now();
				sightline('event', 'cost_check', {i: i, plan: 'pro', note: 'a property or two'});
				t.push(performance.now() - a);
			}
			return JSON.stringify(t);
		})()`),
		"page view": measure(`(function () {
			var t = [];
			for (var i = 0; i < 40; i++) {
				var a = performance.now();
				sightline('page');
				t.push(performance.now() - a);
			}
			return JSON.stringify(t);
		})()`),
		// The tracker wraps pushState; its share is the wrapped call's
		// time less the browser's own, measured in alternation.
		"navigation": measure(`(function () {
			var t = [];
			for (var i = 0; i < 40; i++) {
				var a = performance.now();
				history.pushState({}, '', '/app/page-' + i);
				var b = performance.now();
				window.__pushState.call(history, {}, '', '/app/plain-' + i);
				t.push((b - a) - (performance.now() - b));
			}
			return JSON.stringify(t);
		})()`),
	}
	for what, ms := range costs {
		if len(ms) < 20 {
			t.Fatalf("%s: only %d timings", what, len(ms))
		}
		slices.Sort(ms)
		p := func(q float64) float64 { return ms[min(len(ms)-1, int(q*float64(len(ms))))] }
		t.Logf("main-thread cost of a %s: median %.3f ms, p95 %.3f ms, max %.3f ms (%d samples)",
			what, p(0.5), p(0.95), ms[len(ms)-1], len(ms))
		if p(0.5) >= 1.5 {
			t.Errorf("a %s costs the page %.3f ms (median); the budget is a few ms per event", what, p(0.5))
		}
	}
}

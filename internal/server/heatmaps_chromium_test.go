package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// What the heatmap tests in Chromium share: the snippet of their pages,
// clicking an element at a known spot, and checking that the dashboard
// draws each element's spots over it.

// heatSnippet is the head of a test page: the page's error catcher and
// the tracker's snippet for writeKey on the server at base, identifying
// user with attrs (a JavaScript object).
func heatSnippet(base, writeKey, user, attrs string) string {
	return `<script>
` + catchPageErrors + `
(function (w, d, s) {
  w.sightline = w.sightline || function () { (w.sightline.q = w.sightline.q || []).push(arguments) };
  s = d.createElement('script'); s.async = 1; s.src = '` + base + `/t/sightline.js'; d.head.appendChild(s);
})(window, document);
sightline('init', '` + writeKey + `', {});
sightline('identify', '` + user + `', ` + attrs + `);
</script>`
}

// clickAt clicks the element el (a JavaScript expression) at fx of its
// width and half its height.
func clickAt(t *testing.T, b context.Context, what, el string, fx float64) {
	t.Helper()
	box := evalJS[[]float64](t, b, fmt.Sprintf(`(function (r) { return [r.left + r.width * %v, r.top + r.height / 2] })((%s).getBoundingClientRect())`,
		fx, el))
	run(t, b, "click "+what, chromedp.MouseClickXY(box[0], box[1]), chromedp.Sleep(120*time.Millisecond))
}

// spotsOver checks every hot spot the dashboard draws in pane: over its
// element's box in the snapshot's iframe, and adding up to want by
// element. ready is an element of the page the snapshot must show.
func spotsOver(t *testing.T, d *dashboard, pane, ready string, want map[string]int64) {
	t.Helper()
	frame := pane + ` iframe.heat-page`
	d.waitFor("the hot spots of "+pane, fmt.Sprintf(`(function () {
		var f = document.querySelector(%q);
		return f && f.contentDocument && f.contentDocument.querySelector(%q) && document.querySelectorAll(%q).length > 0;
	})()`, frame, ready, pane+" circle.spot"))
	var got map[string]struct {
		N       int64
		Outside []string
	}
	d.eval(fmt.Sprintf(`(function () {
		var doc = document.querySelector(%q).contentDocument, out = {};
		document.querySelectorAll(%q).forEach(function (c) {
			var sel = c.getAttribute('data-selector'), r = doc.querySelector(sel).getBoundingClientRect();
			var x = Number(c.getAttribute('cx')), y = Number(c.getAttribute('cy'));
			var o = out[sel] = out[sel] || {N: 0, Outside: []};
			o.N += Number(c.getAttribute('data-n'));
			if (x < r.left || x > r.right || y < r.top || y > r.bottom) o.Outside.push(x + ',' + y + ' not in ' + JSON.stringify(r));
		});
		return out;
	})()`, frame, pane+" circle.spot"), &got)
	n := map[string]int64{}
	for sel, o := range got {
		n[sel] = o.N
		if len(o.Outside) > 0 {
			t.Errorf("%s: spots of %s outside its box: %v", pane, sel, o.Outside)
		}
	}
	if !sameCounts(n, want) {
		t.Errorf("%s: spots add up to %v, want %v", pane, n, want)
	}
}

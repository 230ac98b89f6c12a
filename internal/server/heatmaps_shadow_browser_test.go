package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// shadowPage has a web component whose button lives in an open shadow
// root, beside a button of the page itself.
func shadowPage(base, writeKey, user string) string {
	return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Cart</title>
` + heatSnippet(base, writeKey, user, "{}") + `
<script>
customElements.define('fern-cart', class extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({mode: 'open'}).innerHTML =
      '<div class="panel" style="padding:30px"><p>Your cart</p><button id="checkout" style="display:block;width:200px;height:50px">Check out</button></div>';
  }
});
</script></head>
<body style="margin:0;font:16px sans-serif">
<header style="height:120px;background:#eef">Fernhill</header>
<fern-cart id="cart" style="display:block;margin-left:300px"></fern-cart>
<button id="plain" style="display:block;margin:20px;width:160px;height:40px">Plain</button>
<div style="height:1200px"></div>
</body></html>`
}

// TestHeatmapsShadowRoots: clicks on a button inside an open shadow root
// are counted on that button (its selector goes through the host), and
// the dashboard draws them over the button in the snapshot, where the
// shadow root is rendered as declarative shadow DOM.
func TestHeatmapsShadowRoots(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	ps := newPageServer(t)
	site := recSite(t, &recServer{testServer: s}, "Shadow shop", ps.URL)
	b := newBrowser(t)
	ps.serve(shadowPage(s.base, site.writeKey, "sh1"))
	run(t, b, "the viewport", chromedp.EmulateViewport(1280, 800))
	run(t, b, "open the cart", chromedp.Navigate(ps.URL+"/cart"), loaded())
	waitRecorder(t, b)
	for i := range 3 {
		clickAt(t, b, "the shadow button", `document.querySelector('#cart').shadowRoot.querySelector('#checkout')`, 0.2+0.3*float64(i))
	}
	clickAt(t, b, "the plain button", `document.querySelector('#plain')`, 0.1)
	run(t, b, "the snapshot's chunk", chromedp.Sleep(2500*time.Millisecond))
	noPageErrors(t, b)
	run(t, b, "leave", chromedp.Navigate("about:blank"), chromedp.Sleep(1500*time.Millisecond))

	want := map[string]int64{"#cart>>>#checkout": 3, "#plain": 1}
	eventually(t, "the clicks by element", func() bool {
		var h heatmapJSON
		site.getJSON(t, "/heatmaps?page=/cart&device=desktop", &h)
		return sameCounts(h.elementCounts(), want)
	})
	var snap struct {
		Snapshot *struct{ Width int } `json:"snapshot"`
	}
	eventually(t, "a desktop snapshot", func() bool {
		site.getJSON(t, "/heatmaps/snapshot?page=/cart&device=desktop", &snap)
		return snap.Snapshot != nil && snap.Snapshot.Width == 1280
	})

	d := ownerDashboard(t, s.base)
	d.do("a desktop's width", chromedp.EmulateViewport(1500, 1000))
	d.open("/s/" + site.site + "/heatmaps?page=/cart&device=desktop")
	frame := `.heat-single iframe.heat-page`
	d.waitFor("the spots over the shadow root", fmt.Sprintf(`(function () {
		var f = document.querySelector(%q), h = f && f.contentDocument && f.contentDocument.querySelector('#cart');
		return h && h.shadowRoot && h.shadowRoot.querySelector('#checkout') &&
			document.querySelectorAll('.heat-single circle.spot[data-selector="#cart>>>#checkout"]').length > 0;
	})()`, frame))
	var got struct {
		N       int64
		Outside []string
		Scripts int
	}
	d.eval(fmt.Sprintf(`(function () {
		var doc = document.querySelector(%q).contentDocument, out = {N: 0, Outside: []};
		var r = doc.querySelector('#cart').shadowRoot.querySelector('#checkout').getBoundingClientRect();
		document.querySelectorAll('.heat-single circle.spot[data-selector="#cart>>>#checkout"]').forEach(function (c) {
			var x = Number(c.getAttribute('cx')), y = Number(c.getAttribute('cy'));
			out.N += Number(c.getAttribute('data-n'));
			if (x < r.left || x > r.right || y < r.top || y > r.bottom) out.Outside.push(x + ',' + y + ' not in ' + JSON.stringify(r));
		});
		out.Scripts = doc.querySelectorAll('script').length;
		return out;
	})()`, frame), &got)
	if got.N != 3 || len(got.Outside) > 0 {
		t.Errorf("the shadow button's spots add up to %d (want 3), outside its box: %v", got.N, got.Outside)
	}
	if got.Scripts != 0 {
		t.Errorf("the snapshot has %d scripts", got.Scripts)
	}
	if m := d.str(`document.querySelector('#missing-elements') ? document.querySelector('#missing-elements').textContent : ''`); m != "" {
		t.Errorf("elements listed as missing from the snapshot: %s", m)
	}
	d.shot("heatmap-shadow")
	d.clean()
}

// spaPage is a single-page app: its "Settings" link changes the route
// with pushState and draws the settings page in place.
func spaPage(base, writeKey, user string) string {
	return `<!doctype html>
<html><head><meta charset="utf-8"><title>App</title>
` + heatSnippet(base, writeKey, user, "{}") + `
<script>
function settings() {
  history.pushState({}, '', '/app/settings');
  document.getElementById('main').innerHTML = '<h1>Settings</h1><button id="save" style="display:block;width:180px;height:50px">Save</button>';
}
</script></head>
<body style="margin:0;font:16px sans-serif">
<main id="main"><h1>Home</h1><button id="go" onclick="settings()" style="display:block;width:180px;height:50px">Settings</button></main>
</body></html>`
}

// TestHeatmapsSinglePageApp: a page reached by a single-page app's route
// change, with no page load, gets its own full snapshot in the recording,
// which the heatmap of that page finds as its background.
func TestHeatmapsSinglePageApp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	ps := newPageServer(t)
	site := recSite(t, &recServer{testServer: s}, "SPA", ps.URL)
	b := newBrowser(t)
	ps.serve(spaPage(s.base, site.writeKey, "spa1"))
	run(t, b, "the viewport", chromedp.EmulateViewport(1280, 800))
	run(t, b, "open the app", chromedp.Navigate(ps.URL+"/app"), loaded())
	waitRecorder(t, b)
	click := func(sel string) {
		t.Helper()
		clickAt(t, b, sel, `document.querySelector('`+sel+`')`, 0.5)
	}
	click("#go")
	run(t, b, "the route's snapshot", chromedp.Sleep(1500*time.Millisecond))
	click("#save")
	click("#save")
	run(t, b, "a chunk", chromedp.Sleep(2500*time.Millisecond))
	noPageErrors(t, b)
	run(t, b, "leave", chromedp.Navigate("about:blank"), chromedp.Sleep(1500*time.Millisecond))

	eventually(t, "the settings page's clicks", func() bool {
		var h heatmapJSON
		site.getJSON(t, "/heatmaps?page=/app/settings&device=desktop", &h)
		return sameCounts(h.elementCounts(), map[string]int64{"#save": 2})
	})
	var snap struct {
		Snapshot *struct {
			Width int    `json:"width"`
			HTML  string `json:"html"`
		} `json:"snapshot"`
	}
	eventually(t, "a snapshot of the settings page", func() bool {
		site.getJSON(t, "/heatmaps/snapshot?page=/app/settings&device=desktop", &snap)
		return snap.Snapshot != nil
	})
	req, _ := http.NewRequest(http.MethodGet, s.base+snap.Snapshot.HTML, nil)
	req.Header.Set("Authorization", "Bearer "+site.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `id="save"`) || strings.Contains(string(body), `id="go"`) {
		t.Errorf("the settings page's background (%s): %.2000s", resp.Status, body)
	}
}

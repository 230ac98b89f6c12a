package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// The browser tests drive a real headless Chromium against a real server:
// the tracker script, its batches, CORS and the read API all take part.

// chromiumPath finds Chromium, installing Debian's package with
// scripts/ensure-chromium.sh when none is found; it skips the test only when
// neither works.
func chromiumPath(t *testing.T) string {
	t.Helper()
	find := func() string {
		if p := os.Getenv("SIGHTLINE_CHROMIUM"); p != "" {
			return p
		}
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	out, err := exec.Command("sh", filepath.Join("..", "..", "scripts", "ensure-chromium.sh")).CombinedOutput()
	if p := find(); p != "" {
		return p
	}
	t.Skipf("browser test skipped: Chromium is not installed and could not be installed (%v): %s", err, out)
	return ""
}

// newBrowser starts a headless Chromium with its own profile and returns a
// context for one tab in it; extra options come after the usual ones.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 800),
		// Chromium's own user agent, which says HeadlessChrome: a browser
		// that runs the tracker counts as one (internal/enrich).
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// snippetPage is a customer's page with the snippet. prelude runs before
// the snippet, after right after it (both before the tracker has loaded);
// options are init's.
func snippetPage(sightline, writeKey, options, prelude, after string) string {
	return `<!doctype html>
<html><head><meta charset="utf-8"><title>Test app</title>
<script>
` + prelude + `
(function (w, d, s) {
  w.sightline = w.sightline || function () { (w.sightline.q = w.sightline.q || []).push(arguments) };
  s = d.createElement('script'); s.async = 1; s.src = '` + sightline + `/t/sightline.js'; d.head.appendChild(s);
})(window, document);
sightline('init', '` + writeKey + `', ` + options + `);
` + after + `
</script></head>
<body style="margin:0">
<button id="dead" style="position:absolute;left:100px;top:100px;width:200px;height:50px">does nothing</button>
<button id="live" style="position:absolute;left:100px;top:300px;width:200px;height:50px" onclick="this.textContent='done'">works</button>
<div style="height:5000px"></div>
<script>
function checkout() { throw new Error('boom at checkout'); }
</script>
</body></html>`
}

// pageServer is a customer's site on its own port, so its origin differs
// from Sightline's. It serves its page at every path, as a single-page
// app's server does.
type pageServer struct {
	*httptest.Server
	page atomic.Pointer[string]
}

func newPageServer(t *testing.T) *pageServer {
	t.Helper()
	p := &pageServer{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if page := p.page.Load(); page != nil {
			fmt.Fprint(w, *page)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *pageServer) serve(html string) { p.page.Store(&html) }

// browserSite creates a site that allows origin and returns an API client
// for it with a read token, and its write key.
func browserSite(t *testing.T, s *testServer, origin string) (*testServer, string) {
	t.Helper()
	ctx := context.Background()
	site, err := s.admin.CreateSite(ctx, "Browser", []string{origin})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.admin.CreateToken(ctx, site.ID, store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{base: s.base, site: site.ID, tokens: map[store.Scope]string{store.ScopeRead: tok.Token}}, site.WriteKey
}

// run runs browser actions, failing the test on an error.
func run(t *testing.T, b context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// loaded waits until the tracker has replaced the snippet's stub.
func loaded() chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`!!(window.sightline && window.sightline.v)`, chromedp.WithPollingTimeout(10*time.Second))
}

func js(expr string) chromedp.Action[chromedp.Void] { return chromedp.Evaluate[chromedp.Void](expr) }

// event is an event as the read API returns it.
type event struct {
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	SessionID  int64          `json:"session_id"`
	URL        string         `json:"url"`
	Path       string         `json:"path"`
	Properties map[string]any `json:"properties"`
}

func (s *testServer) events(t *testing.T, user string) []event {
	t.Helper()
	var out struct {
		Events []event `json:"events"`
	}
	s.getJSON(t, "/users/"+user+"/events?limit=1000", &out)
	return out.Events
}

// find returns the events of a type and name that match.
func find(events []event, typ, name string, match func(event) bool) []event {
	var out []event
	for _, e := range events {
		if e.Type == typ && e.Name == name && (match == nil || match(e)) {
			out = append(out, e)
		}
	}
	return out
}

func TestTrackerInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	// The site allows the test page's origin; a second server on another
	// port is a foreign origin with the same key.
	site, foreign := newPageServer(t), newPageServer(t)
	pageOrigin := site.URL
	api, writeKey := browserSite(t, s, pageOrigin)
	page := snippetPage(s.base, writeKey, "{}",
		`window.hj = window.hj || function () { (hj.q = hj.q || []).push(arguments) };
hj('identify', 'u1', {company_size: 50});
hj('event', 'hj_event');`,
		`sightline('event', 'before_load', {early: true});`)
	site.serve(page)
	foreign.serve(page)

	b := newBrowser(t)
	run(t, b, "open the page", chromedp.Navigate(pageOrigin+"/app?utm_source=newsletter&utm_medium=email&utm_campaign=spring"), loaded())
	run(t, b, "identify and an event",
		js(`sightline('identify', 'u1', {plan: 'pro', ltv: 420, beta: true, signed_up_at: '2024-05-01'})`),
		js(`sightline('event', 'export', {format: 'csv', rows: 12})`),
		// An exposure reported twice (a component rendering again) is sent once.
		js(`sightline('experiment', 'onboarding_v2', 'B'); sightline('experiment', 'onboarding_v2', 'B')`),
		// Half of a surrogate pair (text cut inside an emoji): the server
		// refuses text that is not Unicode, the tracker mends it first.
		js(`sightline('event', 'half_emoji', {title: 'ok \ud83d', pair: '\ud83d\ude00', slash: '\\ud800'})`))
	// Nonsense never throws into the page (Evaluate fails if it does).
	run(t, b, "calls with bad arguments", js(`sightline(); sightline(42); sightline('event'); sightline('event', {});
		sightline('identify', undefined, 'x'); sightline('page', 7); sightline('unknown');
		var loop = {}; loop.self = loop; sightline('event', 'circular', loop); hj('nonsense', 1)`))
	// Four fast clicks on a button that does nothing: a rage click, and
	// one dead click for the burst.
	run(t, b, "rage clicks", chromedp.MouseClickXY(200, 125), chromedp.MouseClickXY(202, 126),
		chromedp.MouseClickXY(199, 124), chromedp.MouseClickXY(201, 125), chromedp.Sleep(1500*time.Millisecond))
	run(t, b, "a click that changes the page", chromedp.MouseClickXY(150, 310), chromedp.Sleep(1200*time.Millisecond))
	run(t, b, "scroll", js(`window.scrollTo(0, 3000)`), chromedp.Sleep(400*time.Millisecond))
	run(t, b, "single-page navigation and a u-turn",
		js(`history.pushState({}, '', '/app/settings')`), chromedp.Sleep(300*time.Millisecond),
		js(`history.pushState({}, '', '/app/other')`), chromedp.Sleep(300*time.Millisecond),
		js(`history.back()`), chromedp.Sleep(300*time.Millisecond))
	run(t, b, "a thrown error", js(`setTimeout(checkout, 0)`), chromedp.Sleep(100*time.Millisecond))
	// A u-turn across full page loads: to another document and straight
	// back (restored from the back-forward cache, or loaded again).
	// (loaded() is not used after going back: chromedp's polling does not
	// resume in a page restored from the back-forward cache.)
	run(t, b, "to another document", chromedp.Navigate(pageOrigin+"/app/billing"), loaded(),
		chromedp.Sleep(300*time.Millisecond))
	run(t, b, "and back", js(`history.back()`), chromedp.Sleep(500*time.Millisecond))
	run(t, b, "an event just before leaving", js(`sightline('event', 'last_words')`))

	// Leaving sends what is left with sendBeacon (the batch timer has not
	// fired yet); the foreign page is refused, by the browser (CORS) and by
	// the server.
	run(t, b, "a page on a foreign origin", chromedp.Navigate(foreign.URL+"/elsewhere"), loaded(),
		js(`sightline('event', 'foreign_event')`))
	tctx, cancel := context.WithTimeout(b, 10*time.Second)
	defer cancel()
	direct, err := chromedp.Run(tctx, chromedp.Evaluate[string](fmt.Sprintf(
		`fetch(%q, {method: 'POST', body: '{"batch":[]}'}).then(r => 'answered ' + r.status, e => 'refused')`,
		s.base+"/t/batch?k="+writeKey), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	run(t, b, "wait for the foreign page's batch", chromedp.Sleep(1500*time.Millisecond))
	if direct != "refused" {
		t.Errorf("a foreign page's request to /t/batch was %s, want refused", direct)
	}

	// Everything arrives, on the identified user.
	var events []event
	want := map[string]func(event) bool{
		"page /app with UTM tags": func(e event) bool {
			return e.Type == "page" && e.Path == "/app" && strings.Contains(e.URL, "utm_source=newsletter")
		},
		"before_load from the stub queue": func(e event) bool { return e.Name == "before_load" && e.Properties["early"] == true },
		"hj_event from hj's queue":        func(e event) bool { return e.Name == "hj_event" },
		"export with properties":          func(e event) bool { return e.Name == "export" && e.Properties["rows"] == 12.0 },
		"half_emoji mended": func(e event) bool {
			p := e.Properties
			return e.Name == "half_emoji" && p["title"] == "ok \uFFFD" && p["pair"] == "😀" && p["slash"] == `\ud800`
		},
		"page /app/settings by pushState": func(e event) bool { return e.Type == "page" && e.Path == "/app/settings" },
		"last_words by sendBeacon":        func(e event) bool { return e.Name == "last_words" },
		"a $click with offsets": func(e event) bool {
			p := e.Properties
			ox, _ := p["offset_x"].(float64)
			return e.Name == "$click" && p["selector"] == "#dead" && ox > 0.4 && ox < 0.6 &&
				p["page_x"] == 200.0 && p["viewport_width"] == 1280.0
		},
		"a $rage_click": func(e event) bool {
			return e.Name == "$rage_click" && e.Properties["selector"] == "#dead" && e.Properties["clicks"] == 4.0
		},
		"a $dead_click": func(e event) bool { return e.Name == "$dead_click" && e.Properties["selector"] == "#dead" },
		"a $u_turn in the app": func(e event) bool {
			return e.Name == "$u_turn" && e.Properties["from_path"] == "/app/other" && e.Properties["to_path"] == "/app/settings"
		},
		"a $u_turn between documents": func(e event) bool {
			return e.Name == "$u_turn" && e.Properties["from_path"] == "/app/billing" && e.Properties["to_path"] == "/app/settings"
		},
		"an $error": func(e event) bool {
			p := e.Properties
			return e.Name == "$error" && strings.Contains(p["message"].(string), "boom at checkout") &&
				p["source"] == pageOrigin+"/app" && p["line"].(float64) > 0
		},
		"$experiment_viewed": func(e event) bool {
			return e.Name == "$experiment_viewed" && e.Properties["experiment"] == "onboarding_v2" && e.Properties["variant"] == "B"
		},
		"$scroll of /app": func(e event) bool {
			d, _ := e.Properties["depth"].(float64)
			return e.Name == "$scroll" && e.Path == "/app" && d > 50
		},
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		events = api.events(t, "u1")
		missing := []string{}
		for what, ok := range want {
			found := false
			for _, e := range events {
				found = found || ok(e)
			}
			if !found {
				missing = append(missing, what)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, e := range events {
				t.Logf("%s %s %s %v", e.Type, e.Name, e.URL, e.Properties)
			}
			t.Fatalf("missing after 15 s: %v", missing)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if seen := find(events, "track", "$experiment_viewed", nil); len(seen) != 1 {
		t.Errorf("$experiment_viewed = %v, want one for the two calls", seen)
	}
	if dead := find(events, "track", "$dead_click", nil); len(dead) != 1 {
		t.Errorf("dead clicks = %v, want the one on #dead (not the click that changed the page)", dead)
	}
	for _, e := range events {
		if strings.HasPrefix(e.URL, foreign.URL) || e.Name == "foreign_event" {
			t.Errorf("stored from a foreign origin: %v", e)
		}
	}

	// Typed attributes from sightline('identify') and hj('identify').
	var user struct {
		Attributes map[string]struct {
			Value any    `json:"value"`
			Type  string `json:"type"`
		} `json:"attributes"`
	}
	api.getJSON(t, "/users/u1", &user)
	for key, ty := range map[string]string{"plan": "string", "ltv": "number", "beta": "boolean",
		"signed_up_at": "datetime", "company_size": "number"} {
		if a, ok := user.Attributes[key]; !ok || a.Type != ty {
			t.Errorf("attribute %s = %+v, want type %s", key, a, ty)
		}
	}

	// One session, from the landing page with its campaign.
	var sessions struct {
		Sessions []map[string]any `json:"sessions"`
	}
	api.getJSON(t, "/users/u1/sessions", &sessions)
	if len(sessions.Sessions) != 1 {
		t.Fatalf("sessions = %v", sessions.Sessions)
	}
	sess := sessions.Sessions[0]
	for _, e := range events {
		if float64(e.SessionID) != sess["id"] {
			t.Errorf("%s %s in session %d, not %v", e.Type, e.Name, e.SessionID, sess["id"])
		}
	}
	if sess["entry_page"] != "/app" || sess["utm_source"] != "newsletter" || sess["utm_campaign"] != "spring" ||
		sess["device_type"] != "desktop" || sess["browser"] != "Headless Chrome" || sess["os"] != "Linux" || sess["timezone"] == "" || sess["duration_seconds"].(float64) < 3 {
		t.Errorf("session = %v", sess)
	}
	checkSignals(t, b, s, api, pageOrigin, sess, events)
}

// eventually polls cond for up to 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not after 15 s: %s", what)
		}
	}
}

func TestTrackerConsentOptOutAndDNT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	site := newPageServer(t)
	api, writeKey := browserSite(t, s, site.URL)
	b := newBrowser(t)
	cookies := func() string {
		t.Helper()
		c, err := chromedp.Run(b, chromedp.Evaluate[string](`document.cookie`))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	userStatus := func(id string) int {
		t.Helper()
		code, _ := api.get(t, store.ScopeRead, "/users/"+id)
		return code
	}
	names := func(id string) map[string]int { // "type name-or-path": count
		t.Helper()
		out := map[string]int{}
		if userStatus(id) != 200 {
			return out
		}
		for _, e := range api.events(t, id) {
			if e.Type == "page" {
				out["page "+e.Path]++
			} else {
				out[e.Type+" "+e.Name]++
			}
		}
		return out
	}

	// Consent mode: nothing is sent or stored on the device before consent;
	// the calls made meanwhile are sent once it comes.
	site.serve(snippetPage(s.base, writeKey, "{requireConsent: true}", "",
		`sightline('identify', 'c1', {plan: 'free'}); sightline('event', 'held_event');`))
	run(t, b, "open a page that needs consent", chromedp.Navigate(site.URL+"/consent"), loaded(),
		chromedp.Sleep(1500*time.Millisecond))
	if c := cookies(); strings.Contains(c, "sl_") {
		t.Errorf("cookies before consent: %q", c)
	}
	if code := userStatus("c1"); code != 404 {
		t.Fatalf("before consent the user is stored (%d)", code)
	}
	run(t, b, "consent", js(`sightline('consent', true)`))
	eventually(t, "the page view and the held calls after consent", func() bool {
		n := names("c1")
		return n["page /consent"] == 1 && n["track held_event"] == 1
	})
	if c := cookies(); !strings.Contains(c, "sl_vid=") {
		t.Errorf("no visitor cookie after consent: %q", c)
	}

	// Opt-out: capture stops, the cookies go, and it is remembered.
	run(t, b, "opt out", js(`sightline('optout')`), js(`sightline('event', 'after_optout')`))
	if c := cookies(); strings.Contains(c, "sl_") {
		t.Errorf("cookies after opt-out: %q", c)
	}
	run(t, b, "reload after opting out", chromedp.Navigate(site.URL+"/again"), loaded(),
		js(`sightline('event', 'after_reload')`), chromedp.Sleep(1500*time.Millisecond))
	if n := names("c1"); n["track after_optout"]+n["track after_reload"]+n["page /again"] != 0 {
		t.Errorf("stored after opt-out: %v", n)
	}

	// Do-Not-Track, when the site honours it; the same page without the
	// option is the control.
	dnt := `Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: function () { return '1' }});`
	run(t, b, "forget the opt-out", js(`localStorage.clear()`))
	site.serve(snippetPage(s.base, writeKey, "{respectDNT: true}", dnt, `sightline('identify', 'd1')`))
	run(t, b, "a DNT browser on a site that honours it", chromedp.Navigate(site.URL+"/dnt"), loaded(),
		chromedp.Sleep(1500*time.Millisecond))
	site.serve(snippetPage(s.base, writeKey, "{}", dnt, `sightline('identify', 'd2')`))
	run(t, b, "a DNT browser on a site that does not", chromedp.Navigate(site.URL+"/no-dnt"), loaded())
	eventually(t, "the control user", func() bool { return userStatus("d2") == 200 })

	// A call costs the page next to nothing: the work is queueing and
	// JSON, the network happens later.
	tctx, cancel := context.WithTimeout(b, 10*time.Second)
	defer cancel()
	perCall, err := chromedp.Run(tctx, chromedp.Evaluate[float64](`(function () {
		var t = performance.now();
		for (var i = 0; i < 200; i++) sightline('event', 'timed', {i: i, plan: 'pro', path: location.pathname});
		return (performance.now() - t) / 200;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sightline('event', …) takes %.3f ms", perCall)
	if perCall > 1 {
		t.Errorf("sightline('event', …) takes %.3f ms on the page's thread; want well under 1 ms", perCall)
	}
	if code := userStatus("d1"); code != 404 {
		t.Errorf("a Do-Not-Track visitor was stored (%d)", code)
	}
}

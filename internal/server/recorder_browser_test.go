package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// recSite creates a site that allows origin on a recordings test server,
// with tokens of every scope.
func recSite(t *testing.T, s *recServer, name, origin string) *testServer {
	t.Helper()
	ctx := context.Background()
	site, err := s.admin.CreateSite(ctx, name, []string{origin})
	if err != nil {
		t.Fatal(err)
	}
	out := &testServer{base: s.base, site: site.ID, writeKey: site.WriteKey, tokens: map[store.Scope]string{}, admin: s.admin}
	for _, scope := range []store.Scope{store.ScopeRead, store.ScopeWrite, store.ScopeAdmin} {
		tok, err := s.admin.CreateToken(ctx, site.ID, scope)
		if err != nil {
			t.Fatal(err)
		}
		out.tokens[scope] = tok.Token
	}
	return out
}

// listRecordings reads the site's recordings list with a query.
func (s *testServer) listRecordings(t *testing.T, query string) []map[string]any {
	t.Helper()
	var out struct {
		Recordings []map[string]any `json:"recordings"`
	}
	s.getJSON(t, "/recordings?"+query, &out)
	return out.Recordings
}

// driveApp is a visitor on the app page: identifies, types the secrets
// and the name, saves, and goes to another page by a link.
func driveApp(t *testing.T, b context.Context, page string) {
	t.Helper()
	run(t, b, "open the app", chromedp.Navigate(page+"/app/settings"), loaded())
	waitRecorder(t, b)
	// The first chunk (the page's snapshot) leaves after 2 s; what follows
	// is sent when the page is hidden, by sendBeacon.
	run(t, b, "wait for the first chunk", chromedp.Sleep(2500*time.Millisecond))
	run(t, b, "identify", js(`sightline('identify', 'rec-user', {plan: 'pro', seats: 12})`))
	for _, f := range []struct{ sel, text string }{
		{"#card", typedCard}, {"#account", typedAccount}, {"#password", typedPassword}, {"#name", typedName}, {"#notes", typedNotes},
	} {
		run(t, b, "type into "+f.sel, chromedp.Click(chromedp.CSS(f.sel)), chromedp.SendKeys(chromedp.CSS(f.sel), f.text))
	}
	run(t, b, "save", chromedp.Click(chromedp.CSS("#save")), chromedp.Sleep(300*time.Millisecond))
	run(t, b, "to the orders", chromedp.Click(chromedp.CSS("#nav-orders")), chromedp.Sleep(time.Second))
	run(t, b, "the orders page", chromedp.Poll[chromedp.Void](`location.pathname === '/app/orders' && window.__slRecorder === 1`,
		chromedp.WithPollingTimeout(10*time.Second)))
	run(t, b, "scroll and wait for the first chunk", js(`window.scrollTo(0, 400)`), chromedp.Sleep(2500*time.Millisecond))
	noPageErrors(t, b)
}

// catchPageErrors is a page script that keeps the errors reaching the page
// in window.__pageErrors, for noPageErrors: the tracker and its chunks
// must cause none.
const catchPageErrors = `window.__pageErrors = [];
window.addEventListener('error', function (e) { window.__pageErrors.push(String(e.message)); });
window.addEventListener('unhandledrejection', function (e) { window.__pageErrors.push('unhandled: ' + String(e.reason)); });`

// noPageErrors fails the test when errors reached the page.
func noPageErrors(t *testing.T, b context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b, 10*time.Second)
	defer cancel()
	errs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__pageErrors`))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("errors reached the page: %q", errs)
	}
}

func TestRecorderInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startRecServer(t, nil)
	pages := newPageServer(t)
	site := recSite(t, s, "Recorded", pages.URL)
	pages.serve(appPage(s.base, site.writeKey))
	b := newBrowser(t)
	driveApp(t, b, pages.URL)

	// One recording, of the identified user, with both page loads.
	var rows []map[string]any
	eventually(t, "the recording with its two page loads", func() bool {
		var out struct {
			Recordings []map[string]any `json:"recordings"`
		}
		site.getJSON(t, "/recordings", &out)
		rows = out.Recordings
		return len(rows) == 1 && rows[0]["user"] == "rec-user" && rows[0]["pages"].(float64) >= 2
	})
	id := rows[0]["id"].(string)

	// (a) Nothing typed in secret, nor any digit run, is stored: not in the
	// blobs on disk, nor in what the API serves; the unmasked name is.
	blobs := s.storedBlobs(t)
	events := site.recordingEvents(t, id)
	checkPrivate(t, "the stored blobs", blobs, nil)
	checkPrivate(t, "the events API", events, pageTexts(t, events))
	for _, want := range []string{"Quarterly orders", "Invoices go to account ************ every month", "Customer 7"} {
		if !strings.Contains(string(events), want) {
			t.Errorf("the recording misses the page's text %q", want)
		}
	}
	t.Logf("recording %s: %v chunks, %v bytes stored, %v raw", id, rows[0]["chunks"], rows[0]["bytes_stored"], rows[0]["bytes_raw"])

	watchInDashboard(t, s, site, id)

	// (d) A site that does not record: the recorder is never loaded, and
	// nothing reaches the server.
	off := recSite(t, s, "Not recorded", pages.URL)
	if code, body := off.call(t, store.ScopeAdmin, "PUT", "/recording-settings", `{"enabled":false}`); code != 200 {
		t.Fatalf("turn recording off: %d %v", code, body)
	}
	before := len(s.blobFiles(t))
	pages.serve(appPage(s.base, off.writeKey))
	run(t, b, "a page of the site that does not record", chromedp.Navigate(pages.URL+"/app/quiet"), loaded(),
		js(`sightline('identify', 'quiet-user')`), chromedp.SendKeys(chromedp.CSS("#name"), "Quiet"), chromedp.Sleep(3*time.Second))
	tctx, cancel := context.WithTimeout(b, 10*time.Second)
	defer cancel()
	loadedChunk, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`!!window.__slRecorder || !!document.querySelector('script[src*="/t/chunks/recorder"]')`))
	if err != nil {
		t.Fatal(err)
	}
	if loadedChunk {
		t.Error("the recorder was loaded on a site that does not record")
	}
	eventually(t, "the quiet user's events", func() bool {
		code, _ := off.get(t, store.ScopeRead, "/users/quiet-user")
		return code == 200
	})
	if after := len(s.blobFiles(t)); after != before {
		t.Errorf("%d blobs stored for a site that does not record", after-before)
	}
	if rows := off.listRecordings(t, ""); len(rows) != 0 {
		t.Errorf("recordings of a site that does not record: %v", rows)
	}

	// Recording turned off while a page records: the first chunk is
	// refused (403 recording_disabled), the recorder stops, and the rest of
	// the session is not recorded, even though the browser's cached config
	// still says it is on.
	stopped := recSite(t, s, "Stopped", pages.URL)
	pages.serve(appPage(s.base, stopped.writeKey))
	run(t, b, "a page of a site about to stop recording", chromedp.Navigate(pages.URL+"/app/stopping"), loaded())
	waitRecorder(t, b)
	if code, body := stopped.call(t, store.ScopeAdmin, "PUT", "/recording-settings", `{"enabled":false}`); code != 200 {
		t.Fatalf("turn recording off: %d %v", code, body)
	}
	run(t, b, "the first chunk is refused", chromedp.Poll[chromedp.Void](`/:0$/.test(sessionStorage.getItem('sl_rec') || '')`,
		chromedp.WithPollingTimeout(10*time.Second)))
	run(t, b, "the next page of the session", chromedp.Navigate(pages.URL+"/app/next"), loaded(), chromedp.Sleep(2500*time.Millisecond))
	ctx2, cancel2 := context.WithTimeout(b, 10*time.Second)
	defer cancel2()
	if again, err := chromedp.Run(ctx2, chromedp.Evaluate[bool](`!!window.__slRecorder`)); err != nil || again {
		t.Errorf("the recorder ran again after the server refused the session (%v)", err)
	}
	noPageErrors(t, b)
	if rows := stopped.listRecordings(t, ""); len(rows) != 0 {
		t.Errorf("recordings stored after recording was turned off: %v", rows)
	}
}

// replayText is a JavaScript expression: the text of the page rebuilt in
// the player's iframe (empty until there is one).
const replayText = `(function () { var f = document.querySelector('.replayer-wrapper iframe');
	return f && f.contentDocument && f.contentDocument.body ? f.contentDocument.body.textContent : ''; })()`

// watchInDashboard finds the recording in the dashboard through segments
// and a profile, and replays it: (b) the player rebuilds the page, (c) the
// list filtered by a segment with the user shows it and one without does
// not.
func watchInDashboard(t *testing.T, s *recServer, site *testServer, id string) {
	t.Helper()
	for _, seg := range []string{`{"name":"Pro users","text":"plan = \"pro\""}`, `{"name":"Free users","text":"plan = \"free\""}`} {
		if code, out := site.call(t, store.ScopeWrite, "POST", "/segments", seg); code != 201 && code != 200 {
			t.Fatalf("create segment: %d %v", code, out)
		}
	}
	var segs struct {
		Segments []struct{ ID, Name string } `json:"segments"`
	}
	site.getJSON(t, "/segments", &segs)
	segID := map[string]string{}
	for _, g := range segs.Segments {
		segID[g.Name] = g.ID
	}
	d := ownerDashboard(t, s.base)
	list := "/s/" + site.site + "/recordings"
	row := fmt.Sprintf(`document.querySelector('tr[data-recording=%q]')`, id)

	// (c) The list, by a saved segment with the user, then without.
	d.open(list)
	d.waitFor("the recording in the list", row)
	d.choose("Segment", 0, segID["Pro users"])
	d.click("Apply")
	d.waitFor("the list of the segment with the user", `/segment=/.test(location.search) && !document.querySelector('.stale') && `+row)
	if n := d.str(`String(document.querySelectorAll('tr[data-recording]').length)`); n != "1" {
		t.Errorf("%s recordings for Pro users, want 1", n)
	}
	d.shot("recordings")
	d.choose("Segment", 0, segID["Free users"])
	d.click("Apply")
	d.waitFor("no recording for a segment without the user", `/No recording matches/.test(document.querySelector('main').textContent)`)
	// An ad-hoc segment, typed.
	d.choose("Segment", 0, "__text")
	d.fill("Ad-hoc segment", `plan = "pro" and seats >= 10`)
	d.click("Apply")
	d.waitFor("the list of the ad-hoc segment", `/text=/.test(location.search) && `+row)
	d.fill("Ad-hoc segment", `plan = "pro" and seats < 10`)
	d.click("Apply")
	d.waitFor("no recording for an ad-hoc segment without the user", `/No recording matches/.test(document.querySelector('main').textContent)`)
	// From the saved segment's page, and from the user's profile.
	d.open("/s/" + site.site + "/segments/" + segID["Pro users"])
	d.click("Watch recordings of this segment")
	d.waitFor("the segment's recordings", `location.search === '?segment=`+segID["Pro users"]+`' && `+row)
	d.open("/s/" + site.site + "/users/rec-user")
	d.click("Recordings of this user")
	d.waitFor("the user's recordings", `/user=rec-user/.test(location.search) && `+row)

	// (b) The player rebuilds the page: its text, its styles (inline, under
	// the dashboard's CSP), and what the visitor typed where unmasked.
	d.do("play", js(fmt.Sprintf(`document.querySelector('tr[data-recording=%q] a.btn').click()`, id)))
	d.waitPath(list + "/" + id)
	d.waitFor("the first frame", `document.querySelector('.player[data-first-frame-ms]') && /Quarterly orders/.test(`+replayText+`)`)
	if text := d.str(replayText); !strings.Contains(text, "You are on /app/settings") || strings.Contains(text, shownAccount) || strings.Contains(text, suppressed) {
		t.Errorf("the replayed page: %.300q", text)
	}
	header := d.str(`getComputedStyle(document.querySelector('.replayer-wrapper iframe').contentDocument.querySelector('header')).backgroundColor`)
	if header != "rgb(29, 35, 48)" {
		t.Errorf("the replayed page's header is %q: its inline stylesheet was not applied", header)
	}
	d.waitFor("the user's attributes beside it", `document.querySelector('.user-attrs [data-attr="plan"]')`)
	var marks []struct {
		Type   string
		Offset int
	}
	d.eval(`Array.prototype.map.call(document.querySelectorAll('.marks .mark'), function (m) { return {type: m.dataset.type, offset: Number(m.dataset.offset)}; })`, &marks)
	kinds := map[string]int{}
	for _, m := range marks {
		kinds[m.Type]++
	}
	if kinds["page"] < 2 || kinds["identify"] < 1 || kinds["click"] < 1 {
		t.Errorf("timeline markers = %v, want 2 page views, an identify and clicks", kinds)
	}
	// A marker jumps there; the name typed before the second page is then on screen.
	last := 0
	for _, m := range marks {
		if m.Type == "page" && m.Offset > last {
			last = m.Offset
		}
	}
	d.do("jump to the second page view", js(fmt.Sprintf(`Array.prototype.filter.call(document.querySelectorAll('.marks .mark-page'), function (m) { return m.dataset.offset === '%d'; })[0].click()`, last)))
	d.waitFor("the time of the marker", fmt.Sprintf(`document.querySelector('.player').dataset.time === '%d'`, last))
	nameAt := func(ms int) string {
		d.do("seek", js(fmt.Sprintf(`(function (r) { r.value = '%d'; r.dispatchEvent(new Event('input', {bubbles: true})); })(document.querySelector('.scrubber'))`, ms)))
		d.waitFor("the time", fmt.Sprintf(`document.querySelector('.player').dataset.time === '%d'`, ms))
		return d.str(`(function () { var f = document.querySelector('.replayer-wrapper iframe'); var n = f && f.contentDocument.querySelector('#name'); return n ? n.value : 'none'; })()`)
	}
	if v := nameAt(1000); v != "" {
		t.Errorf("the name field at 0:01 replays as %q, before it was typed", v)
	}
	d.do("back a little", js(fmt.Sprintf(`(function (r) { r.value = '%d'; r.dispatchEvent(new Event('input', {bubbles: true})); })(document.querySelector('.scrubber'))`, max(last-150, 0))))
	d.waitFor("the unmasked name in its field", fmt.Sprintf(`(function () { var f = document.querySelector('.replayer-wrapper iframe'); var n = f && f.contentDocument.querySelector('#name'); return n && n.value === %q; })()`, typedName))
	if v := d.str(`document.querySelector('.replayer-wrapper iframe').contentDocument.querySelector('#card').value`); v != strings.Repeat("*", len(typedCard)) {
		t.Errorf("the card field replays as %q, want stars", v)
	}
	d.click("8×")
	d.click("▶ Play")
	d.waitFor("playing", `document.querySelector('.player').dataset.state === 'playing'`)
	d.shot("player")
	d.clean()

	// The time to the first frame, opening the player afresh.
	d.firstFrame(list + "/" + id)
	d.clean()
}

// ownerDashboard is a browser tab signed in to the dashboard as the
// owner it sets up; browser options are newBrowser's.
func ownerDashboard(t *testing.T, base string, browser ...chromedp.ExecAllocatorOption) *dashboard {
	t.Helper()
	d := newDashboard(t, base, browser...)
	d.do("open the dashboard", chromedp.Navigate(base+"/"))
	d.waitPath("/setup")
	d.fill("Your name", "Olive Owner")
	d.fill("Email", "owner@example.com")
	d.fill("Password", ownerPassword)
	d.do("set up", chromedp.SendKeys(chromedp.CSS(d.control("Password", 0)), "\r"))
	d.waitPath("/s/")
	return d
}

// firstFrame opens a player page and logs how long the first frame took:
// from the page's start (the sl:player-open mark), and from the start of
// the navigation.
func (d *dashboard) firstFrame(path string) {
	d.t.Helper()
	d.open(path)
	d.waitFor("the first frame", `document.querySelector('.player[data-first-frame-ms]')`)
	var ms struct{ Open, Frame float64 }
	d.eval(`({open: Number(document.querySelector('.player').dataset.firstFrameMs),
		frame: performance.getEntriesByName('sl:first-frame', 'mark')[0].startTime})`, &ms)
	d.t.Logf("player: first frame %.0f ms after the page opened (%.0f ms after navigation started)", ms.Open, ms.Frame)
}

package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// The tracker counts only what the visitor did, and sends no secret a
// URL carried: a page with a web component, the survey widget, the
// feedback tab and an address with a card number in its query string.

// accuracyPage is a customer's page: a web component that answers a click
// by changing its label inside its open shadow root, a button that does
// nothing (the control for dead clicks), and a link to a second page.
func accuracyPage(base, writeKey, after string) string {
	return `<!doctype html>
<html><head><meta charset="utf-8"><title>Order 4111111111111111 confirmed</title>
<script>
` + catchPageErrors + `
customElements.define('my-toggle', class extends HTMLElement {
  constructor() {
    super();
    var r = this.attachShadow({mode: 'open'});
    var b = document.createElement('button');
    b.textContent = 'off';
    b.style.cssText = 'width:200px;height:50px';
    b.addEventListener('click', function () { b.textContent = b.textContent === 'off' ? 'on' : 'off'; });
    r.appendChild(b);
  }
});
(function (w, d, s) {
  w.sightline = w.sightline || function () { (w.sightline.q = w.sightline.q || []).push(arguments) };
  s = d.createElement('script'); s.async = 1; s.src = '` + base + `/t/sightline.js'; d.head.appendChild(s);
})(window, document);
sightline('init', '` + writeKey + `', {});
` + after + `
</script></head>
<body style="margin:0">
<my-toggle id="toggle" style="position:absolute;left:100px;top:100px"></my-toggle>
<button id="dead" style="position:absolute;left:100px;top:300px;width:200px;height:50px">does nothing</button>
<div style="height:3000px"></div>
</body></html>`
}

// The address a form sent by GET leaves in the browser: a card number, a
// password, an e-mail and an account number, beside harmless parameters
// and one the site keeps (order).
const (
	secretQuery = "?q=blue+shoes&card_number=4242424242424242&password=hunter2&email=ann%40example.com" +
		"&acct=987654321&note=call+555+123+456+789&order=12345678901"
	scrubbedQuery = "?q=blue+shoes&card_number=&password=&email=&acct=&note=call%20***%20***%20***%20***&order=12345678901"
)

func TestTrackerCapturesOnlyTheVisitor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s, _ := startSurveyServer(t)
	ps := newPageServer(t)
	surveySite(t, s, ps.URL)
	if code, out := s.call(t, store.ScopeAdmin, http.MethodPatch, "", `{"keep_params":["order"]}`); code != 200 {
		t.Fatalf("keep_params: %d %v", code, out)
	}
	if code, out := s.call(t, store.ScopeAdmin, http.MethodPatch, "", `{"keep_params":["order","order"]}`); code != 400 || errorCode(out) != "duplicate_keep_param" {
		t.Errorf("a repeated keep_param: %d %v", code, out)
	}
	s.createSurvey(t, `{"name": "Quick", "questions": [
		{"id": "score", "type": "nps", "prompt": "How likely are you to recommend us?", "required": true}]}`, true)
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/feedback-settings", `{"enabled":true,"position":"right"}`); code != 200 {
		t.Fatalf("turn feedback on: %d %v", code, out)
	}
	ps.serve(accuracyPage(s.base, s.writeKey, `sightline('identify', 'acc1');`))
	b := newBrowser(t)
	run(t, b, "open the page", chromedp.Navigate(ps.URL+"/checkout"+secretQuery), loaded(), js(shadowProbe))
	waitRecorder(t, b)
	waitJS(t, b, "the survey", `window.__sr() && window.__sr().querySelector('.scale button')`)
	waitJS(t, b, "the feedback tab", `window.__sr('sightline-feedback') && window.__sr('sightline-feedback').querySelector('button.tab')`)

	// The widgets' hosts carry no inline style (it expanded to ~10 KB).
	for _, tag := range []string{"sightline-survey", "sightline-feedback"} {
		if n := evalJS[int](t, b, fmt.Sprintf(`(document.querySelector(%q).getAttribute('style') || '').length`, tag)); n != 0 {
			t.Errorf("%s carries a %d-character inline style", tag, n)
		}
		if pos := evalJS[string](t, b, fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).position`, tag)); pos != "fixed" {
			t.Errorf("%s is %s, not fixed", tag, pos)
		}
	}

	// The visitor: the web component twice (it answers, inside its shadow
	// root), the button that does nothing, then the survey and the tab.
	click := func(what, expr string) {
		t.Helper()
		var box []float64
		box = evalJS[[]float64](t, b, `(function (r) { return [r.left + r.width / 2, r.top + r.height / 2] })((`+expr+`).getBoundingClientRect())`)
		run(t, b, what, chromedp.MouseClickXY(box[0], box[1]), chromedp.Sleep(1300*time.Millisecond))
	}
	click("the web component", `document.querySelector('#toggle').shadowRoot.querySelector('button')`)
	if label := evalJS[string](t, b, `document.querySelector('#toggle').shadowRoot.querySelector('button').textContent`); label != "on" {
		t.Fatalf("the component's label is %q after a click", label)
	}
	click("the dead button", `document.querySelector('#dead')`)
	click("a score in the survey", `window.__sr().querySelectorAll('.scale button')[9]`)
	click("the feedback tab", `window.__sr('sightline-feedback').querySelector('button.tab')`)
	click("the survey's close button", `window.__sr().querySelector('.close') || window.__sr().querySelector('button')`)
	noPageErrors(t, b)
	run(t, b, "to a second page", js(`history.pushState({}, '', '/thanks?session_token=abcdef&ok=1')`), chromedp.Sleep(200*time.Millisecond))
	run(t, b, "leave", chromedp.Navigate("about:blank"), chromedp.Sleep(1500*time.Millisecond))

	var events []event
	eventually(t, "the page views", func() bool {
		code, _ := s.get(t, store.ScopeRead, "/users/acc1")
		events = nil
		if code == 200 {
			events = s.events(t, "acc1")
		}
		return len(pageViews(events)) == 2 && len(find(events, "track", "$dead_click", nil)) >= 1
	})
	for _, e := range events {
		t.Logf("%s %s %s %v", e.Type, e.Name, e.URL, e.Properties)
	}
	clicks := map[string]int{}
	for _, e := range find(events, "track", "$click", nil) {
		clicks[e.Properties["selector"].(string)]++
	}
	dead := map[string]int{}
	for _, e := range find(events, "track", "$dead_click", nil) {
		dead[e.Properties["selector"].(string)]++
	}
	// The component's click counts on the button inside its shadow root.
	if clicks["#toggle>>>button"] != 1 || clicks["#dead"] != 1 || len(clicks) != 2 {
		t.Errorf("clicks by selector = %v, want one on #toggle>>>button and one on #dead (none on the widgets)", clicks)
	}
	if dead["#dead"] != 1 || len(dead) != 1 {
		t.Errorf("dead clicks by selector = %v, want the one on #dead alone", dead)
	}

	// Every address and title as stored: scrubbed in the browser.
	pages := pageViews(events)
	first, second := pages[0], pages[1]
	if first.Path != "/checkout" {
		first, second = second, first
	}
	if want := ps.URL + "/checkout" + scrubbedQuery; first.URL != want {
		t.Errorf("stored url\n %s\nwant\n %s", first.URL, want)
	}
	if first.Properties["search"] != scrubbedQuery {
		t.Errorf("stored search %v, want %s", first.Properties["search"], scrubbedQuery)
	}
	if first.Properties["title"] != "Order **************** confirmed" {
		t.Errorf("stored title %q", first.Properties["title"])
	}
	if want := ps.URL + "/thanks?session_token=&ok=1"; second.URL != want {
		t.Errorf("the second page's url %s, want %s", second.URL, want)
	}
	if second.Properties["referrer"] != ps.URL+"/checkout"+scrubbedQuery {
		t.Errorf("the second page's referrer %v", second.Properties["referrer"])
	}
	all, _ := json.Marshal(events)
	for _, secret := range []string{"4242424242424242", "hunter2", "ann@example.com", "ann%40example.com", "987654321", "4111111111111111", "abcdef"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("the stored events hold %q", secret)
		}
	}

	// The recording: its Meta href scrubbed too, the survey's host small.
	var recs []map[string]any
	eventually(t, "the recording", func() bool {
		recs = s.listRecordings(t, "")
		return len(recs) == 1
	})
	raw := s.recordingEvents(t, recs[0]["id"].(string))
	for _, secret := range []string{"4242424242424242", "hunter2", "987654321", "abcdef"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the recording holds %q", secret)
		}
	}
	var metas []string
	var hostStyle int
	walkJSON(raw, func(m map[string]any) {
		if m["type"] == 4.0 {
			if d, ok := m["data"].(map[string]any); ok {
				metas = append(metas, fmt.Sprint(d["href"]))
			}
		}
		if m["tagName"] == "sightline-survey" {
			if a, ok := m["attributes"].(map[string]any); ok {
				hostStyle = max(hostStyle, len(fmt.Sprint(a["style"])))
			}
		}
	})
	if len(metas) == 0 || metas[0] != ps.URL+"/checkout"+scrubbedQuery {
		t.Errorf("the recording's Meta hrefs = %q", metas)
	}
	t.Logf("recording with the survey shown: %v bytes of rrweb JSON, %v stored; the survey host's style in it: %d characters",
		recs[0]["bytes_raw"], recs[0]["bytes_stored"], hostStyle)
	if hostStyle > 100 {
		t.Errorf("the survey's host is recorded with a %d-character style", hostStyle)
	}
}

// walkJSON calls fn for every object in a JSON document.
func walkJSON(b []byte, fn func(map[string]any)) {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			fn(x)
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

// pageViews returns the page events.
func pageViews(events []event) []event {
	var out []event
	for _, e := range events {
		if e.Type == "page" {
			out = append(out, e)
		}
	}
	return out
}

// TestTrackerOneSessionPerDevice: a second device that identifies as an
// existing user keeps its own session, as the browser's own session ID
// says; before, its identify and later events joined the first device's.
func TestTrackerOneSessionPerDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	ps := newPageServer(t)
	api, writeKey := browserSite(t, s, ps.URL)
	a, b := newBrowser(t), newBrowser(t)
	ps.serve(snippetPage(s.base, writeKey, "{}", "", ""))
	run(t, a, "the first device", chromedp.Navigate(ps.URL+"/laptop"), loaded(),
		js(`sightline('identify', 'multi', {plan: 'pro'}); sightline('event', 'on_a')`))
	eventually(t, "the first device's events", func() bool {
		code, _ := api.get(t, store.ScopeRead, "/users/multi")
		return code == 200 && len(find(api.events(t, "multi"), "track", "on_a", nil)) == 1
	})
	run(t, b, "the second device, anonymous, then signed in", chromedp.Navigate(ps.URL+"/phone"), loaded(),
		js(`sightline('event', 'b_before')`), chromedp.Sleep(1200*time.Millisecond),
		js(`sightline('identify', 'multi'); sightline('event', 'b_after')`))
	run(t, a, "the first device goes on", js(`sightline('event', 'a_after')`))
	var events []event
	eventually(t, "every event", func() bool {
		events = api.events(t, "multi")
		return len(find(events, "track", "b_after", nil)) == 1 && len(find(events, "track", "a_after", nil)) == 1
	})
	sessionOf := map[string]int64{}
	for _, e := range events {
		name := e.Type + " " + e.Name
		if e.Type == "page" {
			name = "page " + e.Path
		}
		if e.Type == "identify" {
			name = fmt.Sprintf("identify %s", e.Path)
		}
		sessionOf[name] = e.SessionID
		t.Logf("%s in session %d", name, e.SessionID)
	}
	laptop, phone := sessionOf["page /laptop"], sessionOf["page /phone"]
	if laptop == 0 || phone == 0 || laptop == phone {
		t.Fatalf("the devices' page views are in sessions %d and %d", laptop, phone)
	}
	for name, want := range map[string]int64{"track on_a": laptop, "track a_after": laptop, "track b_before": phone,
		"track b_after": phone, "identify /phone": phone, "identify /laptop": laptop} {
		if got := sessionOf[name]; got != want {
			t.Errorf("%s is in session %d, want %d", name, got, want)
		}
	}
	var sessions struct {
		Sessions []map[string]any `json:"sessions"`
	}
	api.getJSON(t, "/users/multi/sessions", &sessions)
	if len(sessions.Sessions) != 2 {
		t.Errorf("%d sessions, want one per device: %v", len(sessions.Sessions), sessions.Sessions)
	}
}

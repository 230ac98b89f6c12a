package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sightline/sightline/internal/store"
)

// The survey widget and the feedback tab in a real Chromium: a customer's
// page on its own origin loads the tracker, which loads the chunks; the
// test finds the widgets inside their shadow roots and uses them with the
// keyboard, as a person would.

// hostilePage is a customer's page whose own styles would wreck a widget
// that shared them: every button is big, red on yellow, every heading
// shouty. hostStyles() reads computed styles of the page's own elements,
// so the test can tell that the widgets change none of them.
func hostilePage(base, writeKey, after string) string {
	return `<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title>
<style>
* { box-sizing: content-box; letter-spacing: 2px; }
body { margin: 0; font: 18px/2 Georgia, serif; color: rgb(10, 20, 30); }
button { font: bold 24px Georgia; color: rgb(200, 0, 0); background: rgb(255, 255, 0); padding: 20px; }
h2 { font-size: 40px; color: rgb(255, 0, 0); text-transform: uppercase; }
div { border: 3px dashed rgb(0, 128, 0); }
</style>
<script>
` + catchPageErrors + `
(function (w, d, s) {
  w.sightline = w.sightline || function () { (w.sightline.q = w.sightline.q || []).push(arguments) };
  s = d.createElement('script'); s.async = 1; s.src = '` + base + `/t/sightline.js'; d.head.appendChild(s);
})(window, document);
sightline('init', '` + writeKey + `', {});
` + after + `
function hostStyles() {
  var out = {};
  ['body', '#buy', '#title', '#box'].forEach(function (sel) {
    var cs = getComputedStyle(document.querySelector(sel));
    out[sel] = [cs.fontFamily, cs.fontSize, cs.color, cs.backgroundColor, cs.padding, cs.borderTopStyle, cs.boxSizing,
      cs.letterSpacing, document.querySelector(sel).getBoundingClientRect().width].join(' | ');
  });
  out.scroll = document.documentElement.scrollHeight;
  return out;
}
</script></head>
<body>
<h2 id="title">Our shop</h2>
<div id="box"><button id="buy" onclick="this.textContent='bought'">Buy</button></div>
<div style="height: 1500px"></div>
<script>window.__before = JSON.stringify(hostStyles()); window.__widgetEarly = !!document.querySelector('sightline-survey, sightline-feedback');</script>
</body></html>`
}

// In the page: the survey's shadow root and what is focused inside it.
const shadowProbe = `window.__sr = function (tag) { var h = document.querySelector(tag || 'sightline-survey'); return h && h.shadowRoot; };
window.__focused = function (tag) { var r = window.__sr(tag); var a = r && r.activeElement; return a ? (a.getAttribute('aria-label') || a.textContent || a.tagName).trim() : ''; };`

// surveySite points the test server's site at the page server's origin
// and returns a read token client for the same site.
func surveySite(t *testing.T, s *testServer, origin string) {
	t.Helper()
	body := fmt.Sprintf(`{"origins":[%q, "https://app.example.com"]}`, origin)
	if code, out := s.call(t, store.ScopeAdmin, http.MethodPatch, "", body); code != 200 {
		t.Fatalf("set the site's origins: %d %v", code, out)
	}
}

// visit opens the page as user (identify before the tracker loads) and
// waits for the tracker.
func visit(t *testing.T, b context.Context, ps *pageServer, s *testServer, user, path string) {
	t.Helper()
	ps.serve(hostilePage(s.base, s.writeKey, fmt.Sprintf(`sightline('identify', %q);`, user)))
	run(t, b, "open the page as "+user, chromedp.Navigate(ps.URL+path), loaded(), js(shadowProbe))
}

// waitJS polls a JavaScript condition in the page.
func waitJS(t *testing.T, b context.Context, what, cond string) {
	t.Helper()
	run(t, b, what, chromedp.Poll[chromedp.Void]("!!("+cond+")", chromedp.WithPollingTimeout(15*time.Second)))
}

func evalJS[T any](t *testing.T, b context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func keys(t *testing.T, b context.Context, what string, k ...string) {
	t.Helper()
	for _, key := range k {
		run(t, b, what, chromedp.KeyEvent(key))
	}
}

// noSurvey checks, a while after the page loaded, that no survey showed.
func noSurvey(t *testing.T, b context.Context, who string) {
	t.Helper()
	run(t, b, "wait", chromedp.Sleep(2500*time.Millisecond))
	if evalJS[bool](t, b, `!!document.querySelector('sightline-survey')`) {
		t.Fatalf("%s sees the survey", who)
	}
	noPageErrors(t, b)
}

// noPageErrors fails the test when the page saw an uncaught error or
// rejection: the widgets must never throw into the host page.
func saveShot(t *testing.T, b context.Context, dir, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSurveyWidgetAndFeedbackTabInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s, clk := startSurveyServer(t)
	ps := newPageServer(t)
	surveySite(t, s, ps.URL)
	shots := artifactsDir(t)
	// ann and cy exported (the behavioural segment), bob did not.
	s.behaviour(t, []string{"ann", "cy"}, []string{"bob"})
	// No period: the test's clock moves 38 days on, and segments are
	// evaluated at the server's clock while ingestion stamps real time.
	seg := s.saveSegment(t, "exporters", `did("export") >= 2`)
	id := s.createSurvey(t, `{"name": "Exporters NPS", "questions": [
		{"id": "score", "type": "nps", "prompt": "How likely are you to recommend us?", "required": true,
		 "low_label": "Not likely", "high_label": "Very likely",
		 "branching": [{"if": {"question": "score", "op": "gte", "value": 7}, "goto": "end"}]},
		{"id": "why", "type": "single_choice", "prompt": "What went wrong?", "options": ["Speed", "Price", "Bugs"], "required": true},
		{"id": "more", "type": "text", "prompt": "Anything else?"}],
		"thank_you": {"title": "Thanks a lot!", "message": "We read every answer."},
		"appearance": {"position": "bottom-right", "background": "#ffffff", "text": "#112233", "accent": "#0f766e"},
		"targeting": {"segment": {"id": "`+seg+`"}, "frequency": {"once": true, "dismiss_days": 7}}}`, true)
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/feedback-settings",
		`{"enabled":true,"position":"right","accent":"#7c3aed","prompt":"How was this page?"}`); code != 200 {
		t.Fatalf("turn feedback on: %d %v", code, out)
	}
	b := newBrowser(t)

	// bob is not in the segment: no survey, but the feedback tab.
	visit(t, b, ps, s, "bob", "/app")
	waitJS(t, b, "the feedback tab", `window.__sr('sightline-feedback') && window.__sr('sightline-feedback').querySelector('button.tab')`)
	noSurvey(t, b, "bob, outside the segment,")

	// ann is: the survey opens as a labelled dialog and takes the focus.
	visit(t, b, ps, s, "ann", "/app")
	waitJS(t, b, "ann's survey", `window.__sr() && window.__sr().querySelector('[role=dialog]')`)
	if early := evalJS[bool](t, b, `window.__widgetEarly`); early {
		t.Fatal("a widget was on the page before the host's styles were measured")
	}
	waitJS(t, b, "the focus on the first score", `window.__focused() === '0, Not likely'`)
	if label := evalJS[string](t, b, `(function (d) { return d.getRootNode().getElementById(d.getAttribute('aria-labelledby')).textContent })(window.__sr().querySelector('[role=dialog]'))`); label != "How likely are you to recommend us? *" {
		t.Errorf("the dialog's label is %q", label)
	}
	// The page's rules do not reach inside: the widget's buttons keep their own look.
	if got := evalJS[string](t, b, `getComputedStyle(window.__sr().querySelector('.scale button')).color`); got == "rgb(200, 0, 0)" {
		t.Error("the page's button colour reached the survey's buttons")
	}
	saveShot(t, b, shots, "survey-widget")
	after := evalJS[string](t, b, `JSON.stringify(hostStyles())`)
	if before := evalJS[string](t, b, `window.__before`); after != before {
		t.Errorf("the widgets changed the page's own styles:\nbefore %s\nafter  %s", before, after)
	}

	// Score 3 with the arrow keys, Enter to choose, Tab to Next.
	keys(t, b, "move to 3", kb.ArrowRight, kb.ArrowRight, kb.ArrowRight)
	waitJS(t, b, "the focus on 3", `window.__focused() === '3'`)
	keys(t, b, "choose 3 and go on", "\r", "\t")
	waitJS(t, b, "the focus on Next", `window.__focused() === 'Next'`)
	keys(t, b, "next", "\r")
	// A detractor is asked why: radios, an arrow key picks the second.
	waitJS(t, b, "the second question", `window.__sr().querySelector('h2').textContent === 'What went wrong? *'`)
	if live := evalJS[string](t, b, `window.__sr().querySelector('[aria-live]').textContent`); live != "Question 2 of 3: What went wrong?" {
		t.Errorf("the step was announced as %q", live)
	}
	eventually(t, "the partial answer", func() bool {
		code, body := s.call(t, store.ScopeRead, "GET", "/surveys/"+id+"/responses", "")
		rs, _ := body["responses"].([]any)
		return code == 200 && len(rs) == 1 && rs[0].(map[string]any)["completed"] == false
	})
	keys(t, b, "choose Price", kb.ArrowDown, "\t", "\r")
	waitJS(t, b, "the text question", `window.__sr().querySelector('textarea')`)
	waitJS(t, b, "the focus in the text", `window.__sr().activeElement && window.__sr().activeElement.tagName === 'TEXTAREA'`)
	keys(t, b, "type", "Exports time out")
	keys(t, b, "submit", "\t", "\r")
	waitJS(t, b, "the thank-you step", `window.__sr().querySelector('h2').textContent === 'Thanks a lot!'`)
	keys(t, b, "close", "\r")
	waitJS(t, b, "the survey gone", `!document.querySelector('sightline-survey')`)

	// The answer is in the results and ann is a detractor.
	eventually(t, "the completed response", func() bool {
		code, body := s.call(t, store.ScopeRead, "GET", "/surveys/"+id+"/results", "")
		res, _ := body["results"].(map[string]any)
		nps, _ := res["nps"].(map[string]any)
		return code == 200 && res["completed"] == float64(1) && nps != nil && nps["score"] == float64(-100)
	})
	_, body := s.call(t, store.ScopeRead, "GET", "/surveys/"+id+"/responses", "")
	resp := body["responses"].([]any)[0].(map[string]any)
	if got := fmt.Sprint(resp["answers"]); got != "map[more:Exports time out score:3 why:Price]" || resp["user_id"] != "ann" {
		t.Errorf("the response: %v", resp)
	}
	for _, tt := range []struct{ text, want string }{
		{`nps_group() = "detractor"`, "[ann]"},
		{`answer("` + id + `", "why") = "Price"`, "[ann]"},
		{`answer("` + id + `", "score") <= 6 and did("export") >= 2`, "[ann]"},
	} {
		code, body := s.call(t, store.ScopeRead, "POST", "/segments/preview", fmt.Sprintf(`{"text":%q}`, tt.text))
		if got := fmt.Sprint(memberIDs(t, body)); code != 200 || got != tt.want {
			t.Errorf("%s: %d %s, want %s (%v)", tt.text, code, got, tt.want, body)
		}
	}
	// Completed once: not offered again.
	visit(t, b, ps, s, "ann", "/app/next")
	noSurvey(t, b, "ann, who answered,")

	// cy closes it with Escape: a dismissal, and not again for 7 days.
	visit(t, b, ps, s, "cy", "/app")
	waitJS(t, b, "cy's survey", `window.__focused() === '0, Not likely'`)
	keys(t, b, "dismiss", kb.Escape)
	waitJS(t, b, "the survey gone", `!document.querySelector('sightline-survey')`)
	eventually(t, "the dismissal", func() bool {
		_, body := s.call(t, store.ScopeRead, "GET", "/surveys/"+id+"/results", "")
		res, _ := body["results"].(map[string]any)
		return res["dismissed"] == float64(1)
	})
	clk.advance(6 * 24 * time.Hour)
	visit(t, b, ps, s, "cy", "/app")
	noSurvey(t, b, "cy, 6 days after dismissing,")
	clk.advance(2 * 24 * time.Hour)
	visit(t, b, ps, s, "cy", "/app")
	waitJS(t, b, "cy's survey after 8 days", `window.__sr() && window.__sr().querySelector('[role=dialog]')`)
	keys(t, b, "dismiss again", kb.Escape)

	// Feedback from the tab: a rating, a comment and an element pointed at.
	visit(t, b, ps, s, "bob", "/app/pricing")
	waitJS(t, b, "the feedback tab", `window.__sr('sightline-feedback') && window.__sr('sightline-feedback').querySelector('button.tab')`)
	run(t, b, "focus the tab", js(`window.__sr('sightline-feedback').querySelector('button.tab').focus()`))
	keys(t, b, "open", "\r")
	waitJS(t, b, "the form, focus on the first rating", `window.__focused('sightline-feedback') === '1 of 5, Very bad'`)
	keys(t, b, "rate 2", kb.ArrowRight, "\r", "\t")
	keys(t, b, "comment", "Prices are hidden")
	saveShot(t, b, shots, "feedback-tab")
	run(t, b, "point at an element", js(`Array.prototype.find.call(window.__sr('sightline-feedback').querySelectorAll('button'), function (b) { return b.textContent === 'Point at an element' }).click()`))
	rect := evalJS[[]float64](t, b, `(function (r) { return [r.left + r.width / 2, r.top + r.height / 2] })(document.querySelector('#buy').getBoundingClientRect())`)
	run(t, b, "click the Buy button", chromedp.MouseClickXY(rect[0], rect[1]))
	waitJS(t, b, "the element chosen", `window.__sr('sightline-feedback').querySelector('.picked').textContent === 'Element: #buy'`)
	if got := evalJS[string](t, b, `document.querySelector('#buy').textContent`); got != "Buy" {
		t.Errorf("pointing at the button also clicked it: %q", got)
	}
	run(t, b, "send", js(`window.__sr('sightline-feedback').querySelector('button[type=submit]').click()`))
	waitJS(t, b, "the thanks", `window.__sr('sightline-feedback').querySelector('h2').textContent === 'Thank you for your feedback!'`)
	eventually(t, "the feedback in the list", func() bool {
		_, body := s.call(t, store.ScopeRead, "GET", "/feedback", "")
		items, _ := body["feedback"].([]any)
		if len(items) != 1 {
			return false
		}
		f := items[0].(map[string]any)
		return f["rating"] == float64(2) && f["comment"] == "Prices are hidden" && f["selector"] == "#buy" &&
			strings.HasSuffix(fmt.Sprint(f["url"]), "/app/pricing") && f["user_id"] == "bob" && f["session_id"] != ""
	})
	code, body := s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":"feedback_rating(7d) <= 2"}`)
	if got := fmt.Sprint(memberIDs(t, body)); code != 200 || got != "[bob]" {
		t.Errorf("feedback_rating(7d) <= 2: %d %s", code, got)
	}

	checkSurveyPages(t, s, id)

	// The survey launched from the builder targets a segment written in
	// place (detractors, or users unhappy with pages) and waits for a
	// custom event: ann, a detractor, sees it only after the event.
	_, list := s.call(t, store.ScopeRead, "GET", "/surveys", "")
	var second string
	for _, sv := range list["surveys"].([]any) {
		if m := sv.(map[string]any); m["id"] != id {
			second = m["id"].(string)
		}
	}
	visit(t, b, ps, s, "ann", "/app/checkout")
	noSurvey(t, b, "ann, before the event,")
	run(t, b, "the app sends the event", js(`sightline('event', 'checkout_done')`))
	waitJS(t, b, "the checkout survey", fmt.Sprintf(`window.__sr() && window.__sr().querySelector('[role=dialog][data-survey=%q]')`, second))
	keys(t, b, "dismiss it", kb.Escape)

	// At phone width the survey fits the screen.
	run(t, b, "a phone", chromedp.EmulateViewport(390, 844))
	clk.advance(30 * 24 * time.Hour)
	visit(t, b, ps, s, "cy", "/app")
	waitJS(t, b, "cy's survey on a phone", `window.__sr() && window.__sr().querySelector('[role=dialog]')`)
	if w := evalJS[float64](t, b, `(function (r) { return r.left >= 0 && r.right <= innerWidth ? r.width : -1 })(window.__sr().querySelector('.box').getBoundingClientRect())`); w <= 0 {
		t.Errorf("the survey does not fit a 390 px screen (%v)", w)
	}
	saveShot(t, b, shots, "survey-phone")
	noPageErrors(t, b)
}

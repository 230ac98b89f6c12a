package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// The dashboard tests drive the embedded app in a real headless Chromium
// against a real server, the way a person would: by the labels of the
// controls, with the keyboard where a person would use it.

// pageProbe runs in every document before the app: it records JavaScript
// errors and Content-Security-Policy violations, and finds a form control
// by the text of its label.
const pageProbe = `window.__probe = {errors: [], csp: []};
window.addEventListener('error', function (e) { window.__probe.errors.push(String(e.message)); });
window.addEventListener('unhandledrejection', function (e) { window.__probe.errors.push('unhandled: ' + String(e.reason)); });
document.addEventListener('securitypolicyviolation', function (e) { window.__probe.csp.push(e.violatedDirective + ' ' + e.blockedURI); });
window.__control = function (text, n) {
  var ls = Array.prototype.filter.call(document.querySelectorAll('label'), function (l) { return l.textContent.trim() === text; });
  var l = ls[n || 0];
  if (!l) throw new Error('no label ' + JSON.stringify(text));
  if (!l.control) throw new Error('label ' + JSON.stringify(text) + ' names no control');
  return l.control;
};`

// dashboard is a person using the dashboard in a browser tab.
type dashboard struct {
	t     *testing.T
	b     context.Context
	base  string
	shots string
}

func newDashboard(t *testing.T, base string, browser ...chromedp.ExecAllocatorOption) *dashboard {
	t.Helper()
	d := &dashboard{t: t, b: newBrowser(t, browser...), base: base, shots: artifactsDir(t)}
	_, err := chromedp.Run(d.b, func(ctx context.Context, tg *chromedp.Target) (page.ScriptIdentifier, error) {
		r, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageProbe})
		return r.Identifier, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// artifactsDir is where screenshots go: $SIGHTLINE_ARTIFACTS, or a
// temporary folder.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SIGHTLINE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

func (d *dashboard) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	run(d.t, d.b, what, actions...)
}

// eval evaluates a JavaScript expression and decodes its JSON value into v.
func (d *dashboard) eval(expr string, v any) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.b, 20*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage]("Promise.resolve(("+expr+")).then(function (v) { return JSON.stringify(v) })",
		chromedp.EvalAwaitPromise))
	if err != nil {
		d.t.Fatalf("evaluate %s: %v", expr, err)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		d.t.Fatalf("evaluate %s: %s", expr, raw)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		d.t.Fatalf("evaluate %s: %v in %s", expr, err, s)
	}
}

func (d *dashboard) str(expr string) string {
	d.t.Helper()
	var s string
	d.eval(expr, &s)
	return s
}

// waitFor polls a JavaScript condition for up to 15 s. On a timeout it
// saves a screenshot and logs the page's text before failing.
func (d *dashboard) waitFor(what, cond string) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.b, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void]("!!("+cond+")", chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		d.shot("failure")
		d.t.Logf("page %s: %s", d.str(`location.href`), d.str(`document.body.innerText`))
		d.t.Fatalf("%s: %v", what, err)
	}
}

// signUpOwner creates the first account through the set-up page and waits
// for the site's overview.
func (d *dashboard) signUpOwner(s *testServer) {
	d.t.Helper()
	d.do("open the dashboard", chromedp.Navigate(s.base+"/"))
	d.waitPath("/setup")
	d.fill("Your name", "Olive Owner")
	d.fill("Email", "owner@example.com")
	d.fill("Password", ownerPassword)
	d.do("submit with Enter", chromedp.SendKeys(chromedp.CSS(d.control("Password", 0)), "\r"))
	d.waitPath("/s/" + s.site + "/overview")
}

// open loads a dashboard path in the tab and waits for the app to show.
func (d *dashboard) open(path string) {
	d.t.Helper()
	d.clean()
	d.do("open "+path, chromedp.Navigate(d.base+path))
	d.waitFor("the app on "+path, `document.querySelector('main h1, main .empty, main .loading') && !document.querySelector('main > .loading')`)
}

// clean fails the test on a JavaScript error or a CSP violation in the
// current document.
func (d *dashboard) clean() {
	d.t.Helper()
	var p struct{ Errors, CSP []string }
	d.eval(`window.__probe || {errors: [], csp: []}`, &p)
	if len(p.Errors) > 0 || len(p.CSP) > 0 {
		d.t.Errorf("on %s: JavaScript errors %q, CSP violations %q", d.str(`location.pathname`), p.Errors, p.CSP)
	}
}

// control returns a CSS selector for the control labelled text (the nth
// such label), giving it an id if it has none.
func (d *dashboard) control(text string, n int) string {
	d.t.Helper()
	d.waitFor("the control labelled "+text, fmt.Sprintf(`(function () { try { return !!window.__control(%q, %d) } catch (e) { return false } })()`, text, n))
	id := d.str(fmt.Sprintf(`(function () { var c = window.__control(%q, %d); if (!c.id) c.id = 'c' + Math.random().toString(36).slice(2); return c.id })()`, text, n))
	return "#" + cssEscape(id)
}

func cssEscape(id string) string {
	var b strings.Builder
	for i, r := range id {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_' || r == '-' || (r >= '0' && r <= '9' && i > 0) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, `\%x `, r)
		}
	}
	return b.String()
}

// fill types text into the control labelled label, as a person would,
// after clearing it.
func (d *dashboard) fill(label, text string) {
	d.t.Helper()
	sel := d.control(label, 0)
	d.do("clear "+label, js(fmt.Sprintf(`(function (c) {
		c.focus(); c.value = ''; c.dispatchEvent(new Event('input', {bubbles: true})); })(document.querySelector(%q))`, sel)))
	d.do("type into "+label, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// choose picks an option of the select labelled label (the nth such).
func (d *dashboard) choose(label string, n int, value string) {
	d.t.Helper()
	sel := d.control(label, n)
	d.waitFor("the option "+value+" in "+label, fmt.Sprintf(`Array.prototype.some.call(document.querySelector(%q).options, function (o) { return o.value === %q })`, sel, value))
	d.do("choose "+value+" in "+label, js(fmt.Sprintf(`(function (c) {
		c.value = %q; c.dispatchEvent(new Event('change', {bubbles: true})); })(document.querySelector(%q))`, value, sel)))
}

// click clicks the button or link whose text is text, waiting until it
// shows; while a dialog is on the page, only inside the dialog (the rest
// of the page is inert then).
func (d *dashboard) click(text string) {
	d.t.Helper()
	d.waitFor("click "+text, fmt.Sprintf(`(function () {
		var scope = document.querySelector('dialog') || document;
		var el = Array.prototype.find.call(scope.querySelectorAll('button, a'), function (e) { return e.textContent.trim() === %q && e.offsetParent !== null; });
		if (el) el.click();
		return !!el; })()`, text))
}

// has reports whether a visible button or link reads text.
func (d *dashboard) has(text string) bool {
	d.t.Helper()
	var ok bool
	d.eval(fmt.Sprintf(`Array.prototype.some.call(document.querySelectorAll('button, a, summary'), function (e) { return e.textContent.trim() === %q && e.offsetParent !== null; })`, text), &ok)
	return ok
}

func (d *dashboard) waitPath(prefix string) {
	d.t.Helper()
	d.waitFor("the address "+prefix, fmt.Sprintf(`location.pathname.indexOf(%q) === 0`, prefix))
}

// shot saves a screenshot of the whole page as NAME.png.
func (d *dashboard) shot(name string) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.b, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		d.t.Fatalf("screenshot %s: %v", name, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		d.t.Fatalf("screenshot %s is not a PNG", name)
	}
	if err := os.WriteFile(filepath.Join(d.shots, name+".png"), png, 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// preview asks the API for a segment's size with an admin token.
func (s *testServer) preview(t *testing.T, def string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+"/api/v1/sites/"+s.site+"/segments/preview", strings.NewReader(`{"definition":`+def+`}`))
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeAdmin])
	code, out := do(t, req)
	if code != 200 {
		t.Fatalf("preview %s: %d %v", def, code, out)
	}
	return int(out["size"].(float64))
}

func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	// Users with typed attributes, through the ingestion API; u1 changed
	// plan once, so its history has two entries.
	for _, call := range []struct{ path, body string }{
		{"/v1/identify", `{"userId":"u1","traits":{"plan":"free"},"timestamp":"2025-01-10T09:00:00Z"}`},
		{"/v1/identify", `{"userId":"u1","traits":{"plan":"pro","ltv":420.5,"beta":true,"signed_up_at":"2024-05-01","address":{"city":"Oslo"}}}`},
		{"/v1/identify", `{"userId":"u2","traits":{"plan":"pro","ltv":80}}`},
		{"/v1/identify", `{"userId":"u3","traits":{"plan":"free","ltv":5}}`},
		{"/v1/track", `{"userId":"u1","event":"export","properties":{"format":"csv"}}`},
		{"/v1/track", `{"userId":"u3","event":"export"}`},
		{"/v1/page", `{"userId":"u1","name":"Pricing","properties":{"url":"https://app.example.com/pricing","path":"/pricing"}}`},
		{"/v1/track", `{"userId":"u1","event":"$rage_click","properties":{"selector":"#buy","clicks":4}}`},
	} {
		if code, out := s.send(t, call.path, call.body); code != 200 {
			t.Fatalf("%s: %d %v", call.path, code, out)
		}
	}
	// Enough events for two pages on the profile.
	var batch []string
	for i := range 60 {
		batch = append(batch, fmt.Sprintf(`{"type":"track","userId":"u1","event":"step_%d","timestamp":"2025-02-01T10:%02d:00Z"}`, i, i))
	}
	if code, out := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	site := "/s/" + s.site
	d := newDashboard(t, s.base)

	// First run: the start page leads to set-up, which creates the owner.
	d.do("open the dashboard", chromedp.Navigate(s.base+"/"))
	d.waitPath("/setup")
	d.fill("Your name", "Olive Owner")
	d.fill("Email", "owner@example.com")
	d.fill("Password", "short")
	d.do("submit with Enter", chromedp.SendKeys(chromedp.CSS(d.control("Password", 0)), "\r"))
	d.waitFor("the password error beside its field", `document.querySelector('.field-invalid .field-error')`)
	if msg := d.str(`document.querySelector('.field-invalid label').textContent`); msg != "Password" {
		t.Errorf("the error is beside %q, want Password", msg)
	}
	d.fill("Password", ownerPassword)
	d.do("submit with Enter", chromedp.SendKeys(chromedp.CSS(d.control("Password", 0)), "\r"))
	d.waitPath(site + "/overview")

	// Sign out, and in again with the keyboard.
	d.click("Sign out")
	d.waitPath("/signin")
	d.fill("Email", "owner@example.com")
	d.fill("Password", "wrong password!")
	d.do("submit with Enter", chromedp.SendKeys(chromedp.CSS(d.control("Password", 0)), "\r"))
	d.waitFor("the refusal", `document.querySelector('.field-error')`)
	d.fill("Password", ownerPassword)
	d.do("submit with Enter", chromedp.SendKeys(chromedp.CSS(d.control("Password", 0)), "\r"))
	d.waitPath(site + "/overview")

	// Users: the list, with attribute columns.
	d.click("Users")
	d.waitPath(site + "/users")
	d.waitFor("the users", `document.querySelectorAll('main tbody tr').length === 3`)
	d.shot("users")

	// The profile shows every attribute with its type, and its history.
	d.open(site + "/users/u1")
	d.waitFor("the attributes", `document.querySelector('tr[data-attr="plan"]')`)
	var attrs map[string][2]string
	d.eval(`Object.fromEntries(Array.prototype.map.call(document.querySelectorAll('tr[data-attr]'), function (r) {
		return [r.dataset.attr, [r.querySelector('.value').textContent, r.querySelector('.badge').textContent]]; }))`, &attrs)
	want := map[string][2]string{"plan": {"pro", "string"}, "ltv": {"420.5", "number"}, "beta": {"true", "boolean"},
		"address.city": {"Oslo", "string"}}
	for k, w := range want {
		if attrs[k] != w {
			t.Errorf("profile attribute %s = %q, want %q", k, attrs[k], w)
		}
	}
	if attrs["signed_up_at"][1] != "datetime" || !strings.Contains(attrs["signed_up_at"][0], "2024") {
		t.Errorf("profile attribute signed_up_at = %q, want a datetime in 2024", attrs["signed_up_at"])
	}
	d.do("open the history of plan", js(`document.querySelector('tr[data-attr="plan"] button').click()`))
	d.waitFor("plan's two values", `document.querySelectorAll('.timeline li').length === 2`)
	d.waitFor("the first page of events", `document.querySelectorAll('.events li').length === 50`)
	d.waitFor("the session's signals", `/1 rage click/.test((document.querySelector('.signal-on') || {}).textContent || '')`)
	d.shot("profile")
	d.click("Older events")
	d.waitFor("the rest of the events", `document.querySelectorAll('.events li').length === 65 && !Array.prototype.some.call(document.querySelectorAll('main button'), function (b) { return b.textContent === 'Older events' })`)

	// The attribute catalog; the owner may change types.
	d.open(site + "/attributes")
	d.waitFor("the catalog", `document.querySelector('tr[data-key="ltv"]')`)
	if !d.has("Change type") {
		t.Error("the owner sees no Change type button")
	}
	d.shot("catalog")
	// plan's values are not numbers: the 409 is explained in the dialog.
	d.do("change plan's type", js(`document.querySelector('button[aria-label="Change the type of plan"]').click()`))
	d.choose("New type", 0, "number")
	d.click("Change to number")
	d.waitFor("the conflict explained", `/not changed/.test((document.querySelector('dialog[open] .alert-error') || {}).textContent || '')`)
	d.shot("catalog-conflict")
	d.do("close with Escape", chromedp.KeyEvent("\x1b"))
	d.waitFor("the dialog closed", `!document.querySelector('dialog')`)

	// The builder: an attribute condition and a behaviour condition; the
	// live size is the API's preview size of the same definition.
	d.open(site + "/segments/new")
	d.fill("Name", "Pro exporters")
	d.choose("Add a condition", 0, "attribute")
	d.choose("Attribute", 0, "user:plan")
	d.fill("Value", "pro")
	d.choose("Add a condition", 0, "event")
	d.fill("Event name", "export")
	def := `{"type":"all","conditions":[{"type":"attribute","key":"plan","op":"=","value":"pro"},{"type":"event","name":"export","within":"30d"}]}`
	wantSize := s.preview(t, def)
	if wantSize != 1 {
		t.Fatalf("the API's preview size = %d, want 1 (u1)", wantSize)
	}
	d.waitFor("the live size", fmt.Sprintf(`document.querySelector('#live-size') && !document.querySelector('.preview.stale') && document.querySelector('#live-size').dataset.size === '%d'`, wantSize))
	d.shot("builder")
	// The same as text; an error is shown at its line and column.
	d.click("Text")
	d.waitFor("the text form", `(document.querySelector('#segment-text') || {}).value === 'plan = "pro" and did("export", 30d)'`)
	d.do("type an error", chromedp.SendKeys(chromedp.CSS("#segment-text"), " and"))
	d.waitFor("the error in place", `/line 1, column \d+/.test((document.querySelector('.text-editor .problems') || {}).textContent || '') && document.querySelector('.gutter .bad')`)
	d.shot("builder-text-error")
	d.fill("Definition", `plan = "pro" or did("export", 30d)`)
	wantSize = s.preview(t, `{"type":"any","conditions":[{"type":"attribute","key":"plan","op":"=","value":"pro"},{"type":"event","name":"export","within":"30d"}]}`)
	d.waitFor("the new live size", fmt.Sprintf(`!document.querySelector('.preview.stale') && (document.querySelector('#live-size') || {dataset: {}}).dataset.size === '%d'`, wantSize))
	d.click("Builder")
	d.waitFor("the builder with an any group", `document.querySelectorAll('.cond').length === 2 && document.querySelector('.group-root select').value === 'any'`)
	d.click("Save segment")
	d.waitPath(site + "/segments/seg_")
	// The saved segment's size over time is drawn, ending with today's size.
	d.waitFor("the trend chart", fmt.Sprintf(`!!document.querySelector('figure.chart canvas') && `+
		`document.querySelector('figure.chart [role=img]').getAttribute('aria-label').endsWith(', %d on %s')`,
		wantSize, time.Now().UTC().Format(time.DateOnly)))
	// A frustration signal in the builder.
	d.open(site + "/segments/new")
	d.choose("Add a condition", 0, "rage_clicks")
	rage := s.preview(t, `{"type":"all","conditions":[{"type":"rage_clicks","within":"30d"}]}`)
	if rage != 1 {
		t.Fatalf("the API's rage-clickers = %d, want 1 (u1)", rage)
	}
	d.waitFor("the rage-clickers' live size", `!document.querySelector('.preview.stale') && (document.querySelector('#live-size') || {dataset: {}}).dataset.size === '1'`)
	d.open(site + "/segments")
	d.waitFor("the saved segment with its size", fmt.Sprintf(`document.querySelector('td[data-size="%d"]')`, wantSize))
	d.shot("segments")

	// Sites, the site's settings with the installation check, settings.
	d.open("/sites")
	// A new site shows its write key and the snippet once.
	d.click("New site")
	d.fill("Name", "Shop")
	d.fill("Allowed origins", "https://shop.example.com")
	d.click("Create site")
	d.waitFor("the write key", `(function () { try { return /^wk_/.test(window.__control('Write key').value) } catch (e) { return false } })()`)
	key := d.str(`window.__control('Write key').value`)
	snippet := d.str(`document.querySelectorAll('dialog[open] textarea')[1].value`)
	if !strings.Contains(snippet, "sightline('init', '"+key+"')") || !strings.Contains(snippet, s.base+"/t/sightline.js") {
		t.Errorf("the snippet does not use the key %s and this server:\n%s", key, snippet)
	}
	d.click("Copy")
	d.waitFor("the copy's feedback", `/Copied|Could not copy/.test(document.querySelector('dialog[open] .copybox .hint').textContent)`)
	d.shot("site-created")
	d.click("Done")
	d.waitFor("the new site in the list and the switcher", `/Shop/.test(document.querySelector('main table').textContent) && /Shop/.test(document.querySelector('#site-switcher').textContent)`)
	shop := &testServer{base: s.base, writeKey: key}
	if code, out := shop.send(t, "/v1/identify", `{"userId":"buyer"}`); code != 200 {
		t.Errorf("the new write key: %d %v", code, out)
	}
	d.shot("sites")
	d.open(site + "/settings")
	d.waitFor("the installation check", `/Receiving events/.test(document.querySelector('main').textContent)`)
	d.shot("site")
	// Rename the site and honour Do-Not-Track: the snippet follows.
	d.fill("Name", "Test app")
	d.do("honour DNT", js(`window.__control('Honour Do-Not-Track and Global Privacy Control (visitors who send them are not tracked)').click()`))
	d.click("Save")
	d.waitFor("saved", `/Saved/.test(document.querySelector('main').textContent) && /Test app/.test(document.querySelector('#site-switcher').textContent)`)
	d.waitFor("the snippet with respectDNT", `/respectDNT: true/.test(window.__control('Snippet').value)`)
	// A dialog traps focus and closes on Escape, giving focus back.
	d.do("press the rotate button with the keyboard", js(`Array.prototype.find.call(document.querySelectorAll('button'), function (b) {
		return b.textContent === 'Rotate the write key'; }).focus()`), chromedp.KeyEvent("\r"))
	d.waitFor("the dialog", `document.querySelector('dialog[open]')`)
	for i := 0; i < 4; i++ {
		d.do("tab", chromedp.KeyEvent("\t"))
	}
	var inside bool
	d.eval(`document.querySelector('dialog[open]').contains(document.activeElement)`, &inside)
	if !inside {
		t.Error("Tab left the dialog")
	}
	d.do("escape", chromedp.KeyEvent("\x1b"))
	d.waitFor("the dialog closed and focus back", `!document.querySelector('dialog[open]') && document.activeElement.textContent === 'Rotate the write key'`)
	d.open("/settings/account")
	d.shot("settings")

	// API tokens: the secret is shown once and works; revoking stops it.
	d.open(site + "/tokens")
	d.click("New token")
	d.fill("Name", "nightly export")
	d.choose("Scope", 0, "read")
	d.do("create with Enter", chromedp.SendKeys(chromedp.CSS(d.control("Name", 0)), "\r"))
	d.waitFor("the secret", `document.querySelector('dialog[open] textarea')`)
	secret := d.str(`document.querySelector('dialog[open] textarea').value`)
	tokenStatus := func() int {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		code, _ := do(t, req)
		return code
	}
	if !strings.HasPrefix(secret, "sl_") || tokenStatus() != 200 {
		t.Fatalf("the new token %q does not read the site (%d)", secret, tokenStatus())
	}
	d.click("Done")
	d.waitFor("the token in the list", `/nightly export/.test(document.querySelector('main table').textContent)`)
	d.shot("tokens")
	d.do("revoke", js(`document.querySelector('button[aria-label="Revoke nightly export"]').click()`))
	d.click("Revoke")
	d.waitFor("the token revoked", `/revoked/.test(document.querySelector('main table').textContent)`)
	if code := tokenStatus(); code != 401 {
		t.Errorf("a revoked token reads the site: %d", code)
	}

	// The team: invite a viewer of the site, with a link to copy.
	d.open("/settings/team")
	d.click("Invite someone")
	d.fill("Email", "vic@example.com")
	d.choose("Role", 0, "viewer")
	d.do("give the site", js(`(function (c) { if (!c.checked) c.click() })(window.__control('Test app'))`))
	d.click("Create the invitation")
	d.waitFor("the link", `/\/invite\//.test((document.querySelector('dialog[open] textarea') || {}).value || '')`)
	invite := d.str(`document.querySelector('dialog[open] textarea').value`)
	d.click("Done")
	d.waitFor("the pending invitation", `/vic@example.com/.test(document.querySelector('main').textContent)`)
	d.shot("team")
	segURL := d.segmentURL(s, "Pro exporters")

	// The viewer accepts the invitation, sees everything and no control
	// that changes anything, and the API refuses its changes anyway.
	d.click("Sign out")
	d.waitPath("/signin")
	d.do("open the invitation", chromedp.Navigate(invite))
	d.waitFor("the invitation", `/vic@example.com/.test(document.body.textContent)`)
	d.fill("Your name", "Vic Viewer")
	d.fill("Choose a password", "viewer password 1")
	d.do("join with Enter", chromedp.SendKeys(chromedp.CSS(d.control("Choose a password", 0)), "\r"))
	d.waitPath(site + "/overview")
	d.open(site + "/users")
	d.waitFor("the users", `document.querySelectorAll('main tbody tr').length === 3`)
	for _, p := range []struct{ path, ready string }{
		{site + "/overview", `document.querySelector('section.overview[data-ready]')`},
		{site + "/segments", `document.querySelector('td[data-size]')`},
		{segURL, `document.querySelector('pre.definition') && document.querySelector('#live-size')`},
		{site + "/attributes", `document.querySelector('tr[data-key="plan"]')`},
		{site + "/settings", `/Installation check/.test(document.querySelector('main').textContent)`},
		{"/sites", `document.querySelector('main table')`},
	} {
		d.open(p.path)
		d.waitFor(p.path, p.ready)
		for _, control := range []string{"New segment", "Save", "Save segment", "Delete", "Change type", "Rotate the write key",
			"New site", "API tokens", "Team", "Builder", "Text"} {
			if d.has(control) {
				t.Errorf("the viewer sees %q on %s", control, p.path)
			}
		}
		var inputs int
		// The export's column chooser changes only what is downloaded.
		d.eval(`document.querySelectorAll('main input:not([type=search]):not([readonly]):not(.export-menu input), main textarea:not([readonly])').length`, &inputs)
		if inputs > 0 && p.path != site+"/users" {
			t.Errorf("the viewer has %d editable fields on %s", inputs, p.path)
		}
	}
	d.open(segURL)
	d.waitFor("the segment", `document.querySelector('#live-size')`)
	d.shot("segment-viewer")
	var refused struct {
		Status int
		Code   string
	}
	d.eval(fmt.Sprintf(`fetch('/api/v1/me').then(r => r.json()).then(me => fetch(%q, {method: 'POST',
		headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token},
		body: JSON.stringify({name: 'mine', text: 'plan = "pro"'})})).then(r => r.json().then(b => ({status: r.status, code: b.error && b.error.code})))`,
		"/api/v1/sites/"+s.site+"/segments"), &refused)
	if refused.Status != 403 || refused.Code != "forbidden" {
		t.Errorf("the viewer's POST of a segment: %+v, want 403 forbidden", refused)
	}

	// 390 px wide: the navigation folds behind the menu button.
	d.do("a phone's width", chromedp.EmulateViewport(390, 844))
	d.open(site + "/users")
	var navShown bool
	d.eval(`getComputedStyle(document.querySelector('#nav')).display !== 'none'`, &navShown)
	if navShown {
		t.Error("the navigation shows at 390 px before the menu is opened")
	}
	d.shot("users-390")
	d.do("open the menu", js(`document.querySelector('.menu-button').click()`))
	d.waitFor("the navigation", `getComputedStyle(document.querySelector('#nav')).display !== 'none'`)
	d.shot("menu-390")
	d.clean()
}

// segmentURL finds a saved segment's page by its name, through the API.
func (d *dashboard) segmentURL(s *testServer, name string) string {
	d.t.Helper()
	var list struct {
		Segments []struct{ ID, Name string } `json:"segments"`
	}
	s.getJSON(d.t, "/segments", &list)
	for _, g := range list.Segments {
		if g.Name == name {
			return "/s/" + s.site + "/segments/" + g.ID
		}
	}
	d.t.Fatalf("no segment named %q in %+v", name, list.Segments)
	return ""
}

package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// The browser tests of what the tracker's signals and a site's settings
// lead to: signal counts and segments, Do-Not-Track, allowed origins.

// checkSignals checks the visitor's frustration signals as the sessions
// API counts them and as segments find them, against a second visitor
// who only clicked something that worked.
func checkSignals(t *testing.T, b context.Context, s, api *testServer, pageOrigin string, sess map[string]any, events []event) {
	t.Helper()
	sig, _ := sess["signals"].(map[string]any)
	t.Logf("session signals: %v", sig)
	count := func(name string) float64 { return float64(len(find(events, "track", name, nil))) }
	for field, name := range map[string]string{"clicks": "$click", "rage_clicks": "$rage_click", "dead_clicks": "$dead_click",
		"u_turns": "$u_turn", "errors": "$error"} {
		if sig[field] != count(name) {
			t.Errorf("session signals %s = %v, but the session has %v %s events", field, sig[field], count(name), name)
		}
	}
	if sig["rage_clicks"] != 1.0 || sig["dead_clicks"] != 1.0 || sig["u_turns"] != 2.0 || sig["errors"] != 1.0 ||
		sig["clicks"].(float64) < 5 || sig["max_scroll"].(float64) <= 50 {
		t.Errorf("session signals = %v", sig)
	}
	if errs := find(events, "track", "$error", nil); len(errs) != 1 || errs[0].Path != "/app/settings" {
		t.Fatalf("the error's page: %v", errs)
	}

	// A second visitor on the same browser: logs in as u2 and clicks the
	// button that works.
	run(t, b, "a second user", chromedp.Navigate(pageOrigin+"/second"), loaded(),
		js(`sightline('reset'); sightline('identify', 'u2')`), chromedp.MouseClickXY(150, 310),
		js(`sightline('event', 'second_done')`))
	eventually(t, "the second user's click", func() bool {
		code, _ := api.get(t, store.ScopeRead, "/users/u2")
		return code == 200 && len(find(api.events(t, "u2"), "track", "second_done", nil)) == 1 &&
			len(find(api.events(t, "u2"), "track", "$click", nil)) == 1
	})

	for _, tt := range []struct {
		text    string
		in, out []string
	}{
		{`rage_clicks(1d) >= 1`, []string{"u1"}, []string{"u2"}},
		{`rage_clicks(1d, page = "/app") = 1 and dead_clicks(1d, page starts_with "/app") = 1`, []string{"u1"}, []string{"u2"}},
		{`errors(1d, page = "/app/settings") > 0`, []string{"u1"}, []string{"u2"}},
		{`errors(1d, page = "/checkout") > 0`, nil, []string{"u1", "u2"}},
		{`u_turns(1d) >= 2`, []string{"u1"}, []string{"u2"}},
		{`rage_clicks(1d) = 0 and not errors()`, []string{"u2"}, []string{"u1"}},
	} {
		body, _ := json.Marshal(map[string]any{"text": tt.text})
		code, out := api.call(t, store.ScopeRead, http.MethodPost, "/segments/preview", string(body))
		if code != 200 {
			t.Fatalf("preview %s: %d %v", tt.text, code, out)
		}
		ids := memberIDs(t, out)
		for _, id := range tt.in {
			if !slices.Contains(ids, id) {
				t.Errorf("%s: %s is not a member (members %v)", tt.text, id, ids)
			}
		}
		for _, id := range tt.out {
			if slices.Contains(ids, id) {
				t.Errorf("%s: %s is a member (members %v)", tt.text, id, ids)
			}
		}
	}

	// A saved segment answers membership for one user at a time.
	tok, err := s.admin.CreateToken(context.Background(), api.site, store.ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	api.tokens[store.ScopeWrite] = tok.Token
	code, saved := api.call(t, store.ScopeWrite, http.MethodPost, "/segments", `{"name":"Rage clickers","text":"rage_clicks(1d) >= 1"}`)
	if code != 201 && code != 200 {
		t.Fatalf("save a segment: %d %v", code, saved)
	}
	for id, want := range map[string]bool{"u1": true, "u2": false} {
		code, out := api.call(t, store.ScopeRead, http.MethodGet, fmt.Sprintf("/segments/%s/members/%s", saved["id"], id), "")
		if code != 200 || out["member"] != want {
			t.Errorf("is %s a rage clicker: %d %v, want %v", id, code, out, want)
		}
	}
}

// TestTrackerSiteSettings changes a site's settings through the API and
// watches the tracker follow: with respect_dnt on, a browser sending
// Do-Not-Track or Global Privacy Control sends nothing and keeps no
// cookie, whatever the snippet says; and an origin added with PATCH may
// post batches at once.
func TestTrackerSiteSettings(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	site, other := newPageServer(t), newPageServer(t)
	api, writeKey := browserSite(t, s, site.URL)
	tok, err := s.admin.CreateToken(context.Background(), api.site, store.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	api.tokens[store.ScopeAdmin] = tok.Token
	patch := func(body string) {
		t.Helper()
		if code, out := api.call(t, store.ScopeAdmin, http.MethodPatch, "", body); code != 200 {
			t.Fatalf("PATCH %s: %d %v", body, code, out)
		}
	}
	userStatus := func(id string) int {
		t.Helper()
		code, _ := api.get(t, store.ScopeRead, "/users/"+id)
		return code
	}
	b := newBrowser(t)
	cookies := func() string {
		t.Helper()
		c, err := chromedp.Run(b, chromedp.Evaluate[string](`document.cookie`))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	patch(`{"respect_dnt":true}`)
	for _, tt := range []struct{ name, prelude, user string }{
		{"Do-Not-Track", `Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: function () { return '1' }});`, "dnt1"},
		{"Global Privacy Control", `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: function () { return true }});`, "gpc1"},
	} {
		site.serve(snippetPage(s.base, writeKey, "{}", tt.prelude,
			`sightline('identify', '`+tt.user+`', {plan: 'pro'}); sightline('event', 'early');`))
		run(t, b, tt.name, chromedp.Navigate(site.URL+"/private"), loaded(),
			js(`sightline('event', 'late')`), chromedp.MouseClickXY(150, 310), chromedp.Sleep(2500*time.Millisecond))
		if c := cookies(); strings.Contains(c, "sl_") {
			t.Errorf("%s: cookies on a site that honours it: %q", tt.name, c)
		}
		if code := userStatus(tt.user); code != 404 {
			t.Errorf("%s: the visitor was stored (%d)", tt.name, code)
		}
	}
	// The same site, a browser without DNT: tracked, the early call too
	// (held until the config arrived).
	site.serve(snippetPage(s.base, writeKey, "{}", "", `sightline('identify', 'plain1'); sightline('event', 'early');`))
	run(t, b, "a browser without DNT", chromedp.Navigate(site.URL+"/open"), loaded())
	eventually(t, "the browser without DNT", func() bool {
		return userStatus("plain1") == 200 && len(find(api.events(t, "plain1"), "track", "early", nil)) == 1
	})
	// The snippet's own respectDNT: false overrides the site's setting.
	dnt := `Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: function () { return '1' }});`
	site.serve(snippetPage(s.base, writeKey, "{respectDNT: false}", dnt, `sightline('identify', 'dnt2')`))
	run(t, b, "a snippet that overrides the site", chromedp.Navigate(site.URL+"/override"), loaded())
	eventually(t, "the overriding snippet's visitor", func() bool { return userStatus("dnt2") == 200 })

	// Another origin is refused until PATCH adds it.
	other.serve(snippetPage(s.base, writeKey, "{}", "", `sightline('identify', 'o1'); sightline('event', 'from_other')`))
	run(t, b, "a page on an origin the site does not allow", chromedp.Navigate(other.URL+"/x"), loaded(),
		chromedp.Sleep(2500*time.Millisecond))
	if code := userStatus("o1"); code != 404 {
		t.Fatalf("a refused origin's visitor was stored (%d)", code)
	}
	patch(fmt.Sprintf(`{"origins":[%q,%q]}`, site.URL, other.URL))
	run(t, b, "the same page after the origin was added", chromedp.Navigate(other.URL+"/y"), loaded())
	eventually(t, "the visitor of the added origin", func() bool {
		return userStatus("o1") == 200 && len(find(api.events(t, "o1"), "track", "from_other", nil)) >= 1
	})
}

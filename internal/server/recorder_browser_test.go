package server_test

import (
	"context"
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
}

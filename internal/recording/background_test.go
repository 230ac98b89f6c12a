package recording_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/heatmap"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/store"
)

// backgroundBody is a background as the tracker posts it: the Meta and
// FullSnapshot of the page at href, width px wide.
func backgroundBody(session, anon, href string, width int, at time.Time) []byte {
	ts := at.UnixMilli()
	meta, _ := json.Marshal(map[string]any{"href": href, "width": width, "height": 800})
	return recording.ChunkBody(session, anon, "", 0, []json.RawMessage{
		event(4, ts, string(meta)),
		event(2, ts, `{"node":{"type":0,"childNodes":[{"type":2,"tagName":"html","attributes":{},"childNodes":[]}],"id":1},"initialOffset":{"left":0,"top":0}}`),
	})
}

// TestBackgrounds checks the heatmap backgrounds the tracker captures:
// the server grants one browser the capture of a listed page group at a
// device, keeps what it posts as a recording that lists of sessions leave
// out and the background search finds, refuses what it did not ask for,
// asks again a week later, does not ask where a session's recording shows
// the page, and erases a background with its visitor.
func TestBackgrounds(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	groups := []store.PageGroup{{Page: "/shop", Match: "path"}, {Page: "/p/*", Match: "pattern"}}
	if _, err := e.svc.SetSettings(ctx, e.site.ID, recording.SettingsChange{Backgrounds: &groups}); err != nil {
		t.Fatal(err)
	}
	bgs := heatmap.NewBackgrounds(e.svc, e.clock.now, log)
	post := bgs.Take
	handler := e.svc.BackgroundHandler(post)
	send := func(body []byte) (int, string) {
		t.Helper()
		w := httptest.NewRecorder()
		handler(w, httptest.NewRequest(http.MethodPost, "/t/bg?k=ignored", bytes.NewReader(body)), e.site)
		var out struct{ Error struct{ Code string } }
		json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out.Error.Code
	}
	want := func(href string, width int) bool {
		t.Helper()
		ok, err := bgs.Want(ctx, e.site.ID, href, width)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	shop := "https://app.example.com/shop?ref=mail"

	if code, c := send(backgroundBody("s0", "v0", shop, 1280, e.clock.now())); code != http.StatusConflict || c != "background_not_wanted" {
		t.Errorf("a background nobody asked for: %d %s", code, c)
	}
	if !want(shop, 1280) {
		t.Fatal("the shop's desktop background is not wanted")
	}
	if want(shop, 1440) {
		t.Error("a second desktop browser is granted the capture too")
	}
	if !want(shop, 390) {
		t.Error("the shop's mobile background is not wanted")
	}
	if want("https://app.example.com/other", 1280) || want("https://app.example.com/p/a/b", 1280) {
		t.Error("a page of no listed group is wanted")
	}
	if code, c := send(backgroundBody("s1", "v1", shop, 1280, e.clock.now())); code != http.StatusOK {
		t.Fatalf("the granted background: %d %s", code, c)
	}
	if code, c := send(backgroundBody("s2", "v2", shop, 1280, e.clock.now())); code != http.StatusConflict || c != "background_not_wanted" {
		t.Errorf("a second desktop background: %d %s", code, c)
	}
	bg, err := bgs.Find(ctx, heatmap.Query{Site: e.site.ID, Page: "/shop", Match: heatmap.MatchPath, Device: "desktop"})
	if err != nil || bg == nil || !bg.Captured || bg.Width != 1280 || bg.Href != shop || !strings.HasPrefix(bg.Recording, "rec") {
		t.Fatalf("the desktop background: %+v, %v", bg, err)
	}
	if rows, _ := e.svc.List(ctx, e.site.ID, store.RecordingQuery{Limit: 10}); len(rows) != 0 {
		t.Errorf("the recordings list shows %d recordings, want none (backgrounds are left out)", len(rows))
	}
	if want(shop, 1280) {
		t.Error("the desktop background is wanted again at once")
	}

	// A chunk of a session's recording may not pose as a background.
	if code, c := e.upload(t, e.site, backgroundBody("bg-s3", "v3", shop, 1280, e.clock.now()), false); code != http.StatusBadRequest {
		t.Errorf("a recording chunk named bg-…: %d %s", code, c)
	}

	// A week later the background is old: captured again.
	e.clock.add(heatmap.RefreshAfter + time.Hour)
	if !want(shop, 1280) {
		t.Error("a week-old desktop background is not captured again")
	}
	// A session's recording that shows a page at a tablet's width is the
	// tablet's background: none is captured.
	if code, c := e.upload(t, e.site, backgroundBody("s4", "v4", "https://app.example.com/p/lamp", 820, e.clock.now()), false); code != 200 {
		t.Fatalf("a session's chunk: %d %s", code, c)
	}
	if want("https://app.example.com/p/rug", 820) {
		t.Error("a tablet background is captured though a recording shows the group at that width")
	}

	// The visitor's erasure takes the background with it.
	at := e.clock.now()
	if _, err := e.db.Write(ctx, []store.Message{{SiteID: e.site.ID, Kind: store.KindPage, AnonymousID: "v1", MessageID: "m1",
		Timestamp: at, ReceivedAt: at, Page: store.Page{URL: shop, Path: "/shop"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DeleteUser(ctx, e.site.ID, store.Identity{Kind: "anonymous", ID: "v1"}); err != nil {
		t.Fatal(err)
	}
	bg, err = bgs.Find(ctx, heatmap.Query{Site: e.site.ID, Page: "/shop", Match: heatmap.MatchPath, Device: "desktop"})
	if err != nil || bg != nil {
		t.Errorf("after the visitor's erasure: %+v, %v", bg, err)
	}
}

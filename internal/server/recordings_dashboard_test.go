package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// The recordings pages as issue 12 walked through them: the player's user
// panel, the profile's header and sessions, the users search, the list's
// filters and their errors, the recording settings and deleting a
// recording.

// snapshotChunk is a recording's first chunk as the recorder sends it: a
// Meta event and a full snapshot of a small page that reads text, at
// start.
func snapshotChunk(recording, anon string, start time.Time, text string) []byte {
	ms := start.UnixMilli()
	events := []string{
		fmt.Sprintf(`{"type":4,"data":{"href":"%s/app","width":1280,"height":800},"timestamp":%d}`, appOrigin, ms),
		fmt.Sprintf(`{"type":2,"data":{"node":{"type":0,"id":1,"childNodes":[{"type":2,"id":2,"tagName":"html","attributes":{},"childNodes":[
			{"type":2,"id":3,"tagName":"body","attributes":{},"childNodes":[{"type":3,"id":4,"textContent":%q}]}]}]},
			"initialOffset":{"left":0,"top":0}},"timestamp":%d}`, text, ms+1),
		fmt.Sprintf(`{"type":3,"data":{"source":1,"positions":[{"x":1,"y":2,"id":3,"timeOffset":0}]},"timestamp":%d}`, ms+900),
	}
	return []byte(fmt.Sprintf(`{"recording":%q,"anonymousId":%q,"seq":0,"start":%d,"end":%d,"url":"%s/app","events":[%s]}`,
		recording, anon, ms, ms+900, appOrigin, strings.Join(events, ",")))
}

// recordedPeople fills a site with n identified users, each with a
// session and its recording an hour apart, newest first; u-1 has long
// attribute values, and a second, older session recorded in two tabs.
// It returns the IDs of u-1's two recordings of that session, oldest
// first.
func recordedPeople(t *testing.T, s *recServer, n int) []string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	page := func(user, anon string, at time.Time) string {
		return fmt.Sprintf(`{"type":"page","userId":%q,"anonymousId":%q,"timestamp":%q,"properties":{"url":"%s/app","path":"/app"}}`,
			user, anon, at.Format(time.RFC3339), appOrigin)
	}
	for i := 1; i <= n; i++ {
		user, anon := fmt.Sprintf("u-%d", i), fmt.Sprintf("anon-%d", i)
		at := now.Add(-time.Duration(i) * time.Hour)
		traits := fmt.Sprintf(`{"name":"Person %d","email":"person%d@example.com","plan":"pro"}`, i, i)
		if i == 1 {
			traits = `{"name":"Quinn Garcia","email":"quinn.garcia1322@northbakery40.example.com","beta":true,
				"onboarding_completed":false,"company_size":"51-200","ltv":1621.72,"signed_up_at":"2025-12-02T07:46:00Z",
				"referral_source":"a partner's newsletter, second issue of the autumn campaign","plan":"enterprise"}`
		}
		batch := []string{
			fmt.Sprintf(`{"type":"identify","userId":%q,"anonymousId":%q,"timestamp":%q,"traits":%s}`, user, anon, at.Format(time.RFC3339), traits),
			page(user, anon, at), page(user, anon, at.Add(time.Minute)),
		}
		if code, out := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
			t.Fatalf("events of %s: %d %v", user, code, out)
		}
		s.mustUpload(t, snapshotChunk(fmt.Sprintf("sess%d-tab1", i), anon, at, "Hello "+user), false)
	}
	// u-1's older session, three days ago, recorded in two tabs.
	old := now.Add(-72 * time.Hour)
	if code, out := s.send(t, "/v1/batch", `{"batch":[`+page("u-1", "anon-1", old)+","+page("u-1", "anon-1", old.Add(2*time.Minute))+`]}`); code != 200 {
		t.Fatalf("u-1's older session: %d %v", code, out)
	}
	s.mustUpload(t, snapshotChunk("old1-tab1", "anon-1", old, "First tab"), false)
	s.mustUpload(t, snapshotChunk("old1-tab2", "anon-1", old.Add(30*time.Second), "Second tab"), false)
	var tabs []string
	eventually(t, "every recording listed", func() bool {
		rows := s.list(t, "limit=500")
		tabs = tabs[:0]
		for _, r := range rows {
			started, _ := time.Parse(time.RFC3339Nano, r["started_at"].(string))
			if r["user"] == "u-1" && started.Before(now.Add(-48*time.Hour)) {
				tabs = append(tabs, r["id"].(string))
			}
		}
		return len(rows) == n+2 && len(tabs) == 2
	})
	tabs[0], tabs[1] = tabs[1], tabs[0] // the list is newest first
	return tabs
}

// userPanel measures the player's User panel: its height, the elements
// holding text that run to more than two lines, or to two when narrower
// than 40 px, and the badges cut off.
const userPanel = `(function () {
	var card = document.querySelector('.user-attrs').closest('.card');
	var box = card.getBoundingClientRect();
	var bad = [], clipped = [];
	card.querySelectorAll('*').forEach(function (e) {
		var text = Array.prototype.filter.call(e.childNodes, function (n) { return n.nodeType === 3; })
			.map(function (n) { return n.textContent; }).join('').trim();
		if (!text) return;
		var r = e.getBoundingClientRect(), lh = parseFloat(getComputedStyle(e).lineHeight) || 22;
		if (r.height > 2.2 * lh || (r.width < 40 && r.height > 1.5 * lh)) bad.push(text + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
	});
	card.querySelectorAll('.badge').forEach(function (b) {
		var r = b.getBoundingClientRect();
		if (b.scrollWidth > b.clientWidth || r.right > box.right || r.left < box.left) clipped.push(b.textContent);
	});
	var email = card.querySelector('[data-attr="email"] dd');
	return {height: box.height, bad: bad, clipped: clipped, rows: card.querySelectorAll('.kv-row').length,
		name: (card.querySelector('.person-name') || {}).textContent || '', emailTitle: email ? email.title : ''};
})()`

// window ends any emulated viewport and gives the browser's window that
// size: there, unlike in an emulated viewport, a scrollbar takes room from
// the page as on a desktop.
func (d *dashboard) window(width, height int64) {
	d.t.Helper()
	_, err := chromedp.Run(d.b, func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		if _, err := cdp.Call(ctx, tg, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
			return cdp.Empty{}, err
		}
		win, err := cdp.Call(ctx, tg, cdpbrowser.GetWindowForTarget, cdpbrowser.GetWindowForTargetParams{})
		if err != nil {
			return cdp.Empty{}, err
		}
		return cdp.Call(ctx, tg, cdpbrowser.SetWindowBounds, cdpbrowser.SetWindowBoundsParams{WindowID: win.WindowID,
			Bounds: &cdpbrowser.Bounds{Width: width, Height: height}})
	})
	if err != nil {
		d.t.Fatalf("a window of %dx%d: %v", width, height, err)
	}
}

func TestRecordingPagesInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startRecServer(t, nil)
	tabs := recordedPeople(t, s, 30)
	site := "/s/" + s.site
	// Scrollbars shown, as on a desktop (headless Chromium hides them).
	d := ownerDashboard(t, s.base, chromedp.Flag("hide-scrollbars", false))

	// 1. The player's User panel reads as key/value lines at every width.
	player := site + "/recordings/" + tabs[0]
	for _, w := range []int64{1400, 1920, 390} {
		d.do(fmt.Sprintf("%d px wide", w), chromedp.EmulateViewport(w, 900))
		d.open(player)
		d.waitFor("the user's attributes", `document.querySelector('.user-attrs [data-attr="referral_source"]')`)
		d.waitFor("the first frame", `document.querySelector('.player[data-first-frame-ms]')`)
		var p struct {
			Height     float64
			Bad        []string
			Clipped    []string
			Rows       int
			Name       string
			EmailTitle string
		}
		d.eval(userPanel, &p)
		if p.Rows != 9 || len(p.Bad) > 0 || len(p.Clipped) > 0 || p.Height > 900 {
			t.Errorf("at %d px the User panel is %.0f px tall with %d rows; text too narrow or wrapped: %q; badges cut: %q",
				w, p.Height, p.Rows, p.Bad, p.Clipped)
		}
		if p.Name != "Quinn Garcia" || p.EmailTitle != "quinn.garcia1322@northbakery40.example.com" {
			t.Errorf("at %d px the panel names %q, its email's title is %q", w, p.Name, p.EmailTitle)
		}
		d.shot(fmt.Sprintf("player-%d", w))
	}
	d.clean()

	// 3, 4. The profile is headed by the person's name, with the email and
	// ID beneath; a session links to its recordings, oldest tab first, as
	// the API names them.
	var sessions struct {
		Sessions []struct {
			ID         int64    `json:"id"`
			Recordings []string `json:"recordings"`
		} `json:"sessions"`
	}
	s.getJSON(t, "/users/u-1/sessions", &sessions)
	if len(sessions.Sessions) != 2 || len(sessions.Sessions[0].Recordings) != 1 ||
		fmt.Sprint(sessions.Sessions[1].Recordings) != fmt.Sprint(tabs) {
		t.Fatalf("u-1's sessions = %+v, want the newest with one recording and the older with %v", sessions.Sessions, tabs)
	}
	d.open(site + "/users/u-1")
	d.waitFor("the sessions", `document.querySelectorAll('tr[data-session]').length === 2`)
	if h1, sub := d.str(`document.querySelector('main h1').textContent`), d.str(`document.querySelector('.sub-id').textContent`); h1 != "Quinn Garcia" ||
		!strings.Contains(sub, "quinn.garcia1322@northbakery40.example.com") || !strings.Contains(sub, "u-1") {
		t.Errorf("the profile's header: %q / %q", h1, sub)
	}
	var links []string
	d.eval(fmt.Sprintf(`Array.prototype.map.call(document.querySelectorAll('tr[data-session="%d"] .session-recordings a'), function (a) {
		return a.getAttribute('href'); })`, sessions.Sessions[1].ID), &links)
	if len(links) != 2 || links[0] != site+"/recordings/"+tabs[0] || links[1] != site+"/recordings/"+tabs[1] {
		t.Errorf("the older session links to %q, want the players of %v", links, tabs)
	}
	d.shot("profile")
	d.click("▶ Tab 2")
	d.waitPath(site + "/recordings/" + tabs[1])
	d.waitFor("the second tab replayed", `document.querySelector('.player[data-first-frame-ms]') && /Second tab/.test(`+replayText+`)`)

	// 2. The users search suggests an ID of this site.
	d.open(site + "/users")
	d.waitFor("the users", `document.querySelectorAll('main tbody tr').length > 0`)
	first := d.str(`document.querySelector('main tbody tr td a').textContent`)
	d.waitFor("the placeholder", fmt.Sprintf(`document.querySelector('#search-prefix').placeholder === 'e.g. ' + %q`, first))

	// 6. The filters keep their columns whether the list makes the page
	// scroll or not. In a window 1400 px wide (in an emulated viewport a
	// scrollbar takes no room), the grid has room for 6 columns of at
	// least 170 px without a scrollbar, for 5 beside one.
	d.window(1400, 900)
	grid := func(path string, scrolls bool) int {
		t.Helper()
		d.open(path)
		d.waitFor("the list", `document.querySelector('tr[data-recording]') && !document.querySelector('.stale')`)
		var got struct {
			Columns int
			Scrolls bool
		}
		d.eval(`({columns: getComputedStyle(document.querySelector('.filter-grid')).gridTemplateColumns.split(' ').length,
			scrolls: document.documentElement.scrollHeight > window.innerHeight})`, &got)
		if got.Scrolls != scrolls {
			t.Fatalf("%s: the page scrolls: %v, want %v", path, got.Scrolls, scrolls)
		}
		return got.Columns
	}
	long, short := grid(site+"/recordings", true), grid(site+"/recordings?user=u-2", false)
	t.Logf("the filter grid in a window 1400 px wide: %d columns above a long list, %d above a short one", long, short)
	if long != short {
		t.Errorf("the filter grid has %d columns above a long list and %d above a short one", long, short)
	}

	// 7. A syntax error is shown by the ad-hoc segment, which takes the
	// focus with the caret at the error, and is not offered to be sent
	// again.
	d.choose("Segment", 0, "__text")
	d.fill("Ad-hoc segment", `plan == "pro"`)
	d.click("Apply")
	d.waitFor("the error beside the segment", `document.querySelector('#rf-text[aria-invalid="true"]') && document.querySelector('#rf-text-err')`)
	if msg := d.str(`document.querySelector('#rf-text-err').textContent`); !strings.Contains(msg, "Column 6") || !strings.Contains(msg, `single "="`) {
		t.Errorf("the segment's error reads %q", msg)
	}
	var caret struct {
		Focused string
		At      int
	}
	d.eval(`({focused: document.activeElement.id, at: document.activeElement.selectionStart})`, &caret)
	if caret.Focused != "rf-text" || caret.At != 5 {
		t.Errorf("focus on #%s at %d, want #rf-text at 5", caret.Focused, caret.At)
	}
	if d.has("Try again") {
		t.Error("Try again is offered for a syntax error")
	}
	d.shot("filter-error")
	// Corrected, the list comes back.
	d.fill("Ad-hoc segment", `plan = "enterprise"`)
	if n := d.str(`String(document.querySelectorAll('#rf-text-err').length)`); n != "0" {
		t.Error("the error stays beside the segment once it is edited")
	}
	d.click("Apply")
	d.waitFor("u-1's recordings", `document.querySelectorAll('tr[data-recording]').length === 3`)
	// A timeout may pass when tried again: that is offered, and works.
	d.do("the server times out once", js(`(function () {
		var real = window.fetch;
		window.fetch = function (url, opts) {
			if (String(url).indexOf('/recordings?') >= 0) {
				window.fetch = real;
				return Promise.resolve(new Response(JSON.stringify({error: {code: 'query_timeout', message: 'The query took too long.'}}),
					{status: 503, headers: {'Content-Type': 'application/json'}}));
			}
			return real(url, opts);
		};
	})()`))
	d.choose("Sort by", 0, "duration")
	d.click("Apply")
	d.waitFor("the timeout", `/The query took too long/.test(document.querySelector('main').textContent)`)
	d.click("Try again")
	d.waitFor("the list again", `document.querySelectorAll('tr[data-recording]').length === 3`)
	d.clean()

	// 5. The recording settings, from the recordings page: errors beside
	// their field, then saved and read back through the API.
	d.click("Recording settings")
	d.waitPath(site + "/settings")
	d.waitFor("the recording settings", `document.querySelector('form[aria-label="Recording settings"]')`)
	fieldError := func(label, want string) {
		t.Helper()
		d.waitFor("the error beside "+label, `document.querySelector('.field-invalid .field-error')`)
		if got := d.str(`document.querySelector('.field-invalid label').textContent`); got != label {
			t.Errorf("the error is beside %q, want %q", got, label)
		}
		if msg := d.str(`document.querySelector('.field-invalid .field-error').textContent`); !strings.Contains(msg, want) {
			t.Errorf("the error beside %s reads %q, want %q in it", label, msg, want)
		}
	}
	d.fill("Keep recordings for (days)", "5000")
	d.click("Save recording settings")
	fieldError("Keep recordings for (days)", "3650") // the server's
	d.fill("Keep recordings for (days)", "60")
	d.fill("Sessions recorded (%)", "150")
	d.click("Save recording settings")
	fieldError("Sessions recorded (%)", "0 to 100")
	d.fill("Sessions recorded (%)", "25")
	d.fill("Daily quota (recordings)", "500")
	d.do("stop recording", js(`document.querySelector('#rec-enabled').click()`))
	d.click("Save recording settings")
	d.waitFor("saved", `/Saved/.test(document.querySelector('#recording').textContent) && !document.querySelector('.field-invalid')`)
	var st store.RecordingSettings
	s.getJSON(t, "/recording-settings", &st)
	if st.Enabled || st.SampleRate != 0.25 || st.DailyQuota != 500 || st.RetentionDays != 60 {
		t.Errorf("the settings read back = %+v", st)
	}
	d.shot("recording-settings")

	// 5. Deleting a recording: asked first (Cancel keeps it), then gone,
	// and the list is shown.
	victim := s.list(t, "user=u-3")[0]["id"].(string)
	d.open(site + "/recordings/" + victim)
	d.click("Delete recording")
	d.waitFor("the dialog", `document.querySelector('dialog[open]')`)
	d.click("Cancel")
	d.waitFor("the dialog closed", `!document.querySelector('dialog[open]')`)
	if code, _ := s.get(t, store.ScopeRead, "/recordings/"+victim); code != http.StatusOK {
		t.Fatalf("after Cancel the recording answers %d", code)
	}
	d.click("Delete recording")
	d.waitFor("the dialog", `document.querySelector('dialog[open]')`)
	d.shot("delete-dialog")
	d.click("Delete")
	d.waitFor("the list", `location.pathname === '`+site+`/recordings' && location.search === '' && document.querySelector('tr[data-recording]')`)
	if code, out := s.get(t, store.ScopeRead, "/recordings/"+victim); code != http.StatusNotFound {
		t.Errorf("the deleted recording answers %d %v", code, out)
	}
	if rows := s.list(t, "user=u-3"); len(rows) != 0 {
		t.Errorf("u-3's recordings after the deletion: %v", rows)
	}
	if n := d.str(fmt.Sprintf(`String(document.querySelectorAll('tr[data-recording=%q]').length)`, victim)); n != "0" {
		t.Error("the list still shows the deleted recording")
	}
	d.clean()
}

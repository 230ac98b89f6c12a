package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// TestInsightPins pins saved insights to the overview through the API: a
// pin shows in the list and survives a change of the definition that
// does not mention it; a read token may not pin; the ninth pin is
// refused with 409 too_many_pins until one is unpinned.
func TestInsightPins(t *testing.T) {
	s := startServer(t, nil)
	if code, out := s.send(t, "/v1/track", `{"userId":"u1","event":"ping"}`); code != 200 {
		t.Fatalf("track: %d %v", code, out)
	}
	def := `{"series":[{"of":"did(\"ping\")"}],"last_days":7}`
	var ids []string
	for i := range 9 {
		code, body := s.call(t, store.ScopeWrite, "POST", "/insights", fmt.Sprintf(`{"name":"Pings %d","kind":"trend","definition":%s}`, i, def))
		if code != 201 || body["pinned"] != false {
			t.Fatalf("save insight %d: %d %v", i, code, body)
		}
		ids = append(ids, body["id"].(string))
	}
	if code, body := s.call(t, store.ScopeRead, "PUT", "/insights/"+ids[0]+"/pin", ""); code != 403 {
		t.Fatalf("a read token pins: %d %v", code, body)
	}
	if code, body := s.call(t, store.ScopeWrite, "PUT", "/insights/ins_nope/pin", ""); code != 404 {
		t.Fatalf("pin an unknown insight: %d %v", code, body)
	}
	for i := range 8 {
		if code, body := s.call(t, store.ScopeWrite, "PUT", "/insights/"+ids[i]+"/pin", ""); code != 200 || body["pinned"] != true {
			t.Fatalf("pin %d: %d %v", i, code, body)
		}
	}
	// Pinning again is no change, not a ninth pin.
	if code, body := s.call(t, store.ScopeWrite, "PUT", "/insights/"+ids[0]+"/pin", ""); code != 200 || body["pinned"] != true {
		t.Fatalf("pin again: %d %v", code, body)
	}
	code, body := s.call(t, store.ScopeWrite, "PUT", "/insights/"+ids[8]+"/pin", "")
	if code != 409 || errorCode(body) != "too_many_pins" {
		t.Fatalf("the ninth pin: %d %v, want 409 too_many_pins", code, body)
	}
	code, body = s.call(t, store.ScopeWrite, "PUT", "/insights/"+ids[0],
		`{"name":"Pings, renamed","kind":"trend","definition":{"series":[{"of":"did(\"ping\")"}],"last_days":30}}`)
	if code != 200 || body["pinned"] != true {
		t.Fatalf("a change without pinned keeps the pin: %d %v", code, body)
	}
	if code, body := s.call(t, store.ScopeWrite, "DELETE", "/insights/"+ids[1]+"/pin", ""); code != 200 || body["pinned"] != false {
		t.Fatalf("unpin: %d %v", code, body)
	}
	if code, body := s.call(t, store.ScopeWrite, "PUT", "/insights/"+ids[8]+"/pin", ""); code != 200 || body["pinned"] != true {
		t.Fatalf("pin after unpinning one: %d %v", code, body)
	}
	_, body = s.get(t, store.ScopeRead, "/insights")
	var pinned []string
	for _, in := range body["insights"].([]any) {
		if m := in.(map[string]any); m["pinned"] == true {
			pinned = append(pinned, m["name"].(string))
		}
	}
	if len(pinned) != 8 || strings.Contains(strings.Join(pinned, ","), "Pings 1,") {
		t.Fatalf("pinned after all that: %q", pinned)
	}
}

// TestPinnedInsightsInChromium pins a trend from the Insights page and a
// funnel through the API, and reads both on the overview: each pinned
// card is a region named by the insight, with the chart's table beside
// it; the funnel's dropped users open as recordings; unpinning removes
// the card.
func TestPinnedInsightsInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	at := time.Now().UTC().AddDate(0, 0, -1).Truncate(time.Hour)
	var msgs []string
	for i, e := range []struct{ user, event string }{{"ann", "view"}, {"ann", "buy"}, {"bob", "view"}, {"cy", "view"}, {"cy", "buy"}} {
		msgs = append(msgs, fmt.Sprintf(`{"type":"track","userId":%q,"event":%q,"timestamp":%q}`,
			e.user, e.event, at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339)))
	}
	if code, out := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	_, trend := s.call(t, store.ScopeWrite, "POST", "/insights", `{"name":"Purchases","kind":"trend","definition":{"series":[{"of":"did(\"buy\")"}],"last_days":7}}`)
	_, funnel := s.call(t, store.ScopeWrite, "POST", "/insights", `{"name":"View to buy","kind":"funnel","definition":{"steps":["did(\"view\")","did(\"buy\")"],"last_days":7}}`)
	trendID, funnelID := trend["id"].(string), funnel["id"].(string)
	if code, body := s.call(t, store.ScopeWrite, "PUT", "/insights/"+funnelID+"/pin", ""); code != 200 {
		t.Fatalf("pin the funnel: %d %v", code, body)
	}

	site := "/s/" + s.site
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open(site + "/insights?id=" + trendID)
	d.click("Pin to overview")
	d.waitFor("the pin pressed", `Array.prototype.some.call(document.querySelectorAll('button[aria-pressed="true"]'), function (b) { return b.textContent === 'Unpin from overview' })`)
	if _, body := s.get(t, store.ScopeRead, "/insights/"+trendID); body["pinned"] != true {
		t.Fatalf("the trend after Pin to overview: %v", body)
	}

	d.open(site + "/overview")
	card := func(id string) string { return fmt.Sprintf(`document.querySelector('[data-testid="pinned-%s"]')`, id) }
	d.waitFor("both pinned cards with their tables",
		card(trendID)+` && `+card(trendID)+`.querySelector('[data-testid="trend-table"] tfoot td') && `+
			card(trendID)+`.querySelector('[data-testid="trend-table"] tfoot td').textContent === '2' && `+
			card(funnelID)+` && Array.prototype.map.call(`+card(funnelID)+`.querySelectorAll('td[data-users]'), function (c) { return c.dataset.users }).join(' ') === '3 2'`)
	// Each card is a region a screen reader names by the insight.
	label := d.str(`(function (c) { return document.getElementById(c.getAttribute('aria-labelledby')).textContent })(` + card(funnelID) + `)`)
	if label != "View to buy" {
		t.Fatalf("the funnel card is named %q", label)
	}
	d.shot("overview-pinned")
	d.click("Recordings of the 1 who dropped")
	d.waitPath(site + "/recordings")
	if text := d.str(`new URLSearchParams(location.search).get('text') || ''`); text != `funnel_step("`+funnelID+`") = 1` {
		t.Fatalf("recordings of the dropped filtered by %q", text)
	}

	d.open(site + "/overview")
	d.waitFor("the trend's card", card(trendID))
	d.do("unpin the trend with the keyboard", chromedp.SendKeys(chromedp.CSS(`[aria-label="Unpin Purchases from the overview"]`), "\r"))
	d.waitFor("the trend's card gone", `!`+card(trendID)+` && `+card(funnelID))
	if _, body := s.get(t, store.ScopeRead, "/insights/"+trendID); body["pinned"] != false {
		t.Fatalf("the trend after Unpin: %v", body)
	}
	d.clean()
}

package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// TestSiteTimeZone sets a site's time zone and checks that insights
// without a tz of their own follow it across a change of the clocks:
// Oslo left summer time on 2025-10-26 at 01:00 UTC, so that day ran 25
// hours, from 22:00 UTC the day before to 23:00 UTC. A fixed offset of
// either +1 or +2 puts one of the events below in the wrong day; UTC
// days put two there. A zone Go does not know is refused with the field
// at fault.
func TestSiteTimeZone(t *testing.T) {
	s := startServer(t, nil)
	var msgs []string
	for i, ts := range []string{
		"2025-10-25T21:59:00Z", // 23:59 on the 25th in Oslo (CEST, +2)
		"2025-10-25T22:30:00Z", // 00:30 on the 26th (CEST)
		"2025-10-26T22:30:00Z", // 23:30 on the 26th (CET, +1)
		"2025-10-26T23:30:00Z", // 00:30 on the 27th
	} {
		msgs = append(msgs, fmt.Sprintf(`{"type":"track","userId":"u%d","event":"ping","timestamp":%q,"messageId":"m%d"}`, i, ts, i))
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
	trend := func(extra string) (string, string) {
		t.Helper()
		code, body := s.call(t, store.ScopeRead, "POST", "/insights/trend",
			`{"series":[{"of":"did(\"ping\")","measure":"count"}],"from":"2025-10-25","to":"2025-10-27"`+extra+`}`)
		if code != 200 {
			t.Fatalf("trend: %d %v", code, body)
		}
		res := body["result"].(map[string]any)
		return fmt.Sprint(res["tz"]), fmt.Sprint(res["series"].([]any)[0].(map[string]any)["values"])
	}
	if tz, values := trend(""); tz != "UTC" || values != "[2 2 0]" {
		t.Fatalf("before the setting: %s %s, want UTC days [2 2 0]", tz, values)
	}

	code, body := s.call(t, store.ScopeAdmin, "PATCH", "", `{"time_zone":"Europe/Oslo"}`)
	if code != 200 || body["time_zone"] != "Europe/Oslo" {
		t.Fatalf("set the time zone: %d %v", code, body)
	}
	if code, body := s.get(t, store.ScopeRead, ""); code != 200 || body["time_zone"] != "Europe/Oslo" {
		t.Fatalf("the site after: %d %v", code, body)
	}
	if tz, values := trend(""); tz != "Europe/Oslo" || values != "[1 2 1]" {
		t.Fatalf("in the site's zone: %s %s, want Oslo days [1 2 1]", tz, values)
	}
	if tz, values := trend(`,"tz":"UTC"`); tz != "UTC" || values != "[2 2 0]" {
		t.Fatalf("a definition's own tz wins: %s %s, want UTC days [2 2 0]", tz, values)
	}
	code, body = s.call(t, store.ScopeRead, "POST", "/insights/trend",
		`{"series":[{"of":"did(\"ping\")","measure":"count"}],"interval":"hour","from":"2025-10-26","to":"2025-10-26"}`)
	if code != 200 {
		t.Fatalf("hourly trend: %d %v", code, body)
	}
	res := body["result"].(map[string]any)
	var sum float64
	for _, v := range res["series"].([]any)[0].(map[string]any)["values"].([]any) {
		sum += v.(float64)
	}
	// Hours are wall-clock hours: the two 02:00s of that night share a
	// bucket, so the 25 hours show as 24 buckets holding both events.
	if n := len(res["buckets"].([]any)); n != 24 || sum != 2 {
		t.Fatalf("the 26th in Oslo by hour: %d buckets holding %v events, want 24 holding 2 (%v)", n, sum, res["buckets"])
	}
	for kind, def := range map[string]string{
		"funnel":    `{"steps":["did(\"ping\")","did(\"pong\")"],"from":"2025-10-25","to":"2025-10-27"}`,
		"retention": `{"start":"first_seen","return":"any","interval":"day","periods":2,"from":"2025-10-25","to":"2025-10-27"}`,
	} {
		code, body := s.call(t, store.ScopeRead, "POST", "/insights/"+kind, def)
		if code != 200 || body["result"].(map[string]any)["tz"] != "Europe/Oslo" {
			t.Fatalf("%s in the site's zone: %d %v", kind, code, body)
		}
	}

	for _, bad := range []string{`"Mars/Olympus"`, `"Local"`, `"../../etc/passwd"`} {
		code, body := s.call(t, store.ScopeAdmin, "PATCH", "", `{"time_zone":`+bad+`}`)
		if code != 400 || errorCode(body) != "invalid_time_zone" || cmpField(body) != "time_zone" {
			t.Fatalf("time zone %s: %d %v, want 400 invalid_time_zone on time_zone", bad, code, body)
		}
	}
	if code, body := s.call(t, store.ScopeAdmin, "PATCH", "", `{"time_zone":""}`); code != 200 || body["time_zone"] != "UTC" {
		t.Fatalf("back to UTC: %d %v", code, body)
	}
}

// TestSiteTimeZoneInChromium sets the zone on the site's settings page
// (a name Go does not know is shown beside the field) and computes a
// trend on the Insights page without a zone of its own: it comes back in
// the site's.
func TestSiteTimeZoneInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	if code, out := s.send(t, "/v1/track", `{"userId":"u1","event":"ping"}`); code != 200 {
		t.Fatalf("track: %d %v", code, out)
	}
	site := "/s/" + s.site
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open(site + "/settings")
	d.fill("Time zone (IANA name)", "Mars/Olympus")
	d.click("Save time zone")
	d.waitFor("the refusal beside the field", `Array.prototype.some.call(document.querySelectorAll('.field-error'), function (e) { return /Mars\/Olympus/.test(e.textContent) })`)
	d.fill("Time zone (IANA name)", "Asia/Kolkata")
	d.click("Save time zone")
	d.waitFor("the saved zone", `document.querySelector('[data-testid="site-zone"]').textContent === 'Asia/Kolkata'`)
	if code, body := s.get(t, store.ScopeRead, ""); code != 200 || body["time_zone"] != "Asia/Kolkata" {
		t.Fatalf("the site after the settings page: %d %v", code, body)
	}

	d.open(site + "/insights")
	d.waitFor("the site's zone as the default", `document.getElementById('ins-tz').value === '' && /Asia\/Kolkata/.test(document.getElementById('ins-tz').placeholder)`)
	d.fill("Series 1: what to count", `did("ping")`)
	d.click("Compute")
	d.waitFor("the trend in the site's zone", `/Table of the trend \(Asia\/Kolkata\)/.test(document.querySelector('main').textContent)`)
	d.clean()
}

package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// TestCompareOverlap compares two segments that share users (the pro
// plan, and those who did "Setup Done"): the answer reports how many are
// shared, leaves them out of both groups by default (the groups' own
// segments and every row's say so, and select exactly those users), and
// counts them in both with "overlap": "keep". The expected sizes are
// counted from seedCompare's rule, not from the database.
func TestCompareOverlap(t *testing.T) {
	s := startServer(t, nil)
	seedCompare(t, s)
	var shared, setupDone float64
	for i := range 120 {
		odd := i%2 == 1
		if (odd && i%5 != 0) || (!odd && i%5 == 0) {
			setupDone++
			if i < 60 {
				shared++
			}
		}
	}
	body := `{"a": {"text": "plan = \"pro\"", "label": "Pro"}, "b": {"text": "did(\"Setup Done\")", "label": "Set up"}, "days": 7%s}`
	code, out := s.call(t, store.ScopeRead, "POST", "/compare", fmt.Sprintf(body, ""))
	if code != 200 {
		t.Fatalf("compare: %d %v", code, out)
	}
	a, b := out["a"].(map[string]any), out["b"].(map[string]any)
	if out["overlap"] != shared || out["shared"] != "excluded" || a["size"] != 60-shared || b["size"] != setupDone-shared {
		t.Fatalf("excluding the %v shared: overlap %v %v, sizes %v and %v, want %v and %v", shared, out["overlap"], out["shared"],
			a["size"], b["size"], 60-shared, setupDone-shared)
	}
	for side, g := range map[string]map[string]any{"a": a, "b": b} {
		if n := previewText(t, s, g["segment"]); float64(n) != g["size"] {
			t.Errorf("group %s's segment %q selects %d users, the group has %v", side, g["segment"], n, g["size"])
		}
	}
	var export map[string]any
	for _, r := range rowsOf(out) {
		if r["key"] == "Export" && r["measure"] == "share" {
			export = r
		}
	}
	if export == nil || export["a"] != 1.0 || export["b"] != 0.0 {
		t.Fatalf("Export row without the shared users: %v", export)
	}
	if n := previewText(t, s, export["segment_a"]); float64(n) != 60-shared {
		t.Errorf("the Export row's users in A (%q): %d, want %v", export["segment_a"], n, 60-shared)
	}

	code, out = s.call(t, store.ScopeRead, "POST", "/compare", fmt.Sprintf(body, `, "overlap": "keep"`))
	a, b = out["a"].(map[string]any), out["b"].(map[string]any)
	if code != 200 || out["overlap"] != shared || out["shared"] != "counted_in_both" || a["size"] != 60.0 || b["size"] != setupDone {
		t.Fatalf("keeping the shared: %d overlap %v %v, sizes %v and %v", code, out["overlap"], out["shared"], a["size"], b["size"])
	}
	// Against everyone else nothing is shared.
	code, out = s.call(t, store.ScopeRead, "POST", "/compare", `{"a": {"text": "plan = \"pro\""}, "days": 7}`)
	if code != 200 || out["overlap"] != 0.0 {
		t.Fatalf("against everyone else: %d overlap %v", code, out["overlap"])
	}
	code, out = s.call(t, store.ScopeRead, "POST", "/compare", fmt.Sprintf(body, `, "overlap": "both"`))
	if code != 400 || errorCode(out) != "invalid_parameter" || cmpField(out) != "overlap" {
		t.Fatalf("a bad overlap: %d %v", code, out)
	}
}

// previewText is the size of a segment written as text.
func previewText(t *testing.T, s *testServer, text any) int {
	t.Helper()
	code, out := s.call(t, store.ScopeRead, "POST", "/segments/preview", fmt.Sprintf(`{"text": %q}`, text))
	if code != 200 {
		t.Fatalf("preview %q: %d %v", text, code, out)
	}
	return int(out["size"].(float64))
}

// TestCompareOverlapInChromium compares two overlapping saved segments on
// the Compare page: the overlap is reported and left out, the box to
// keep it counts it in both, and a row's "users" link opens the segment
// editor on exactly the users behind it, ready to save.
func TestCompareOverlapInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	seedCompare(t, s)
	_, pro := s.call(t, store.ScopeWrite, "POST", "/segments", `{"name": "Pro users", "text": "plan = \"pro\""}`)
	_, setUp := s.call(t, store.ScopeWrite, "POST", "/segments", `{"name": "Set up", "text": "did(\"Setup Done\")"}`)
	site := "/s/" + s.site
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open(fmt.Sprintf("%s/compare?a=%s&b=%s&days=7", site, pro["id"], setUp["id"]))
	// seedCompare: of the 60 pro users, 30 did Setup Done (see TestCompareOverlap).
	d.waitFor("the overlap, left out", `document.querySelector('[data-testid="compare-overlap"]') && /^30 users are in both segments\. They are left out of both groups/.test(document.querySelector('[data-testid="compare-overlap"]').textContent)`)
	d.waitFor("A without the shared users", `document.querySelector('tr[data-metric="users"]') && document.querySelector('tr[data-metric="users"]').textContent.indexOf('30') >= 0`)
	d.do("keep the shared", js(`document.querySelector('#cmp-keep').click()`))
	d.waitFor("the overlap, counted in both", `/counted in both groups/.test((document.querySelector('[data-testid="compare-overlap"]') || {}).textContent || '') && location.search.indexOf('overlap=keep') >= 0`)
	d.do("leave them out again", js(`document.querySelector('#cmp-keep').click()`))
	d.waitFor("left out again", `/left out of both/.test((document.querySelector('[data-testid="compare-overlap"]') || {}).textContent || '')`)
	d.do("the users behind the Export row in A", js(`document.querySelector('tr[data-kind="event"][data-key="Export"][data-measure="share"] a[aria-label^="Users of Pro users"]').click()`))
	d.waitPath(site + "/segments/new")
	d.waitFor("the 30 users behind the row", `document.querySelector('#live-size') && document.querySelector('#live-size').dataset.size === '30'`)
	d.clean()
}

// TestCompareDateTimeAttributes compares a date-time attribute as whole
// days from its value to the end of the period, the means worked out by
// hand from the seeded dates.
func TestCompareDateTimeAttributes(t *testing.T) {
	s := startServer(t, nil)
	var msgs []string
	for _, u := range []struct{ id, plan, at string }{
		{"p1", "pro", "2025-05-31T12:00:00Z"},  // half a day before the end: 0 days
		{"p2", "pro", "2025-05-01T00:00:00Z"},  // 31 days
		{"f1", "free", "2024-06-01T00:00:00Z"}, // 365 days
		{"f2", "free", "2025-06-03T00:00:00Z"}, // 2 days after the end: −2
	} {
		msgs = append(msgs, fmt.Sprintf(`{"type":"identify","userId":%q,"traits":{"plan":%q,"signed_up_at":%q}}`, u.id, u.plan, u.at))
	}
	if code, out := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	code, out := s.call(t, store.ScopeRead, "POST", "/compare", `{"a": {"text": "plan = \"pro\""}, "b": {"text": "plan = \"free\""},
		"from": "2025-05-01", "to": "2025-06-01"}`)
	if code != 200 {
		t.Fatalf("compare: %d %v", code, out)
	}
	var row map[string]any
	for _, r := range rowsOf(out) {
		if r["key"] == "signed_up_at" {
			row = r
		}
	}
	if row == nil || row["measure"] != "days_since" || row["a"] != 15.5 || row["b"] != 181.5 || row["n_a"] != 2.0 || row["test"] != "Mann–Whitney U" {
		t.Fatalf("signed_up_at: %v, want days_since means 15.5 and 181.5 over 2 users each", row)
	}
}

// TestCompareRetention reads the side by side's retention: the share of
// each group's users who started a session in each whole week of the
// period, counted from its start, worked out by hand from the seeded
// events.
func TestCompareRetention(t *testing.T) {
	s := startServer(t, nil)
	var msgs []string
	for _, u := range []struct{ id, plan string }{{"p1", "pro"}, {"p2", "pro"}, {"f1", "free"}, {"f2", "free"}} {
		msgs = append(msgs, fmt.Sprintf(`{"type":"identify","userId":%q,"traits":{"plan":%q},"timestamp":"2025-04-01T00:00:00Z"}`, u.id, u.plan))
	}
	for i, e := range []struct{ id, at string }{
		{"p1", "2025-05-02T10:00:00Z"}, {"p1", "2025-05-16T10:00:00Z"}, // weeks 1 and 3
		{"p2", "2025-05-09T10:00:00Z"}, // week 2
		{"f1", "2025-05-07T23:00:00Z"}, // week 1 (its last hour)
		{"f2", "2025-05-22T10:00:00Z"}, // after the third whole week
	} {
		msgs = append(msgs, fmt.Sprintf(`{"type":"track","userId":%q,"event":"Open","timestamp":%q,"messageId":"m%d"}`, e.id, e.at, i))
	}
	if code, out := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	code, out := s.call(t, store.ScopeRead, "POST", "/compare", `{"a": {"text": "plan = \"pro\""}, "b": {"text": "plan = \"free\""},
		"from": "2025-05-01", "to": "2025-05-23"}`)
	if code != 200 {
		t.Fatalf("compare: %d %v", code, out)
	}
	got := map[string]string{}
	for _, m := range out["metrics"].([]any) {
		r := m.(map[string]any)
		if k := r["key"].(string); strings.HasPrefix(k, "active_week_") {
			got[k] = fmt.Sprintf("%v/%v", r["a"], r["b"])
		}
	}
	want := map[string]string{"active_week_1": "0.5/0.5", "active_week_2": "0.5/0", "active_week_3": "0.5/0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("retention by week %v, want %v", got, want)
	}
}

// TestCompareFunnelConversion adds a saved funnel's conversion to the
// side by side: Open → Export, which every pro user completed and no
// free user did (seedCompare), and Open → Setup Done, which half of each
// completed; an ID that is not a saved funnel is a 400 naming funnel.
func TestCompareFunnelConversion(t *testing.T) {
	s := startServer(t, nil)
	seedCompare(t, s)
	conversion := func(steps string) map[string]any {
		t.Helper()
		code, f := s.call(t, store.ScopeWrite, "POST", "/insights", `{"name":"F","kind":"funnel","definition":{"steps":`+steps+`,"last_days":30}}`)
		if code != 201 {
			t.Fatalf("save funnel: %d %v", code, f)
		}
		code, out := s.call(t, store.ScopeRead, "POST", "/compare", fmt.Sprintf(`{"a": {"text": "plan = \"pro\""}, "days": 7, "funnel": %q}`, f["id"]))
		if code != 200 {
			t.Fatalf("compare: %d %v", code, out)
		}
		for _, m := range out["metrics"].([]any) {
			if r := m.(map[string]any); r["key"] == "funnel_conversion" {
				return r
			}
		}
		t.Fatalf("no funnel_conversion metric: %v", out["metrics"])
		return nil
	}
	if r := conversion(`["did(\"Open\")","did(\"Export\")"]`); r["a"] != 1.0 || r["b"] != 0.0 || r["n_a"] != 60.0 || r["n_b"] != 60.0 || r["significant"] != true {
		t.Errorf("Open → Export: %v, want 60 of 60 against 0 of 60, significant", r)
	}
	if r := conversion(`["did(\"Open\")","did(\"Setup Done\")"]`); r["a"] != 0.5 || r["b"] != 0.5 || r["significant"] != false {
		t.Errorf("Open → Setup Done: %v, want 30 of 60 in each", r)
	}
	code, out := s.call(t, store.ScopeRead, "POST", "/compare", `{"a": {"text": "plan = \"pro\""}, "funnel": "ins_nope"}`)
	if code != 400 || errorCode(out) != "unknown_funnel" || cmpField(out) != "funnel" {
		t.Errorf("an unknown funnel: %d %v", code, out)
	}
}

// TestCompareFunnelInChromium picks a saved funnel on the Compare page:
// its conversion joins the side by side, as percentages.
func TestCompareFunnelInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	seedCompare(t, s)
	_, pro := s.call(t, store.ScopeWrite, "POST", "/segments", `{"name": "Pro users", "text": "plan = \"pro\""}`)
	_, f := s.call(t, store.ScopeWrite, "POST", "/insights", `{"name":"Open to export","kind":"funnel","definition":{"steps":["did(\"Open\")","did(\"Export\")"],"last_days":30}}`)
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open(fmt.Sprintf("/s/%s/compare?a=%s&days=7", s.site, pro["id"]))
	d.choose("Funnel conversion", 0, f["id"].(string))
	row := `document.querySelector('tr[data-metric="funnel_conversion"]')`
	d.waitFor("the funnel's conversion", row+` && /Open to export/.test(`+row+`.textContent) && /100(\.0)?\s?%/.test(`+row+`.textContent)`)
	if search := d.str(`location.search`); !strings.Contains(search, "funnel="+f["id"].(string)) {
		t.Errorf("the address does not keep the funnel: %q", search)
	}
	d.clean()
}

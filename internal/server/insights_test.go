package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestInsightsThroughHTTP checks the insight endpoints end to end: a
// funnel's steps and its dropped users (JSON and CSV), a trend, bad
// definitions answered 400 with the field at fault, saved insights,
// and annotations, one posted with the write key as a deploy hook would.
func TestInsightsThroughHTTP(t *testing.T) { forBackends(t, testInsightsThroughHTTP) }

func testInsightsThroughHTTP(t *testing.T) {
	s := startServer(t, nil)
	at := time.Now().UTC().AddDate(0, 0, -1).Truncate(time.Hour)
	var msgs []string
	track := func(user, event string, minutes int) {
		msgs = append(msgs, fmt.Sprintf(`{"type":"track","userId":%q,"event":%q,"timestamp":%q,"messageId":"%s-%s-%d"}`,
			user, event, at.Add(time.Duration(minutes)*time.Minute).Format(time.RFC3339), user, event, minutes))
	}
	track("ann", "view_product", 0)
	track("ann", "add_to_cart", 5)
	track("ann", "checkout", 15)
	track("bob", "view_product", 0)
	track("bob", "add_to_cart", 20)
	track("bob", "checkout", 60*24*9) // after the 7-day window
	track("cy", "view_product", 0)
	track("cy", "add_to_cart", -10) // before the first step: out of order
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
	funnel := `{"steps":["did(\"view_product\")","did(\"add_to_cart\")","did(\"checkout\")"],"window":"7d","last_days":7}`
	code, body := s.call(t, store.ScopeRead, "POST", "/insights/funnel", funnel)
	if code != 200 {
		t.Fatalf("funnel: %d %v", code, body)
	}
	steps := body["result"].(map[string]any)["groups"].([]any)[0].(map[string]any)["steps"].([]any)
	var users []string
	for _, st := range steps {
		users = append(users, fmt.Sprint(st.(map[string]any)["users"]))
	}
	if got := strings.Join(users, " "); got != "3 2 1" {
		t.Fatalf("funnel users %q, want 3 2 1 (%v)", got, body)
	}
	if m := steps[1].(map[string]any)["median_seconds"]; m != float64(20*60) {
		t.Fatalf("median time to step 2: %v, want 1200 (the upper of 300 and 1200)", m)
	}
	code, body = s.call(t, store.ScopeRead, "POST", "/insights/funnel/dropped", `{"funnel":`+funnel+`,"step":3}`)
	if code != 200 || fmt.Sprint(body["size"]) != "1" || memberUserIDs(body) != "bob" {
		t.Fatalf("dropped at step 3: %d %v", code, body)
	}
	code, body = s.call(t, store.ScopeRead, "POST", "/insights/funnel/dropped", `{"funnel":`+funnel+`,"step":2}`)
	if code != 200 || memberUserIDs(body) != "cy" {
		t.Fatalf("dropped at step 2: %d %v", code, body)
	}
	csvBody := s.raw(t, store.ScopeRead, "POST", "/insights/funnel?format=csv", funnel, nil)
	if !strings.HasPrefix(csvBody, "group,step,name,users,") || !strings.Contains(csvBody, `All users,3,"did(""checkout"")",1,`) {
		t.Fatalf("funnel CSV:\n%s", csvBody)
	}

	trend := `{"series":[{"of":"did(\"add_to_cart\")","measure":"count"},{"of":"did(\"add_to_cart\")","measure":"users"}],"last_days":3}`
	code, body = s.call(t, store.ScopeRead, "POST", "/insights/trend", trend)
	if code != 200 {
		t.Fatalf("trend: %d %v", code, body)
	}
	lines := body["result"].(map[string]any)["series"].([]any)
	if tot := lines[0].(map[string]any)["total"]; tot != float64(3) {
		t.Fatalf("trend total %v, want 3 (%v)", tot, body)
	}

	for _, c := range []struct{ path, body, field, code string }{
		{"/insights/funnel", `{"steps":["did(\"a\")"]}`, "steps", "invalid_steps"},
		{"/insights/funnel", `{"steps":["did(\"a\", 7d)","did(\"b\")"]}`, "steps[0]", "invalid_event"},
		{"/insights/funnel", `{"steps":["did(\"a\"","did(\"b\")"]}`, "steps[0]", ""},
		{"/insights/funnel", `{"steps":["did(\"a\")","did(\"b\")"],"window":"7x"}`, "window", "invalid_window"},
		{"/insights/trend", `{"series":[{"of":"did(\"a\")","measure":"median"}]}`, "series[0].measure", "invalid_measure"},
		{"/insights/trend", `{"series":[{"of":"did(\"a\")"}],"tz":"Mars/Olympus"}`, "tz", "invalid_tz"},
		{"/insights/trend", `{"series":[{"of":"did(\"a\")"}],"bogus":1}`, "bogus", "invalid_definition"},
		{"/insights/retention", `{"start":"first_seen","return":"any","interval":"month"}`, "interval", "invalid_interval"},
		{"/insights/retention", `{"start":"first_seen","return":"any","breakdown":{"segments":[{"id":"seg_nope"}]}}`,
			"breakdown.segments[0].id", "unknown_segment"},
	} {
		code, body := s.call(t, store.ScopeRead, "POST", c.path, c.body)
		e, _ := body["error"].(map[string]any)
		if code != 400 || e["field"] != c.field || (c.code != "" && e["code"] != c.code) {
			t.Errorf("%s %s: %d %v; want 400 %s on %s", c.path, c.body, code, body, c.code, c.field)
		}
	}

	// Saved insights: written with a write token, read with a read one.
	saved := `{"name":"Checkout","kind":"funnel","definition":` + funnel + `}`
	if code, body := s.call(t, store.ScopeRead, "POST", "/insights", saved); code != 403 {
		t.Fatalf("save with a read token: %d %v", code, body)
	}
	code, body = s.call(t, store.ScopeWrite, "POST", "/insights", saved)
	if code != 201 {
		t.Fatalf("save: %d %v", code, body)
	}
	id := body["id"].(string)
	code, body = s.get(t, store.ScopeRead, "/insights/"+id+"/results")
	if code != 200 || body["kind"] != "funnel" {
		t.Fatalf("saved results: %d %v", code, body)
	}
	if code, body := s.call(t, store.ScopeWrite, "POST", "/insights", `{"name":"Bad","kind":"funnel","definition":{"steps":[]}}`); code != 400 ||
		body["error"].(map[string]any)["field"] != "definition.steps" {
		t.Fatalf("save a bad definition: %d %v", code, body)
	}
	code, body = s.get(t, store.ScopeRead, "/insights")
	if list := body["insights"].([]any); code != 200 || len(list) != 1 {
		t.Fatalf("list: %d %v", code, body)
	}
	if code, _ := s.call(t, store.ScopeWrite, "DELETE", "/insights/"+id, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := s.get(t, store.ScopeRead, "/insights/"+id); code != 404 {
		t.Fatalf("deleted insight: %d", code)
	}

	// Annotations: a deploy hook with the write key; a wrong key is 401.
	hook := func(key string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", s.base+"/api/v1/sites/"+s.site+"/annotations",
			strings.NewReader(`{"date":"2026-03-01","text":"deploy v2"}`))
		req.SetBasicAuth(key, "")
		return do(t, req)
	}
	if code, body := hook(s.writeKey); code != 201 || body["source"] != "write_key" {
		t.Fatalf("annotation by write key: %d %v", code, body)
	}
	if code, body := hook("wrong"); code != 401 {
		t.Fatalf("annotation by a wrong write key: %d %v", code, body)
	}
	if code, body := s.call(t, store.ScopeWrite, "POST", "/annotations", `{"date":"2026-13-01","text":"x"}`); code != 400 ||
		body["error"].(map[string]any)["field"] != "date" {
		t.Fatalf("annotation with a bad date: %d %v", code, body)
	}
	code, body = s.get(t, store.ScopeRead, "/annotations")
	if list := body["annotations"].([]any); code != 200 || len(list) != 1 || list[0].(map[string]any)["text"] != "deploy v2" {
		t.Fatalf("annotations: %d %v", code, body)
	}
	// Without a date: today in the site's time zone, one whose date
	// differs from UTC's now (Kiritimati's from 10:00 UTC, Pago Pago's
	// before 11:00).
	zone := "Pacific/Kiritimati"
	if time.Now().UTC().Hour() < 10 {
		zone = "Pacific/Pago_Pago"
	}
	loc, _ := time.LoadLocation(zone)
	if code, body := s.call(t, store.ScopeAdmin, "PATCH", "", `{"time_zone":"`+zone+`"}`); code != 200 {
		t.Fatalf("set the time zone: %d %v", code, body)
	}
	before := time.Now().In(loc).Format(time.DateOnly)
	code, body = s.call(t, store.ScopeWrite, "POST", "/annotations", `{"text":"today"}`)
	if after := time.Now().In(loc).Format(time.DateOnly); code != 201 || (body["date"] != before && body["date"] != after) {
		t.Errorf("an annotation without a date in %s: %d %v, want %s", zone, code, body, before)
	}
}

// memberUserIDs joins the user IDs of a list of users.
func memberUserIDs(body map[string]any) string {
	var ids []string
	us, _ := body["users"].([]any)
	for _, u := range us {
		ids = append(ids, u.(map[string]any)["user_id"].(string))
	}
	return strings.Join(ids, " ")
}

// raw calls the API and returns the body as text, wanting 200.
func (s *testServer) raw(t *testing.T, scope store.Scope, method, path, body string, hdr http.Header) string {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+"/api/v1/sites/"+s.site+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.tokens[scope])
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	return string(b)
}

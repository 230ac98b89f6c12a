package server_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

func TestFeedbackSettingsListAndSummary(t *testing.T) {
	forBackends(t, testFeedbackSettingsListAndSummary)
}

func testFeedbackSettingsListAndSummary(t *testing.T) {
	s, _ := startSurveyServer(t)
	s.behaviour(t, []string{"ann", "cy"}, []string{"bob"})
	seg := s.saveSegment(t, "exporters", `did("export") >= 2`)
	send := func(user, page string, rating any, comment string) (int, map[string]any) {
		t.Helper()
		body := fmt.Sprintf(`{"anonymousId":"anon-%s","userId":%q,"sessionId":"ses-%s","url":"https://app.example.com%s",
			"rating":%v,"comment":%q,"selector":"#export > button"}`, user, user, user, page, rating, comment)
		code, out := s.tracker(t, s.writeKey, "POST", "/t/feedback", nil, body)
		m, _ := out.(map[string]any)
		return code, m
	}

	// Off by default: feedback is refused until an admin turns the tab on.
	_, settings := s.get(t, store.ScopeRead, "/feedback-settings")
	if settings["enabled"] != false || settings["position"] != "right" {
		t.Fatalf("default settings: %v", settings)
	}
	if code, out := send("ann", "/app", 2, ""); code != 409 || errorCode(out) != "feedback_disabled" {
		t.Fatalf("feedback while off: %d %v", code, out)
	}
	on := `{"enabled":true,"position":"bottom-left","accent":"#0af","prompt":"How was this page?"}`
	for _, scope := range []store.Scope{store.ScopeRead, store.ScopeWrite} {
		if code, _ := s.call(t, scope, "PUT", "/feedback-settings", on); code != 403 {
			t.Fatalf("settings changed with a %s token: %d", scope, code)
		}
	}
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/feedback-settings", `{"enabled":true,"text":"black"}`); code != 400 ||
		out["error"].(map[string]any)["field"] != "text" {
		t.Fatalf("invalid colour: %d %v", code, out)
	}
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/feedback-settings", on); code != 200 || out["accent"] != "#0af" {
		t.Fatalf("turn on: %d %v", code, out)
	}

	// Bad input names the field and stores nothing.
	for _, tt := range []struct {
		rating  any
		comment string
		field   string
	}{
		{0, "", "rating"}, {6, "", "rating"}, {3.5, "", "rating"}, {`"5"`, "", "rating"},
		{4, strings.Repeat("é", 2001), "comment"},
	} {
		if code, out := send("ann", "/app", tt.rating, tt.comment); code != 400 || out["error"].(map[string]any)["field"] != tt.field {
			t.Errorf("rating %v, comment of %d: %d %v", tt.rating, len(tt.comment), code, out)
		}
	}
	if code, _ := s.tracker(t, s.writeKey, "POST", "/t/feedback", nil, `{"url":"https://app.example.com/","rating":3}`); code != 400 {
		t.Fatalf("no anonymousId: %d", code)
	}

	for _, f := range []struct {
		user, page string
		rating     int
		comment    string
	}{
		{"ann", "/app/reports", 1, "export is broken"}, {"ann", "/app/settings", 4, ""},
		{"bob", "/app/reports", 2, "slow"}, {"cy", "/pricing", 5, "love it"}, {"cy", "/app/reports", 1, ""},
	} {
		if code, out := send(f.user, f.page, f.rating, f.comment); code != 200 {
			t.Fatalf("feedback: %d %v", code, out)
		}
	}
	list := func(query string) []string {
		t.Helper()
		var out struct {
			Feedback []map[string]any `json:"feedback"`
		}
		s.getJSON(t, "/feedback?attributes=plan&"+query, &out)
		var got []string
		for _, f := range out.Feedback {
			if f["session_id"] != "ses-"+f["user_id"].(string) || f["selector"] != "#export > button" || f["created_at"] == nil ||
				f["attributes"].(map[string]any)["plan"] == nil {
				t.Fatalf("item: %v", f)
			}
			got = append(got, fmt.Sprintf("%s%v", f["user_id"], f["rating"]))
		}
		sort.Strings(got)
		return got
	}
	for _, tt := range []struct{ query, want string }{
		{"", "[ann1 ann4 bob2 cy1 cy5]"},
		{"segment=" + seg, "[ann1 ann4 cy1 cy5]"},
		{"page=/app/reports", "[ann1 bob2 cy1]"},
		{"rating=1", "[ann1 cy1]"},
		{"segment=" + seg + "&page=reports&rating=1", "[ann1 cy1]"},
		{"segment=" + seg + "&rating=2", "[]"},
	} {
		if got := fmt.Sprint(list(tt.query)); got != tt.want {
			t.Errorf("?%s: %s, want %s", tt.query, got, tt.want)
		}
	}
	// Pages of two, with a segment, reach every item once.
	var seen []string
	cursor := ""
	for range 5 {
		var page struct {
			Feedback []map[string]any `json:"feedback"`
			Next     string           `json:"next_cursor"`
		}
		s.getJSON(t, "/feedback?limit=2&segment="+seg+"&cursor="+cursor, &page)
		for _, f := range page.Feedback {
			seen = append(seen, fmt.Sprintf("%s%v", f["user_id"], f["rating"]))
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	sort.Strings(seen)
	if fmt.Sprint(seen) != "[ann1 ann4 cy1 cy5]" {
		t.Fatalf("paged: %v", seen)
	}
	code, bad := s.get(t, store.ScopeRead, "/feedback?segment=seg_nope")
	if code != 400 || errorCode(bad) != "unknown_segment" {
		t.Fatalf("unknown segment: %d %v", code, bad)
	}

	var sum struct {
		Count    int
		Average  float64
		ByRating map[string]int `json:"by_rating"`
		Points   []struct {
			Count   int
			Average float64
		}
	}
	s.getJSON(t, "/feedback/summary?interval=day", &sum)
	if sum.Count != 5 || sum.Average != 2.6 || sum.ByRating["1"] != 2 || sum.ByRating["3"] != 0 || len(sum.Points) != 1 || sum.Points[0].Average != 2.6 {
		t.Fatalf("summary: %+v", sum)
	}
	// The feedback is in the user's events too.
	_, ev := s.get(t, store.ScopeRead, "/users/cy/events")
	if !strings.Contains(fmt.Sprint(ev), "$feedback") {
		t.Fatalf("cy's events: %v", ev)
	}
}

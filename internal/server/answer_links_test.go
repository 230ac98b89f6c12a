package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestAnswersLinkToTheirRecording checks that a survey answer and a
// feedback item name the recording that was playing when they were given:
// of a session's tabs the one recording then, none when the session's
// recordings ended long before, and that a user without any recording
// gets no link to an empty list.
func TestAnswersLinkToTheirRecording(t *testing.T) {
	s, _ := startSurveyServer(t)
	rec := &recServer{testServer: s}
	now := time.Now()
	// The recorder names a recording after the session and the tab: an
	// earlier tab of the session, then the tab the answer is given in.
	rec.mustUpload(t, chunk("sesrec-tab1", "anon-ann", 0, now.Add(-20*time.Minute)), false)
	rec.mustUpload(t, chunk("sesrec-tab2", "anon-ann", 0, now.Add(-20*time.Second)), false)
	// A session whose only recording ended ten minutes before the answer.
	rec.mustUpload(t, chunk("sesold-tab1", "anon-ann", 0, now.Add(-10*time.Minute)), false)
	// The list names no browser session: tell them by their start.
	ids := map[string]string{}
	for _, row := range rec.list(t, "") {
		started, _ := time.Parse(time.RFC3339Nano, row["started_at"].(string))
		switch ago := now.Sub(started); {
		case ago > 15*time.Minute:
			ids["sesrec-tab1"] = row["id"].(string)
		case ago > 5*time.Minute:
			ids["sesold-tab1"] = row["id"].(string)
		default:
			ids["sesrec-tab2"] = row["id"].(string)
		}
	}
	if len(ids) != 3 {
		t.Fatalf("recordings: %v", ids)
	}

	sv := s.createSurvey(t, npsSurvey(`{}`), true)
	given := []struct{ session, anon, user string }{
		{"sesrec", "anon-ann", "ann"}, {"sesold", "anon-ann", "ann"}, {"sesother", "anon-ann", "ann"},
		{"sesbob", "anon-bob", "bob"}}
	for _, g := range given {
		body := fmt.Sprintf(`{"survey":%q,"response":"r-%s","anonymousId":%q,"userId":%q,"sessionId":%q,
			"url":"https://app.example.com/app","answers":{"score":9},"completed":true}`, sv, g.session, g.anon, g.user, g.session)
		if code, e := s.answer(t, s.writeKey, body); code != 200 {
			t.Fatalf("answer in %s: %d %s", g.session, code, e)
		}
	}
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/feedback-settings", `{"enabled":true}`); code != 200 {
		t.Fatalf("feedback on: %d %v", code, out)
	}
	for _, g := range given {
		body := fmt.Sprintf(`{"anonymousId":%q,"userId":%q,"sessionId":%q,"url":"https://app.example.com/app","rating":4}`,
			g.anon, g.user, g.session)
		if code, out := s.tracker(t, s.writeKey, "POST", "/t/feedback", nil, body); code != 200 {
			t.Fatalf("feedback in %s: %d %v", g.session, code, out)
		}
	}

	type link struct {
		recording any
		has       bool
	}
	links := func(path, list string) map[string]link {
		t.Helper()
		_, out := s.get(t, store.ScopeRead, path)
		got := map[string]link{}
		items, _ := out[list].([]any)
		for _, it := range items {
			m := it.(map[string]any)
			has, _ := m["has_recordings"].(bool)
			got[m["session_id"].(string)] = link{m["recording_id"], has}
		}
		return got
	}
	want := map[string]link{"sesrec": {ids["sesrec-tab2"], true}, "sesold": {nil, true}, "sesother": {nil, true},
		"sesbob": {nil, false}}
	for _, l := range []struct{ path, list string }{{"/surveys/" + sv + "/responses", "responses"}, {"/feedback", "feedback"}} {
		got := links(l.path, l.list)
		for session, w := range want {
			if got[session] != w {
				t.Errorf("%s: %s links %v, want %v (recordings %v)", l.path, session, got[session], w, ids)
			}
		}
	}
}

package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestAnswersLinkToTheirRecording checks that a survey answer and a
// feedback item given in a recorded browser session name that recording,
// and that those given elsewhere name none.
func TestAnswersLinkToTheirRecording(t *testing.T) {
	s, _ := startSurveyServer(t)
	rec := &recServer{testServer: s}
	// The recorder names a recording after the session and the tab.
	rec.mustUpload(t, chunk("sesrec-tab1", "anon-ann", 0, time.Now().Add(-time.Minute)), false)
	rows := rec.list(t, "")
	if len(rows) != 1 {
		t.Fatalf("recordings: %v", rows)
	}
	recID := rows[0]["id"].(string)

	sv := s.createSurvey(t, npsSurvey(`{}`), true)
	for _, session := range []string{"sesrec", "sesother"} {
		body := fmt.Sprintf(`{"survey":%q,"response":"r-%s","anonymousId":"anon-ann","userId":"ann","sessionId":%q,
			"url":"https://app.example.com/app","answers":{"score":9},"completed":true}`, sv, session, session)
		if code, e := s.answer(t, s.writeKey, body); code != 200 {
			t.Fatalf("answer in %s: %d %s", session, code, e)
		}
	}
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/feedback-settings", `{"enabled":true}`); code != 200 {
		t.Fatalf("feedback on: %d %v", code, out)
	}
	for _, session := range []string{"sesrec", "sesother"} {
		body := fmt.Sprintf(`{"anonymousId":"anon-ann","userId":"ann","sessionId":%q,"url":"https://app.example.com/app","rating":4}`, session)
		if code, out := s.tracker(t, s.writeKey, "POST", "/t/feedback", nil, body); code != 200 {
			t.Fatalf("feedback in %s: %d %v", session, code, out)
		}
	}

	links := func(path, list string) map[string]any {
		t.Helper()
		_, out := s.get(t, store.ScopeRead, path)
		got := map[string]any{}
		items, _ := out[list].([]any)
		for _, it := range items {
			m := it.(map[string]any)
			got[m["session_id"].(string)] = m["recording_id"]
		}
		return got
	}
	for _, l := range []struct{ path, list string }{{"/surveys/" + sv + "/responses", "responses"}, {"/feedback", "feedback"}} {
		got := links(l.path, l.list)
		if got["sesrec"] != recID || got["sesother"] != nil || len(got) != 2 {
			t.Errorf("%s: recording links %v, want sesrec → %s and none for sesother", l.path, got, recID)
		}
	}
}

package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestIdentifiedSegmentShowsOneSize checks identified(): "everyone who is
// not a beta tester" counts an anonymous visitor, "… and identified()"
// does not, and the latter has one size wherever it is shown — preview,
// saved segment, list, members, both exports, membership and the last
// point of its trend, whose earlier points count the users seen by then.
func TestIdentifiedSegmentShowsOneSize(t *testing.T) {
	s := startServerWithBulkUser(t, "old-timer", time.Now().UTC().AddDate(0, 0, -40))
	ago := func(days int) string {
		return time.Now().UTC().AddDate(0, 0, -days).Format(time.RFC3339)
	}
	msgs := []string{
		fmt.Sprintf(`{"type":"identify","userId":"ann","traits":{"beta":true},"timestamp":%q,"messageId":"a1"}`, ago(5)),
		fmt.Sprintf(`{"type":"identify","userId":"bob","traits":{"beta":false},"timestamp":%q,"messageId":"b1"}`, ago(5)),
		// eve browses anonymously 4 days ago and signs up yesterday.
		fmt.Sprintf(`{"type":"track","anonymousId":"anon-eve","event":"pricing_viewed","timestamp":%q,"messageId":"e1"}`, ago(4)),
		fmt.Sprintf(`{"type":"identify","userId":"eve","anonymousId":"anon-eve","timestamp":%q,"messageId":"e2"}`, ago(1)),
		// zed never identifies.
		fmt.Sprintf(`{"type":"track","anonymousId":"anon-zed","event":"pricing_viewed","timestamp":%q,"messageId":"z1"}`, ago(2)),
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
	size := func(text string) int {
		t.Helper()
		def, _ := json.Marshal(map[string]string{"text": text})
		code, body := s.call(t, store.ScopeRead, "POST", "/segments/preview", string(def))
		if code != 200 {
			t.Fatalf("preview %s: %d %v", text, code, body)
		}
		return number(body["size"])
	}
	if n, m := size("not beta = true"), size("not identified()"); n != 4 || m != 1 {
		t.Errorf("not beta = true: %d users, want 4 (bob, eve, old-timer and zed); not identified(): %d, want 1 (zed)", n, m)
	}
	const text = "not beta = true and identified()"
	body, _ := json.Marshal(map[string]string{"name": "Everyone else", "text": text})
	code, saved := s.call(t, store.ScopeWrite, "POST", "/segments", string(body))
	if code != 201 {
		t.Fatalf("save: %d %v", code, saved)
	}
	id := saved["id"].(string)
	for what, n := range s.segmentSizes(t, id, text) {
		if n != 3 {
			t.Errorf("%s: %d, want 3 (bob, eve, old-timer)", what, n)
		}
	}
	// Six days ago only old-timer had been seen; bob from five days ago;
	// eve from her first anonymous visit, four days ago (she is identified
	// now, with that visit); zed never counts.
	code, got := s.call(t, store.ScopeRead, "GET", "/segments/"+id+"/trend?days=7", "")
	if sizes, want := trendSizes(got), "1 2 3 3 3 3 3"; code != 200 || sizes != want {
		t.Errorf("trend: %d %q, want %q", code, sizes, want)
	}
	for user, want := range map[string]bool{"ann": false, "bob": true, "eve": true, "old-timer": true} {
		_, body := s.call(t, store.ScopeRead, "GET", "/segments/"+id+"/members/"+user, "")
		if body["member"] != want {
			t.Errorf("is %s a member: %v, want %v", user, body, want)
		}
	}
	_, body2 := s.call(t, store.ScopeRead, "GET", "/segments/"+id+"/members/anon-zed?kind=anonymous", "")
	if body2["member"] != false {
		t.Errorf("is the anonymous zed a member: %v, want false", body2)
	}
}
